"""Uncertainty and sensitivity analysis of the ranking to methodological choices.

After the OECD/JRC *Handbook on Constructing Composite Indicators* (2008,
steps 7 and section 1.7) and Saisana, Saltelli & Tarantola (2005),
"Uncertainty and sensitivity analysis techniques as tools for the quality
assessment of composite indicators", *JRSS A* 168(2):307-323.  The
indicator scores are held fixed; what varies are the choices made in
building the index (each one a *factor*):

=====================  =======================================================
factor                 options
=====================  =======================================================
indicator_weights      indicator weights within each dimension drawn around the
                       nominal ones: Dirichlet(c * w) per dimension (mean w),
                       or each weight times U(1 - x, 1 + x), renormalised
dimension_weights      the same for the dimension weights
aggregation            arithmetic or weighted geometric mean of dimension scores
likert_preset          the nominal preset or another one (e.g. linear vs
                       cn_common) for the Likert indicators
leave_out_channel      none, or one channel (S, C, V, A, H) left out
leave_out_dimension    none, or one dimension left out
=====================  =======================================================

Discrete factors take each option with equal probability.  The index of a
variant is built as in :mod:`evaluation.index` (weights renormalised over the
indicators and dimensions present) and carried onto the published index as a
change: ``I_v = I_published + (I_v_raw - I_nominal_raw)``, so gates and
adjustments stay as published and the unperturbed variant *is* the
published index, bit for bit (zero perturbation reproduces the nominal
ranking exactly).

Design and estimators
    Saltelli et al. (2010) sample-matrix design on groups of inputs: two
    independent samples A and B of N variants, and for each factor i the
    matrix A_B^(i) (A with factor i taken from B); N (k + 2) evaluations.
    With Y a department's rank: first-order index
    ``S_i = mean(f(B) (f(A_B^i) - f(A))) / V`` (Saltelli et al. 2010) and
    total index ``ST_i = mean((f(A) - f(A_B^i))^2) / (2 V)`` (Jansen 1999),
    ``V`` the variance of Y over A and B.  City-wide indices weight the
    departments by their rank variance (the share of the summed rank
    variance due to each factor).  They are Monte Carlo estimates: a small
    negative first-order value is noise around 0, and N of a few hundred
    gives about two decimals.  The uncertainty analysis (median rank and
    5-95% band) uses the 2N variants of A and B; the mean absolute rank
    shift per choice is one-at-a-time: each discrete option, or each of the N
    weight draws of B, with every other choice nominal.

Likert presets
    For a Likert indicator the score is the mean item score, so when the
    other preset is an affine map of the nominal one on every scale used
    (cn_common = 20 + 0.8 x linear for the 5-point presets) the indicator's
    raw value maps the same way and is re-scored without re-estimation; any
    other preset is re-estimated from the data with
    :func:`evaluation.indicators.estimate_indicators`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.errors import FrameworkError, MethodologyError, Problem
from surveys.framework import Framework

from .transforms import score

__all__ = [
    "SENSITIVITY_COLUMNS",
    "SENSITIVITY_SUMMARY_COLUMNS",
    "SensitivityOptions",
    "SensitivityResult",
    "affine_map",
    "preset_scores",
    "sensitivity_analysis",
    "variant_index",
    "variant_ranks",
]

AGGREGATIONS = ("arithmetic", "geometric")
#: the uncertainty band of ranks and indices across the variants (5% and 95% points: a range, not an interval)
BAND = (0.05, 1 - 0.05)
SENSITIVITY_COLUMNS = [
    "scope", "category", "department_id", "nominal_index", "nominal_rank", "median_rank", "rank_p05", "rank_p95",
    "rank_min", "rank_max", "p_nominal_rank", "mean_abs_shift", "index_p05", "index_p95", "n_variants",
]
SENSITIVITY_SUMMARY_COLUMNS = [
    "scope", "choice", "options", "n_oat_variants", "mean_abs_rank_shift", "max_abs_rank_shift",
    "share_departments_moved", "first_order", "total_order", "estimator",
]
INDICES_COLUMNS = ["scope", "category", "department_id", "choice", "first_order", "total_order", "rank_variance"]
ESTIMATOR = "Saltelli 2010 (first order) / Jansen 1999 (total); variance-weighted over departments"


@dataclass(frozen=True)
class SensitivityOptions:
    """Which choices vary and how.

    Attributes
    ----------
    weights : ``"dirichlet"`` or ``"uniform"``
    concentration : Dirichlet concentration c (a weight share w gets SD
        ``sqrt(w (1 - w) / (c + 1))``: with the default 100 a dimension
        weight of 25 points varies with SD 4.3 points); ``inf`` keeps the
        weights nominal
    spread : uniform half-width x (each weight times U(1 - x, 1 + x), then
        renormalised); 0 keeps them nominal
    indicator_weights, dimension_weights : whether each set of weights varies
    aggregations : options of the aggregation of dimension scores
    presets : Likert presets to try; ``None`` = the nominal preset and every
        other preset that fits all the Likert scales used
    leave_out_channel, leave_out_dimension : whether those factors vary
    """

    weights: str = "dirichlet"
    concentration: float = 100.0
    spread: float = 0.2
    indicator_weights: bool = True
    dimension_weights: bool = True
    aggregations: tuple[str, ...] = AGGREGATIONS
    presets: tuple[str, ...] | None = None
    leave_out_channel: bool = True
    leave_out_dimension: bool = True

    @classmethod
    def fixed(cls, nominal_preset: str) -> SensitivityOptions:
        """Every choice held at its nominal value (zero perturbation)."""
        return cls(concentration=np.inf, spread=0.0, aggregations=("arithmetic",), presets=(nominal_preset,),
                   leave_out_channel=False, leave_out_dimension=False)


@dataclass(frozen=True)
class SensitivityResult:
    """Outcome of :func:`sensitivity_analysis`.

    Attributes
    ----------
    departments : SENSITIVITY_COLUMNS per scope x department
    summary : SENSITIVITY_SUMMARY_COLUMNS per scope x choice (plus ``all``)
    indices : INDICES_COLUMNS per scope x department x choice
    ranks : overall ranks of the 2N uncertainty-analysis variants (rows) by
        department (columns)
    """

    departments: pd.DataFrame
    summary: pd.DataFrame
    indices: pd.DataFrame
    ranks: pd.DataFrame


@dataclass(frozen=True)
class _Batch:
    w: np.ndarray          # (V, I) indicator weights within dimension
    dw: np.ndarray         # (V, K) dimension weights
    agg: np.ndarray        # (V,) index into AGGREGATIONS
    preset: np.ndarray     # (V,) index into the score stack
    drop_channel: np.ndarray   # (V,) -1 or channel index
    drop_dim: np.ndarray       # (V,) -1 or dimension index

    def take(self, field: str, other: _Batch) -> _Batch:
        return _Batch(**{f: getattr(other if f == field else self, f) for f in self.__dataclass_fields__})


def affine_map(framework: Framework, scale_id: str, nominal: str, preset: str) -> tuple[float, float] | None:
    """``(a, b)`` with ``score_preset = a + b * score_nominal`` for every code of the scale, or ``None``."""
    x = np.array(list(framework.likert_scores(scale_id, nominal).values()))
    y = np.array(list(framework.likert_scores(scale_id, preset).values()))
    if np.ptp(x) == 0:
        return None
    b = (y[-1] - y[0]) / (x[-1] - x[0])
    a = y[0] - b * x[0]
    return (float(a), float(b)) if np.allclose(a + b * x, y, rtol=0, atol=1e-9 * max(1.0, np.abs(y).max())) else None


def _preset_dependent(framework: Framework) -> list:
    return [i for i in framework.indicators if i.measure == "likert" and not i.transform.preset]


def _fits(framework: Framework, preset: str) -> bool:
    try:
        for ind in _preset_dependent(framework):
            framework.likert_scores(ind.scale, preset)
    except FrameworkError:
        return False
    return True


def preset_scores(indicators: pd.DataFrame, framework: Framework, preset: str, *, nominal: str,
                  data=None, level: float | None = None) -> pd.Series:
    """The indicator scores under another Likert preset (aligned with ``indicators``).

    Affine presets are mapped (see the module notes); otherwise the Likert
    indicators are re-estimated from ``data``.

    Raises
    ------
    MethodologyError
        The preset is not an affine map of the nominal one and no data were given.
    """
    out = indicators["score"].astype(float).copy()
    if preset == nominal:
        return out
    deps = {i.id: i for i in _preset_dependent(framework)}
    maps = {ind.scale: affine_map(framework, ind.scale, nominal, preset) for ind in deps.values()}
    if all(v is not None for v in maps.values()):
        for iid, ind in deps.items():
            rows = indicators["indicator_id"] == iid
            a, b = maps[ind.scale]
            out[rows] = score(ind.transform, a + b * indicators.loc[rows, "raw_value"].to_numpy(float))
        return out
    if data is None:
        raise MethodologyError("Cannot re-score the Likert indicators", [Problem(
            f"preset '{preset}' is not an affine map of the nominal preset '{nominal}'",
            fix="pass the channel data so the Likert indicators can be re-estimated")])
    from .indicators import estimate_indicators

    est = estimate_indicators(data, framework, level=level, preset=preset).frame
    alt = est.set_index(["department_id", "indicator_id"])["score"]
    rows = indicators["indicator_id"].isin(list(deps))
    keys = pd.MultiIndex.from_frame(indicators.loc[rows, ["department_id", "indicator_id"]])
    out[rows] = alt.reindex(keys).to_numpy(float)
    return out


class _Model:
    """Scores and nominal weights as arrays, in framework order."""

    def __init__(self, indicators: pd.DataFrame, departments: pd.DataFrame, framework: Framework,
                 stacks: list[pd.Series], stack_names: list[str], preset_names: list[str]):
        self.stack_names = stack_names      # nominal first
        self.preset_names = preset_names    # the options tried
        present = set(indicators["indicator_id"])
        self.inds = [i for i in framework.indicators if i.id in present]
        self.dims = [d for d in framework.dimensions if any(i.dimension == d.id for i in self.inds)]
        self.channels = sorted({i.channel for i in self.inds})
        self.dep_ids = departments["department_id"].tolist()
        dim_pos = {d.id: k for k, d in enumerate(self.dims)}
        self.dim_of = np.array([dim_pos[i.dimension] for i in self.inds])
        self.channel_of = np.array([self.channels.index(i.channel) for i in self.inds])
        self.members = [np.flatnonzero(self.dim_of == k) for k in range(len(self.dims))]
        self.w0 = np.array([i.weight for i in self.inds], dtype=float)
        self.dw0 = np.array([d.weight for d in self.dims], dtype=float)
        ids = [i.id for i in self.inds]
        cube = []
        for s in stacks:
            wide = indicators.assign(_s=s.to_numpy()).pivot_table(index="department_id", columns="indicator_id",
                                                                  values="_s", aggfunc="first", dropna=False)
            cube.append(wide.reindex(index=self.dep_ids, columns=ids).to_numpy(float))
        self.scores = np.stack(cube)     # (P, D, I)

    def nominal(self, n: int = 1) -> _Batch:
        return _Batch(np.tile(self.w0, (n, 1)), np.tile(self.dw0, (n, 1)), np.zeros(n, int), np.zeros(n, int),
                      np.full(n, -1), np.full(n, -1))

    def index(self, b: _Batch) -> np.ndarray:
        """Raw index (V, D) of a batch of variants."""
        s = self.scores[b.preset]
        keep = (self.channel_of[None, :] != b.drop_channel[:, None]) & (self.dim_of[None, :] != b.drop_dim[:, None])
        present = ~np.isnan(s) & keep[:, None, :]
        w = np.where(present, b.w[:, None, :], 0.0)
        ws = np.where(present, s, 0.0) * w
        dims = np.full(s.shape[:2] + (len(self.dims),), np.nan)
        for k, cols in enumerate(self.members):
            den = w[..., cols].sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                dims[..., k] = np.where(den > 0, ws[..., cols].sum(axis=-1) / den, np.nan)
        have = ~np.isnan(dims)
        dw = np.where(have, b.dw[:, None, :], 0.0)
        total = dw.sum(axis=-1)
        d0 = np.where(have, dims, 0.0)
        arith = (dw * d0).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            geo = np.exp((dw * np.log(np.where(have, dims, 1.0))).sum(axis=-1) / total)
            out = np.where(b.agg[:, None] == 1, geo, arith / total)
        return np.where(total > 0, out, np.nan)


def variant_ranks(values: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = highest, ties share the best rank) along the last axis; NaN stays NaN."""
    greater = (values[..., None, :] > values[..., :, None]).sum(axis=-1)
    return np.where(np.isnan(values), np.nan, 1.0 + greater)


