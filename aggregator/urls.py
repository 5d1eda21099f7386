"""URL map: portal, REST API under /api/v1/, OpenAPI, the OpenADR VTN, admin, probes.

The top of the house composes the namespaces: a page keeps the name and path it always had
(`portal:home`, `market:runs`, `operator:parameters`) while its code lives in the layer it
belongs to — the exchange's pages join the apps' namespaces here, so no app imports the
exchange and operators imports nothing of the market (docs/architecture.md).
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from aggregator.exchange import api as exchange_api
from aggregator.exchange import portal_urls as exchange_portal
from aggregator.platform import health
from aggregator.platform.api.problems import api_not_found, api_server_error
from market import operator_urls as market_operator
from market import portal_urls as market_portal
from operators import operator_urls as operators_operator
from operators import portal_urls as operators_portal
from operators.demo_receiver import demo_receiver

api_v1 = [
    path("", include("operators.api.urls")),
    path("", include("market.api.urls")),
    path("", include(exchange_api.urlpatterns)),
    path("", include("settlement.api.urls")),
    path("", include("settlement.reports.api_urls")),
]

portal_pages = [*exchange_portal.portal, *operators_portal.portal]
market_pages = [*market_portal.urlpatterns, *exchange_portal.market]
operator_pages = [*operators_operator.urlpatterns, *market_operator.urlpatterns]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The OpenADR 3.1 VTN for utilities' and aggregators' VENs (docs/interop.md).
    path("openadr3/", include("aggregator.openadr.api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("demo/receiver/<slug:slug>/", demo_receiver, name="demo-receiver"),
    path("market/", include((market_pages, "market"))),
    path("operator/", include((operator_pages, "operator"))),
    path("settlement/", include("settlement.portal_urls")),
    path("reports/", include("settlement.reports.portal_urls")),
    path("impact/", include("settlement.impact.portal_urls")),
    *operators_portal.urlpatterns,
    path("", include((portal_pages, "portal"))),
]


def handler404(request, exception=None):
    if request.path.startswith(("/api/", "/openadr3/")):
        return api_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_server_error(request)
    from django.views.defaults import server_error

    return server_error(request)
