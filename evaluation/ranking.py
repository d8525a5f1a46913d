"""Ranks with uncertainty.

Marginal rank intervals by simulation from the estimated sampling
distribution (Goldstein & Spiegelhalter 1996): the departments' indices are
estimated from independent samples, so draws ``I_d* ~ N(I_d, se_d^2)`` are
taken independently, every draw is ranked (1 = best), and the interval of a
department's rank is the ``(1 - level) / 2`` and ``(1 + level) / 2``
quantiles of its simulated ranks.  The same draws give ranks within each
comparison category and the probabilities of being in the top or bottom 3.
A census-only department (se 0) keeps a point rank only if every other
department is also exact.  Randomness comes from the ``seed`` argument only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank each row of a (draws x departments) array, 1 = highest."""
    order = np.argsort(-values, axis=1, kind="stable")
    return np.argsort(order, axis=1, kind="stable") + 1


def point_ranks(values: pd.Series) -> pd.Series:
    """Competition ranks (1 = best; equal values share the best rank)."""
    return values.rank(ascending=False, method="min").astype("Int64")


def rank_intervals(frame: pd.DataFrame, *, level: float = 0.95, n_draws: int = 2000, seed: int = 0,
                   estimate: str = "index", se: str = "se", group: str | None = None, k: int = 3) -> pd.DataFrame:
    """Point rank, marginal rank interval and top/bottom-k probabilities.

    Parameters
    ----------
    frame : one row per department with ``department_id``, ``estimate`` and ``se`` columns
    group : optional column (e.g. ``category``): ranks are computed within each group

    Returns
    -------
    DataFrame with ``department_id, rank, rank_low, rank_high, p_top, p_bottom``
    (``p_top``/``p_bottom``: probability of being among the best / worst ``k``).
    """
    rng = np.random.default_rng(seed)
    parts = []
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for _, sub in groups:
        sub = sub.reset_index(drop=True)
        est = sub[estimate].to_numpy(float)
        s = np.nan_to_num(sub[se].to_numpy(float))
        m = len(sub)
        draws = est[None, :] + s[None, :] * rng.standard_normal((n_draws, m))
        ranks = _ranks(draws)
        lo = np.quantile(ranks, (1 - level) / 2, axis=0, method="inverted_cdf")
        hi = np.quantile(ranks, (1 + level) / 2, axis=0, method="inverted_cdf")
        parts.append(pd.DataFrame({
            "department_id": sub["department_id"].to_numpy(),
            "rank": point_ranks(sub[estimate]).to_numpy(),
            "rank_low": lo.astype(int), "rank_high": hi.astype(int),
            "p_top": (ranks <= min(k, m)).mean(axis=0),
            "p_bottom": (ranks > max(m - k, 0)).mean(axis=0),
        }))
    return pd.concat(parts, ignore_index=True)
