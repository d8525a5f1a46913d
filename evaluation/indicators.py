"""Indicator estimates per department, with design-based standard errors.

Each indicator reads one field of one canonical table.  For the sampled
channels (survey, callback, site visit) the raw value is a design-weighted
domain mean (department = domain) from :mod:`evaluation.design`;
administrative and 好差评 data are censuses (standard error 0).  Scores follow
:mod:`evaluation.transforms`.

Standard errors
    ``raw_se`` is the Taylor-linearisation standard error of the raw value
    under the table's design (strata, clusters at every stage, finite
    population corrections, and the calibration model when the weights are
    calibrated), exactly R ``survey``'s ``svyby(..., svymean)``.  The score's
    ``se`` is ``|slope| raw_se`` with ``slope`` the derivative of the score
    transform at the raw value (delta method; for distance to frontier the
    derivative is 0 beyond the worst or the frontier, where the score does not
    move, and the one-sided derivative exactly at either).  Nothing is
    rescaled to a displayed interval.

One rule for degenerate components
    A department whose own linearised variance of an indicator is zero --
    a share of 0 or 1, identical answers, a single unit, or all answers in
    one PSU -- cannot show its sampling error.  Such a component, and only
    such a component, takes the variance predicted by a generalised variance
    function fitted on the indicator across the departments (Wolter 2007,
    *Introduction to Variance Estimation*, ch. 7)::

        raw_se^2 = deff * r * (m~ - a) (b - m~) / n,    m~ = (n m + (a + b) / 2) / (n + 1)

    ``[a, b]`` is the range of the indicator's answers in the city; ``m`` the
    department's mean and ``n`` its answers; ``m~`` the mean with half a
    pseudo-answer at each end of the range; ``(m - a)(b - m)`` is the largest
    element variance a variable on ``[a, b]`` with mean ``m`` can have
    (Bhatia & Davis 2000), and ``r`` the median over the departments with a
    positive variance of their element variance as a share of that bound;
    ``deff`` is the median over the same departments of ``n_d raw_se_d^2 /
    s_d^2`` (the design effect against sampling with replacement, Kish 1965).
    For a share ``r = 1`` and ``m~`` is the Jeffreys estimate ``(x + 1/2) /
    (n + 1)``, so a department where all ten guides passed gets the sampling
    error of ten guides at 95.5% accuracy (Brown, Cai & DasGupta 2001 on the
    Jeffreys interval).  Its interval is ``raw -/+ z raw_se`` (normal: the
    variance function is fitted across the departments), cut to the
    parameter range, and ``df`` is infinite.  The row says so: ``se_rule =
    "pooled"`` and ``degenerate`` names the case (``single_unit``,
    ``single_psu``, ``identical``).  In the index the component adds ``(c
    slope)^2 raw_se^2`` as an independent term (``extra_var`` holds its
    variance on the score scale).  When nothing can be fitted (no department
    with a positive variance, or a range of zero width) the row keeps ``se =
    0`` with ``se_rule = "none"``.  The same rule serves the top-2 and bottom-2
    box shares.

Intervals (``ci_low``, ``ci_high`` at ``level``)
    Means and Likert scores: ``raw -/+ t_df raw_se`` with ``df`` the
    department's design degrees of freedom for the indicator (PSUs minus
    strata among its rows with an answer: R's ``degf`` of the domain, as
    ``svyby(..., svyciprop)``).  Shares: the framework's ``share_interval``
    (:func:`evaluation.design.proportion_interval`: ``logit`` as R's
    ``svyciprop`` default, ``korn_graubard``, ``wilson``) on the same ``df``.
    The raw interval is mapped through the (monotone) score transform and cut
    to 0-100 for display; the cut never changes ``se``.

Besides the table of estimates, :func:`estimate_indicators` returns for each
sampled table the per-row weighted influence values of every indicator
(``z_k = w_k a_k (y_k - ybar_d) / sum_d w a``, with the calibrated weights
when the table is calibrated), the prepared design and the calibration, so
that :mod:`evaluation.index` can propagate the joint sampling error of the
indicators answered by the same respondents into dimension and index scores.

Calibration to administrative margins (``[inputs.calibrate]`` in the project
file, :mod:`surveys.project`) adjusts a table's weights department by
department (:func:`calibrate_table`); means, standard errors and the index
variance then use the calibrated weights and the residuals on the
calibration model.

Site visits rated by several evaluators are combined before estimation: the
visit's value is the mean over its raters (documented rule; agreement is
reported separately).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from surveys.aggregate import N_SUFFIX, department_sums, is_aggregated
from surveys.errors import DataValidationError, MethodologyError, Problem
from surveys.framework import Framework, Indicator
from surveys.schema import SAMPLED_CHANNELS, TABLES, ChannelData

from .calibration import Calibrated, calibrate_linear, poststratify, rake
from .design import Design, domain_variance, proportion_interval
from .linearisation import (DomainCells, PreparedDesign, critical_value, domain_cells, domain_codes, group_sum,
                            prepare_design)
from .transforms import likert_item_scores, score, score_interval, slope

INDICATOR_COLUMNS = [
    "year", "department_id", "indicator_id", "indicator", "indicator_en", "dimension_id", "channel", "weight",
    "raw_value", "raw_se", "score", "se", "ci_low", "ci_high", "df", "n", "n_psu",
    "top2", "top2_se", "top2_ci_low", "top2_ci_high", "bottom2", "bottom2_se", "bottom2_ci_low", "bottom2_ci_high",
    "slope", "extra_var", "se_rule", "degenerate", "census",
]

#: ``se_rule`` values
SE_RULES = ("linearisation", "pooled", "none", "census")
# a linearised standard error at most this fraction of the values' scale is zero (rounding of identical answers)
_ZERO_SE = 1e-9


@dataclass(frozen=True, eq=False)
class TableInfluence:
    """The weighted influence values of one sampled table's indicators, as the index variance reads them.

    Attributes
    ----------
    departments : pandas.Index
        The table's departments (sorted), the domains of ``cells``.
    ids : tuple of str
        Indicator ids, one column of ``totals`` or ``rows`` each.
    cells : DomainCells
        The table's prepared design split by department
        (:func:`~evaluation.linearisation.domain_cells`).
    totals : ndarray, shape (n_cells, k), or None
        Per cell (department x PSU, or row without clusters) the total of
        each indicator's influence values ``z = w a (y - ybar_d) / sum_d w a``
        (zero for rows without an answer): all that the first-stage
        variance of any linear combination needs.
    rows : ndarray, shape (n_rows, k), or None
        The influence values themselves, kept instead of ``totals`` when the
        variance needs the rows: calibrated weights (the residuals on the
        calibration model) or later stages with finite population corrections.
    calibration : Calibrated or None
    """

    departments: pd.Index
    ids: tuple[str, ...]
    cells: DomainCells
    totals: np.ndarray | None
    rows: np.ndarray | None
    calibration: Calibrated | None = None


@dataclass(frozen=True)
class IndicatorEstimates:
    """The indicator table and what the index variance needs.

    Attributes
    ----------
    frame : pandas.DataFrame
        INDICATOR_COLUMNS, one row per department x indicator with data.
    influence : dict
        Sampled table -> its :class:`TableInfluence`: the weighted influence
        values of the raw values (with the calibrated weights when the
        table is calibrated, not yet residualised), as per-cell totals or rows.
    designs : dict
        Sampled table -> its :class:`~evaluation.design.Design`.
    values : dict
        Sampled table -> rows with the design columns and each indicator's
        item values (for the bootstrap).
    prepared : dict
        Sampled table -> the :class:`~evaluation.linearisation.PreparedDesign` of ``values``.
    calibrations : dict
        Sampled table -> its :class:`~evaluation.calibration.Calibrated`, for
        calibrated tables only.
    """

    frame: pd.DataFrame
    influence: dict[str, TableInfluence]
    designs: dict[str, Design]
    values: dict[str, pd.DataFrame] = None
    prepared: dict[str, PreparedDesign] = field(default_factory=dict)
    calibrations: dict[str, Calibrated] = field(default_factory=dict)


def with_frame_sizes(data: ChannelData, table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``_frame_N`` and ``_frame_weight`` when the table's design asks for frame sizes.

    ``N_d`` = cases received by the department in the year (sum of
    ``admin_monthly.cases_received``), ``n_d`` = rows of the department in the
    table, weight ``N_d / n_d`` (the completed interviews stand for the
    department's cases: a uniform non-response adjustment within department).
    When a department has no administrative data (or fewer cases than rows),
    it keeps weight 1 and the table gets no finite population correction.
    """
    spec = data.designs.get(table, {})
    admin = data.tables.get("admin_monthly")
    if spec.get("population") != "admin_cases" or admin is None or admin.empty:
        return rows
    big_n = admin.groupby("department_id")["cases_received"].sum()
    n = rows.groupby("department_id")["department_id"].transform("size")
    frame_n = rows["department_id"].map(big_n)
    rows = rows.copy()
    frame_n = frame_n.where(frame_n >= n)
    rows["_frame_weight"] = (frame_n / n).fillna(1.0)
    if frame_n.notna().all():
        rows["_frame_N"] = frame_n
    return rows


