"""The weights of the allocation rule: which of equally good allocations is published.

Exact ties are common in a market of round numbers (two equal jobs, two equal sites:
w1→s1, w2→s2 and w1→s2, w2→s1 are equally good), and which one a solver returns depends on
the solver. Since engine v6 the clearing LP carries no tie-break in its cost; the allocation
rule (polish.py) instead minimises Σ weight × quantity over the LP's optimal face, with:

- per placement (x), class placement (z) and class service (y): a weight in [0.5, 1.5)
  that is a fixed hash (splitmix64) of its canonical key — (workload, site, interval),
  (class, site, interval), (workload, interval) — not its rank: with rank weights the two
  assignments above weigh 1 + 4 = 2 + 3 and stay tied; with hashed weights a cycle of
  placements weighs zero only by accident;
- per energy offer column and capacity step: its rank (equal prices: the lower id first).

Engine v5 put these weights into the LP's cost at 10⁻⁶ JPY per CU-interval: at bench L
that made IPX need 140 iterations instead of 110 and its crossover end "imprecise" (dual
infeasibilities 1.6e-4), followed by a long simplex clean-up — 659 s instead of 340 s.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
# Key spaces of the column kinds, so that a class placement never shares a triple's weight.
TRIPLE_KEYS, PLACEMENT_KEYS, SERVE_KEYS = 0, 1, 2


def weights(keys: np.ndarray, space: int = TRIPLE_KEYS) -> np.ndarray:
    """A deterministic pseudo-random weight in [0.5, 1.5) per non-negative integer key."""
    z = np.asarray(keys, dtype=np.int64).astype(np.uint64) + np.uint64(space << 60) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return 0.5 + (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
