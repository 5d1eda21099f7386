"""What the portal benches share: a database of demo market data, and timing a page.

`demo_market(name, days, reuse)` points Django at var/bench-<name>.sqlite3 (unless
DATABASE_URL is set), sets it up, and — unless `reuse` — builds the demo participants and
`days` days of demo bids ending today (JST), every interval cleared through the production
pipeline. It returns how the data came to be, for the bench's first line.
"""

from __future__ import annotations

import io
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def demo_market(name: str, days: int, reuse: bool) -> str:
    if "DATABASE_URL" not in os.environ:
        db = ROOT / "var" / f"bench-{name}.sqlite3"
        db.parent.mkdir(exist_ok=True)
        if not reuse:
            db.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from aggregator.exchange.demo.market import load_market_demo
    from market import calendar

    call_command("migrate", verbosity=0)
    if reuse:
        return "reused"
    call_command("load_demo", stdout=io.StringIO())
    first_day = calendar.to_jst(timezone.now()).date() - timedelta(days=days - 1)
    started = time.perf_counter()
    for offset in range(days):
        day_start = calendar.slot_start(first_day + timedelta(days=offset), 1)
        load_market_demo(io.StringIO(), now=day_start - timedelta(minutes=90))
    call_command(
        "run_market",
        intervals=days * 48,
        start=calendar.iso_z(calendar.slot_start(first_day, 1)),
        stdout=io.StringIO(),
    )
    return f"built in {time.perf_counter() - started:.0f} s"


def timed(client, url: str, repeat: int) -> list[float]:
    """Milliseconds of `repeat` GETs of `url` after one warm-up, sorted."""
    client.get(url)  # warm: templates and translations compiled
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return sorted(times)


def logged_in(username: str):
    """A test client logged in as a demo user (force_login: django-axes' backend wants a
    request, which Client.login does not pass)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="ja", HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=username))
    return client
