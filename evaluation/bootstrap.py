"""Bootstrap option for the index: resampling within department and channel.

Each sampled table (survey, callback interviews, site visits, guide checks)
gets Rao-Wu rescaled bootstrap replicate weights
(:func:`evaluation.replicates.bootstrap_weights`): PSUs (clusters, or rows
when there are none) are resampled with replacement within strata (by default
each department is a stratum), so the replicates respect the design.  The
three channels are resampled independently.  For every replicate the indicator
raw values are recomputed as design-weighted domain means, put through the
score transforms, and aggregated with the full sample's effective weights into
dimension scores and the index; census indicators (administrative data,
好差评) are held fixed.

Returned per department: ``se_boot`` and the interval ``ci_low_boot`` /
``ci_high_boot`` = estimate +/- z * se_boot at ``level`` (cut to 0-100).
``se_boot`` is the replicates' standard deviation (the Rao-Wu-Yue variance
with scale 1/(R-1)) plus, as in the linearisation, the variance of share
indicators estimated at 0 or 1, which no resample of the observed answers can
show (the Wilson term of :func:`evaluation.indicators._finish`).  A replicate in
which a department has no valid answer for an indicator uses the full-sample
score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from surveys.framework import Framework

from .index import effective_weights
from .indicators import IndicatorEstimates
from .replicates import bootstrap_weights
from .transforms import score


#: replicate weights are generated in blocks of at most this many cells (rows x replicates),
#: so that two million respondents and 500 replicates never need one 8 GB matrix
BLOCK_CELLS = 20_000_000


def bootstrap_scores(est: IndicatorEstimates, framework: Framework, *, n_replicates: int = 500,
                     seed: int = 0) -> tuple[pd.Index, dict[str, np.ndarray]]:
    """Replicate scores: ``(departments, {indicator_id: array (n_departments, R)})``.

    Replicates are drawn in blocks (:data:`BLOCK_CELLS`) and summed per
    department with a sparse indicator matrix, so memory stays bounded
    whatever the number of rows.
    """
    from scipy import sparse

    rng = np.random.default_rng(seed)
    ind = est.frame
    departments = pd.Index(sorted(ind["department_id"].unique()))
    full = ind.set_index(["department_id", "indicator_id"])["score"]
    out: dict[str, np.ndarray] = {}
    meta = {i.id: i for i in framework.indicators}
    for table in sorted(est.values or {}):
        rows = est.values[table]
        dept = departments.get_indexer(rows["department_id"])
        ok = dept >= 0
        onehot = sparse.csr_matrix((np.ones(int(ok.sum())), (dept[ok], np.flatnonzero(ok))),
                                   shape=(len(departments), len(rows)))
        iids = [c for c in rows.columns if c in meta]
        values = {i: rows[i].to_numpy(float) for i in iids}
        num = {i: np.zeros((len(departments), n_replicates)) for i in iids}
        den = {i: np.zeros((len(departments), n_replicates)) for i in iids}
        block = max(2, min(n_replicates, BLOCK_CELLS // max(1, len(rows))))
        for start in range(0, n_replicates, block):
            stop = min(n_replicates, start + block)
            reps = bootstrap_weights(rows, est.designs[table], max(2, stop - start), rng).weights[:, :stop - start]
            for iid in iids:
                y = values[iid]
                a = ~np.isnan(y)
                num[iid][:, start:stop] = onehot @ (reps * np.where(a, y, 0.0)[:, None])
                den[iid][:, start:stop] = onehot @ (reps * a[:, None])
            del reps
        for iid in iids:
            with np.errstate(invalid="ignore", divide="ignore"):
                raw = num[iid] / den[iid]
            sc = score(meta[iid].transform, raw)
            base = full.reindex(pd.MultiIndex.from_product([departments, [iid]])).to_numpy()
            out[iid] = np.where(np.isfinite(sc), sc, base[:, None])
    for iid in ind.loc[ind["census"].astype(bool), "indicator_id"].unique():
        base = full.reindex(pd.MultiIndex.from_product([departments, [iid]])).to_numpy()
        out[iid] = np.repeat(base[:, None], n_replicates, axis=1)
    return departments, out


def bootstrap_index(est: IndicatorEstimates, framework: Framework, *, n_replicates: int = 500, seed: int = 0,
                    level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bootstrap standard errors and percentile intervals of the index and the dimension scores.

    Returns ``(index, dimensions)``: ``department_id[, dimension_id], estimate_boot_mean, se_boot,
    ci_low_boot, ci_high_boot``.
    """
    departments, reps = bootstrap_scores(est, framework, n_replicates=n_replicates, seed=seed)
    ew = effective_weights(est.frame, framework)
    d_index = departments.get_indexer(ew["department_id"])
    total = np.zeros((len(departments), n_replicates))
    dims: dict[str, np.ndarray] = {}
    for row, d, iid, dim, w_dim, w_idx in zip(range(len(ew)), d_index, ew["indicator_id"], ew["dimension_id"],
                                              ew["w_dim"], ew["w_index"]):
        r = reps[iid][d]
        r = np.where(np.isfinite(r), r, 0.0)
        total[d] += w_idx * r
        dims.setdefault(dim, np.zeros((len(departments), n_replicates)))[d] += w_dim * r
    have = set(zip(ew["department_id"], ew["dimension_id"]))
    extra = est.frame.set_index(["department_id", "indicator_id"])["extra_var"]
    ev = extra.reindex(pd.MultiIndex.from_frame(ew[["department_id", "indicator_id"]])).fillna(0.0).to_numpy()
    z = stats.norm.ppf(0.5 + level / 2)
    point = est.frame.set_index(["department_id", "indicator_id"])["score"].reindex(
        pd.MultiIndex.from_frame(ew[["department_id", "indicator_id"]])).to_numpy()

    idx_terms = pd.DataFrame({"department_id": ew["department_id"], "p": ew["w_index"] * point,
                              "e": ew["w_index"] ** 2 * ev}).groupby("department_id").sum().reindex(departments)
    se = np.sqrt(total.var(axis=1, ddof=1) + idx_terms["e"].to_numpy())
    est_i = idx_terms["p"].to_numpy()
    index = pd.DataFrame({"department_id": departments, "estimate_boot_mean": total.mean(axis=1), "se_boot": se,
                          "ci_low_boot": np.clip(est_i - z * se, 0, 100), "ci_high_boot": np.clip(est_i + z * se, 0, 100)})
    dim_terms = pd.DataFrame({"department_id": ew["department_id"], "dimension_id": ew["dimension_id"],
                              "p": ew["w_dim"] * point, "e": ew["w_dim"] ** 2 * ev}).groupby(
        ["department_id", "dimension_id"]).sum()
    parts = []
    for dim, m in sorted(dims.items()):
        keep = np.array([(d, dim) in have for d in departments])
        t = dim_terms.xs(dim, level="dimension_id").reindex(departments)
        se = np.sqrt(m.var(axis=1, ddof=1) + t["e"].fillna(0).to_numpy())
        e = t["p"].to_numpy()
        frame = pd.DataFrame({"department_id": departments, "dimension_id": dim, "estimate_boot_mean": m.mean(axis=1),
                              "se_boot": se, "ci_low_boot": np.clip(e - z * se, 0, 100),
                              "ci_high_boot": np.clip(e + z * se, 0, 100)})
        parts.append(frame[keep])
    return index, pd.concat(parts, ignore_index=True)
