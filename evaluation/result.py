"""The evaluation result: named, typed tables with fixed columns, the framework and the provenance.

An :class:`EvaluationResult` is what :func:`evaluation.evaluate.evaluate`
returns and the only thing the documents (:mod:`reports`) read.  Its tables
are grouped in small frozen dataclasses; every table has one column constant
(the contract the CSV writers, the renderers and the tests all read):

======================  =====================================  ==============================================
attribute               columns                                 content
======================  =====================================  ==============================================
departments             :data:`DEPARTMENT_COLUMNS`              index, interval, gates, ranks, grade, flags
dimensions              ``evaluation.index.DIMENSION_COLUMNS``  department x dimension scores
indicators              ``evaluation.indicators.INDICATOR_COLUMNS``  department x indicator estimates
quality                 :data:`QUALITY_KEY` first               callback, 好差评 and objective figures
ranking.rank_uncertainty  ``evaluation.ranking.RANK_UNCERTAINTY_COLUMNS``  marginal and simultaneous rank intervals
coverage.*              ``evaluation.coverage`` constants       channels collected, checks made or not (why)
weighting.effective     :data:`EFFECTIVE_WEIGHT_COLUMNS`        weights after renormalisation
weighting.variance_shares  :data:`VARIANCE_SHARE_COLUMNS`      nominal weight and share of the index variance
weighting.record        :data:`WEIGHTING_RECORD_COLUMNS`        how the weights were set (explicit or AHP)
robustness.*            ``evaluation.shrinkage`` / ``sensitivity`` constants  shrinkage, funnel, sensitivity
reliability.*           ``evaluation.robustness`` constants     scale reliability, inter-rater, agreement
priorities.*            ``evaluation.drivers`` constants        importance–performance and priorities
comments.themes         ``evaluation.comments.COMMENT_THEME_COLUMNS``  open comments counted by complaint theme
findings.city           ``evaluation.citywide.CITY_COLUMNS``    citywide index, dimensions, reform figures
findings.problems       ``evaluation.problems`` constants       evidence-based problem list per department
findings.common         (same)                                  each finding across departments
findings.follow_up      (same)                                  last year's problems judged again
trends                  ``evaluation.trends`` constants         change since the previous recorded year
======================  =====================================  ==============================================

``robustness``, ``reliability`` and ``priorities`` are None when the
evaluation was asked not to compute them; ``trends`` is None until the
earlier years are attached (:func:`evaluation.trends.year_trends`,
:meth:`EvaluationResult.with_trends`); ``context`` (city, evaluator,
period, report date) is None until the pipeline attaches the project's
(:meth:`EvaluationResult.with_context`).  :meth:`EvaluationResult.tables`
gives every table under its file name of the output contract
(``results/<name>.csv``).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from surveys.framework import Framework

from .citywide import CITY_COLUMNS
from .comments import COMMENT_THEME_COLUMNS
from .coverage import CHANNEL_COLUMNS, CHECK_COLUMNS, MISSING_COLUMN_COLUMNS
from .drivers import DRIVER_COLUMNS, PRIORITY_COLUMNS
from .index import DIMENSION_COLUMNS, VARIANCE_COMPONENT_COLUMNS
from .indicators import DESIGN_COLUMNS, INDICATOR_COLUMNS
from .problems import COMMON_PROBLEM_COLUMNS, FOLLOW_UP_COLUMNS, PROBLEM_COLUMNS
from .ranking import RANK_UNCERTAINTY_COLUMNS
from .reliability_tables import AGREEMENT_COLUMNS, AGREEMENT_POINT_COLUMNS, INTERRATER_COLUMNS, RELIABILITY_COLUMNS
from .sensitivity import INDICES_COLUMNS, SENSITIVITY_COLUMNS, SENSITIVITY_SUMMARY_COLUMNS
from .shrinkage import FUNNEL_COLUMNS, FUNNEL_LIMIT_COLUMNS, SHRINKAGE_COLUMNS
from .tables import TableGroup, check_table
from .trends import Trends

DEPARTMENT_COLUMNS = [
    "year", "department_id", "department", "department_en", "category", "category_name", "category_name_en",
    "tier", "index", "se", "ci_low", "ci_high", "df", "index_raw", "g1_deduction", "bonus", "rank", "rank_low",
    "rank_high", "rank_sim_low", "rank_sim_high", "tie_group", "p_top3", "p_bottom3", "rank_in_category",
    "rank_in_category_low", "rank_in_category_high", "grade", "grade_name", "grade_name_en", "borderline",
    "n_survey", "n_callback", "n_visit", "flags", "not_evaluated_reason",
]
#: the key column of the quality table (its other columns are the figures of :mod:`evaluation.quality`)
QUALITY_KEY = ["department_id"]
EFFECTIVE_WEIGHT_COLUMNS = ["department_id", "indicator_id", "dimension_id", "w_dim", "dim_weight", "w_index"]
VARIANCE_SHARE_COLUMNS = ["indicator_id", "indicator", "indicator_en", "dimension_id", "nominal_weight",
                          "variance_share", "score_sd"]
WEIGHTING_RECORD_COLUMNS = ["level", "id", "weight", "method", "cr", "lambda_max", "random_index_table"]


def toolkit_version() -> str:
    """The installed minping version (single source: ``pyproject.toml``)."""
    try:
        return version("minping")
    except PackageNotFoundError:
        return "0+unknown (not installed: run `pip install .`)"


@dataclass(frozen=True)
class Ranking(TableGroup):
    """Rank uncertainty, overall and within category (:func:`evaluation.ranking.rank_uncertainty`)."""

    rank_uncertainty: pd.DataFrame
    CONTRACT = {"rank_uncertainty": ("rank_uncertainty", RANK_UNCERTAINTY_COLUMNS)}


@dataclass(frozen=True)
class Coverage(TableGroup):
    """What the year's evaluation rests on (:mod:`evaluation.coverage`).

    ``channels``: every channel of the framework, collected this year or not,
    with its tables, rows, indicators and nominal weight; ``checks``: every
    gate and role-based analysis, made or not, with the reason; ``designs``:
    the sampling design each sampled table was estimated with
    (:func:`evaluation.indicators.design_summary`); ``missing_columns``: the
    columns indicators read that files of the year lack
    (:func:`evaluation.coverage.missing_columns`).
    """

    channels: pd.DataFrame
    checks: pd.DataFrame
    designs: pd.DataFrame
    missing_columns: pd.DataFrame
    CONTRACT = {"channels": ("channels", CHANNEL_COLUMNS), "checks": ("checks", CHECK_COLUMNS),
                "designs": ("designs", DESIGN_COLUMNS),
                "missing_columns": ("missing_columns", MISSING_COLUMN_COLUMNS)}


@dataclass(frozen=True)
class Weighting(TableGroup):
    """How the weights were set and what they do.

    ``effective``: per department x indicator the weight used after
    renormalising over the indicators present (:func:`evaluation.index.effective_weights`);
    ``variance_shares``: each indicator's nominal weight beside its share of
    the index variance across departments (:func:`evaluation.index.variance_shares`);
    ``record``: the weights and how they were set (explicit or AHP, with CR,
    λmax and the random-index table; :func:`evaluation.weighting.apply_framework_weighting`).
    """

    effective: pd.DataFrame
    variance_shares: pd.DataFrame
    record: pd.DataFrame
    CONTRACT = {"effective": ("effective_weights", EFFECTIVE_WEIGHT_COLUMNS),
                "variance_shares": ("weights", VARIANCE_SHARE_COLUMNS),
                "record": ("weighting", WEIGHTING_RECORD_COLUMNS)}


@dataclass(frozen=True)
class Robustness(TableGroup):
    """Shrinkage of small departments, funnel-plot data and the sensitivity of the ranking."""

    shrinkage: pd.DataFrame
    funnel: pd.DataFrame
    funnel_limits: pd.DataFrame
    sensitivity: pd.DataFrame
    sensitivity_summary: pd.DataFrame
    sensitivity_indices: pd.DataFrame
    CONTRACT = {"shrinkage": ("shrinkage", SHRINKAGE_COLUMNS), "funnel": ("funnel", FUNNEL_COLUMNS),
                "funnel_limits": ("funnel_limits", FUNNEL_LIMIT_COLUMNS),
                "sensitivity": ("sensitivity", SENSITIVITY_COLUMNS),
                "sensitivity_summary": ("sensitivity_summary", SENSITIVITY_SUMMARY_COLUMNS),
                "sensitivity_indices": ("sensitivity_indices", INDICES_COLUMNS)}


@dataclass(frozen=True)
class Reliability(TableGroup):
    """Scale reliability, inter-rater agreement of site visits, survey–callback agreement."""

    scales: pd.DataFrame
    interrater: pd.DataFrame
    agreement: pd.DataFrame
    agreement_points: pd.DataFrame
    CONTRACT = {"scales": ("reliability", RELIABILITY_COLUMNS), "interrater": ("interrater", INTERRATER_COLUMNS),
                "agreement": ("agreement", AGREEMENT_COLUMNS),
                "agreement_points": ("agreement_points", AGREEMENT_POINT_COLUMNS)}


@dataclass(frozen=True)
class Priorities(TableGroup):
    """Importance–performance analysis (GB/T 19038 quadrants) and each department's priorities."""

    drivers: pd.DataFrame
    priorities: pd.DataFrame
    CONTRACT = {"drivers": ("drivers", DRIVER_COLUMNS), "priorities": ("priorities", PRIORITY_COLUMNS)}


