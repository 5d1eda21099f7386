"""Every portal page, for every demo login, in Japanese and English, reads as people read it.

The demo market is cleared, metered and settled (tests/api/test_wire_convention.py), then
each demo login opens every page of the URL conf (a new page is covered without editing
this test) and the text a person reads (and the values of form fields) is searched for:

- a raw role code (`compute_provider`, …) instead of its label;
- a UTC time (`04:00:00Z`, `+00:00`): people here read JST;
- an interval counted from 0 (`interval 0`, `コマ 0`): slots run 1–48.
"""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aggregator.exchange.demo import participants as demo_participants
from market import calendar
from market.choices import BidType
from market.models import CapacityOffer, ClearingRun, EnergyOffer, WorkloadBid
from operators.choices import OrganisationRole
from operators.models import Site
from tests.api.test_wire_convention import demo  # noqa: F401 — shared fixture
from tests.cycle.test_sealed_canary import NOT_READABLE
from tests.support.routes import filled_urls

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

ROLE_CODES = "|".join(OrganisationRole.values)
PROBLEMS = {
    "raw role code": re.compile(
        rf"\b(compute_provider|workload_owner|power_supplier|market_operator)\b"
        rf"|class=\"tag\">\s*({ROLE_CODES})\s*<"
    ),
    "UTC time": re.compile(r"\d\d:\d\d(:\d\d(\.\d+)?)?Z\b|\d\d:\d\d(:\d\d)?\+00:00"),
    "interval counted from 0": re.compile(r"\b[Ii]nterval 0\b|\bslot 0\b|コマ ?0(?!\d)"),
}
SKIPPED_PREFIXES = ("/api/", "/openadr3/", "/admin/", "/i18n/", "/demo/")


def _readable(body: str) -> str:
    """What a person reads: the text between tags and the values of text fields; role tags
    are kept as markup so that a raw code in a badge is seen as one."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    # Values a person reads in a field (a checkbox's or a hidden field's value is a code).
    values = " ".join(
        value.group(1)
        for field in re.findall(r"<(?:input|textarea)\b[^>]*>", body)
        if not re.search(r"type=\"(checkbox|radio|hidden|submit)\"", field)
        and (value := re.search(r"\svalue=\"([^\"]*)\"", field))
    )
    tags = " ".join(re.findall(r"class=\"tag\">[^<]*<", body))
    text = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(f"{text} {values} {tags}")


def _urls(k0) -> list[str]:
    month = f"{calendar.to_jst(k0):%Y-%m}"
    day = calendar.to_jst(k0).date().isoformat()
    pks = {str(pk) for model in (CapacityOffer, EnergyOffer, WorkloadBid, ClearingRun)
           for pk in model.objects.values_list("pk", flat=True)[:4]}  # fmt: skip
    values = {
        "pk": sorted(pks),
        "code": list(Site.objects.values_list("code", flat=True)[:3]),
        "bid_type": list(BidType.values),
        "month": [month],
    }
    return filled_urls(
        values,
        queries=["", f"?day={day}&month={month}"],
        skip=lambda template, name: name in NOT_READABLE or template.startswith(SKIPPED_PREFIXES),
    )


@pytest.mark.parametrize("language", ["ja", "en"])
def test_no_page_shows_a_role_code_a_utc_time_or_interval_0(demo, language):  # noqa: F811
    k0, _clients = demo
    urls = _urls(k0)
    found: dict[str, list[str]] = {}
    pages = 0
    users = get_user_model().objects.filter(
        username__in=[row[-1] for row in demo_participants.ORGANISATIONS]
    )
    assert users.count() == len(demo_participants.ORGANISATIONS)
    for user in users:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        client.cookies["django_language"] = language
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, f"{user.username} {url}: {response.status_code}"
            if response.status_code != 200 or not response.get("Content-Type", "").startswith(
                "text/html"
            ):
                continue
            pages += 1
            text = _readable(response.content.decode())
            for problem, pattern in PROBLEMS.items():
                for match in pattern.finditer(text):
                    at = match.start()
                    found.setdefault(f"{user.username} {url}", []).append(
                        f"{problem}: …{text[max(0, at - 50) : at + 30]!r}…"
                    )
    assert pages > 8 * 15, f"only {pages} pages were read: the walk lost its routes"
    assert found == {}, found
