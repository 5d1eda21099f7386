"""Every LP path the engine may take clears the same market: the interior-point path that
large markets take (with its crossover fallback) is forced here on small generated ones."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from aggregator.engine import SolveOptions, solve
from tests.engine import reference_lp
from tests.engine.checks import check_bids_after_uplift, check_constraints, check_step_prices
from tests.engine.generators import snapshots

INTERIOR = SolveOptions(ipm_from_columns=0, ipm_from_rows=0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(allow_gang=False))
def test_interior_point_path_reaches_the_certified_optimum(doc):
    result = solve(doc, INTERIOR)
    assert result.status == "optimal"
    assert "ipm" in result.stats["solver"]
    reference = reference_lp.optimum(doc)
    assert result.welfare_jpy == pytest.approx(reference, abs=0.01 + 1e-7 * abs(reference))
    assert result.stats["dual_bound_gap"] < 1e-7
    check_constraints(doc, result)
    check_step_prices(doc, result)
    check_bids_after_uplift(doc, result)
    # Same determinism promise as the default path.
    assert solve(doc, INTERIOR).deterministic_bytes() == result.deterministic_bytes()