def _declared(spec: dict, key: str) -> tuple[str, ...]:
    value = spec.get(key)
    if value is None or value == "":
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def table_design(data: ChannelData, table: str, rows: pd.DataFrame) -> Design:
    """The declared design of ``table`` or the documented default.

    Default: each department a stratum, no clusters, weights 1, sampling with
    replacement (no finite population correction).  ``cluster`` and ``fpc``
    may list one column per stage (a multistage design, R's
    ``ids=~psu+ssu, fpc=~N1+N2``).  A stratum with a single PSU is centred at
    the grand mean (R ``survey``'s ``lonely.psu = "adjust"``).
    ``population = "admin_cases"`` derives the design from frame sizes: the
    department's cases received in the administrative data ``N_d`` over the
    rows used ``n_d`` as the weight, and ``N_d`` as the finite population
    correction (sampling without replacement; see :func:`with_frame_sizes`).

    Raises
    ------
    DataValidationError
        A declared design column is not in the table.
    """
    spec = dict(data.designs.get(table, {}))
    if spec.get("population") == "admin_cases" and "_frame_weight" in rows.columns:
        spec.setdefault("weights", "_frame_weight")
        spec.setdefault("fpc", "_frame_N")
    missing = [c for key in ("weights", "strata", "cluster", "fpc") for c in _declared(spec, key)
               if c not in rows.columns and not c.startswith("_frame")]
    if missing:
        raise DataValidationError(
            f"the design declared for table '{table}' names columns it does not have",
            [Problem(f"design column '{c}' is not in the table", column=c,
                     fix=f"add the column to the {table} file (or map it under [inputs.columns]), or remove it "
                         "from [inputs.design] in project.toml", code="missing_design_column") for c in missing])
    weights = spec.get("weights") if spec.get("weights") in rows.columns else None
    cluster = tuple(c for c in _declared(spec, "cluster") if c in rows.columns) or None
    strata = spec.get("strata") if spec.get("strata") in rows.columns else "department_id"
    fpc = tuple(c for c in _declared(spec, "fpc") if c in rows.columns) or None
    # a department with a single visit (or respondent) cannot estimate its own variance: R's
    # "adjust" rule centres it at the grand mean instead of dropping its variance
    return Design(weights=weights, strata=strata, cluster=cluster, fpc=fpc, lonely_psu="adjust")