@dataclass(frozen=True)
class Comments(TableGroup):
    """Open comments per department counted by complaint theme, with masked example quotes
    (:func:`evaluation.comments.comment_themes`): the evidence a department's problem list can cite."""

    themes: pd.DataFrame
    CONTRACT = {"themes": ("comment_themes", COMMENT_THEME_COLUMNS)}


@dataclass(frozen=True)
class Findings(TableGroup):
    """What the evaluation found: the city as a whole, each department's problems, last year's follow-up.

    ``city``: the citywide index, index before gates, dimension means with
    intervals and the reform figures (:func:`evaluation.citywide.city_table`);
    ``problems``: the evidence-based problem list of every evaluated
    department (:func:`evaluation.problems.build_problems`); ``common``: each
    finding with the departments showing it
    (:func:`evaluation.problems.common_problems`); ``follow_up``: last year's
    problems, as the departments returned them, judged from this year's
    evidence (:func:`evaluation.problems.follow_up`; empty without a returned
    整改 workbook).
    """

    city: pd.DataFrame
    problems: pd.DataFrame
    common: pd.DataFrame
    follow_up: pd.DataFrame
    CONTRACT = {"city": ("city", CITY_COLUMNS), "problems": ("problems", PROBLEM_COLUMNS),
                "common": ("common_problems", COMMON_PROBLEM_COLUMNS),
                "follow_up": ("follow_up", FOLLOW_UP_COLUMNS)}


