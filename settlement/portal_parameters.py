"""The settlement parameters page: the market operator changes them here (regulators read)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aggregator.platform.portal import parameters_page, portal_view
from settlement.models import SettlementParameters
from settlement.services.parameters import EDITABLE, settlement_parameters_update


class SettlementParametersForm(forms.ModelForm):
    class Meta:
        model = SettlementParameters
        fields = list(EDITABLE)
        # The rate is stored as a fraction; the label says so (0.10, not 10).
        labels = {
            "consumption_tax_rate": gettext_lazy("Consumption tax rate (fraction: 0.10 is 10 %)")
        }


@portal_view
def parameters(request):
    return parameters_page(
        request,
        form=SettlementParametersForm(
            request.POST or None, instance=SettlementParameters.current()
        ),
        update=settlement_parameters_update,
        saved=_("Settlement parameters saved."),
        success_url="settlement:parameters",
        template="settlement/parameters.html",
    )