def _weights_draws(nominal: np.ndarray, groups: list[np.ndarray], opt: SensitivityOptions, n: int,
                   rng: np.random.Generator) -> np.ndarray:
    out = np.tile(nominal, (n, 1))
    for cols in groups:
        share = nominal[cols] / nominal[cols].sum()
        if len(cols) < 2:
            continue
        if opt.weights == "dirichlet":
            draw = rng.dirichlet(opt.concentration * share, size=n)
        else:
            draw = share[None, :] * rng.uniform(1.0 - opt.spread, 1.0 + opt.spread, size=(n, len(cols)))
            draw /= draw.sum(axis=1, keepdims=True)
        out[:, cols] = draw * nominal[cols].sum()
    return out


def _factors(model: _Model, opt: SensitivityOptions, preset_names: list[str]) -> list[tuple]:
    """Active factors as (name, field, options text, discrete options or None)."""
    moves = (opt.concentration < np.inf) if opt.weights == "dirichlet" else (opt.spread > 0)
    out = []
    if opt.indicator_weights and moves and any(len(c) > 1 for c in model.members):
        out.append(("indicator_weights", "w", f"{opt.weights} around nominal "
                    + (f"(concentration {opt.concentration:g})" if opt.weights == "dirichlet"
                       else f"(+/-{100 * opt.spread:g}%)"), None))
    if opt.dimension_weights and moves and len(model.dims) > 1:
        out.append(("dimension_weights", "dw", f"{opt.weights} around nominal", None))
    aggs = [AGGREGATIONS.index(a) for a in opt.aggregations]
    if len(aggs) > 1:
        out.append(("aggregation", "agg", ";".join(opt.aggregations), aggs))
    if len(preset_names) > 1:
        out.append(("likert_preset", "preset", ";".join(preset_names), [model.stack_names.index(p)
                                                                       for p in preset_names]))
    if opt.leave_out_channel and len(model.channels) > 1:
        out.append(("leave_out_channel", "drop_channel", "none;" + ";".join(model.channels),
                    [-1] + list(range(len(model.channels)))))
    if opt.leave_out_dimension and len(model.dims) > 1:
        out.append(("leave_out_dimension", "drop_dim", "none;" + ";".join(d.id for d in model.dims),
                    [-1] + list(range(len(model.dims)))))
    return out


