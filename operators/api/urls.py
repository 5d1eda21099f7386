"""Routes of the participants API under /api/v1/."""

from rest_framework.routers import DefaultRouter

from operators.api import views

router = DefaultRouter()
# DRF only checks trailing_slash for truthiness; set the pattern itself so that
# /api/v1/sites and /api/v1/sites/ both work (a POST must not meet a redirect).
router.trailing_slash = "/?"
router.register("areas", views.GridAreaViewSet, basename="area")
router.register("zones", views.DemandZoneViewSet, basename="zone")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("members", views.MemberViewSet, basename="member")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("sites", views.SiteViewSet, basename="site")
router.register("site-directory", views.SiteDirectoryViewSet, basename="site-directory")
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