@dataclass(frozen=True)
class ReportContext:
    """Facts about the evaluation that the documents state and the numbers do not need.

    From the project file (``[project]`` keys ``city``, ``evaluator``,
    ``report_dates``, ``rectification_months``; ``[periods]``), attached by
    the pipeline.  Empty strings and None mean "not declared": the
    documents say so instead of inventing a value.

    Attributes
    ----------
    project, project_en : the project's name
    city, city_en : the city evaluated
    evaluator, evaluator_en : the independent evaluator
    period_start, period_end : the evaluation period of the year
    period_declared : False when the period is the calendar-year default
    report_date : the date of the year's report (None: not declared)
    rectification_months : months after the report date by which problems are rectified
    """

    project: str = ""
    project_en: str = ""
    city: str = ""
    city_en: str = ""
    evaluator: str = ""
    evaluator_en: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    period_declared: bool = False
    report_date: dt.date | None = None
    rectification_months: int = 1

    @property
    def deadline(self) -> dt.date | None:
        """The rectification deadline: ``rectification_months`` calendar months after the report date.

        A day that the target month lacks (31 January + 1 month) becomes that
        month's last day.  None without a report date.
        """
        if self.report_date is None:
            return None
        months = self.report_date.month - 1 + int(self.rectification_months)
        year, month = self.report_date.year + months // 12, months % 12 + 1
        day = min(self.report_date.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day)


@dataclass(frozen=True)
class Provenance:
    """Everything that, with the inputs, reproduces the numbers: versions, hashes and every setting.

    ``settings`` holds every argument of :func:`evaluation.evaluate.evaluate`
    that changes a number (seed, level, draws, variance method, Likert
    preset, ...); ``methods`` names the methods used; ``weights`` the
    weighting record's rows.  ``project_sha256``, ``input_sha256`` and
    ``manifest_sha256`` are set by the pipeline that ran the evaluation.
    """

    toolkit_version: str
    framework_id: str
    framework_version: str
    framework_sha256: str
    seed: int
    level: float
    settings: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)
    weights: tuple = ()
    project_sha256: str | None = None
    input_sha256: dict = field(default_factory=dict)
    manifest_sha256: str | None = None

    def as_dict(self) -> dict:
        """A plain, JSON-ready dict (weights as a list of records)."""
        out = dataclasses.asdict(self)
        out["weights"] = [dict(w) for w in self.weights]
        return out