def _sample(model: _Model, factors, opt: SensitivityOptions, n: int, rng: np.random.Generator) -> _Batch:
    b = model.nominal(n)
    fields = {f: getattr(b, f) for f in b.__dataclass_fields__}
    # a choice given a single option that is not the nominal one applies to every variant
    if len(opt.aggregations) == 1:
        fields["agg"] = np.full(n, AGGREGATIONS.index(opt.aggregations[0]))
    if len(model.preset_names) == 1:
        fields["preset"] = np.full(n, model.stack_names.index(model.preset_names[0]))
    for name, field, _, options in factors:
        if field == "w":
            fields[field] = _weights_draws(model.w0, model.members, opt, n, rng)
        elif field == "dw":
            fields[field] = _weights_draws(model.dw0, [np.arange(len(model.dims))], opt, n, rng)
        else:
            fields[field] = np.asarray(options)[rng.integers(0, len(options), size=n)]
    return _Batch(**fields)


def _check_options(opt: SensitivityOptions, framework: Framework, nominal: str, n_draws: int) -> list[str]:
    problems = []
    if opt.weights not in ("dirichlet", "uniform"):
        problems.append(Problem(f"weights {opt.weights!r}", fix="use 'dirichlet' or 'uniform'"))
    if not (opt.concentration > 0) or not (0 <= opt.spread < 1):
        problems.append(Problem(f"concentration {opt.concentration!r}, spread {opt.spread!r}",
                                fix="use a positive concentration and a spread in [0, 1)"))
    bad = [a for a in opt.aggregations if a not in AGGREGATIONS] or ([] if opt.aggregations else ["(none)"])
    if bad:
        problems.append(Problem(f"aggregation {bad}", fix=f"use options among {list(AGGREGATIONS)}"))
    presets = list(opt.presets) if opt.presets is not None else [nominal] + [
        p for p in framework.likert_presets if p != nominal and _fits(framework, p)]
    for p in presets:
        if p not in framework.likert_presets or not _fits(framework, p):
            problems.append(Problem(f"Likert preset {p!r} is unknown or does not fit the scales",
                                    fix=f"use presets among {sorted(framework.likert_presets)} "
                                        "with one score per code"))
    if n_draws < 2:
        problems.append(Problem(f"n_draws {n_draws}", fix="use at least 2 (hundreds for stable indices)"))
    if problems:
        raise MethodologyError("Invalid sensitivity-analysis options", problems)
    return presets


