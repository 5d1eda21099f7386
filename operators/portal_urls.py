"""Portal routes for participants (aggregator/urls.py adds the dashboard, `portal:home`,
from the exchange)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from operators import views

portal = [
    path("organisation/", views.organisation_detail, name="organisation"),
    path("sites/", views.site_list, name="site-list"),
    path("sites/new/", views.site_create, name="site-create"),
    path("sites/<slug:code>/", views.site_edit, name="site-edit"),
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook-toggle"),
    path("webhooks/<int:pk>/rotate/", views.webhook_rotate, name="webhook-rotate"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
