"""Ranks with uncertainty: marginal and simultaneous rank intervals, tie groups.

Marginal rank intervals (:func:`rank_intervals`)
    By simulation from the estimated sampling distribution (Goldstein &
    Spiegelhalter 1996): the departments' indices are estimated from
    independent samples, so draws ``I_d* = I_d + se_d T_d`` are taken
    (``T_d`` Student t on the department's design df, as its published
    interval is, normal when the df is infinite)
    independently, every draw is ranked (1 = best), and the interval of a
    department's rank is the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of its simulated ranks.  The same draws give the probabilities
    of being in the top or bottom k.  A census-only department (se 0) keeps a
    point rank only if every other department is also exact.

Simultaneous rank intervals (:func:`simultaneous_rank_intervals`)
    Mogstad, Romano, Shaikh & Wilhelm (2024), "Inference for ranks with
    applications to mobility across neighbourhoods and academic achievement
    across countries", *Review of Economic Studies* 91(1), section 3.3: the
    intervals hold for all departments at once with probability at least
    ``level``.  They come from testing every ordered pair of departments,
    ``H_jk: theta_j <= theta_k``, with the statistic
    ``T_jk = (I_j - I_k) / sqrt(se_j^2 + se_k^2)`` and the family-wise error
    controlled by the Romano–Wolf step-down procedure with a max-t critical
    value (normal approximation, independent estimates across departments).
    If ``R`` is the set of rejected hypotheses::

        rank_sim_low_j  = 1 + #{k : H_kj rejected}   (k is surely better than j)
        rank_sim_high_j = m - #{k : H_jk rejected}   (j is surely better than k)

Tie groups (the departments the data cannot tell apart)
    Departments in point-rank order are cut into consecutive groups: a
    department joins the current group when the simultaneous test separates
    it from none of the group's members, otherwise it opens a new group.
    Every pair inside a group is therefore indistinguishable at the
    simultaneous level, and two adjacent groups differ in at least one pair
    (unlike chaining neighbours, the first and last member of a group can
    never be significantly different).

Randomness comes from the ``seed`` arguments only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.errors import MethodologyError, Problem

__all__ = [
    "RANK_UNCERTAINTY_COLUMNS",
    "pairwise_separation",
    "point_ranks",
    "rank_intervals",
    "rank_uncertainty",
    "simultaneous_rank_intervals",
]

RANK_UNCERTAINTY_COLUMNS = [
    "scope", "category", "department_id", "index", "se", "n_compared", "rank", "rank_low", "rank_high",
    "rank_sim_low", "rank_sim_high", "p_top3", "p_bottom3", "tie_group", "tie_group_size", "level",
]


def _errors(rng: np.random.Generator, n: int, df: np.ndarray) -> np.ndarray:
    """``n`` draws per department of a standard error unit: Student t on the department's design df, normal
    where the df is infinite or unknown (so the simulated ranks agree with the published t intervals)."""
    df = np.asarray(df, dtype=float)
    z = rng.standard_normal((n, len(df)))
    finite = np.isfinite(df) & (df > 0)
    if finite.any():
        # t = Z / sqrt(chi2_df / df), with Z the normal draw already made, so infinite df stays normal
        chi = rng.chisquare(np.where(finite, df, 1.0), size=(n, len(df)))
        z = np.where(finite[None, :], z / np.sqrt(chi / np.where(finite, df, 1.0)[None, :]), z)
    return z


def _df_of(frame: pd.DataFrame, df: str | None) -> np.ndarray:
    return frame[df].to_numpy(float) if df is not None and df in frame else np.full(len(frame), np.inf)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank each row of a (draws x departments) array, 1 = highest."""
    order = np.argsort(-values, axis=1, kind="stable")
    return np.argsort(order, axis=1, kind="stable") + 1


def point_ranks(values: pd.Series) -> pd.Series:
    """Competition ranks (1 = best; equal values share the best rank)."""
    return values.rank(ascending=False, method="min").astype("Int64")


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise MethodologyError("Invalid confidence level for rank intervals",
                               [Problem(f"level must lie strictly between 0 and 1, found {level!r}",
                                        fix="use a probability such as the framework's confidence_level")])


