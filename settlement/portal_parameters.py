"""The settlement parameters page: the market operator changes them here (regulators read)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from aggregator.platform.portal import parameters_page, portal_view
from settlement.models import SettlementParameters
from settlement.services.parameters import EDITABLE, settlement_parameters_update


class SettlementParametersForm(forms.ModelForm):
    class Meta:
        model = SettlementParameters
        fields = list(EDITABLE)


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