def _prepare(indicators, departments, framework, presets, nominal, data, level):
    """The model of the result, and the map from a batch of variants to their published-scale index."""
    deps = departments[departments["index"].notna()].reset_index(drop=True)
    inds = indicators[indicators["department_id"].isin(deps["department_id"])].reset_index(drop=True)
    stack_names = [nominal] + [p for p in presets if p != nominal]
    stacks = [preset_scores(inds, framework, p, nominal=nominal, data=data, level=level) for p in stack_names]
    model = _Model(inds, deps, framework, stacks, stack_names, presets)
    base_raw = model.index(model.nominal())[0]
    published_raw = deps["index_raw"] if "index_raw" in deps else deps["index"]
    off = np.abs(base_raw - published_raw.to_numpy(float))
    if not np.all(off <= 1e-8 * np.maximum(1.0, np.abs(base_raw))):
        worst = int(np.nanargmax(np.where(np.isnan(off), np.inf, off)))
        raise MethodologyError("The indicator scores do not reproduce the index", [Problem(
            f"recomputed {base_raw[worst]!r}, published {published_raw.iloc[worst]!r}",
            department=str(deps["department_id"].iloc[worst]),
            fix="run the sensitivity analysis on the framework and Likert preset the result was computed with")])
    published = deps["index"].to_numpy(float)

    def final(b: _Batch) -> np.ndarray:
        # a change from the nominal build, added to the published index (see the module notes)
        return published[None, :] + (model.index(b) - base_raw[None, :])

    return model, deps, final


