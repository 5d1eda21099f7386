"""The tie-break that makes the clearing's allocation unique: a tiny cost per column.

Exact ties are common in a market of round numbers (two equal jobs, two equal sites:
w1→s1, w2→s2 and w1→s2, w2→s1 are equally good), and which of them a solver returns
depends on the solver. A cost of TIE_BREAK_JPY × a weight in [0.5, 1.5) per CU-interval
settles them. The weight is a fixed hash (splitmix64) of the placement's canonical key
(workload, site, interval in id order), not its rank: with rank-proportional weights the
two assignments above cost 1 + 4 = 2 + 3 and stay tied, and at a million columns
neighbouring ranks differ by 1e-12, below any solver's tolerance. With hashed weights a
cycle of placements sums to zero only by accident, and its weights differ by ~1e-7 JPY,
well above the solvers' 1e-9 tolerances, so every exact solver lands on the same vertex.
"""

from __future__ import annotations

import numpy as np

# JPY per CU-interval: below any real price step (0.01 JPY/kWh × 0.35 kWh/CU-interval), above
# the solvers' optimality tolerances.
TIE_BREAK_JPY = 1e-6

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
