"""Portal pages for participants: organisation, sites, API keys, webhook endpoints."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aggregator.platform.errors import InvalidInput
from aggregator.platform.portal import apply_service_errors, portal_view
from operators import selectors, services
from operators.forms import ApiKeyForm, SiteForm, WebhookEndpointForm


@portal_view
def organisation_detail(request):
    actor = request.actor
    members = selectors.member_list(actor=actor).filter(organisation=actor.organisation)
    return render(
        request,
        "operators/organisation.html",
        {"organisation": actor.organisation, "members": members},
    )


@portal_view
def site_list(request):
    sites = selectors.site_list(actor=request.actor)
    return render(request, "operators/site_list.html", {"sites": sites})


@portal_view
def site_create(request):
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_register(actor=request.actor, **form.service_fields())
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Site %(code)s registered.") % {"code": site.code})
            return redirect("portal:site-list")
    return render(request, "operators/site_form.html", {"form": form, "creating": True})


@portal_view
def site_edit(request, code: str):
    site = get_object_or_404(selectors.site_list(actor=request.actor), code=code)
    form = SiteForm(request.POST or None, initial=SiteForm.initial_for(site), editing=True)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        fields.pop("code", None)
        try:
            services.site_update(actor=request.actor, site=site, **fields)
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Site %(code)s saved.") % {"code": site.code})
            return redirect("portal:site-list")
    return render(request, "operators/site_form.html", {"form": form, "site": site})


@portal_view
def api_key_list(request):
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _api_key, new_key = services.api_key_create(actor=request.actor, **form.cleaned_data)
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            form = ApiKeyForm()
    keys = selectors.api_key_list(actor=request.actor).order_by("-id")
    return render(
        request, "operators/api_keys.html", {"form": form, "keys": keys, "new_key": new_key}
    )


@require_POST
@portal_view
def api_key_revoke(request, pk: int):
    api_key = get_object_or_404(selectors.api_key_list(actor=request.actor), pk=pk)
    services.api_key_revoke(actor=request.actor, api_key=api_key)
    messages.success(request, _("Key %(prefix)s revoked.") % {"prefix": api_key.prefix})
    return redirect("portal:api-keys")


@portal_view
def webhook_list(request):
    form = WebhookEndpointForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _endpoint, new_secret = services.webhook_endpoint_create(
                actor=request.actor, **form.cleaned_data
            )
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            form = WebhookEndpointForm()
    return _webhook_page(request, form, new_secret=new_secret)


@require_POST
@portal_view
def webhook_rotate(request, pk: int):
    endpoint = get_object_or_404(selectors.webhook_endpoint_list(actor=request.actor), pk=pk)
    endpoint, new_secret = services.webhook_endpoint_rotate_secret(
        actor=request.actor, endpoint=endpoint
    )
    # Rendered, not redirected: the new secret is shown this once and never stored in clear.
    return _webhook_page(request, WebhookEndpointForm(), new_secret=new_secret, rotated=endpoint)


def _webhook_page(request, form, *, new_secret=None, rotated=None):
    now = timezone.now()
    endpoints = list(selectors.webhook_endpoint_list(actor=request.actor).order_by("-id"))
    for endpoint in endpoints:
        endpoint.previous_signs_until = endpoint.previous_secret_signs_until(now)
    return render(
        request,
        "operators/webhooks.html",
        {
            "form": form,
            "endpoints": endpoints,
            "new_secret": new_secret,
            "rotated_until": rotated.previous_secret_signs_until(now) if rotated else None,
            "rotated_prefix": rotated.previous_secret_prefix if rotated else "",
            "rotated": rotated,
        },
    )


@require_POST
@portal_view
def webhook_toggle(request, pk: int):
    endpoint = get_object_or_404(selectors.webhook_endpoint_list(actor=request.actor), pk=pk)
    services.webhook_endpoint_update(
        actor=request.actor, endpoint=endpoint, is_active=not endpoint.is_active
    )
    return redirect("portal:webhooks")
