"""Portal bid entry: forms with inline validation (htmx), CSV upload, cancellation."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aggregator.platform.errors import Conflict, InvalidInput
from aggregator.platform.portal import apply_service_errors, portal_view
from market import calendar, selectors
from market.bid_csv import TemplateSite, parse_bid_csv, row_errors, template_csv
from market.bid_forms import FORMS, initial_from_bid
from market.choices import BidType
from market.models import MarketParameters
from market.services import bid_amend, bid_cancel, bid_data, bid_submit, bids_submit_bulk
from market.validation import BidContext, clean_bid
from operators.models import GridArea, Site

LISTS = {
    BidType.CAPACITY: selectors.capacity_offer_list,
    BidType.ENERGY: selectors.energy_offer_list,
    BidType.WORKLOAD: selectors.workload_bid_list,
}


def _form_class(bid_type: str):
    if bid_type not in FORMS:
        raise Http404
    return FORMS[bid_type]


def _validate_only(form, actor) -> None:
    """Run the market's own checks without writing (the inline feedback)."""
    ctx = BidContext.load(organisation_id=actor.organisation.pk, now=timezone.now())
    _fields, errors = clean_bid(form.bid_type, form.payload(), ctx)
    if errors:
        apply_service_errors(form, InvalidInput.from_errors(errors))


@portal_view
def bid_new(request, bid_type: str):
    form_class = _form_class(bid_type)
    form = form_class(request.POST or None, actor=request.actor)
    if request.method == "POST" and form.is_valid():
        try:
            bid = bid_submit(actor=request.actor, bid_type=bid_type, data=form.payload())
        except InvalidInput as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Bid %(id)s submitted.") % {"id": bid.public_id})
            return redirect("market:bid-detail", bid_type=bid_type, pk=bid.pk)
    return render(
        request,
        "market/bid_form.html",
        {"form": form, "bid_type": bid_type, "label": BidType(bid_type).label},
    )


@portal_view
def bid_amend_view(request, bid_type: str, pk: int):
    """The bid's form filled with its current revision; saving writes the next revision."""
    form_class = _form_class(bid_type)
    bid = LISTS[bid_type](actor=request.actor).filter(pk=pk).first()
    if bid is None:
        raise Http404
    form = form_class(
        request.POST or None,
        actor=request.actor,
        initial=initial_from_bid(bid_data(bid), form_class),
    )
    if request.method == "POST" and form.is_valid():
        try:
            bid_amend(actor=request.actor, bid=bid, changes=form.payload())
        except (InvalidInput, Conflict) as exc:
            apply_service_errors(
                form, exc if isinstance(exc, InvalidInput) else InvalidInput(exc.detail)
            )
        else:
            messages.success(request, _("Bid %(id)s amended.") % {"id": bid.public_id})
            return redirect("market:bid-detail", bid_type=bid_type, pk=pk)
    context = {"form": form, "bid_type": bid_type, "label": BidType(bid_type).label, "bid": bid}
    return render(request, "market/bid_form.html", context)


@require_POST
@portal_view
def bid_validate(request, bid_type: str):
    """htmx: the form fragment with every error the submission would meet, nothing written."""
    form = _form_class(bid_type)(request.POST, actor=request.actor)
    if form.is_valid():
        _validate_only(form, request.actor)
    return render(
        request,
        "market/_bid_form_fields.html",
        {"form": form, "bid_type": bid_type, "checked": True},
    )


@require_POST
@portal_view
def bid_cancel_view(request, bid_type: str, pk: int):
    if bid_type not in LISTS:
        raise Http404
    bid = LISTS[bid_type](actor=request.actor).filter(pk=pk).first()
    if bid is None:
        raise Http404
    try:
        bid_cancel(actor=request.actor, bid=bid)
    except Conflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Bid %(id)s cancelled.") % {"id": bid.public_id})
    return redirect("market:bid-detail", bid_type=bid_type, pk=pk)


@portal_view
def bid_upload(request):
    """Many bids from one CSV: all of them or none, errors per row."""
    errors: list[tuple[int, str, str]] = []
    file_error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            file_error = _("Choose a CSV file.")
        else:
            try:
                items = parse_bid_csv(upload.read())
                bids = bids_submit_bulk(actor=request.actor, items=items)
            except InvalidInput as exc:
                errors = row_errors(exc)
                if not errors:
                    file_error = (
                        "; ".join(m for ms in exc.errors.values() for m in ms) or exc.detail
                    )
            else:
                messages.success(request, _("%(n)d bids submitted.") % {"n": len(bids)})
                return redirect("market:bid-list")
    return render(request, "market/bid_upload.html", {"errors": errors, "file_error": file_error})


@portal_view
def bid_csv_template(request):
    """Example rows for the organisation's own roles, its first site, an open interval."""
    actor = request.actor
    params = MarketParameters.current()
    now = timezone.now()
    # Two intervals after the first open one: time to edit before its gate closes. Never
    # at or before an interval the market has already cleared (run_market clears ahead).
    start = calendar.first_open_interval(now, params.gate_closure_lead_minutes)
    start += 2 * calendar.INTERVAL
    if (cleared := selectors.cleared_through()) is not None:
        start = max(start, cleared + calendar.INTERVAL)
    sites = Site.objects.filter(is_active=True).order_by("code")

    def example(site: Site) -> TemplateSite:
        return TemplateSite(site.code, site.accelerator, int(site.capacity_cu))

    own = [example(s) for s in sites if s.organisation_id == actor.organisation.pk]
    first = sites.first()
    content = template_csv(
        start=calendar.to_jst(start).isoformat(timespec="minutes"),
        roles=list(actor.organisation.roles),
        own_sites=own,
        any_site=example(first) if first else None,
        area=GridArea.objects.order_by("code").values_list("code", flat=True).first() or "",
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="wattbit-bids-template.csv"'
    return response