#: columns of :func:`design_summary`
DESIGN_COLUMNS = ["table", "channel", "rows", "weights", "strata", "clusters", "fpc", "sampling", "lonely_psu",
                  "calibration"]


def design_summary(data: ChannelData) -> pd.DataFrame:
    """The sampling design each sampled table of the year is estimated with, as :func:`table_design` resolves it.

    One row per sampled table with rows (DESIGN_COLUMNS): the weight column
    (``"1"`` when none), strata (``department_id`` by default), the clusters
    of each stage (``;``-joined; ``"rows"`` when every row is its own PSU),
    the fpc columns, ``sampling`` (``without replacement`` when an fpc is
    given, else ``with replacement``), the lonely-PSU rule and the
    calibration method (empty when the weights are not calibrated).
    """
    out = []
    for table, df in data.tables.items():
        if df is None or not len(df) or TABLES[table].channel not in SAMPLED_CHANNELS:
            continue
        rows = with_frame_sizes(data, table, _visit_rows(df) if table == "visits" else df)
        d = table_design(data, table, rows)
        calibrate = data.designs.get(table, {}).get("calibrate")
        out.append({"table": table, "channel": TABLES[table].channel, "rows": len(df),
                    "weights": d.weights or "1", "strata": d.strata or "",
                    "clusters": ";".join(d.clusters) if d.cluster else "rows",
                    "fpc": ";".join(d.fpcs) if d.fpc else "",
                    "sampling": "without replacement" if d.fpc else "with replacement", "lonely_psu": d.lonely_psu,
                    "calibration": getattr(calibrate, "method", "") if calibrate else ""})
    return pd.DataFrame(out, columns=DESIGN_COLUMNS)


def _visit_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Combine raters: one row per visit, the mean of its raters' values (design columns kept)."""
    num = df.select_dtypes("number").columns
    keep = ["department_id", "visit_id"]
    return df.groupby(keep, sort=True, as_index=False)[list(num)].mean()


def _values(ind: Indicator, df: pd.DataFrame, framework: Framework, preset: str | None) -> np.ndarray:
    x = df[ind.field].to_numpy(dtype=float)
    if ind.measure == "likert":
        return likert_item_scores(x, framework.likert_scores(ind.scale, ind.transform.preset or preset))
    if ind.measure == "share":
        valid = ~np.isnan(x)
        return np.where(valid, np.isin(x, ind.success).astype(float), np.nan)
    return x


# ----------------------------------------------------------------------------- calibration

def _calibration_variable(rows: pd.DataFrame, source: pd.DataFrame, table: str, variable: str) -> pd.Series:
    if variable in source.columns:
        return source[variable].reset_index(drop=True)
    date = TABLES[table].date_column
    if variable == "month" and date and date in source.columns:
        return pd.to_datetime(source[date]).dt.strftime("%Y-%m").reset_index(drop=True)
    raise DataValidationError(
        f"calibration variable '{variable}' is not a column of table '{table}'",
        [Problem("the margins name a variable the table does not have", column=variable,
                 fix=f"use a column of {table} (or 'month' of its date column) in the margins, or add the column",
                 code="missing_column")])


