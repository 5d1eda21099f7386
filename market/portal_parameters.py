"""The market parameters page: the market operator changes them here (regulators read).

Mounted at /operator/parameters/ as `operator:parameters` (aggregator/urls.py): the operators
app holds the operator's other pages but knows nothing of the market.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aggregator.platform.portal import parameters_page, portal_view
from market.models import MarketParameters
from market.services.parameters import EDITABLE, market_parameters_update


class ParametersForm(forms.ModelForm):
    class Meta:
        model = MarketParameters
        fields = list(EDITABLE)
        # The model's price bounds have no labels of their own; here each says its unit.
        labels = {
            "capacity_price_min": gettext_lazy("Capacity price minimum (JPY/CU-h)"),
            "capacity_price_max": gettext_lazy("Capacity price maximum (JPY/CU-h)"),
            "energy_price_min": gettext_lazy("Energy price minimum (JPY/kWh)"),
            "energy_price_max": gettext_lazy("Energy price maximum (JPY/kWh)"),
            "limit_price_min": gettext_lazy("Workload limit price minimum (JPY/CU-h, all-in)"),
            "limit_price_max": gettext_lazy("Workload limit price maximum (JPY/CU-h, all-in)"),
        }


@portal_view
def parameters(request):
    return parameters_page(
        request,
        form=ParametersForm(request.POST or None, instance=MarketParameters.current()),
        update=market_parameters_update,
        saved=_("Market parameters saved."),
        success_url="operator:parameters",
        template="market/parameters.html",
    )
