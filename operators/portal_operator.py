"""Market-operator pages: participant onboarding and the audit chain (regulators read).

The market parameters page is the market's (market/portal_parameters.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aggregator.platform.audit import audit_verify_chain
from aggregator.platform.errors import InvalidInput
from aggregator.platform.models import AuditEvent
from aggregator.platform.portal import apply_service_errors, portal_view
from operators.choices import OrganisationRole
from operators.models import Organisation
from operators.services import participant_onboard


class OnboardingForm(forms.Form):
    slug = forms.SlugField(label=gettext_lazy("Organisation id (slug)"), max_length=50)
    legal_name_ja = forms.CharField(label=gettext_lazy("Legal name (Japanese)"), max_length=200)
    legal_name_en = forms.CharField(label=gettext_lazy("Legal name (English)"), max_length=200)
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"),
        choices=OrganisationRole.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    invoice_registration_number = forms.CharField(
        label=gettext_lazy("Qualified-invoice registration number"), max_length=14, required=False
    )
    contact_email = forms.EmailField(label=gettext_lazy("Contact e-mail"), required=False)
    admin_username = forms.CharField(label=gettext_lazy("First admin: user name"), max_length=150)
    admin_email = forms.EmailField(label=gettext_lazy("First admin: e-mail"))
    admin_password = forms.CharField(
        label=gettext_lazy("First admin: initial password"),
        widget=forms.PasswordInput(render_value=True),
    )


def _require_oversight(actor) -> None:
    if not actor.oversees_market:
        raise PermissionDenied


@portal_view
def participants(request):
    """Every participant (market operator and regulators)."""
    _require_oversight(request.actor)
    rows = Organisation.objects.annotate(
        members=Count("memberships", distinct=True), site_total=Count("sites", distinct=True)
    ).order_by("slug")
    form = None
    if request.actor.organisation.is_market_operator:
        form = OnboardingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                membership = participant_onboard(
                    actor=request.actor,
                    organisation={
                        k: data[k]
                        for k in (
                            "slug",
                            "legal_name_ja",
                            "legal_name_en",
                            "roles",
                            "invoice_registration_number",
                            "contact_email",
                        )
                    },
                    admin={
                        "username": data["admin_username"],
                        "email": data["admin_email"],
                        "password": data["admin_password"],
                    },
                )
            except InvalidInput as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(org)s onboarded; its admin %(user)s can log in.")
                    % {"org": membership.organisation.slug, "user": membership.user.username},
                )
                return redirect("operator:participants")
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "operators/participants.html", {"rows": rows, "form": form})


@portal_view
def audit_chain(request):
    """The audit chain's verdict and its newest events (regulators and the market operator)."""
    _require_oversight(request.actor)
    verdict = audit_verify_chain()
    events = AuditEvent.objects.select_related("organisation").order_by("-seq")[:100]
    return render(request, "operators/audit.html", {"verdict": verdict, "events": events})
