"""One seed rule: every random step draws from its own stream, spawned by name from one seed.

A run has one integer seed (the project's ``seed``).  Each random step asks
:func:`stream` for a generator under a name that says what it is for, e.g.
``stream(seed, "rank", "overall", 2025)``.  The name is turned into a
``numpy.random.SeedSequence`` spawn key, so

- the same seed and name always give the same numbers (in the API, the
  command line and the notebooks alike);
- different names give statistically independent streams (no ``seed + 1``
  arithmetic, no two steps sharing numbers by accident);
- adding a new random step never changes the numbers of the existing ones.

The names in use are listed in :data:`STREAMS`; a name outside it is refused,
so a typo cannot silently create a new stream.
"""

from __future__ import annotations

import hashlib

import numpy as np

from surveys.errors import MethodologyError, Problem

#: stream names and what draws from them
STREAMS = {
    "rank": "marginal rank intervals (evaluation.ranking.rank_intervals): overall and within category",
    "rank_simultaneous": "max-t critical values of the simultaneous rank intervals (evaluation.ranking)",
    "bootstrap": "Rao-Wu bootstrap replicates of the index (evaluation.bootstrap)",
    "sensitivity": "Monte Carlo variants of the sensitivity analysis (evaluation.sensitivity)",
    "trends": "rank-change simulation between years (evaluation.trends)",
    "plan": "sample draws of a fieldwork plan (evaluation.planning)",
}


def _word(part: object) -> int:
    return int.from_bytes(hashlib.sha256(str(part).encode("utf-8")).digest()[:4], "little")


def seed_sequence(seed: int, name: str, *key: object) -> np.random.SeedSequence:
    """The seed sequence of stream ``name`` (further ``key`` parts, e.g. a year or a scope, refine it)."""
    if name not in STREAMS:
        raise MethodologyError("Unknown random stream", [Problem(
            f"stream {name!r}", fix=f"use one of {sorted(STREAMS)} (evaluation.seeds.STREAMS)")])
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MethodologyError("Invalid seed", [Problem(
            f"seed = {seed!r}", fix="use a non-negative whole number, e.g. the project's seed")])
    return np.random.SeedSequence(int(seed), spawn_key=tuple(_word(p) for p in (name, *key)))


def stream(seed: int, name: str, *key: object) -> np.random.Generator:
    """A generator for stream ``name`` of ``seed`` (see the module notes)."""
    return np.random.default_rng(seed_sequence(seed, name, *key))
