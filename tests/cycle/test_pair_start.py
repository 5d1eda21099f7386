"""A rolling clearing starts its pair generation from the pairs the run before it found
worth their migration cost: the time changes, the result does not."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from aggregator.exchange.cycle import PAIR_START_KEY, run_clear_interval
from aggregator.exchange.replay import replay_run
from market import calendar
from market.choices import BidType
from market.services import bid_submit
from tests.conftest import actor_of
from tests.cycle.conftest import INTERVALS, SUBMITTED_AT, gate

pytestmark = pytest.mark.django_db


def _mover(market) -> None:
    """A batch job at home in tokyo that pays to move to kyushu, where compute is cheaper,
    energy nearly free and, with a second offer there, room is left."""
    bid_submit(
        actor=actor_of(market.charlie),
        bid_type=BidType.CAPACITY,
        data={"start": calendar.iso_z(market.k0), "intervals": INTERVALS, "site": "beta-kyu-1",
              "cu": [32] * INTERVALS, "price": [150] * INTERVALS},
        now=SUBMITTED_AT,
    )  # fmt: skip
    bid_submit(
        actor=actor_of(market.dave),
        bid_type=BidType.WORKLOAD,
        data={"start": calendar.iso_z(market.k0), "intervals": INTERVALS, "kind": "batch",
              "accelerator": "h100", "limit_price": 400, "remaining_cu_intervals": 40,
              "max_cu": 16, "migration_cost": 5, "home_site": "alpha-tky-1",
              "allowed_areas": ["tokyo", "kyushu"]},
        now=SUBMITTED_AT,
    )  # fmt: skip


def test_the_next_run_starts_from_the_pairs_the_last_one_kept_and_replays_the_same(
    market, settings
):
    settings.CLEARING_PAIR_GENERATION_FROM = 0  # this small market takes the national path
    cache.delete(PAIR_START_KEY)
    _mover(market)
    first = run_clear_interval(interval_start=market.k(0), now=gate(market.k(0))).run
    rounds = first.solver_stats["migration_pairs"]["rounds"]
    assert rounds[0]["kind"] == "without pairs"  # nothing to start from yet
    kept = cache.get(PAIR_START_KEY)
    assert kept and all(w and s for w, s in kept)  # the move to kyushu was worth it

    second = run_clear_interval(interval_start=market.k(1), now=gate(market.k(1))).run
    rounds = second.solver_stats["migration_pairs"]["rounds"]
    assert rounds[0] == {"kind": "given", "pairs": len(kept)}
    # The hint names workloads: it stays out of what the run stores and shows.
    assert "pair_start" not in second.result_json
    assert "pair_start" not in json.dumps(second.solver_stats)
    # Replays solve without it, with another backend, and reproduce the run.
    for run in (first, second):
        verdict = replay_run(run)
        assert verdict.ok, verdict.first_difference


def test_a_missing_hint_only_means_the_run_flags_its_own_pairs(market, settings):
    settings.CLEARING_PAIR_GENERATION_FROM = 0
    cache.delete(PAIR_START_KEY)
    _mover(market)
    run = run_clear_interval(interval_start=market.k(1), now=gate(market.k(1))).run
    assert run.status == "completed"
    assert run.solver_stats["migration_pairs"]["rounds"][0]["kind"] == "without pairs"


def test_an_unreachable_cache_only_costs_the_hint(market, settings, caplog):
    """The hint is kept in the cache; with the cache down (nothing listens on port 1) the
    run clears all the same, from its own pairs, and says why in the log."""
    settings.CLEARING_PAIR_GENERATION_FROM = 0
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    _mover(market)
    run = run_clear_interval(interval_start=market.k(0), now=gate(market.k(0))).run
    assert run.status == "completed"
    assert run.solver_stats["migration_pairs"]["rounds"][0]["kind"] == "without pairs"
    logged = [r.getMessage() for r in caplog.records]
    assert any("pairs to start from not read" in m for m in logged)
    assert any("pairs to start from not kept" in m for m in logged)
