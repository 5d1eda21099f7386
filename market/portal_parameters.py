"""The market parameters page: the market operator changes them here (regulators read).

Mounted at /operator/parameters/ as `operator:parameters` (aggregator/urls.py): the operators
app holds the operator's other pages but knows nothing of the market.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from aggregator.platform.portal import parameters_page, portal_view
from market.models import MarketParameters
from market.services.parameters import EDITABLE, market_parameters_update


class ParametersForm(forms.ModelForm):
    class Meta:
        model = MarketParameters
        fields = list(EDITABLE)


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
