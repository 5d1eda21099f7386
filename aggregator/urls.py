"""URL map: portal, REST API under /api/v1/, OpenAPI, admin, probes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from aggregator import health
from aggregator.api.problems import api_not_found, api_server_error
from operators.demo_receiver import demo_receiver

api_v1 = [
    path("", include("operators.api.urls")),
    path("", include("market.api.urls")),
    path("", include("settlement.api.urls")),
    path("", include("settlement.reports.api_urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("demo/receiver/<slug:slug>/", demo_receiver, name="demo-receiver"),
    path("market/", include("market.portal_urls")),
    path("operator/", include("operators.operator_urls")),
    path("settlement/", include("settlement.portal_urls")),
    path("reports/", include("settlement.reports.portal_urls")),
    path("", include("operators.portal_urls")),
]


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_server_error(request)
    from django.views.defaults import server_error

    return server_error(request)