def rank_intervals(frame: pd.DataFrame, *, level: float, n_draws: int, seed: int | np.random.Generator,
                   estimate: str = "index", se: str = "se", group: str | None = None, k: int = 3,
                   df: str | None = "df") -> pd.DataFrame:
    """Point rank, marginal rank interval and top/bottom-k probabilities.

    Parameters
    ----------
    frame : one row per department with ``department_id``, ``estimate`` and ``se`` columns
    level : coverage of each department's interval (marginal, one department at a time)
    n_draws : simulated draws
    seed : seed or generator of the draws
    group : optional column (e.g. ``category``): ranks are computed within each group
    k : size of the top and bottom sets
    df : column of the estimates' degrees of freedom (when present, draws are
        ``estimate + se * T(df)``, normal for infinite df, as the published t
        intervals are; without it, normal)

    Returns
    -------
    DataFrame with ``department_id, rank, rank_low, rank_high, p_top, p_bottom``
    (``p_top``/``p_bottom``: probability of being among the best / worst ``k``).
    """
    _check_level(level)
    rng = np.random.default_rng(seed)
    parts = []
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for _, sub in groups:
        sub = sub.reset_index(drop=True)
        est = sub[estimate].to_numpy(float)
        s = np.nan_to_num(sub[se].to_numpy(float))
        m = len(sub)
        draws = est[None, :] + s[None, :] * _errors(rng, n_draws, _df_of(sub, df))
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


#: draws per call of :func:`_errors` when the null draws are made (the order in which the seed's numbers are used)
_DRAW_CHUNK = 1000
#: departments are put in this many groups by standard error to bound each department's largest statistic
_SE_GROUPS = 16
#: bounds computed at once (draws x departments x groups; 32 MB of floats), whatever the departments
_BOUND_CELLS = 1 << 22


def _null_draws(se: np.ndarray, n_sim: int, rng: np.random.Generator, df: np.ndarray | None) -> np.ndarray:
    """``n_sim`` draws of ``Z_j = se_j T(df_j)`` (normal where df is infinite), shape (n_sim, m).

    Drawn in chunks of :data:`_DRAW_CHUNK` rows, the order in which the draws
    of a step were always taken from the generator.
    """
    df = np.full(len(se), np.inf) if df is None else df
    z = np.empty((n_sim, len(se)))
    for start in range(0, n_sim, _DRAW_CHUNK):
        stop = min(start + _DRAW_CHUNK, n_sim)
        z[start:stop] = _errors(rng, stop - start, df) * se[None, :]
    return z


