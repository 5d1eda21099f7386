"""A keyboard-only journey: log in, submit a bid, fix a validation error, accept an order.

Only Tab, typing, arrows, Enter and Space: no clicks, no `fill`. Each step finds its
control by tabbing to it, so a control that cannot be reached by keyboard fails here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models import CapacityOffer
from market.models.dispatch import DispatchOrder
from tests.conftest import PASSWORD
from tests.cycle.conftest import gate
from tests.market.conftest import open_start

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector`; the focus ring must show."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} has no visible focus"
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def type_datetime(page, when) -> None:
    """A datetime-local field in en-US, as a person keys it: mm dd yyyy, → (the year takes
    more digits, so it does not move on by itself), hh mm, A or P."""
    local = calendar.to_jst(when)
    for key in local.strftime("%m%d%Y"):
        page.keyboard.press(key)
    page.keyboard.press("ArrowRight")
    for key in local.strftime("%I%M"):
        page.keyboard.press(key)
    page.keyboard.press("A" if local.hour < 12 else "P")


@pytest.fixture
def order_to_accept(charlie, beta_site) -> DispatchOrder:
    """An interval three hours from now, cleared: charlie's site hosts an owner's workload."""
    from market.services import bid_submit
    from market.services.signals import signal_publish
    from tests.conftest import _member, _org, actor_of

    k = open_start()
    oscar = _member(_org("ops", ["market_operator"]), "oscar", "admin")
    dave = _member(_org("delta", ["workload_owner"]), "dave", "admin")
    signal_publish(
        actor=actor_of(oscar), kind="system_price", area=None, source="test",
        values=[{"interval_start": calendar.iso_z(k + i * calendar.INTERVAL), "value": "12.0"}
                for i in range(-2, 60)],
    )  # fmt: skip
    for actor, data in (
        (actor_of(charlie), {"type": "capacity", "site": "beta-kyu-1", "cu": [32], "price": [150]}),
        (actor_of(dave), {"type": "workload", "kind": "inference", "accelerator": "h100",
                          "limit_price": 900, "demand": [8]}),
    ):  # fmt: skip
        bid_type = data.pop("type")
        bid_submit(
            actor=actor,
            bid_type=bid_type,
            data={"start": calendar.iso_z(k), "intervals": 1, **data},
        )
    run_clear_interval(interval_start=k, now=gate(k))
    return DispatchOrder.objects.get(organisation__slug="beta", kind="hosting")


def test_keyboard_only_bid_fix_and_accept(browser, live_server, order_to_accept):
    order = order_to_accept
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # Log in.
    page.goto(f"{live_server.url}/login/")
    tab_to(page, "#id_username")
    page.keyboard.type("charlie")
    tab_to(page, "#id_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    # The first stop is the skip link; it moves the focus past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"

    # To the bids page and its new capacity offer form, through the navigation.
    tab_to(page, "nav a[href='/market/bids/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/market/bids/")
    tab_to(page, "a[href='/market/bids/new/capacity/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/market/bids/new/capacity/")

    # Fill it in with one value short; the market's message appears inline.
    tab_to(page, "#id_start")
    type_datetime(page, open_start(hours_ahead=5))  # after the cleared interval
    tab_to(page, "#id_intervals")
    page.keyboard.type("4")
    tab_to(page, "#id_site")
    page.keyboard.press("ArrowDown")  # the first (only) site
    tab_to(page, "#id_cu")
    page.keyboard.type("16 16 16")
    tab_to(page, "#id_price")
    page.keyboard.type("150")
    page.keyboard.press("Tab")
    expect(page.locator("#bid-fields")).to_contain_text("Give 4 values, one per interval (got 3).")
    assert not CapacityOffer.objects.filter(organisation__slug="beta", cu=[16] * 4).exists()

    # Fix it and submit with the keyboard.
    tab_to(page, "#id_cu")
    page.keyboard.press("End")
    page.keyboard.type(" 16")
    page.keyboard.press("Tab")
    expect(page.locator("#bid-fields")).to_contain_text("the market would accept this bid")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("cap-")
    offer = CapacityOffer.objects.get(organisation__slug="beta", cu=[16] * 4)
    assert [float(p) for p in offer.price] == [150.0] * 4

    # Accept the order of the cleared interval.
    page.goto(f"{live_server.url}/market/orders/")
    tab_to(page, f"form[action='/market/orders/{order.pk}/acknowledge/'] button[value=accept]")
    page.keyboard.press("Space")
    expect(page.locator(".flash")).to_contain_text("acknowledged")
    order.refresh_from_db()
    assert order.ack_state == "accepted"
    context.close()
