"""The settlement parameters page: the market operator changes them here (regulators read)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aggregator.platform.errors import InvalidInput
from aggregator.platform.portal import portal_view
from operators.forms import apply_service_errors
from settlement.models import SettlementParameters
from settlement.services.parameters import EDITABLE, settlement_parameters_update


class SettlementParametersForm(forms.ModelForm):
    class Meta:
        model = SettlementParameters
        fields = list(EDITABLE)


@portal_view
def parameters(request):
    actor = request.actor
    if not actor.oversees_market:
        raise PermissionDenied
    editable = actor.organisation.is_market_operator
    form = SettlementParametersForm(request.POST or None, instance=SettlementParameters.current())
    if not editable:
        for field in form.fields.values():
            field.disabled = True
        if request.method == "POST":
            raise PermissionDenied
    elif request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            settlement_parameters_update(actor=actor, **changes)
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Settlement parameters saved."))
            return redirect("settlement:parameters")
    return render(request, "settlement/parameters.html", {"form": form, "editable": editable})