def admin_margins(data: ChannelData, kind: str) -> pd.DataFrame:
    """Margins from the administrative data: ``department_id, variable, level, total``.

    ``kind = "cases_by_month"``: each department's cases received in each
    month (``admin_monthly.cases_received``), variable ``month`` (``YYYY-MM``).
    """
    admin = data.tables.get("admin_monthly")
    if kind != "cases_by_month" or admin is None or admin.empty:
        raise MethodologyError(
            "the administrative margins cannot be formed",
            [Problem(f"admin = {kind!r} with {'no' if admin is None or admin.empty else 'an'} admin_monthly table",
                     fix="use admin = \"cases_by_month\" with an admin_monthly input for the year, or give a "
                         "margins file", code="bad_margins")])
    sums = admin.groupby(["department_id", "month"], as_index=False)["cases_received"].sum()
    return pd.DataFrame({"department_id": sums["department_id"], "variable": "month",
                         "level": sums["month"].astype(str), "total": sums["cases_received"].astype(float)})


def calibrate_table(rows: pd.DataFrame, design: Design, spec, data: ChannelData, table: str,
                    source: pd.DataFrame, *, lookup: dict[str, str] | None = None) -> tuple[pd.DataFrame, Calibrated]:
    """Calibrate a table's weights department by department to the margins of ``spec``.

    Parameters
    ----------
    rows : the table's rows prepared for estimation (design columns)
    design : its design
    spec : the table's calibration (:class:`surveys.project.CalibrationSpec`): ``method``
        (``"poststratify"``, ``"rake"`` or ``"linear"``), and ``margins`` (a
        frame ``department_id, variable, level, total``; an empty ``level``
        marks the total of a numeric variable, linear calibration only) or
        ``admin`` (:func:`admin_margins`)
    source : the table's validated rows, aligned with ``rows`` (the calibration variables)
    lookup : department names and aliases -> register ids (``Framework.name_lookup``), so that
        the margins may name departments as the register does

    Returns
    -------
    (rows, calibration) : the rows with one ``_cal_<variable>`` column per
        margin variable, and the :class:`~evaluation.calibration.Calibrated`
        adjustment (by department; raking run to convergence).

    Raises
    ------
    MethodologyError
        A department with rows but no margins, a level with respondents but no
        total, margins that cannot be met, or a method that cannot use the
        margins given.
    """
    margins = spec.margins_frame() if spec.admin is None else admin_margins(data, spec.admin)
    margins = margins.assign(level=margins["level"].fillna("").astype(str))
    if lookup:
        names = {unicodedata.normalize("NFKC", k).strip(): v for k, v in lookup.items()}
        margins = margins.assign(department_id=[names.get(unicodedata.normalize("NFKC", str(d)).strip(), d)
                                                for d in margins["department_id"]])
    depts = sorted(set(rows["department_id"]))
    have = set(margins["department_id"])
    lacking = [d for d in depts if d not in have]
    if lacking:
        raise MethodologyError(
            f"table '{table}' cannot be calibrated: departments without margins",
            [Problem(f"no margins for department {d}", department=str(d),
                     fix="add the department's totals to the margins, or drop [inputs.calibrate]",
                     code="missing_margins") for d in lacking[:10]])
    margins = margins[margins["department_id"].isin(depts)]
    rows = rows.copy()
    categorical: dict[str, dict] = {}
    continuous: dict[str, dict] = {}
    for variable, part in margins.groupby("variable", sort=False):
        col = f"_cal_{variable}"
        values = _calibration_variable(rows, source, table, str(variable))
        numeric = (part["level"] == "").all()
        if numeric:
            if spec.method != "linear":
                raise MethodologyError(
                    f"a total of numeric variable '{variable}' needs linear calibration",
                    [Problem(f"method {spec.method!r} calibrates to counts of categories", column=str(variable),
                             fix="set method = \"linear\", or give counts per level", code="bad_margins")])
            rows[col] = pd.to_numeric(values, errors="coerce").to_numpy(float)
            continuous[col] = dict(zip(part["department_id"], part["total"].astype(float)))
        else:
            rows[col] = values.astype("string").fillna("").to_numpy(object)
            categorical[col] = {(d, lv): float(t) for d, lv, t in zip(part["department_id"], part["level"],
                                                                      part["total"])}
    if spec.method == "poststratify":
        if len(categorical) != 1 or continuous:
            raise MethodologyError(
                "post-stratification needs exactly one categorical variable",
                [Problem(f"margins of {sorted(categorical) + sorted(continuous)}",
                         fix="use method = \"rake\" or \"linear\" for several margins", code="bad_margins")])
        (col, counts), = categorical.items()
        cal = poststratify(rows, design, col, counts, by="department_id", partial=True)
    elif spec.method == "rake":
        cal = rake(rows, design, categorical, by="department_id", tight=True)
    else:
        cal = calibrate_linear(rows, design, categorical=categorical, continuous=continuous, by="department_id")
    return rows, cal