@dataclass(frozen=True)
class EvaluationResult:
    """Everything one evaluation year produced.

    Attributes
    ----------
    year : the evaluation year
    framework : the framework used, with the weights actually used (after AHP when declared)
    level : confidence level of every interval
    departments : one row per department active in the year (:data:`DEPARTMENT_COLUMNS`):
        final index (after gates) with ``se`` and interval at ``level``,
        ``index_raw`` before gates, ranks with marginal (``rank_low/high``) and
        simultaneous (``rank_sim_low/high``) intervals and ``tie_group``, overall
        and within category, grade, borderline mark, sample sizes and
        ``;``-joined flag codes; a department without an index is listed with the
        flag ``not_evaluated`` and ``not_evaluated_reason`` (``no_data``: no row in
        any channel; ``no_scored_indicator``: rows, but no indicator with a valid
        answer; ``missing_weight``: its scored indicators carry less than
        ``1 - framework.max_missing_weight`` of the index weight of the channels collected)
    dimensions, indicators : department x dimension / indicator estimates
    quality : per department callback, 好差评 and objective figures
    ranking, weighting, coverage : always computed (coverage: the channels collected, the checks made)
    comments : open comments counted by complaint theme (:class:`Comments`); None only for a result
        built without them
    robustness, reliability, priorities : None when not asked for
    findings : :class:`Findings` (citywide figures, problem lists, follow-up)
    trends : None until earlier years are attached
    context : :class:`ReportContext`, None until the pipeline attaches the project's
    provenance : :class:`Provenance`
    variance_components : per department and sampled table, its contribution to the index
        variance with the units, PSUs and df behind it (:data:`evaluation.index.VARIANCE_COMPONENT_COLUMNS`;
        ``results/variance_components.csv``, read by the sampling plan)
    """

    year: int
    framework: Framework
    level: float
    departments: pd.DataFrame
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    quality: pd.DataFrame
    ranking: Ranking
    weighting: Weighting
    coverage: Coverage
    provenance: Provenance
    robustness: Robustness | None = None
    reliability: Reliability | None = None
    priorities: Priorities | None = None
    findings: Findings | None = None
    trends: Trends | None = None
    variance_components: pd.DataFrame | None = None
    comments: Comments | None = None
    context: ReportContext | None = None

    def __post_init__(self):
        check_table(self, "departments", self.departments, DEPARTMENT_COLUMNS)
        if self.variance_components is not None:
            check_table(self, "variance_components", self.variance_components, VARIANCE_COMPONENT_COLUMNS)
        check_table(self, "dimensions", self.dimensions, DIMENSION_COLUMNS)
        check_table(self, "indicators", self.indicators, INDICATOR_COLUMNS)
        check_table(self, "quality", self.quality, QUALITY_KEY)
        if self.provenance.level != self.level:
            raise ValueError(f"provenance level {self.provenance.level} differs from the result's {self.level}")

    def conf_int(self) -> pd.DataFrame:
        """The index interval per department (``ci_low``, ``ci_high``) at ``level``."""
        return self.departments.set_index("department_id")[["ci_low", "ci_high"]]

    def summary_frame(self) -> pd.DataFrame:
        """Departments by rank with index, interval, rank interval, grade and flags."""
        cols = ["rank", "department", "category", "index", "se", "ci_low", "ci_high", "rank_low", "rank_high",
                "grade", "borderline", "flags"]
        return self.departments.sort_values(["rank", "department_id"])[["department_id", *cols]].reset_index(drop=True)

    def with_trends(self, trends: Trends | None) -> EvaluationResult:
        """The same result with the change since the previous recorded year attached."""
        if trends is not None and trends.year != self.year:
            raise ValueError(f"trends of {trends.year} attached to the result of {self.year}")
        return dataclasses.replace(self, trends=trends)

    def with_context(self, context: ReportContext | None) -> EvaluationResult:
        """The same result with the project's facts (city, evaluator, period, report date) attached."""
        return dataclasses.replace(self, context=context)

    def with_manifest(self, manifest_sha256: str) -> EvaluationResult:
        """The same result with the run's manifest hash (printed on every document) in its provenance."""
        return dataclasses.replace(self, provenance=dataclasses.replace(self.provenance,
                                                                        manifest_sha256=manifest_sha256))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table under its file name of the output contract (``results/<name>.csv``).

        The indicators table is written without the internal ``slope`` and
        ``extra_var`` columns (they carry the index variance, not a published figure).
        """
        out = {"departments": self.departments, "dimensions": self.dimensions,
               "indicators": self.indicators.drop(columns=[c for c in INTERNAL_INDICATOR_COLUMNS
                                                           if c in self.indicators.columns]),
               "quality": self.quality}
        if self.variance_components is not None:
            out["variance_components"] = self.variance_components
        for group in (self.ranking, self.weighting, self.coverage, self.robustness, self.reliability,
                      self.priorities, self.comments, self.findings):
            if group is not None:
                out.update(group.tables())
        return out


#: indicator columns used inside the evaluation only (not written to results/indicators.csv)
INTERNAL_INDICATOR_COLUMNS = ("slope", "extra_var")
