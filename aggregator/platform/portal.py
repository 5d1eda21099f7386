"""The portal shell: the decorator every portal page wears, and what pages share."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from aggregator.platform.access import actor_for_user
from aggregator.platform.errors import Forbidden, InvalidInput, NotFound


def portal_view(view):
    """Logged in, a member of an active organisation; domain errors become 400/403/404 pages."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        actor = actor_for_user(request.user)
        if actor is None:
            raise PermissionDenied
        request.actor = actor
        try:
            return view(request, *args, **kwargs)
        except Forbidden as exc:
            raise PermissionDenied(exc.detail) from exc
        except NotFound as exc:
            raise Http404(exc.detail) from exc
        except InvalidInput as exc:  # e.g. a download link with an impossible month
            context = {"detail": exc.detail, "errors": exc.errors}
            return render(request, "400.html", context, status=400)

    return wrapper


HEAT_HUE_CHEAP = 120  # green; the dearest cell is hue 0, red


def heat_colour(value: float | None, low: float, high: float) -> str:
    """A heat map cell: green (cheap) → yellow → red (dear); light enough for dark text."""
    if value is None:
        return "#eef1f4"
    share = 0.5 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    return f"hsl({round(HEAT_HUE_CHEAP * (1 - share))}, 70%, 80%)"


def apply_service_errors(form, error: InvalidInput) -> None:
    """Show a service's per-field errors on the form fields (or at the top)."""
    for field, field_messages in error.errors.items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
    if not error.errors:
        form.add_error(None, error.detail)


def parameters_page(request, *, form, update, saved: str, success_url: str, template: str):
    """A market operator's settings page: everyone who oversees the market reads it, only the
    market operator changes it, through `update` (the service, which audits)."""
    actor = request.actor
    if not actor.oversees_market:
        raise PermissionDenied
    editable = actor.organisation.is_market_operator
    if not editable:
        for field in form.fields.values():
            field.disabled = True
        if request.method == "POST":
            raise PermissionDenied
    elif request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            update(actor=actor, **changes)
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, saved)
            return redirect(success_url)
    return render(request, template, {"form": form, "editable": editable})