# ----------------------------------------------------------------------------- estimation

def estimate_indicators(data: ChannelData, framework: Framework, *, level: float | None = None,
                        preset: str | None = None, departments=None) -> IndicatorEstimates:
    """Estimate every indicator of ``framework`` for every department with data.

    Parameters
    ----------
    data : validated canonical tables of the year
    framework : the evaluation framework (its ``share_interval`` names the interval of shares)
    level : confidence level of the intervals (default: the framework's)
    preset : Likert preset overriding the framework's
    departments : optional subset of department ids

    Returns
    -------
    IndicatorEstimates
        ``frame`` has one row per department x indicator with data
        (INDICATOR_COLUMNS):

        - ``raw_value``: mean Likert item score on the preset's 0-100 scale, a
          share, a mean, or a census ratio; ``raw_se`` its linearisation
          standard error (the pooled one for a degenerate component);
        - ``score`` (0-100), ``se`` (``|slope| raw_se``), ``ci_low``,
          ``ci_high`` (see the module notes), ``df`` (degrees of freedom of the
          interval; infinite for censuses and degenerate components);
        - ``n`` (valid responses or records), ``n_psu`` (PSUs with a valid
          response);
        - ``top2``, ``bottom2`` (满意率 and 差评率 of Likert items, shares 0-1)
          with ``top2_se, top2_ci_low, top2_ci_high, bottom2_se,
          bottom2_ci_low, bottom2_ci_high`` (the share interval method);
        - ``weight`` (nominal share of the index), ``slope`` (d score / d
          raw), ``extra_var`` (score-scale variance of a degenerate component,
          added to the index variance as an independent term), ``se_rule``
          (``linearisation``, ``pooled``, ``none`` or ``census``),
          ``degenerate`` (``single_unit``, ``single_psu``, ``identical`` or
          empty), ``census``.

    Notes
    -----
    The raw values and their standard errors reproduce R ``survey``'s
    ``svyby(~y, ~department, design, svymean, na.rm = TRUE)`` and the share
    intervals ``svyciprop`` on each department's domain (see
    ``tests/test_published_uncertainty.py``).
    """
    level = framework.confidence_level if level is None else level
    nominal = framework.nominal_weights()
    rows_out: list[pd.DataFrame] = []
    influence: dict[str, pd.DataFrame] = {}
    designs: dict[str, Design] = {}
    values: dict[str, pd.DataFrame] = {}
    prepared: dict[str, PreparedDesign] = {}
    calibrations: dict[str, Calibrated] = {}
    by_table: dict[str, list[Indicator]] = {}
    for ind in framework.indicators:
        by_table.setdefault(ind.table, []).append(ind)

    for table, inds in by_table.items():
        df = data.tables.get(table)
        if df is None or df.empty:
            continue
        if departments is not None:
            df = df[df["department_id"].isin(departments)]
        census = TABLES[table].channel not in ("S", "C", "V")
        if census:
            rows_out.append(_census(df, inds, nominal))
            continue
        if table == "visits":
            df = _visit_rows(df)
        df = with_frame_sizes(data, table, df).reset_index(drop=True)
        design = table_design(data, table, df)
        cols = ["department_id"] + [c for c in design.columns() if c != "department_id"]
        rows = df[list(dict.fromkeys(cols))].reset_index(drop=True).copy()
        calibration = None
        spec = data.designs.get(table, {}).get("calibrate")
        if spec is not None:
            rows, calibration = calibrate_table(rows, design, spec, data, table, df, lookup=framework.name_lookup())
            calibrations[table] = calibration
        for ind in inds:
            rows[ind.id] = _values(ind, df, framework, preset)
        prep = prepare_design(rows, design)
        table_pass = _TablePass.of(rows, prep, calibration)
        ids = tuple(ind.id for ind in inds)
        kept = {}
        for ind in inds:
            est, kept[ind.id] = _column_estimates(rows[ind.id].to_numpy(float), table_pass, level)
            frame = est.rename(columns={"estimate": "raw_value", "se": "raw_se"})
            if ind.measure == "likert":
                codes = df[ind.field].to_numpy(dtype=float)
                scale = framework.scales[ind.scale]
                valid = np.isin(codes, scale.codes)
                for key, box in (("top2", scale.top_box), ("bottom2", scale.bottom_box)):
                    share = np.where(valid, np.isin(codes, box), np.nan)
                    sub = _share_estimates(_column_estimates(share, table_pass, level)[0], framework, level)
                    for suffix, src in (("", "estimate"), ("_se", "se"), ("_ci_low", "ci_low"),
                                        ("_ci_high", "ci_high")):
                        frame[key + suffix] = sub[src].to_numpy()   # the same departments, in the same order
            frame = frame[frame["n"] > 0]
            rows_out.append(_finish(frame, ind, nominal, level, framework))
        influence[table] = table_pass.influence(ids, kept)
        designs[table] = design
        values[table] = rows
        prepared[table] = prep

    if rows_out:
        out = pd.concat([r for r in rows_out if len(r)], ignore_index=True)
    else:
        out = pd.DataFrame(columns=INDICATOR_COLUMNS)
    meta = {i.id: i for i in framework.indicators}
    out["indicator"] = out["indicator_id"].map(lambda k: meta[k].name)
    out["indicator_en"] = out["indicator_id"].map(lambda k: meta[k].name_en)
    out["dimension_id"] = out["indicator_id"].map(lambda k: meta[k].dimension)
    out["channel"] = out["indicator_id"].map(lambda k: meta[k].channel)
    out["year"] = data.year
    order = {i.id: k for k, i in enumerate(framework.indicators)}
    out = out.sort_values(["department_id", "indicator_id"], key=lambda s: s.map(order) if s.name == "indicator_id"
                          else s).reset_index(drop=True)
    for c in INDICATOR_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    return IndicatorEstimates(out[INDICATOR_COLUMNS], influence, designs, values, prepared, calibrations)


