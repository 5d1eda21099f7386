"""Field checks shared by every bid type: numbers, per-interval profiles, the interval window."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from aggregator.platform.instants import InstantError, parse_instant
from aggregator.platform.numbers import to_decimal
from market import calendar
from market.validation.context import BidContext

Errors = dict[str, list[str]]


class Checker:
    def __init__(self) -> None:
        self.errors: Errors = {}

    def err(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def plain(number: Decimal) -> int | float:
    """A JSON number for a quantity: whole numbers stay integers."""
    return int(number) if number == number.to_integral_value() else float(number)


# Upper bounds of quantities (per interval where it applies): far above any real site,
# supplier or workload, low enough that no conversion of a client's number can run away.
MAX_CU = Decimal(1_000_000)
MAX_KWH = Decimal(10_000_000)
MAX_CU_INTERVALS = Decimal(100_000_000)


def each(fn, numbers: list[Decimal]) -> list:
    """fn over a profile, once per distinct value (profiles repeat a few values)."""
    done: dict[Decimal, Any] = {}
    return [done[v] if v in done else done.setdefault(v, fn(v)) for v in numbers]


def show(number: Decimal) -> str:
    return f"{number.normalize():f}"


def price_text(number: Decimal) -> str:
    return str(number.quantize(Decimal("0.0001")))


def series(
    c: Checker,
    name: str,
    value: Any,
    n: int | None,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    unit: str = "",
    max_unit: str = "",
) -> list[Decimal] | None:
    """A per-interval profile: a list of n numbers, or one number meaning 'every interval'."""
    if value is None:
        c.err(name, _("This field is required."))
        return None
    if isinstance(value, list):
        if not value:
            c.err(name, _("Give at least one value."))
            return None
        if n is not None and len(value) != n:
            c.err(
                name,
                _("Give %(n)d values, one per interval (got %(got)d).")
                % {"n": n, "got": len(value)},
            )
            return None
        values = value
    else:
        values = [value] * (n or 1)
    out: list[Decimal] = []
    # Profiles repeat a few values (a bulk of 10,000 bids holds half a million): check each
    # distinct one once. The type is part of the key: True == 1, but True is not a number.
    accepted: dict[tuple[type, Any], Decimal] = {}
    # People count a profile's intervals from 1 (the bid's first interval is "interval 1").
    for i, item in enumerate(values, start=1):
        key = (type(item), item) if isinstance(item, int | float | str) else None
        if key is not None and key in accepted:
            out.append(accepted[key])
            continue
        number = to_decimal(item)
        if number is None:
            c.err(name, _("Interval %(i)d: %(v)r is not a number.") % {"i": i, "v": item})
            return None
        if minimum is not None and number < minimum:
            if not unit:
                c.err(
                    name,
                    _("Quantities cannot be negative (interval %(i)d: %(v)s).")
                    % {"i": i, "v": number},
                )
            else:
                c.err(
                    name,
                    _("Interval %(i)d: %(v)s is below the market minimum of %(min)s %(unit)s.")
                    % {"i": i, "v": number, "min": show(minimum), "unit": unit},
                )
            return None
        if maximum is not None and number > maximum:
            c.err(
                name,
                _("Interval %(i)d: %(v)s is above the market maximum of %(max)s %(unit)s.")
                % {"i": i, "v": number, "max": show(maximum), "unit": unit or max_unit},
            )
            return None
        out.append(number)
        if key is not None:
            accepted[key] = number
    return out


def scalar(
    c: Checker,
    name: str,
    value: Any,
    *,
    minimum=None,
    maximum=None,
    unit="",
    max_unit="",
    strict_positive=False,
    required=True,
) -> Decimal | None:
    if value is None or value == "":
        if required:
            c.err(name, _("This field is required."))
        return None
    number = to_decimal(value)
    if number is None:
        c.err(name, _("%(v)r is not a number.") % {"v": value})
    elif strict_positive and number <= 0:
        c.err(name, _("Must be greater than 0."))
    elif minimum is not None and number < minimum:
        if not unit:
            c.err(name, _("Cannot be negative."))
        else:
            c.err(
                name,
                _("Below the market minimum of %(min)s %(unit)s.")
                % {"min": show(minimum), "unit": unit},
            )
    elif maximum is not None and number > maximum:
        c.err(
            name,
            _("Above the market maximum of %(max)s %(unit)s.")
            % {"max": show(maximum), "unit": unit or max_unit},
        )
    else:
        return number
    return None


def tags(
    c: Checker, name: str, value: Any, allowed: frozenset[str] | set[str], what: str
) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.err(name, _("Give a list of %(what)s.") % {"what": what})
        return []
    if unknown := sorted(set(value) - set(allowed)):
        c.err(name, _("Unknown %(what)s: %(names)s.") % {"what": what, "names": ", ".join(unknown)})
        return []
    return sorted(set(value))


def interval_window(c: Checker, data: dict, ctx: BidContext) -> tuple[datetime, int] | None:
    raw = data.get("start")
    count = data.get("intervals")
    lead = ctx.params.gate_closure_lead_minutes
    start = None
    if raw in (None, ""):
        c.err("start", _("This field is required."))
    else:
        try:
            start = parse_instant(raw)
        except InstantError as exc:
            c.err("start", str(exc))
    if start is None:
        pass
    elif not calendar.is_aligned(start):
        c.err("start", _("Intervals start on the hour or half hour (JEPX slots)."))
        start = None
    else:
        start = calendar.as_utc(start)
        closure = calendar.gate_closure(start, lead)
        if ctx.now >= closure:
            opens = calendar.first_open_interval(ctx.now, lead)
            c.err(
                "start",
                _(
                    "The interval starting %(start)s JST is past its gate closure (%(gc)s JST); "
                    "the earliest open interval starts %(open)s JST."
                )
                % {
                    "start": f"{calendar.to_jst(start):%Y-%m-%d %H:%M}",
                    "gc": f"{calendar.to_jst(closure):%Y-%m-%d %H:%M:%S}",
                    "open": f"{calendar.to_jst(opens):%Y-%m-%d %H:%M}",
                },
            )
            start = None
        elif ctx.cleared_through is not None and start <= ctx.cleared_through:
            opens = max(
                calendar.first_open_interval(ctx.now, lead),
                ctx.cleared_through + calendar.INTERVAL,
            )
            c.err(
                "start",
                _(
                    "The market has already cleared up to the interval starting %(cleared)s "
                    "JST, so the interval starting %(start)s JST can no longer be bid for; "
                    "the earliest open interval starts %(open)s JST."
                )
                % {
                    "cleared": f"{calendar.to_jst(ctx.cleared_through):%Y-%m-%d %H:%M}",
                    "start": f"{calendar.to_jst(start):%Y-%m-%d %H:%M}",
                    "open": f"{calendar.to_jst(opens):%Y-%m-%d %H:%M}",
                },
            )
            start = None
        elif start > ctx.now + timedelta(days=ctx.params.max_days_ahead):
            c.err(
                "start",
                _("Bids reach at most %(d)d days ahead.") % {"d": ctx.params.max_days_ahead},
            )
            start = None
    if isinstance(count, bool) or not isinstance(count, int):
        c.err("intervals", _("Give the number of 30-minute intervals as a whole number."))
        count = None
    elif not 1 <= count <= ctx.params.max_bid_intervals:
        c.err(
            "intervals",
            _("Between 1 and %(max)d intervals.") % {"max": ctx.params.max_bid_intervals},
        )
        count = None
    if start is None or count is None:
        return None
    return start, count
