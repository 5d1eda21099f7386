"""Solver backends: one interface over HiGHS (highspy) and OR-Tools (MathOpt: GLOP, HiGHS).

A backend solves the clearing LP (and the LP re-solves of a gang market) to an optimal
*vertex* and returns its values, its row duals in HiGHS's sign convention and its basis in
HiGHS's codes — what the price rule reads the optimal face from (face.py). The price rule
then selects the same prices from whichever vertex (price_rule.py), so every backend
publishes the same result: that is what lets a replay check a run with a different solver.

- `highs`: HiGHS through highspy — dual simplex, interior point + crossover, hot starts
  after bound changes (fix-and-price), and the MIP step (branch and cut) for every backend.
- `ortools-glop`: Google's GLOP simplex through MathOpt. The model goes over as one
  `ModelProto` filled from the same numpy arrays (repeated fields extended from arrays, no
  Python call per variable). OR-Tools' HiGHS in pywraplp/model_builder is not used: it
  returns row activities as duals (SOLVER_NOTES.md); MathOpt's duals are correct.
- `ortools-highs`: HiGHS as bundled in OR-Tools (another HiGHS version, another code path
  into it) through MathOpt; dual simplex.
PDLP is not a backend: a first-order method stops near the optimum, not at a vertex, and
its duals fail the certificate (docs/engine.md, "Solver choice").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import numpy as np

from aggregator.engine import highs_solver
from aggregator.engine.highs_solver import Solution
from aggregator.engine.model import Model

DEFAULT = "highs"


class Session(Protocol):
    def solve(self) -> Solution: ...

    def fix(self, cols: np.ndarray, values: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Backend:
    name: str
    summary: str

    def available(self) -> bool:
        return True

    def version(self) -> str:
        return ""

    def session(
        self, model: Model, lp_options: dict[str, Any], time_limit_s: float | None
    ) -> Session:
        raise NotImplementedError


class HighsBackend(Backend):
    def version(self) -> str:
        return metadata.version("highspy")

    def session(self, model, lp_options, time_limit_s):
        deadline = None if time_limit_s is None else time.perf_counter() + time_limit_s
        return highs_solver.DirectLp(model, dict(lp_options), deadline)


class MathOptBackend(Backend):
    solver: str = ""

    def available(self) -> bool:
        try:
            import ortools.math_opt.core.python.solver  # noqa: F401
        except ImportError:
            return False
        return True

    def version(self) -> str:
        return metadata.version("ortools")

    def session(self, model, lp_options, time_limit_s):
        from aggregator.engine.mathopt import MathOptLp

        return MathOptLp(model, self.solver, time_limit_s, self.version())


class GlopBackend(MathOptBackend):
    solver = "glop"


class OrtoolsHighsBackend(MathOptBackend):
    solver = "highs"


BACKENDS: dict[str, Backend] = {
    "highs": HighsBackend(
        "highs", "HiGHS via highspy: dual simplex, interior point + crossover, MIP (default)"
    ),
    "ortools-glop": GlopBackend("ortools-glop", "OR-Tools GLOP via MathOpt: dual simplex"),
    "ortools-highs": OrtoolsHighsBackend(
        "ortools-highs", "OR-Tools' bundled HiGHS via MathOpt: dual simplex"
    ),
}


def get(name: str) -> Backend:
    """The backend called `name`; ValueError if unknown or not installed."""
    backend = BACKENDS.get(name)
    if backend is None:
        raise ValueError(f"unknown solver backend {name!r} (known: {', '.join(BACKENDS)})")
    if not backend.available():
        raise ValueError(f"solver backend {name!r} is not installed")
    return backend


def available() -> list[Backend]:
    return [b for b in BACKENDS.values() if b.available()]


def backend_of(result: dict[str, Any]) -> str:
    """The backend a stored result was cleared with (`stats.backend`; results before engine
    v5 name only `stats.solver`, and were all HiGHS's)."""
    stats = result.get("stats") or {}
    return str(stats.get("backend") or "highs")


def independent_backend(result: dict[str, Any]) -> str:
    """An installed backend other than the one that cleared `result`, for a replay that
    checks the run with another solver: OR-Tools GLOP after HiGHS, HiGHS after anything else.
    ValueError if no other backend is installed."""
    used = backend_of(result)
    for name in ("ortools-glop", "highs", "ortools-highs"):
        if name != used and BACKENDS[name].available():
            return name
    raise ValueError(f"no solver backend other than {used!r} is installed")