@dataclass(frozen=True, eq=False)
class _TablePass:
    """One sampled table prepared once for all its indicators, shares and influence values.

    The department codes, the (department, PSU) cells and the weights are
    formed here once; each variable is then a few ``np.bincount`` passes
    over the rows (:func:`_column_estimates`), with no ``np.unique``, no
    factorising and no pandas grouping per indicator.
    """

    prep: PreparedDesign
    cells: DomainCells
    departments: pd.Index
    w: np.ndarray
    calibration: Calibrated | None

    @classmethod
    def of(cls, rows: pd.DataFrame, prep: PreparedDesign, calibration: Calibrated | None) -> _TablePass:
        if prep.design.strata == "department_id":
            dom, labels = prep.stratum, prep.strata_labels
        else:
            dom, frame = domain_codes(rows, "department_id")
            labels = pd.Index(frame["department_id"])
        w = calibration.weights if calibration is not None else prep.weights
        return cls(prep, domain_cells(prep, dom, len(labels)), pd.Index(labels, name="department_id"), w,
                   calibration)

    @property
    def by_cells(self) -> bool:
        """Whether variances come from the cells' totals (else from the rows: calibration, later stages)."""
        return self.calibration is None and not self.prep.stages

    def answered(self, valid: np.ndarray) -> _Answered:
        """The :class:`_Answered` of ``valid``; the last one is kept, for an item's top-2 and bottom-2 boxes."""
        last = self.__dict__.get("_last")
        if last is None or not np.array_equal(last.valid, valid):
            last = _Answered.of(valid, self)
            object.__setattr__(self, "_last", last)
        return last

    def variance(self, z: np.ndarray, dom: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Design variance of each department's total of ``z`` (zero outside ``valid``), and what the index
        variance keeps of ``z``: its cells' totals, or ``z`` itself when the variance needs the rows."""
        if self.by_cells:
            totals = self.cells.sums(z)
            return self.cells.variance(totals, self.cells.counts(valid) > 0), totals
        return domain_variance(self.prep, z, dom, self.cells.n_dom, self.calibration, self.cells.dom), z

    def influence(self, ids: tuple[str, ...], kept: dict[str, np.ndarray]) -> TableInfluence:
        """The influence values of the indicators ``ids`` as :meth:`variance` kept them."""
        matrix = (np.column_stack([kept[i] for i in ids]) if ids
                  else np.zeros((self.cells.n_cells if self.by_cells else self.prep.n_rows, 0)))
        if self.by_cells:
            return TableInfluence(self.departments, ids, self.cells, matrix, None, None)
        return TableInfluence(self.departments, ids, self.cells, None, matrix, self.calibration)


@dataclass(frozen=True, eq=False)
class _Answered:
    """What every variable answered by the same rows of a table shares: an item, its top-2 and bottom-2 box.

    ``valid``: rows with a value; ``dom``/``bins``: their department (``-1`` /
    ``n_dom`` otherwise); ``big_n``: the department's weight over them, and
    per row ``1 / big_n`` (``inv_row``, 0 outside); ``present``: the cells with
    such a row; ``df``: the design df; ``n``: rows per department; ``used``
    (positive weight), ``bins_used``, ``sw_used``, ``n_psu``, ``has``: the
    same for the units of the element variance.
    """

    valid: np.ndarray
    dom: np.ndarray
    bins: np.ndarray
    big_n: np.ndarray
    inv_row: np.ndarray
    present: np.ndarray | None
    df: np.ndarray
    n: np.ndarray
    used: np.ndarray
    bins_used: np.ndarray
    sw_used: np.ndarray
    n_psu: np.ndarray
    has: np.ndarray

    @classmethod
    def of(cls, valid: np.ndarray, tp: _TablePass) -> _Answered:
        cells, w, n_dom = tp.cells, tp.w, tp.cells.n_dom
        dom = cells.dom if valid.all() else np.where(valid, cells.dom, -1)
        bins = np.where(dom >= 0, dom, n_dom)
        big_n = group_sum(bins, w, n_dom)
        with np.errstate(invalid="ignore", divide="ignore"):
            inv_row = np.append(np.where(big_n > 0, 1 / big_n, 0.0), 0.0)[bins]
        used = valid & (w > 0)
        bins_used = np.where(used, bins, n_dom)
        per_cell = cells.counts(used)
        return cls(valid, dom, bins, big_n, inv_row, cells.counts(valid) > 0 if tp.by_cells else None,
                   cells.df(cells.counts(valid & (w != 0)) > 0), group_sum(bins, None, n_dom).astype(np.int64),
                   used, bins_used, group_sum(bins_used, w, n_dom),
                   np.bincount(cells.cell_dom[per_cell > 0], minlength=n_dom), group_sum(bins_used, None, n_dom) > 0)


def _column_estimates(y: np.ndarray, tp: _TablePass, level: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Design-based means of one variable per department, their PSU counts and the degenerate-variance rule.

    Returns the estimates (``department_id, estimate, se, ci_low, ci_high,
    n, df, n_psu, s2, degenerate, se_rule``; every department of the table,
    in order, ``n = 0`` where it has no value) and the weighted influence
    values ``z = w a (y - ybar_d) / sum_d w a`` as :meth:`_TablePass.variance`
    keeps them (the cells' totals, or the rows).  The figures
    are those of :func:`evaluation.design.design_mean` (R ``svyby(...,
    svymean)``) with the design's degrees of freedom.  What depends only on
    which rows have a value is formed once for the variables that share it
    (:meth:`_TablePass.answered`).
    """
    cells, w, n_dom = tp.cells, tp.w, tp.cells.n_dom
    a = tp.answered(~np.isnan(y))
    y0 = y if a.valid.all() else np.where(a.valid, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = group_sum(a.bins, w * y0, n_dom) / a.big_n
        # rows outside every domain, and domains without weight, get u = 0
        dev = y0 - np.append(np.where(a.big_n > 0, est, 0.0), 0.0)[a.bins]
    z = w * (dev * a.inv_row)
    if tp.by_cells:
        kept = cells.sums(z)
        variance = cells.variance(kept, a.present)
    else:
        variance, kept = tp.variance(z, a.dom, a.valid)
    se = np.sqrt(variance)
    q = critical_value(a.df, level)
    # the department's units with an answer and a positive weight: its element variance and range
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = group_sum(a.bins_used, np.where(a.used, w * dev * dev, 0.0), n_dom) / a.sw_used
    frame = pd.DataFrame({"department_id": tp.departments.to_numpy(), "estimate": est, "se": se,
                          "ci_low": est - q * se, "ci_high": est + q * se, "n": a.n, "df": a.df,
                          "n_psu": a.n_psu if a.has.all() else np.where(a.has, a.n_psu, np.nan),
                          "s2": np.where(a.has, s2, np.nan)})
    yv = y[a.used]
    scale = max(1.0, float(np.nanmax(np.abs(y))) if len(yv) else 1.0)
    zero = (frame["n"] > 0) & (frame["se"].fillna(0.0) <= _ZERO_SE * scale)
    frame["degenerate"] = np.select(
        [zero & (frame["n"] == 1), zero & (frame["n_psu"] <= 1), zero],
        ["single_unit", "single_psu", "identical"], "")
    frame["se_rule"] = "linearisation"
    bounds = (float(yv.min()), float(yv.max())) if len(yv) else (0.0, 0.0)
    return _pool_degenerate(frame, level, bounds), kept


def _pool_degenerate(est: pd.DataFrame, level: float, bounds: tuple[float, float]) -> pd.DataFrame:
    """The generalised variance function for components whose own variance is zero (module notes).

    ``est`` has per department ``estimate, se, n, df, ci_low, ci_high, s2``
    (within-department element variance), ``degenerate`` and ``se_rule``;
    ``bounds`` is the range ``(a, b)`` of the indicator's answers in the city.
    """
    est = est.copy()
    bad = (est["degenerate"] != "").to_numpy()
    if not bad.any():
        return est
    a, b = bounds
    n = est["n"].to_numpy(float)
    m = est["estimate"].to_numpy(float)
    s2 = est["s2"].fillna(0.0).to_numpy(float)
    se_own = est["se"].fillna(0.0).to_numpy(float)
    room = (m - a) * (b - m)
    good = ~bad & (n > 0) & (se_own > 0) & (s2 > 0) & (room > 0)
    if not good.any() or b <= a:
        est.loc[bad, "se_rule"] = "none"
        return est
    deff = float(np.median(n[good] * se_own[good] ** 2 / s2[good]))
    share = float(np.median(s2[good] / room[good]))
    smooth = (n[bad] * m[bad] + (a + b) / 2) / (n[bad] + 1)
    se = np.sqrt(deff * share * (smooth - a) * (b - smooth) / n[bad])
    q = critical_value(np.inf, level)
    est.loc[bad, "se"] = se
    est.loc[bad, "df"] = np.inf
    est.loc[bad, "ci_low"] = m[bad] - q * se
    est.loc[bad, "ci_high"] = m[bad] + q * se
    est.loc[bad, "se_rule"] = "pooled"
    return est


def _share_estimates(est: pd.DataFrame, framework: Framework, level: float) -> pd.DataFrame:
    """Share intervals by the framework's method; a degenerate share keeps its pooled interval, cut to [0, 1]."""
    est = est.copy()
    lo, hi = proportion_interval(est["estimate"], est["se"], est["n"], est["df"], level,
                                 framework.share_interval_method)
    pooled = (est["se_rule"] == "pooled").to_numpy()
    est["ci_low"] = np.where(pooled, np.clip(est["ci_low"], 0.0, 1.0), lo)
    est["ci_high"] = np.where(pooled, np.clip(est["ci_high"], 0.0, 1.0), hi)
    return est


def _finish(frame: pd.DataFrame, ind: Indicator, nominal, level: float, framework: Framework) -> pd.DataFrame:
    """Scores, standard errors and intervals of one sampled indicator (module notes)."""
    frame = frame.copy()
    t = ind.transform
    if ind.measure == "share":
        shares = _share_estimates(frame.rename(columns={"raw_value": "estimate", "raw_se": "se"}), framework, level)
        frame["ci_low"], frame["ci_high"] = shares["ci_low"].to_numpy(), shares["ci_high"].to_numpy()
    raw = frame["raw_value"].to_numpy(float)
    raw_se = frame["raw_se"].to_numpy(float)
    frame["indicator_id"] = ind.id
    frame["score"] = score(t, raw)
    frame["slope"] = slope(t, raw)
    frame["se"] = np.abs(frame["slope"].to_numpy()) * raw_se
    lo, hi = score_interval(t, frame["ci_low"].to_numpy(float), frame["ci_high"].to_numpy(float))
    # scores live on 0-100: the displayed interval is cut to the range; se is not touched
    frame["ci_low"], frame["ci_high"] = np.clip(lo, 0.0, 100.0), np.clip(hi, 0.0, 100.0)
    pooled = (frame["se_rule"] == "pooled").to_numpy()
    frame["extra_var"] = np.where(pooled, frame["se"].to_numpy() ** 2, 0.0)
    frame["weight"] = nominal[ind.id]
    frame["census"] = False
    return frame.drop(columns=[c for c in ("n_eff", "deff", "s2") if c in frame.columns])


def _census(df: pd.DataFrame, inds: list[Indicator], nominal) -> pd.DataFrame:
    """Census indicators per department from the records or their sufficient statistics.

    A ratio is Σ field / Σ denominator (``n`` = the records the rate is over:
    those with a positive denominator; for a derived 0/1 flag such as
    ``is_bad`` that is its sum, which the sufficient statistics of an
    aggregated table carry too), a mean Σ field / records with the field;
    :func:`surveys.aggregate.department_sums` gives the sums from either
    form, so both give the same values.  No sampling error: ``se`` 0, the
    interval the point, ``df`` infinite.
    """
    out = []
    fields = list(dict.fromkeys(f for ind in inds for f in (ind.field, ind.denominator)
                                if f and (ind.measure == "ratio" or f == ind.field)))
    s = department_sums(df, fields)
    for ind in inds:
        if ind.measure == "ratio":
            den = s[ind.denominator]
            raw = s[ind.field] / den.where(den > 0)
            if is_aggregated(df):
                # only derived 0/1 flags are denominators of aggregated (好差评) tables: the sum counts them
                n = den.fillna(0.0).round().astype("int64")
            else:
                n = (df[ind.denominator] > 0).groupby(df["department_id"]).sum().reindex(den.index)
        else:
            n = s[ind.field + N_SUFFIX]
            raw = s[ind.field] / n.where(n > 0)
        frame = pd.DataFrame({"department_id": raw.index, "raw_value": raw.to_numpy(float), "raw_se": 0.0,
                              "n": n.reindex(raw.index).to_numpy()})
        frame = frame[np.isfinite(frame["raw_value"])].copy()
        frame["indicator_id"] = ind.id
        frame["score"] = score(ind.transform, frame["raw_value"].to_numpy(float))
        frame["slope"] = 0.0
        frame["se"] = 0.0
        frame["extra_var"] = 0.0
        frame["ci_low"] = frame["score"]
        frame["ci_high"] = frame["score"]
        frame["df"] = np.inf
        frame["se_rule"] = "census"
        frame["degenerate"] = ""
        frame["weight"] = nominal[ind.id]
        frame["census"] = True
        out.append(frame)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()