def _pair_maxima(z: np.ndarray, se: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw (row of ``z``), ``max over active (j, k) of (z_j - z_k) / s_jk``, exactly, without all pairs.

    Returns the maxima and, per draw, a pair ``(j, k)`` that attains it
    (``-1`` when no pair is active).

    The statistic of every pair is the same floating-point expression as
    when all pairs are formed, so the maxima are identical; but only the
    departments that can hold a draw's maximum are compared with every other:

    - a lower bound ``L``: the largest statistic among the pairs of the few
      departments with the largest draws against the few with the smallest;
    - an upper bound for each department ``j``: with the departments put in
      groups by standard error, ``max_g max(0, z_j - min_{k in g} z_k) /
      sqrt(se_j^2 + min_{k in g} se_k^2)``, which no pair of ``j`` can exceed
      (each operation is monotone under rounding, so the bound holds in
      floating point too);
    - the departments whose bound exceeds ``L`` are compared with all their
      active partners.

    A few departments per draw survive, so the cost grows with draws times
    departments, not with draws times pairs (89,700 ordered pairs for 300
    departments).
    """
    n_sim, m = z.shape
    out = np.full(n_sim, -np.inf)
    arg_j = np.full(n_sim, -1, dtype=np.intp)
    arg_k = np.full(n_sim, -1, dtype=np.intp)
    rows, cols = np.nonzero(active)
    if not len(rows):
        return out, arg_j, arg_k
    a = se ** 2
    partners = [np.flatnonzero(active[j]) for j in range(m)]
    pair_s = [np.sqrt(a[j] + a[partners[j]]) for j in range(m)]
    by_a = np.argsort(a, kind="stable")
    starts = np.unique(np.linspace(0, m, min(_SE_GROUPS, m) + 1).astype(int)[:-1])
    group_a = np.minimum.reduceat(a[by_a], starts)
    k = min(m, 8)
    chunk = max(1, _BOUND_CELLS // (m * len(starts)))
    for start in range(0, n_sim, chunk):
        zc = z[start:start + chunk]
        # lower bound: the k largest draws against the k smallest, over the active pairs among them
        order = np.argsort(zc, axis=1, kind="stable")
        hi, lo = order[:, -k:], order[:, :k]
        zh = np.take_along_axis(zc, hi, axis=1)[:, :, None]
        zl = np.take_along_axis(zc, lo, axis=1)[:, None, :]
        s_pair = np.sqrt(a[hi][:, :, None] + a[lo][:, None, :])
        with np.errstate(invalid="ignore", divide="ignore"):
            cand = np.where(active[hi[:, :, None], lo[:, None, :]], (zh - zl) / s_pair, -np.inf)
        flat = cand.reshape(len(zc), -1)
        at = flat.argmax(axis=1)
        low = flat[np.arange(len(zc)), at]
        best_j = np.where(np.isfinite(low), hi[np.arange(len(zc)), at // k], -1)
        best_k = np.where(np.isfinite(low), lo[np.arange(len(zc)), at % k], -1)
        # upper bound of each department's statistics; zero covers pairs with a negative difference
        group_min = np.minimum.reduceat(zc[:, by_a], starts, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            bound = (np.maximum(zc[:, :, None] - group_min[:, None, :], 0.0)
                     / np.sqrt(a[None, :, None] + group_a[None, None, :])).max(axis=2)
        bound[np.isnan(bound)] = np.inf  # 0 / 0 beside a census department: no bound, compare in full
        best = low.copy()
        survive = bound > low[:, None]
        for j in np.flatnonzero(survive.any(axis=0)):
            if not len(partners[j]):
                continue
            b = np.flatnonzero(survive[:, j])
            stat = (zc[b, j][:, None] - zc[b][:, partners[j]]) / pair_s[j][None, :]
            at = stat.argmax(axis=1)
            top = stat[np.arange(len(b)), at]
            better = top > best[b]
            best[b[better]] = top[better]
            best_j[b[better]] = j
            best_k[b[better]] = partners[j][at[better]]
        out[start:start + len(zc)] = best
        arg_j[start:start + len(zc)] = best_j
        arg_k[start:start + len(zc)] = best_k
    return out, arg_j, arg_k


class _MaxT:
    """The max-t null distribution of the step-down, over one set of draws, updated as pairs leave.

    When a step removes pairs, a draw's largest statistic over the pairs
    still active is unchanged unless the pair that attained it was removed;
    only those draws are searched again (:func:`_pair_maxima`), so later
    steps cost a fraction of the first.
    """

    def __init__(self, z: np.ndarray, se: np.ndarray, active: np.ndarray):
        self.z, self.se = z, se
        self.maxima, self.arg_j, self.arg_k = _pair_maxima(z, se, active)

    def quantile(self, active: np.ndarray, level: float) -> float:
        """``level`` quantile over the draws of max over the ``active`` ordered pairs of (z_j - z_k) / s_jk."""
        stale = (self.arg_j < 0) | ~active[np.maximum(self.arg_j, 0), np.maximum(self.arg_k, 0)]
        if stale.any():
            idx = np.flatnonzero(stale)
            self.maxima[idx], self.arg_j[idx], self.arg_k[idx] = _pair_maxima(self.z[idx], self.se, active)
        return float(np.quantile(self.maxima, level, method="inverted_cdf"))


def pairwise_separation(estimates, se, *, level: float, n_sim: int, seed: int | np.random.Generator,
                        stepdown: bool = True, df=None) -> np.ndarray:
    """Which departments are surely better than which, simultaneously over all pairs.

    Parameters
    ----------
    estimates, se : 1-D arrays of the departments' estimates and standard errors
    level : family-wise confidence (1 - the probability of any false separation)
    n_sim : draws used to simulate the max-t critical value
    seed : seed or generator of those draws
    stepdown : Romano–Wolf step-down (True) or the single-step max-t test
    df : optional degrees of freedom of the estimates: the null draws are
        ``se_j T(df_j)`` (normal where infinite), as the published intervals are

    Returns
    -------
    ndarray of bool, shape (m, m)
        ``out[j, k]`` is True when ``theta_j > theta_k`` is established, i.e.
        ``H_jk: theta_j <= theta_k`` is rejected.

    Notes
    -----
    ``T_jk = (I_j - I_k) / s_jk`` with ``s_jk = sqrt(se_j^2 + se_k^2)``.  Step
    ``s`` computes ``c_s``, the ``level`` quantile of
    ``max_{(j,k) active} (Z_j - Z_k) / s_jk`` with independent
    ``Z_j ~ N(0, se_j^2)`` (the null distribution of the largest statistic
    at the least favourable configuration), rejects every active pair with
    ``T_jk > c_s`` and removes it from the active set; it stops when a step
    rejects nothing.  The single-step version stops after the first step.
    Every step reads the same ``n_sim`` draws of ``Z`` (Romano & Wolf 2005,
    "Exact and approximate stepdown methods for multiple hypothesis
    testing", *JASA* 100: one resampling distribution for all steps), so
    the critical values can only fall from step to step, and the cost of a
    step is bounded by draws times departments (:func:`_pair_maxima`).
    Pairs with ``s_jk = 0`` (two census values) are known exactly: ``H_jk``
    is rejected when ``I_j > I_k``.  Family-wise error control over all
    ordered pairs makes the derived rank intervals hold jointly
    (Mogstad et al. 2024, Theorem 3.3).
    """
    _check_level(level)
    est = np.asarray(estimates, dtype=float)
    s = np.nan_to_num(np.asarray(se, dtype=float))
    if est.ndim != 1 or s.shape != est.shape or np.isnan(est).any() or (s < 0).any():
        raise MethodologyError("Cannot compare departments", [Problem(
            "estimates and standard errors must be equal-length 1-D arrays without missing estimates and with "
            "non-negative standard errors", value=(est.shape, s.shape), fix="drop departments without an index")])
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    m = len(est)
    spair = np.sqrt(s[:, None] ** 2 + s[None, :] ** 2)
    diff = est[:, None] - est[None, :]
    off = ~np.eye(m, dtype=bool)
    exact = off & (spair == 0)
    rejected = exact & (diff > 0)
    active = off & ~exact
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(active, diff / np.where(spair > 0, spair, 1.0), -np.inf)
    null = None
    while active.any():
        if null is None:
            null = _MaxT(_null_draws(s, n_sim, rng, None if df is None else np.asarray(df, float)), s, active)
        c = null.quantile(active, level)
        new = active & (t > c)
        if not new.any():
            break
        rejected |= new
        active &= ~new
        if not stepdown:
            break
    return rejected


def _tie_groups(order: np.ndarray, separated: np.ndarray) -> np.ndarray:
    """Consecutive groups in ``order`` whose members are pairwise not separated."""
    either = separated | separated.T
    group = np.zeros(len(order), dtype=int)
    current: list[int] = []
    label = 0
    for j in order:
        if not current or either[j, current].any():
            label += 1
            current = []
        current.append(j)
        group[j] = label
    return group


def simultaneous_rank_intervals(frame: pd.DataFrame, *, level: float, n_sim: int, seed: int | np.random.Generator,
                                estimate: str = "index", se: str = "se", group: str | None = None,
                                stepdown: bool = True, df: str | None = "df") -> pd.DataFrame:
    """Rank intervals valid for all departments at once, and tie groups.

    Parameters
    ----------
    frame : one row per department with ``department_id``, ``estimate`` and ``se``
    level : joint coverage of all the intervals of one comparison (the whole
        frame, or each group)
    n_sim : draws for the max-t critical value
    seed : seed or generator of those draws
    group : optional column (e.g. ``category``): each group is its own family
    stepdown : Romano–Wolf step-down (default) or single-step max-t

    Returns
    -------
    DataFrame with ``department_id``, ``rank_sim_low``, ``rank_sim_high``
    (the joint interval, 1 = best), ``tie_group`` (1 = the group holding the
    best point rank; numbered within ``group`` when given) and
    ``tie_group_size``.

    Notes
    -----
    See :func:`pairwise_separation` and the module notes (Mogstad, Romano,
    Shaikh & Wilhelm 2024).  Point-rank order breaks equal estimates by the
    frame's row order.
    """
    rng = np.random.default_rng(seed)
    parts = []
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for _, sub in groups:
        sub = sub.reset_index(drop=True)
        est = sub[estimate].to_numpy(float)
        sep = pairwise_separation(est, sub[se].to_numpy(float), level=level, n_sim=n_sim, seed=rng,
                                  df=_df_of(sub, df), stepdown=stepdown)
        m = len(sub)
        order = np.argsort(-est, kind="stable")
        tie = _tie_groups(order, sep)
        parts.append(pd.DataFrame({
            "department_id": sub["department_id"].to_numpy(),
            "rank_sim_low": 1 + sep.sum(axis=0),
            "rank_sim_high": m - sep.sum(axis=1),
            "tie_group": tie,
            "tie_group_size": np.bincount(tie)[tie],
        }))
    return pd.concat(parts, ignore_index=True)


def rank_uncertainty(departments: pd.DataFrame, *, level: float, n_draws: int, n_sim: int,
                     seed: int | np.random.Generator, k: int = 3, estimate: str = "index",
                     se: str = "se") -> pd.DataFrame:
    """Marginal and simultaneous rank intervals, top/bottom-k probabilities and tie groups.

    The one place where a year's rank uncertainty is computed: the
    departments table takes its rank columns from here.

    Parameters
    ----------
    departments : one row per department with ``department_id``, ``category``,
        ``estimate`` and ``se`` (departments without an estimate are left out)
    level : confidence level of both kinds of interval
    n_draws : draws of the marginal simulation (:func:`rank_intervals`)
    n_sim : draws for the simultaneous critical values
    seed : seed or generator; four independent child streams are spawned from
        it (marginal and simultaneous, overall and within category), so each
        part's numbers do not depend on how many draws another part took
    k : size of the top and bottom sets

    Returns
    -------
    DataFrame with RANK_UNCERTAINTY_COLUMNS, one row per department and scope:
    ``scope`` ('overall' or 'category'), ``category``, ``department_id``,
    ``index``, ``se``, ``n_compared`` (departments in the comparison),
    ``rank``, ``rank_low``/``rank_high`` (marginal interval),
    ``rank_sim_low``/``rank_sim_high`` (simultaneous interval), ``p_top3``,
    ``p_bottom3`` (probability of being among the best / worst ``k``; the
    names keep the default k), ``tie_group``, ``tie_group_size``, ``level``.
    """
    scored = departments[departments[estimate].notna()].reset_index(drop=True)
    if scored.empty:
        return pd.DataFrame(columns=RANK_UNCERTAINTY_COLUMNS)
    streams = iter(np.random.default_rng(seed).spawn(4))
    frames = []
    for scope, group in (("overall", None), ("category", "category")):
        marg = rank_intervals(scored, level=level, n_draws=n_draws, seed=next(streams), estimate=estimate,
                              se=se, group=group, k=k)
        simu = simultaneous_rank_intervals(scored, level=level, n_sim=n_sim, seed=next(streams),
                                           estimate=estimate, se=se, group=group)
        out = scored[["department_id", "category", estimate, se]].rename(columns={estimate: "index", se: "se"})
        out = out.merge(marg, on="department_id").merge(simu, on="department_id")
        out = out.rename(columns={"p_top": "p_top3", "p_bottom": "p_bottom3"})
        out["scope"] = scope
        out["n_compared"] = len(scored) if group is None else out["category"].map(scored["category"].value_counts())
        out["level"] = level
        frames.append(out)
    out = pd.concat(frames, ignore_index=True)
    out["_block"] = np.where(out["scope"] == "overall", "", out["category"].astype(str))
    out = out.sort_values(["_block", "rank", "department_id"])
    return out[RANK_UNCERTAINTY_COLUMNS].reset_index(drop=True)
