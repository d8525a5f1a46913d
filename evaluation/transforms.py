"""Score transforms: from a raw indicator value to a 0-100 score.

=========  =================================================================
kind       score
=========  =================================================================
likert     the raw value is already the mean of the preset's item scores
percent    100 x share
dtf        distance to frontier (World Bank Doing Business):
           100 * clip((x - worst) / (frontier - worst), 0, 1); with a frontier
           below the worst (e.g. queue minutes 45 -> 5) lower is better.
           Worst and frontier are fixed per framework version, so changes
           between years are absolute.
identity   as is
=========  =================================================================

All functions are vectorised over numpy arrays and never round.
"""

from __future__ import annotations

import numpy as np

from surveys.framework import Transform


def score(transform: Transform, x):
    """Apply ``transform`` to raw values ``x`` (array-like); NaN stays NaN."""
    x = np.asarray(x, dtype=float)
    if transform.kind == "percent":
        return 100.0 * x
    if transform.kind == "dtf":
        span = transform.frontier - transform.worst
        return 100.0 * np.clip((x - transform.worst) / span, 0.0, 1.0)
    return x.copy()


def slope(transform: Transform, x):
    """Derivative of :func:`score` at ``x`` (for the delta method).

    For ``dtf`` the derivative is 0 where the value is clipped (beyond the
    worst or the frontier): there the score does not move with small changes
    of the raw value.  Exactly at the worst or the frontier it is the
    one-sided derivative on the unclipped side (``100 / (frontier - worst)``):
    a share estimated at exactly 1 with a frontier of 1 can only move into
    the range, and its score with it.
    """
    x = np.asarray(x, dtype=float)
    if transform.kind == "percent":
        return np.full_like(x, 100.0)
    if transform.kind == "dtf":
        span = transform.frontier - transform.worst
        t = (x - transform.worst) / span
        inside = (t >= 0) & (t <= 1)
        return np.where(inside, 100.0 / span, 0.0)
    return np.ones_like(x)


def score_interval(transform: Transform, low, high):
    """Map a raw-value interval onto the score scale (the transforms are monotone)."""
    a, b = score(transform, low), score(transform, high)
    return np.minimum(a, b), np.maximum(a, b)


def likert_item_scores(codes, mapping: dict[float, float]):
    """Per-response item scores: ``mapping`` from code to score; other codes -> NaN."""
    codes = np.asarray(codes, dtype=float)
    out = np.full(codes.shape, np.nan)
    for code, value in mapping.items():
        out[codes == code] = value
    return out