def variant_index(indicators: pd.DataFrame, departments: pd.DataFrame, framework: Framework, *,
                  indicator_weights: dict[str, float] | None = None,
                  dimension_weights: dict[str, float] | None = None, aggregation: str = "arithmetic",
                  preset: str | None = None, leave_out_channel: str | None = None,
                  leave_out_dimension: str | None = None, nominal_preset: str | None = None, data=None,
                  level: float | None = None) -> pd.Series:
    """The index of every department under one methodological variant.

    Parameters
    ----------
    indicators, departments, framework : as for :func:`sensitivity_analysis`
    indicator_weights : within-dimension weights by indicator id (others
        nominal; renormalised within each dimension over what is present)
    dimension_weights : dimension weights by id (others nominal; renormalised)
    aggregation : ``"arithmetic"`` or ``"geometric"`` mean of dimension scores
    preset : Likert preset (default the nominal one)
    leave_out_channel, leave_out_dimension : a channel code or dimension id to drop

    Returns
    -------
    pd.Series indexed by ``department_id``: the published index plus the
    change the variant makes (equal to the published index for the nominal
    variant).
    """
    nominal = nominal_preset or framework.likert_preset
    preset = preset or nominal
    _check_options(SensitivityOptions(aggregations=(aggregation,), presets=(preset,)), framework, nominal, 2)
    model, deps, final = _prepare(indicators, departments, framework, [preset], nominal, data, level)
    b = model.nominal()
    w, dw = b.w.copy(), b.dw.copy()
    for k, ind in enumerate(model.inds):
        w[0, k] = (indicator_weights or {}).get(ind.id, w[0, k])
    for k, dim in enumerate(model.dims):
        dw[0, k] = (dimension_weights or {}).get(dim.id, dw[0, k])
    problems = []
    if leave_out_channel is not None and leave_out_channel not in model.channels:
        problems.append(Problem(f"channel {leave_out_channel!r} has no indicator", fix=f"use one of {model.channels}"))
    dim_ids = [d.id for d in model.dims]
    if leave_out_dimension is not None and leave_out_dimension not in dim_ids:
        problems.append(Problem(f"dimension {leave_out_dimension!r} has no indicator", fix=f"use one of {dim_ids}"))
    if problems:
        raise MethodologyError("Invalid variant", problems)
    batch = _Batch(w, dw, np.array([AGGREGATIONS.index(aggregation)]), np.array([model.stack_names.index(preset)]),
                   np.array([-1 if leave_out_channel is None else model.channels.index(leave_out_channel)]),
                   np.array([-1 if leave_out_dimension is None else dim_ids.index(leave_out_dimension)]))
    return pd.Series(final(batch)[0], index=pd.Index(deps["department_id"], name="department_id"), name="index")


