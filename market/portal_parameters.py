"""The market parameters page: the market operator changes them here (regulators read).

Mounted at /operator/parameters/ as `operator:parameters` (aggregator/urls.py): the operators
app holds the operator's other pages but knows nothing of the market.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aggregator.platform.errors import InvalidInput
from aggregator.platform.portal import portal_view
from market.models import MarketParameters
from market.services.parameters import EDITABLE, market_parameters_update
from operators.forms import apply_service_errors


class ParametersForm(forms.ModelForm):
    class Meta:
        model = MarketParameters
        fields = list(EDITABLE)


@portal_view
def parameters(request):
    actor = request.actor
    if not actor.oversees_market:
        raise PermissionDenied
    editable = actor.organisation.is_market_operator
    form = ParametersForm(request.POST or None, instance=MarketParameters.current())
    if not editable:
        for field in form.fields.values():
            field.disabled = True
        if request.method == "POST":
            raise PermissionDenied
    elif request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            market_parameters_update(actor=actor, **changes)
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Market parameters saved."))
            return redirect("operator:parameters")
    return render(request, "market/parameters.html", {"form": form, "editable": editable})