def sensitivity_analysis(indicators: pd.DataFrame, departments: pd.DataFrame, framework: Framework, *,
                         n_draws: int = 500, seed: int = 0, options: SensitivityOptions | None = None,
                         nominal_preset: str | None = None, data=None, level: float | None = None
                         ) -> SensitivityResult:
    """Rank uncertainty across methodological variants and which choice drives it.

    Parameters
    ----------
    indicators : department x indicator table of the result (``department_id,
        indicator_id, raw_value, score``)
    departments : departments table of the result (``department_id, category,
        index``, and ``index_raw`` when gates shifted the index)
    framework : the framework the result was computed with
    n_draws : N, the size of each of the two base samples
    seed : seed of every draw
    options : which choices vary (default :class:`SensitivityOptions`)
    nominal_preset : the Likert preset of the result (default the framework's)
    data, level : channel data and level, needed only to re-estimate a
        non-affine Likert preset

    Returns
    -------
    SensitivityResult
        ``departments`` (SENSITIVITY_COLUMNS; scope 'overall' or 'category'):
        ``nominal_index``, ``nominal_rank``, ``median_rank``,
        ``rank_p05``/``rank_p95`` (5% and 95% points of the rank across the 2N
        variants, inverted-CDF quantiles), ``rank_min``, ``rank_max``,
        ``p_nominal_rank`` (share of variants with the nominal rank),
        ``mean_abs_shift`` (mean |rank - nominal rank|), ``index_p05``,
        ``index_p95``, ``n_variants`` (variants that rank the department: a
        variant leaving it without any indicator, e.g. one channel and one
        dimension both dropped, gives it no rank).  ``summary``
        (SENSITIVITY_SUMMARY_COLUMNS): per choice the options, the number of
        one-at-a-time variants, the mean and largest absolute rank shift over
        them, the share of departments whose rank moves in at least one of
        them, and the first-order and total sensitivity indices of the rank;
        the row ``all`` gives the shifts over the joint variants.
        ``indices``: the indices per department.

    Raises
    ------
    MethodologyError
        Invalid options, or indicator scores that do not reproduce the
        result's index (a result computed with another framework or preset).
    """
    opt = options or SensitivityOptions()
    nominal = nominal_preset or framework.likert_preset
    presets = _check_options(opt, framework, nominal, n_draws)
    model, deps, final = _prepare(indicators, departments, framework, presets, nominal, data, level)
    published = deps["index"].to_numpy(float)

    rng = np.random.default_rng(seed)
    factors = _factors(model, opt, presets)
    a_batch = _sample(model, factors, opt, n_draws, rng)
    b_batch = _sample(model, factors, opt, n_draws, rng)
    ya, yb = final(a_batch), final(b_batch)
    yab = {name: final(a_batch.take(field, b_batch)) for name, field, _, _ in factors}
    oat = {}
    for name, field, _, options_ in factors:
        if options_ is None:
            oat[name] = final(model.nominal(n_draws).take(field, b_batch))
        else:
            alt = [o for o in options_ if o != getattr(model.nominal(), field)[0]]
            if not alt:
                oat[name] = np.full((0, len(published)), np.nan)
                continue
            nb = model.nominal(len(alt))
            oat[name] = final(_Batch(**{**{f: getattr(nb, f) for f in nb.__dataclass_fields__},
                                        field: np.asarray(alt)}))

    cats = deps["category"].astype(str).to_numpy()
    scopes = [("overall", [np.arange(len(deps))])] + [
        ("category", [np.flatnonzero(cats == c) for c in sorted(set(cats))])]
    dep_rows, sum_rows, idx_rows = [], [], []
    overall_ranks = None
    for scope, blocks in scopes:
        def ranks(x, blocks=blocks):
            return _block_ranks(x, blocks)
        nom = ranks(published[None, :])[0]
        ra, rb = ranks(ya), ranks(yb)
        joint = np.vstack([ra, rb])
        if scope == "overall":
            overall_ranks = joint
        yj = np.vstack([ya, yb])
        shift = np.abs(joint - nom[None, :])
        dep_rows.append(pd.DataFrame({
            "scope": scope, "category": cats, "department_id": deps["department_id"].to_numpy(),
            "nominal_index": published, "nominal_rank": nom,
            "median_rank": np.nanmedian(joint, axis=0),
            "rank_p05": _quantile(joint, BAND[0]), "rank_p95": _quantile(joint, BAND[1]),
            "rank_min": np.nanmin(joint, axis=0), "rank_max": np.nanmax(joint, axis=0),
            "p_nominal_rank": np.nanmean(joint == nom[None, :], axis=0),
            "mean_abs_shift": np.nanmean(shift, axis=0),
            "index_p05": _quantile(yj, BAND[0]), "index_p95": _quantile(yj, BAND[1]),
            "n_variants": np.sum(~np.isnan(joint), axis=0),
        }))
        var = np.nanvar(joint, axis=0)
        for name, field, text, _ in factors:
            rab = ranks(yab[name])
            num_s = np.nanmean(rb * (rab - ra), axis=0)
            num_t = np.nanmean((ra - rab) ** 2, axis=0) / 2.0
            with np.errstate(invalid="ignore", divide="ignore"):
                idx_rows.append(pd.DataFrame({
                    "scope": scope, "category": cats, "department_id": deps["department_id"].to_numpy(),
                    "choice": name, "first_order": np.where(var > 0, num_s / var, np.nan),
                    "total_order": np.where(var > 0, num_t / var, np.nan), "rank_variance": var}))
            # no alternative option: nothing moves
            moved = np.abs(ranks(oat[name]) - nom[None, :]) if len(oat[name]) else np.zeros((1, len(nom)))
            total_var = var.sum()
            sum_rows.append({
                "scope": scope, "choice": name, "options": text, "n_oat_variants": len(oat[name]),
                "mean_abs_rank_shift": float(np.nanmean(moved)), "max_abs_rank_shift": float(np.nanmax(moved)),
                "share_departments_moved": float(np.mean(np.nanmax(moved, axis=0) > 0)),
                "first_order": float(num_s.sum() / total_var) if total_var > 0 else np.nan,
                "total_order": float(num_t.sum() / total_var) if total_var > 0 else np.nan,
                "estimator": ESTIMATOR})
        sum_rows.append({
            "scope": scope, "choice": "all", "options": "joint variants (A and B samples)",
            "n_oat_variants": len(joint), "mean_abs_rank_shift": float(np.nanmean(shift)),
            "max_abs_rank_shift": float(np.nanmax(shift)),
            "share_departments_moved": float(np.mean(np.nanmax(shift, axis=0) > 0)),
            "first_order": np.nan, "total_order": np.nan, "estimator": ""})
    table = pd.concat(dep_rows, ignore_index=True)
    table["_block"] = np.where(table["scope"] == "overall", "", table["category"])
    table = table.sort_values(["_block", "nominal_rank", "department_id"], kind="stable")
    return SensitivityResult(
        departments=table[SENSITIVITY_COLUMNS].reset_index(drop=True),
        summary=pd.DataFrame(sum_rows, columns=SENSITIVITY_SUMMARY_COLUMNS),
        indices=(pd.concat(idx_rows, ignore_index=True) if idx_rows else pd.DataFrame(columns=INDICES_COLUMNS)),
        ranks=pd.DataFrame(overall_ranks, columns=deps["department_id"].tolist()),
    )


def _block_ranks(x: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for cols in blocks:
        out[:, cols] = variant_ranks(x[:, cols])
    return out


def _quantile(x: np.ndarray, q: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.nanquantile(x, q, axis=0, method="inverted_cdf")
