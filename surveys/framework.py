"""The evaluation framework: a versioned TOML file loaded into frozen objects.

The framework is data, not code: dimensions, indicators (with the channel,
table and field each reads, the scale, the measure and the score transform),
weights at every level, gates, grade bands, comparison categories, the
department register and the crosswalk of renames and merges.

Weights policy
--------------
Dimension weights must sum to 100 and the indicator weights within each
dimension to 1.  A sum within 1% of its target (rounding such as
0.33 + 0.33 + 0.34 or three times 0.333) is rescaled to the target with a
:class:`~surveys.errors.NormalisedWeightsWarning`; a sum further off is
refused, because it usually means a weight was mistyped.

Statistical settings
--------------------
``[framework] share_interval`` chooses the interval of every share (share
indicators, the top-2 and bottom-2 box shares of Likert items, G2's callback
share): ``"logit"`` (default, R ``svyciprop``'s default),
``"korn_graubard"`` (Korn & Graubard 1998, a Clopper-Pearson interval on the
effective sample size) or ``"wilson"`` (Wilson score interval on the
effective sample size).  ``[gates] rule`` chooses how gates act on measured
rates: ``"point"`` (default, the published practice: the point estimate
decides) or ``"evidence"`` (a gate acts only when the interval of the gated
quantity excludes compliance).  Both are fields of :class:`Framework`, so a
variant is ``dataclasses.replace(fw, share_interval="wilson")``.

Loading collects every problem and raises one
:class:`~surveys.errors.FrameworkError` listing them all, each with the fix.

Plausibility rules
------------------
``[plausibility]`` declares what happens to values that parse but cannot be
true (a weight with a lost decimal point, closed-on-time cases above closed
cases, a rectification dated 1970): each rule's mode is ``stop``,
``quarantine`` or ``flag``.  The rules, their defaults and the reasons for
them are documented in :mod:`surveys.plausibility` and in the shipped
``frameworks/default.toml``; they load into the frozen :class:`Plausibility`.
An unknown key is an error with a did-you-mean suggestion.

Intake and comments
-------------------
``[intake]`` (:class:`Intake`) says how much of a file reading may set
aside before ``validate`` and ``run`` stop (:mod:`surveys.intake`).
``[[comment_themes]]`` (:class:`CommentTheme`) adds complaint themes to the
shipped lexicon of ``frameworks/comment_themes.toml``, or replaces one by its
id; :mod:`evaluation.comments` counts the open comments by theme.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import tomllib
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import FrameworkError, NormalisedWeightsWarning, Problem
from .keys import ANY, LEAF, did_you_mean, unknown_keys
from .normalize import name_key
from .schema import CHANNELS, ITEM_KINDS, ITEM_TABLES, TABLES, Item, TableSpec, table_fields, tables_with_items

DEFAULT_FRAMEWORK = Path(__file__).with_name("frameworks") / "default.toml"
#: the shipped lexicon of complaint themes in open comments (extended by a framework's [[comment_themes]])
DEFAULT_COMMENT_THEMES = Path(__file__).with_name("frameworks") / "comment_themes.toml"

MEASURES = ("likert", "share", "mean", "ratio")
TRANSFORMS = ("likert", "percent", "dtf", "identity")
SCALE_KINDS = ("likert", "binary", "count", "checklist")
SCREEN_MODES = ("flag", "quarantine", "off")
TIERS = ("H", "M", "L")
WEIGHT_TOLERANCE = 0.01
#: the confidence level of every interval when a framework does not set ``confidence_level``: the only
#: default level in the toolkit (every other step takes the level it is given)
DEFAULT_CONFIDENCE_LEVEL = 0.95
#: interval methods for shares: framework name -> method of evaluation.design.proportion_interval
SHARE_INTERVALS = {"logit": "logit", "korn_graubard": "beta", "wilson": "wilson"}
#: how gates act on measured rates
GATE_RULES = ("point", "evidence")


def _setting_problems(share_interval: object, gate_rule: object) -> list[Problem]:
    problems = []
    if share_interval not in SHARE_INTERVALS:
        problems.append(Problem(
            f"unknown share_interval {share_interval!r}",
            fix=f"{did_you_mean(share_interval, SHARE_INTERVALS)}set [framework] share_interval to one of "
                f"{', '.join(SHARE_INTERVALS)}", code="bad_setting"))
    if gate_rule not in GATE_RULES:
        problems.append(Problem(
            f"unknown gate rule {gate_rule!r}",
            fix=f"{did_you_mean(gate_rule, GATE_RULES)}set [gates] rule to one of {', '.join(GATE_RULES)}",
            code="bad_setting"))
    return problems


@dataclass(frozen=True)
class Scale:
    id: str
    kind: str
    codes: tuple[float, ...]
    na_codes: tuple[float, ...] = ()
    top_box: tuple[float, ...] = ()
    bottom_box: tuple[float, ...] = ()
    #: label text -> code; ``None`` marks a label meaning N/A
    labels: dict[str, float | None] = field(default_factory=dict)


#: scales the canonical tables use whatever the framework: the national 好差评 five-level rating
#: (GB/T 39734-2020: 5 非常满意 ... 1 非常不满意, levels 4-5 good, 1-2 bad) and yes/no.  A framework
#: that declares a scale of the same name replaces the built-in one (e.g. to add labels).
BUILTIN_SCALES = {
    "haocha": Scale("haocha", "likert", (1.0, 2.0, 3.0, 4.0, 5.0), (9.0,), (4.0, 5.0), (1.0, 2.0),
                    {"非常满意": 5.0, "满意": 4.0, "基本满意": 3.0, "不满意": 2.0, "非常不满意": 1.0,
                     "不适用": None, "不了解": None}),
    "yesno": Scale("yesno", "binary", (0.0, 1.0), (9.0,), (), (), {"是": 1.0, "否": 0.0, "有": 1.0, "没有": 0.0}),
}


@dataclass(frozen=True)
class Transform:
    """How a raw indicator value becomes a 0-100 score.

    ``likert``: the preset's score per code (the raw value is already the
    mean transformed score); ``percent``: 100 x share; ``dtf``: distance to
    frontier, 100 * clip((x - worst) / (frontier - worst), 0, 1), so that a
    frontier below the worst means lower is better; ``identity``: as is.
    """

    kind: str
    worst: float | None = None
    frontier: float | None = None
    preset: str | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: str
    name: str
    name_en: str
    channel: str
    table: str
    field: str
    measure: str
    transform: Transform
    weight: float
    scale: str | None = None
    denominator: str | None = None
    success: tuple[float, ...] = ()
    #: version of the indicator's definition; only equal versions are compared across years
    version: str = "1"


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    name_en: str
    weight: float


@dataclass(frozen=True)
class Gates:
    g1_threshold: float = 95.0
    g1_deduction_per_point: float = 0.5
    g1_max_deduction: float = 5.0
    g1_audit_threshold: float = 80.0
    g2_threshold: float = 10.0
    g3_min_completion: float = 0.50
    g3_max_wrong_number: float = 0.15
    g4_min_survey: int = 50
    g4_min_callback: int = 30
    bonus_max: float = 2.0
    veto_enabled: bool = False


@dataclass(frozen=True)
class GradeBand:
    grade: str
    name: str
    name_en: str
    min: float


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    name_en: str
    optional: bool = False


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    name_en: str
    category: str
    tier: str
    first_year: int | None = None
    last_year: int | None = None
    optional: bool = False
    aliases: tuple[str, ...] = ()

    def active(self, year: int) -> bool:
        return (self.first_year is None or year >= self.first_year) and (
            self.last_year is None or year <= self.last_year
        )


@dataclass(frozen=True)
class CrosswalkEntry:
    year: int
    successor: str
    predecessors: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Screens:
    """The quality screens (:mod:`surveys.screens`): each ``str`` field is a mode (flag, quarantine, off)."""

    duplicate_respondent: str = "quarantine"
    straight_lining: str = "flag"
    straight_lining_min_items: int = 6
    speeder: str = "flag"
    speeder_seconds: float = 60.0
    outside_period: str = "quarantine"
    phone_on_many_cases: str = "flag"
    phone_on_many_cases_min: int = 3
    #: many questionnaires from one IP address or device within a short time
    same_source: str = "flag"
    same_source_min: int = 5
    same_source_minutes: float = 30.0
    #: the same free-text answer, word for word, from several respondents
    identical_text: str = "flag"
    identical_text_min: int = 3
    identical_text_min_chars: int = 10


@dataclass(frozen=True)
class Intake:
    """``[intake]``: how much of a file reading may set aside before ``validate`` and ``run`` stop.

    A file that loses more than ``max_loss`` of its rows (quarantined), or a
    column that loses more than ``max_loss`` of its filled cells (cleared),
    stops the year with the top reasons and counts, once at least
    ``min_loss`` rows (cells) are lost: 96% of a channel set aside is a
    mapping, recode or export problem, never a finding, while a few rows of
    a small file are the ledger's business.  A
    project accepts a loss for one input with ``accept_loss``.
    """

    max_loss: float = 0.20
    min_loss: int = 10


@dataclass(frozen=True)
class CommentTheme:
    """A complaint theme of open comments: a comment mentions it when it holds a keyword once the ``except``
    phrases are taken out (:mod:`evaluation.comments`)."""

    id: str
    name: str
    name_en: str
    keywords: tuple[str, ...]
    exceptions: tuple[str, ...] = ()


#: what a plausibility rule does with the rows it finds (rules in :mod:`surveys.plausibility`)
PLAUSIBILITY_MODES = ("stop", "quarantine", "flag")


@dataclass(frozen=True)
class Plausibility:
    """The ``[plausibility]`` section: one mode per rule, and the rules' settings.

    Every ``str`` field is a rule, named as its ledger reason code and flag
    code, whose mode is one of :data:`PLAUSIBILITY_MODES`: ``stop`` (the
    run stops with a :class:`~surveys.errors.DataValidationError` naming
    file, rows, column, values and the fix), ``quarantine`` (the rows go to
    the ledger with the rule as reason) or ``flag`` (the rows are used and
    their department gets the rule as a flag in the ledger's flag table).
    What each rule checks and why its default is what it is:
    :mod:`surveys.plausibility`.

    Attributes
    ----------
    weight_invalid, weight_outlier : str
        Design weights missing, not finite, not positive or above 1e9; and
        beyond ``weight_ratio`` of their group's median.  Default ``stop``.
    weight_ratio : float
        How far from its group's median (department, and stratum when
        strata are declared) a weight may be, as a factor: 50.
    negative_number, rate_above_100 : str
        Negative quantities; administrative subsets above their whole.
        Default ``quarantine``.
    promised_above_statutory, docs_increased : str
        Promised days above statutory days; current documents above the
        baseline.  Default ``flag``.
    implausible_date : str
        A date before ``earliest_date`` or after the period end.  Default
        ``stop``.
    earliest_date : datetime.date
        Earliest plausible date of any input: 2015-01-01.
    late_days : int
        Days after the period end that a rectification or a guide check may
        still fall: 90.
    rectified_before_rating : str
        A 好差评 rectification dated before its rating.  Default ``flag``.
    no_call_record, no_final_disposition : str
        A callback interview whose case has no call record, or whose calls
        never completed an interview.  Default ``quarantine``.
    """

    weight_invalid: str = "stop"
    weight_outlier: str = "stop"
    weight_ratio: float = 50.0
    negative_number: str = "quarantine"
    rate_above_100: str = "quarantine"
    promised_above_statutory: str = "flag"
    docs_increased: str = "flag"
    implausible_date: str = "stop"
    earliest_date: dt.date = dt.date(2015, 1, 1)
    late_days: int = 90
    rectified_before_rating: str = "flag"
    no_call_record: str = "quarantine"
    no_final_disposition: str = "quarantine"

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the rules (the fields holding a mode)."""
        return tuple(name for name, value in vars(self).items() if isinstance(value, str))


@dataclass(frozen=True)
class WeightingSpec:
    """How the weights are set: ``explicit`` (the weights in the file) or ``ahp``.

    With ``ahp`` the dimension weights, and the indicator weights of every
    dimension listed in ``indicator_comparisons``, are computed from pairwise
    comparisons ``(a, b, value)``: "a is ``value`` times as important as b"
    (``evaluation.weighting.apply_framework_weighting``).
    """

    method: str = "explicit"
    ahp_method: str = "eigenvector"
    random_index: str = "saaty1980"
    max_cr: float = 0.1
    allow_inconsistent: bool = False
    dimension_comparisons: tuple[tuple[str, str, float], ...] = ()
    indicator_comparisons: dict[str, tuple[tuple[str, str, float], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Roles:
    """What some indicators stand for, where the toolkit needs to know it (declared, never assumed from ids).

    ``outcome``: the survey Likert indicator of overall satisfaction that the
    drivers analysis explains (:mod:`evaluation.drivers`); ``outcomes``: every
    indicator that measures an outcome rather than something a department
    does (never offered as an improvement action); ``inflation_indicator``:
    the callback Likert indicator whose top-2-box rate gate G2 compares with
    the 好差评 good-review rate; ``agreement``: pairs ``(survey, callback)``
    of indicators measuring the same thing on two channels, compared across
    departments; ``reform_figures``: the objective reform figures reported
    beside the index, name -> indicator whose raw value is shown.  A role a
    framework does not declare is skipped with a stated reason, never
    computed from something else.
    """

    outcome: str | None = None
    outcomes: tuple[str, ...] = ()
    inflation_indicator: str | None = None
    agreement: tuple[tuple[str, str], ...] = ()
    reform_figures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Framework:
    """A loaded, validated evaluation framework (immutable).

    Variants are made with :func:`dataclasses.replace`, e.g.
    ``replace(fw, likert_preset="cn_common")``.

    ``share_interval`` names the interval method of every share (one of
    :data:`SHARE_INTERVALS`); ``gate_rule`` how gates act on measured rates
    (one of :data:`GATE_RULES`); see the module notes.
    """

    id: str
    version: str
    name: str
    name_en: str
    likert_preset: str
    likert_presets: dict[str, tuple[float, ...]]
    confidence_level: float
    missing_dimension_flag: float
    scales: dict[str, Scale]
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    gates: Gates
    grades: tuple[GradeBand, ...]
    categories: tuple[Category, ...]
    departments: tuple[Department, ...]
    crosswalk: tuple[CrosswalkEntry, ...] = ()
    screens: Screens = Screens()
    weighting: WeightingSpec = WeightingSpec()
    roles: Roles = Roles()
    plausibility: Plausibility = Plausibility()
    items: tuple[Item, ...] = ()
    #: ids of earlier frameworks whose years may be compared with this one's
    comparable_with: tuple[str, ...] = ()
    #: a department whose scored indicators carry less than 1 - this share of the index weight (over the
    #: channels collected this year) is not evaluated: an index resting on a fraction of the framework is
    #: not comparable with the others and must never rank first by default
    max_missing_weight: float = 0.25
    share_interval: str = "logit"
    gate_rule: str = "point"
    intake: Intake = Intake()
    comment_themes: tuple[CommentTheme, ...] = ()
    source: str = ""
    sha256: str = ""

    def __post_init__(self) -> None:
        problems = _setting_problems(self.share_interval, self.gate_rule)
        if problems:
            raise FrameworkError("The framework's statistical settings are invalid", problems)

    @property
    def share_interval_method(self) -> str:
        """The :func:`evaluation.design.proportion_interval` method of :attr:`share_interval`."""
        return SHARE_INTERVALS[self.share_interval]

    # -- lookups ---------------------------------------------------------
    @property
    def tables(self) -> dict[str, TableSpec]:
        """The canonical tables with this framework's declared items (:func:`surveys.schema.tables_with_items`)."""
        return _tables(self.items)

    def item_ids(self, table: str, *, kind: str | None = None) -> tuple[str, ...]:
        """Ids of the items declared for ``table``; ``kind`` = a scale kind (``likert``, ``checklist``, ...)."""
        return tuple(i.id for i in self.items if i.table == table
                     and (kind is None or (i.scale is not None and self.scales[i.scale].kind == kind)))

    def tables_read(self) -> tuple[str, ...]:
        """The canonical tables this framework's indicators need, in table order: the tables they read, and
        the call records behind callback interviews (dispositions, G1, G3)."""
        read = {i.table for i in self.indicators}
        if "callback_interviews" in read:
            read.add("callback_attempts")
        return tuple(name for name in self.tables if name in read)

    @property
    def lineage(self) -> frozenset[str]:
        """The framework ids whose years may be compared with this framework's: its own and ``comparable_with``."""
        return frozenset({self.id, *self.comparable_with})

    def item(self, table: str, item_id: str) -> Item | None:
        return next((i for i in self.items if i.table == table and i.id == item_id), None)

    def indicator(self, indicator_id: str) -> Indicator:
        return {i.id: i for i in self.indicators}[indicator_id]

    def dimension(self, dimension_id: str) -> Dimension:
        return {d.id: d for d in self.dimensions}[dimension_id]

    def department(self, department_id: str) -> Department:
        return {d.id: d for d in self.departments}[department_id]

    def category(self, category_id: str) -> Category:
        return {c.id: c for c in self.categories}[category_id]

    def departments_in(self, year: int, *, include_optional: bool = False) -> tuple[Department, ...]:
        """Departments that exist in ``year`` (optional ones only on request)."""
        return tuple(
            d for d in self.departments if d.active(year) and (include_optional or not d.optional)
        )

    def name_lookup(self) -> dict[str, str]:
        """Map every id, name and alias, in matching form (:func:`surveys.normalize.name_key`), to the id."""
        out: dict[str, str] = {}
        for d in self.departments:
            for key in (d.id, d.name, d.name_en, *d.aliases):
                out[name_key(key)] = d.id
        return out

    def nominal_weights(self) -> dict[str, float]:
        """Each indicator's nominal share of the index (sums to 1)."""
        dim_w = {d.id: d.weight / 100.0 for d in self.dimensions}
        return {i.id: dim_w[i.dimension] * i.weight for i in self.indicators}

    def likert_scores(self, scale_id: str, preset: str | None = None) -> dict[float, float]:
        """Score of each valid code of a Likert scale under ``preset``."""
        scale = self.scales[scale_id]
        values = self.likert_presets[preset or self.likert_preset]
        codes = sorted(scale.codes)
        if len(values) != len(codes):
            raise FrameworkError(
                "Likert preset does not fit the scale",
                [Problem(f"preset '{preset or self.likert_preset}' has {len(values)} scores but scale "
                         f"'{scale_id}' has {len(codes)} codes",
                         fix="use a preset with one score per code (three_level is for 3-point scales)")],
            )
        return dict(zip(codes, values))

    def grade_for(self, score: float) -> GradeBand:
        for band in sorted(self.grades, key=lambda g: -g.min):
            if score >= band.min:
                return band
        return sorted(self.grades, key=lambda g: g.min)[0]

    def predecessors(self, department_id: str, year: int) -> tuple[str, ...]:
        """Predecessor ids of ``department_id`` in ``year - 1`` (itself if none)."""
        for entry in self.crosswalk:
            if entry.successor == department_id and entry.year == year:
                return entry.predecessors
        return (department_id,)


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _tables(items: tuple[Item, ...]) -> dict[str, TableSpec]:
    return tables_with_items(items)


def _fields(cls) -> dict:
    return {k: LEAF for k in cls.__dataclass_fields__}


#: every section and key a framework file may have (:mod:`surveys.keys`); anything else is an error
FRAMEWORK_SHAPE = {
    "framework": {"id": LEAF, "version": LEAF, "name": LEAF, "name_en": LEAF, "likert_preset": LEAF,
                  "confidence_level": LEAF, "missing_dimension_flag": LEAF, "comparable_with": LEAF,
                  "max_missing_weight": LEAF, "share_interval": LEAF},
    "likert_presets": {"*": LEAF},
    "scales": {"*": {"kind": LEAF, "codes": LEAF, "na_codes": LEAF, "top_box": LEAF, "bottom_box": LEAF,
                     "labels": {"*": LEAF}}},
    "dimensions": [{"id": LEAF, "name": LEAF, "name_en": LEAF, "weight": LEAF}],
    "indicators": [{"id": LEAF, "dimension": LEAF, "name": LEAF, "name_en": LEAF, "channel": LEAF, "table": LEAF,
                    "field": LEAF, "measure": LEAF, "weight": LEAF, "scale": LEAF, "denominator": LEAF,
                    "success": LEAF, "version": LEAF,
                    "transform": {"kind": LEAF, "worst": LEAF, "frontier": LEAF, "preset": LEAF}}],
    "gates": {**_fields(Gates), "rule": LEAF},
    "grades": [{"grade": LEAF, "name": LEAF, "name_en": LEAF, "min": LEAF}],
    "categories": [{"id": LEAF, "name": LEAF, "name_en": LEAF, "optional": LEAF}],
    "departments": [{"id": LEAF, "name": LEAF, "name_en": LEAF, "category": LEAF, "tier": LEAF,
                     "first_year": LEAF, "last_year": LEAF, "optional": LEAF, "aliases": LEAF}],
    "crosswalk": [{"year": LEAF, "successor": LEAF, "predecessors": LEAF, "kind": LEAF}],
    "screens": _fields(Screens),
    "weighting": {"method": LEAF, "ahp_method": LEAF, "random_index": LEAF, "max_cr": LEAF,
                  "allow_inconsistent": LEAF, "dimensions": LEAF, "indicators": {"*": {"comparisons": LEAF}}},
    "roles": {"outcome": LEAF, "outcomes": LEAF, "inflation_indicator": LEAF, "agreement": LEAF,
              "reform_figures": {"*": LEAF}},
    "plausibility": ANY,  # checked with its values by _parse_plausibility
    "items": [{"table": LEAF, "id": LEAF, "name": LEAF, "name_en": LEAF, "kind": LEAF, "scale": LEAF,
               "aliases": LEAF}],
    "intake": _fields(Intake),
    "comment_themes": [{"id": LEAF, "name": LEAF, "name_en": LEAF, "keywords": LEAF, "except": LEAF}],
}


def load_framework(path: str | Path | None = None) -> Framework:
    """Load and validate a framework TOML file (the shipped default if ``None``).

    Raises
    ------
    FrameworkError
        listing every problem found, each with its fix.
    """
    path = Path(path) if path is not None else DEFAULT_FRAMEWORK
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise FrameworkError(
            "Cannot read the framework file",
            [Problem(f"{exc.strerror}", file=str(path), fix="check the path in project.toml")],
        ) from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FrameworkError(
            "The framework file is not valid TOML",
            [Problem(str(exc), file=str(path), fix="correct the TOML syntax at the position given")],
        ) from None
    fw = parse_framework(data, source=str(path))
    return replace(fw, sha256=hashlib.sha256(raw_bytes).hexdigest())


def parse_framework(data: dict[str, Any], *, source: str = "<framework>") -> Framework:
    """Build a :class:`Framework` from parsed TOML, collecting every problem."""
    problems: list[Problem] = []

    def problem(message: str, fix: str, **kw: Any) -> None:
        problems.append(Problem(message, fix=fix, file=source, **kw))

    def num(value: Any, where: str, default: float = 0.0) -> float:
        """A number the file must give as a number ("fifty" or "5" in quotes is a problem, said where)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problem(f"{where} = {value!r} is not a number", "write a number without quotes, e.g. 20 or 0.5")
            return default
        return float(value)

    def nums(values: Any, where: str) -> tuple[float, ...]:
        if not isinstance(values, (list, tuple)):
            problem(f"{where} = {values!r} is not a list of numbers", "write a list, e.g. [1, 2, 3]")
            return ()
        def ok(x: Any) -> bool:
            return isinstance(x, (int, float)) and not isinstance(x, bool)

        if not all(ok(x) for x in values):
            problem(f"{where} holds {', '.join(repr(x) for x in values if not ok(x))}, not a number",
                    "write numbers without quotes, e.g. [1, 2, 3]")
        return tuple(float(x) for x in values if ok(x))

    def entries(key: str, required: str) -> list[dict]:
        """The [[key]] tables of the file, each with its ``required`` key (a missing one is a problem)."""
        out = []
        for i, d in enumerate(data.get(key, []) or []):
            if not isinstance(d, dict):
                problem(f"[[{key}]] number {i + 1} is not a table", f"write it as a [[{key}]] section")
            elif required not in d:
                problem(f"[[{key}]] number {i + 1} has no '{required}'", f"add {required} = \"...\"")
            else:
                out.append(d)
        return out

    unknown_keys(data, FRAMEWORK_SHAPE, problem)
    head = data.get("framework", {})
    for key in ("id", "version"):
        if not head.get(key):
            problem(f"[framework] has no '{key}'", f"add {key} = \"...\" under [framework]")

    presets = {k: nums(v, f"[likert_presets] {k}") for k, v in data.get("likert_presets", {}).items()}
    for name in ("linear", "cn_common", "three_level"):
        presets.setdefault(name, {"linear": (0, 25, 50, 75, 100), "cn_common": (20, 40, 60, 80, 100),
                                  "three_level": (30, 70, 100)}[name])
    preset = head.get("likert_preset", "linear")
    if preset not in presets:
        problem(f"unknown likert_preset '{preset}'", f"use one of {sorted(presets)}")

    scales: dict[str, Scale] = {}
    for sid, s in data.get("scales", {}).items():
        kind = s.get("kind", "likert")
        if kind not in SCALE_KINDS:
            problem(f"scale '{sid}' has unknown kind '{kind}'", f"use one of {list(SCALE_KINDS)}")
        codes = nums(s.get("codes", ()), f"[scales.{sid}] codes")
        na = nums(s.get("na_codes", ()), f"[scales.{sid}] na_codes")
        labels: dict[str, float | None] = {}
        for label, code in s.get("labels", {}).items():
            if code == "na" or (isinstance(code, (int, float)) and float(code) in na):
                labels[label] = None
            elif isinstance(code, (int, float)) and float(code) in codes:
                labels[label] = float(code)
            else:
                problem(f"scale '{sid}': label '{label}' maps to {code!r}, which is neither a code nor N/A",
                        f"map it to one of {list(codes)} or to \"na\"")
        scales[sid] = Scale(sid, kind, codes, na, nums(s.get("top_box", ()), f"[scales.{sid}] top_box"),
                            nums(s.get("bottom_box", ()), f"[scales.{sid}] bottom_box"), labels)

    for sid, builtin in BUILTIN_SCALES.items():
        scales.setdefault(sid, builtin)
    items = _parse_items(data.get("items", []), scales, problem)
    tables = tables_with_items(items)

    dims: list[Dimension] = []
    for i, d in enumerate(data.get("dimensions", [])):
        if "id" not in d:
            problem(f"dimension number {i + 1} has no id", "add id = \"D...\"")
            continue
        dims.append(Dimension(d["id"], d.get("name", d["id"]), d.get("name_en", d.get("name", d["id"])),
                              num(d.get("weight", 0), f"dimension {d['id']} weight")))
    _duplicates([d.id for d in dims], "dimension", problem)

    inds: list[Indicator] = []
    dim_ids = {d.id for d in dims}
    for i, d in enumerate(data.get("indicators", [])):
        iid = d.get("id")
        if not iid:
            problem(f"indicator number {i + 1} has no id", "add id = \"D1.1\" or similar")
            continue
        t = d.get("transform", {"kind": "identity"})
        if not isinstance(t, dict):
            problem(f"indicator {iid}: transform = {t!r} is not a table", 'write transform = { kind = "likert" }')
            t = {"kind": "identity"}
        anchors = {k: None if t.get(k) is None else num(t[k], f"indicator {iid} transform {k}")
                   for k in ("worst", "frontier")}
        transform = Transform(t.get("kind", "identity"), anchors["worst"], anchors["frontier"], t.get("preset"))
        ind = Indicator(
            id=iid, dimension=d.get("dimension", ""), name=d.get("name", iid),
            name_en=d.get("name_en", d.get("name", iid)), channel=d.get("channel", ""),
            table=d.get("table", ""), field=d.get("field", ""), measure=d.get("measure", ""),
            transform=transform, weight=num(d.get("weight", 0), f"indicator {iid} weight"), scale=d.get("scale"),
            denominator=d.get("denominator"), success=nums(d.get("success", ()), f"indicator {iid} success"),
            version=str(d.get("version", "1")),
        )
        _check_indicator(ind, dim_ids, scales, presets, tables, problem)
        inds.append(ind)
    _duplicates([i.id for i in inds], "indicator", problem)

    for dim in dims:
        if not any(i.dimension == dim.id for i in inds):
            problem(f"dimension {dim.id} has no indicators", f"add indicators with dimension = \"{dim.id}\" or remove it")

    dims, inds = _check_weights(dims, inds, problem)

    g = dict(data.get("gates", {}))
    gate_rule = g.pop("rule", "point")
    share_interval = head.get("share_interval", "logit")
    for p in _setting_problems(share_interval, gate_rule):
        problem(p.message, p.fix)
    gate_values = {}
    for k, v in g.items():
        if not hasattr(Gates(), k):
            continue
        default = getattr(Gates(), k)
        if isinstance(default, bool):
            if not isinstance(v, bool):
                problem(f"[gates] {k} = {v!r} is not true or false", f"write {k} = true or {k} = false")
                continue
            gate_values[k] = v
        elif isinstance(default, int):
            if isinstance(v, bool) or not isinstance(v, int):
                problem(f"[gates] {k} = {v!r} is not a whole number", f"write a whole number, e.g. {k} = {default}")
                continue
            gate_values[k] = v
        else:
            gate_values[k] = num(v, f"[gates] {k}", default)
    gates = Gates(**gate_values)

    grades = tuple(GradeBand(x["grade"], x.get("name", x["grade"]), x.get("name_en", x["grade"]),
                             num(x.get("min", 0), f"grade {x['grade']} min")) for x in entries("grades", "grade"))
    if not grades:
        problem("no grade bands", "add [[grades]] entries with grade, name and min")
    elif min(b.min for b in grades) > 0:
        problem("the lowest grade band does not start at 0", "give the lowest band min = 0")

    cats = tuple(Category(c["id"], c.get("name", c["id"]), c.get("name_en", c["id"]), bool(c.get("optional", False)))
                 for c in entries("categories", "id"))
    _duplicates([c.id for c in cats], "category", problem)
    cat_ids = {c.id for c in cats}
    deps: list[Department] = []
    for d in entries("departments", "id"):
        dep = Department(d["id"], d.get("name", d["id"]), d.get("name_en", d.get("name", d["id"])),
                         d.get("category", ""), d.get("tier", "M"), d.get("first_year"), d.get("last_year"),
                         bool(d.get("optional", False)), tuple(d.get("aliases", ())))
        if dep.category not in cat_ids:
            problem(f"department {dep.id} ({dep.name}) is in no known category (category = '{dep.category}')",
                    f"set category to one of {sorted(cat_ids)}")
        if dep.tier not in TIERS:
            problem(f"department {dep.id} has unknown volume tier '{dep.tier}'", "use H, M or L")
        deps.append(dep)
    _duplicates([d.id for d in deps], "department", problem)
    names: dict[str, str] = {}
    for dep in deps:
        for key in (dep.name, *dep.aliases):
            if key in names and names[key] != dep.id:
                problem(f"the name '{key}' is used by departments {names[key]} and {dep.id}",
                        "give each department a distinct name and aliases")
            names[key] = dep.id

    dep_ids = {d.id for d in deps}
    crosswalk = []
    for c in data.get("crosswalk", []):
        year = c.get("year", 0)
        if isinstance(year, bool) or not isinstance(year, int):
            problem(f"crosswalk entry year = {year!r} is not a year", "write the year as a number, e.g. year = 2025")
            year = 0
        entry = CrosswalkEntry(year, c.get("successor", ""), tuple(c.get("predecessors", ())),
                               c.get("kind", "rename"))
        for did in (entry.successor, *entry.predecessors):
            if did not in dep_ids:
                problem(f"crosswalk {entry.year}: department '{did}' is not in the register",
                        "add it to [[departments]] (with last_year for a defunct one)")
        crosswalk.append(entry)

    s = data.get("screens", {})
    screen_values = {}
    for k, v in s.items():
        if not hasattr(Screens(), k):
            continue
        default = getattr(Screens(), k)
        if isinstance(default, str):
            screen_values[k] = str(v)
        elif isinstance(default, int):
            if isinstance(v, bool) or not isinstance(v, int):
                problem(f"[screens] {k} = {v!r} is not a whole number", f"write a whole number, e.g. {k} = {default}")
                continue
            screen_values[k] = v
        else:
            screen_values[k] = num(v, f"[screens] {k}", default)
    screens = Screens(**screen_values)
    for k, v in s.items():
        if hasattr(Screens(), k) and isinstance(getattr(Screens(), k), str) and v not in SCREEN_MODES:
            problem(f"screen '{k}' = '{v}'", f"use one of {list(SCREEN_MODES)}")

    weighting = _parse_weighting(data.get("weighting", {}), {d.id for d in dims}, inds, problem)
    roles = _parse_roles(data.get("roles", {}), {i.id: i for i in inds}, problem)
    plausibility = _parse_plausibility(data.get("plausibility", {}), problem)
    intake = _parse_intake(data.get("intake", {}), problem)
    themes = _parse_themes(data.get("comment_themes", []), problem)

    level = num(head.get("confidence_level", DEFAULT_CONFIDENCE_LEVEL), "[framework] confidence_level",
                DEFAULT_CONFIDENCE_LEVEL)
    if not 0.5 <= level < 1:
        problem(f"confidence_level {level} is outside [0.5, 1)", f"use e.g. {DEFAULT_CONFIDENCE_LEVEL}")

    missing_weight = head.get("max_missing_weight", 0.25)
    if isinstance(missing_weight, bool) or not isinstance(missing_weight, (int, float)) or not 0 <= missing_weight < 1:
        problem(f"[framework] max_missing_weight = {missing_weight!r}",
                "give a share in [0, 1), e.g. 0.25: departments missing more of the index weight are not evaluated")
        missing_weight = 0.25

    flag_share = num(head.get("missing_dimension_flag", 0.30), "[framework] missing_dimension_flag", 0.30)

    if problems:
        raise FrameworkError(f"The framework {source} is invalid", problems)
    return Framework(
        id=head["id"], version=str(head["version"]), name=head.get("name", head["id"]),
        name_en=head.get("name_en", head.get("name", head["id"])), likert_preset=preset,
        likert_presets=presets, confidence_level=level,
        missing_dimension_flag=flag_share, scales=scales,
        dimensions=tuple(dims), indicators=tuple(inds), gates=gates, grades=grades, categories=cats,
        departments=tuple(deps), crosswalk=tuple(crosswalk), screens=screens, weighting=weighting, roles=roles,
        plausibility=plausibility, items=items, comparable_with=tuple(str(x) for x in head.get("comparable_with", ())),
        max_missing_weight=missing_weight,
        share_interval=share_interval, gate_rule=gate_rule, intake=intake, comment_themes=themes, source=source,
    )


def _parse_items(entries: list, scales: dict[str, Scale], problem) -> tuple[Item, ...]:
    """``[[items]]``: the questions of the questionnaire, the callback interview and the site-visit checklist."""
    items: list[Item] = []
    seen: dict[tuple[str, str], int] = {}
    for n, d in enumerate(entries, start=1):
        where = f"[[items]] number {n}"
        table, iid = str(d.get("table", "")), str(d.get("id", ""))
        if table not in ITEM_TABLES:
            problem(f"{where}: table '{table}' has no declared items",
                    did_you_mean(table, ITEM_TABLES) + f"use one of {list(ITEM_TABLES)}")
            continue
        if not iid:
            problem(f"{where} has no id", "add id = \"q_overall\" or similar: the column name inputs map to")
            continue
        if iid in TABLES[table].names or iid in TABLES[table].derived:
            problem(f"{where}: '{iid}' is a built-in column of table '{table}'",
                    "give the item another id (the built-in column is always read)")
            continue
        if (table, iid) in seen:
            problem(f"{where}: item '{iid}' of table '{table}' is also item number {seen[table, iid]}",
                    "give every item of a table a unique id")
            continue
        scale = d.get("scale")
        kind = str(d.get("kind", "code" if scale else "number"))
        if kind not in ITEM_KINDS:
            problem(f"{where}: kind '{kind}'", did_you_mean(kind, ITEM_KINDS) + f"use one of {list(ITEM_KINDS)}")
            continue
        if kind == "code" and scale not in scales:
            problem(f"{where}: item '{iid}' uses unknown scale '{scale}'",
                    did_you_mean(scale, scales) + f"use one of {sorted(scales)} or declare [scales.{scale}]")
            continue
        if kind != "code" and scale is not None:
            problem(f"{where}: a {kind} item has no scale", "remove scale, or use kind = \"code\"")
            continue
        seen[table, iid] = n
        name = str(d.get("name", iid))
        items.append(Item(table, iid, name, str(d.get("name_en", name)), kind, scale,
                          tuple(str(a) for a in d.get("aliases", ()))))
    return tuple(items)


def _parse_intake(section: dict, problem) -> Intake:
    """``[intake]``: ``max_loss`` a share in (0, 1], ``min_loss`` a whole number of 1 or more."""
    values: dict[str, Any] = {}
    share = section.get("max_loss", Intake.max_loss)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        problem(f"[intake] max_loss = {share!r} is not a share", "give a share in (0, 1], e.g. max_loss = 0.20")
    else:
        values["max_loss"] = float(share)
    floor = section.get("min_loss", Intake.min_loss)
    if isinstance(floor, bool) or not isinstance(floor, int) or floor < 1:
        problem(f"[intake] min_loss = {floor!r} is not a whole number of 1 or more", "e.g. min_loss = 10")
    else:
        values["min_loss"] = floor
    return Intake(**values)


@functools.lru_cache(maxsize=1)
def default_comment_themes() -> tuple[CommentTheme, ...]:
    """The shipped lexicon of complaint themes (``frameworks/comment_themes.toml``)."""
    data = tomllib.loads(DEFAULT_COMMENT_THEMES.read_text(encoding="utf-8"))
    problems: list[Problem] = []
    themes = _theme_entries(data.get("themes", []), lambda m, f: problems.append(Problem(
        m, fix=f, file=str(DEFAULT_COMMENT_THEMES))))
    if problems:
        raise FrameworkError("The shipped comment lexicon is invalid", problems)
    return themes


def _parse_themes(entries: list, problem) -> tuple[CommentTheme, ...]:
    """The shipped lexicon with the framework's ``[[comment_themes]]`` added (same id: replaced)."""
    own = _theme_entries(entries, problem)
    mine = {t.id: t for t in own}
    return tuple(mine.pop(t.id, t) for t in default_comment_themes()) + tuple(mine.values())


def _theme_entries(entries: list, problem) -> tuple[CommentTheme, ...]:
    out: dict[str, CommentTheme] = {}
    for n, d in enumerate(entries, start=1):
        where = f"[[comment_themes]] number {n}"
        tid, words = str(d.get("id", "")), d.get("keywords", [])
        if not tid:
            problem(f"{where} has no id", "add id = \"queue\" or similar")
            continue
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            problem(f"{where} ('{tid}') has no keywords", 'write keywords = ["排队久", "等了很久"]')
            continue
        if tid in out:
            problem(f"{where}: theme '{tid}' is declared twice", "give every theme a unique id")
            continue
        name = str(d.get("name", tid))
        out[tid] = CommentTheme(tid, name, str(d.get("name_en", name)), tuple(words),
                                tuple(str(w) for w in d.get("except", ())))
    return tuple(out.values())


def _parse_weighting(w: dict, dim_ids: set[str], inds, problem) -> WeightingSpec:
    method = w.get("method", "explicit")
    if method not in ("explicit", "ahp"):
        problem(f"[weighting] method '{method}'", "use \"explicit\" or \"ahp\"")

    def triples(items, allowed: set[str], where: str):
        out = []
        for item in items or ():
            if not (isinstance(item, (list, tuple)) and len(item) == 3):
                problem(f"{where}: comparison {item!r} is not [a, b, value]", "write each as [\"a\", \"b\", 3]")
                continue
            a, b, v = item
            for x in (a, b):
                if x not in allowed:
                    problem(f"{where}: '{x}' is not one of {sorted(allowed)}", "compare only the listed ids")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                problem(f"{where}: comparison {item!r} has no positive number as its value",
                        "write each as [\"a\", \"b\", 3] (a is 3 times as important as b)")
                continue
            out.append((str(a), str(b), float(v)))
        return tuple(out)

    dims = triples(w.get("dimensions", ()), dim_ids, "[weighting] dimensions")
    per_dim = {}
    for dim, spec in (w.get("indicators", {}) or {}).items():
        members = {i.id for i in inds if i.dimension == dim}
        if dim not in dim_ids:
            problem(f"[weighting.indicators.{dim}]: unknown dimension", f"use one of {sorted(dim_ids)}")
            continue
        per_dim[dim] = triples(spec.get("comparisons", ()), members, f"[weighting.indicators.{dim}]")
    max_cr = w.get("max_cr", 0.1)
    if isinstance(max_cr, bool) or not isinstance(max_cr, (int, float)) or not max_cr > 0:
        problem(f"[weighting] max_cr = {max_cr!r} is not a positive number", "e.g. max_cr = 0.1")
        max_cr = 0.1
    if method == "ahp" and not dims and not per_dim:
        problem("[weighting] method is ahp but no comparisons are given",
                "add dimensions = [[\"D1\", \"D2\", 2], ...] and/or [weighting.indicators.<dim>] comparisons")
    return WeightingSpec(method=method, ahp_method=w.get("ahp_method", "eigenvector"),
                         random_index=w.get("random_index", "saaty1980"), max_cr=max_cr,
                         allow_inconsistent=bool(w.get("allow_inconsistent", False)),
                         dimension_comparisons=dims, indicator_comparisons=per_dim)




def _parse_roles(r: dict, inds: dict[str, Indicator], problem) -> Roles:
    """``[roles]``: every id must be an indicator of the framework, of the kind the role needs."""

    def known(iid, where: str, *, channel: str | None = None, likert: bool = False) -> str | None:
        ind = inds.get(str(iid))
        if ind is None:
            problem(f"[roles] {where}: '{iid}' is not an indicator of the framework",
                    f"use one of {sorted(inds)} or remove the role")
            return None
        if channel and ind.channel != channel:
            problem(f"[roles] {where}: indicator {iid} reads channel {ind.channel}, the role needs {channel}",
                    f"name an indicator of channel {channel}")
        if likert and ind.measure != "likert":
            problem(f"[roles] {where}: indicator {iid} is not a Likert indicator", "name a Likert indicator")
        return str(iid)

    outcome = known(r["outcome"], "outcome", channel="S", likert=True) if "outcome" in r else None
    outcomes = tuple(x for x in (known(i, "outcomes") for i in r.get("outcomes", ())) if x)
    inflation = (known(r["inflation_indicator"], "inflation_indicator", channel="C", likert=True)
                 if "inflation_indicator" in r else None)
    pairs = []
    for pair in r.get("agreement", ()):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            problem(f"[roles] agreement: {pair!r} is not a pair", 'write each as ["<survey id>", "<callback id>"]')
            continue
        a, b = known(pair[0], "agreement", channel="S"), known(pair[1], "agreement", channel="C")
        if a and b:
            pairs.append((a, b))
    figures = {}
    for name, iid in (r.get("reform_figures", {}) or {}).items():
        if known(iid, f"reform_figures.{name}"):
            figures[str(name)] = str(iid)
    return Roles(outcome=outcome, outcomes=outcomes, inflation_indicator=inflation, agreement=tuple(pairs),
                 reform_figures=figures)



def _duplicates(ids: list[str], what: str, problem) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            problem(f"duplicate {what} id '{i}'", f"give every {what} a unique id")
        seen.add(i)


def _check_indicator(ind: Indicator, dim_ids: set[str], scales: dict[str, Scale], presets,
                     tables: dict[str, TableSpec], problem) -> None:
    where = f"indicator {ind.id}"
    if ind.dimension not in dim_ids:
        problem(f"{where} is in no known dimension (dimension = '{ind.dimension}')",
                f"set dimension to one of {sorted(dim_ids)}")
    if ind.channel not in CHANNELS:
        problem(f"{where} has unknown channel '{ind.channel}'", f"use one of {list(CHANNELS)}")
    if ind.table not in tables:
        problem(f"{where} reads unknown table '{ind.table}'", did_you_mean(ind.table, tables)
                + f"use one of {sorted(tables)}")
    else:
        spec = tables[ind.table]
        if ind.channel in CHANNELS and spec.channel != ind.channel:
            problem(f"{where}: table '{ind.table}' belongs to channel {spec.channel}, not {ind.channel}",
                    f"set channel = \"{spec.channel}\" or read another table")
        for fld in (ind.field, ind.denominator):
            if fld and fld not in table_fields(spec):
                problem(f"{where} reads unknown item '{fld}' of table '{ind.table}'",
                        did_you_mean(fld, table_fields(spec)) + f"use one of {list(table_fields(spec))}, or declare "
                        f"it as an [[items]] entry with table = \"{ind.table}\"")
    if ind.measure not in MEASURES:
        problem(f"{where} has unknown measure '{ind.measure}'", f"use one of {list(MEASURES)}")
    if ind.measure == "ratio" and not ind.denominator:
        problem(f"{where} is a ratio without a denominator", "add denominator = \"<field>\"")
    if ind.measure in ("likert", "share"):
        if ind.scale not in scales:
            problem(f"{where} uses unknown scale '{ind.scale}'", f"use one of {sorted(scales)}")
        elif ind.measure == "likert" and scales[ind.scale].kind != "likert":
            problem(f"{where}: measure 'likert' needs a Likert scale, '{ind.scale}' is {scales[ind.scale].kind}",
                    "use measure = \"share\" with success codes, or a Likert scale")
    if ind.measure == "share" and not ind.success:
        problem(f"{where} is a share without success codes", "add success = [codes that count as success]")
    t = ind.transform
    if t.kind not in TRANSFORMS:
        problem(f"{where} has unknown transform '{t.kind}'", f"use one of {list(TRANSFORMS)}")
    if t.kind == "dtf":
        if t.worst is None or t.frontier is None:
            problem(f"{where}: distance-to-frontier needs worst and frontier", "add worst = ... and frontier = ...")
        elif t.worst == t.frontier:
            problem(f"{where}: distance-to-frontier worst equals frontier ({t.worst})",
                    "set different worst and frontier values (the score divides by their difference)")
    if t.kind == "likert" and ind.measure != "likert":
        problem(f"{where}: transform 'likert' only applies to measure 'likert'", "use percent, dtf or identity")
    if t.preset and t.preset not in presets:
        problem(f"{where} uses unknown Likert preset '{t.preset}'", f"use one of {sorted(presets)}")
    if ind.weight <= 0:
        problem(f"{where} has weight {ind.weight}", "give a positive weight within its dimension, or remove it")


def _check_weights(dims, inds, problem):
    def settle(total: float, target: float, what: str) -> float | None:
        if abs(total - target) <= 1e-9 * target:
            return 1.0
        if abs(total - target) <= WEIGHT_TOLERANCE * target:
            warnings.warn(f"{what} sum to {total:g}, not {target:g}; rescaled to {target:g}",
                          NormalisedWeightsWarning, stacklevel=4)
            return target / total
        problem(f"{what} sum to {total:g}, not {target:g}",
                f"correct the weights so they sum to {target:g} (sums within 1% are rescaled with a warning)")
        return None

    if dims:
        factor = settle(sum(d.weight for d in dims), 100.0, "dimension weights")
        if factor and factor != 1.0:
            dims = [replace(d, weight=d.weight * factor) for d in dims]
    out = list(inds)
    for dim in dims:
        members = [i for i in out if i.dimension == dim.id]
        if not members:
            continue
        factor = settle(sum(i.weight for i in members), 1.0, f"indicator weights in dimension {dim.id}")
        if factor and factor != 1.0:
            out = [replace(i, weight=i.weight * factor) if i.dimension == dim.id else i for i in out]
    return dims, out


def _parse_plausibility(section: dict, problem) -> Plausibility:
    """``[plausibility]`` into :class:`Plausibility`; unknown keys and bad values are problems."""
    defaults = Plausibility()
    known = list(Plausibility.__dataclass_fields__)
    values: dict[str, Any] = {}
    if not isinstance(section, dict):
        problem("[plausibility] is not a table of settings", "write it as a [plausibility] section with key = value")
        return defaults

    def did_you_mean(word: str, options) -> str:
        close = difflib.get_close_matches(str(word), list(options), n=1)
        return f"did you mean '{close[0]}'? " if close else ""

    for key, value in section.items():
        where = f"[plausibility] {key} = {value!r}"
        if key not in known:
            problem(f"[plausibility]: unknown setting '{key}'",
                    did_you_mean(key, known) + f"the settings are {', '.join(known)}")
            continue
        default = getattr(defaults, key)
        if isinstance(default, str):
            if value not in PLAUSIBILITY_MODES:
                problem(f"{where} is not a mode", did_you_mean(value, PLAUSIBILITY_MODES)
                        + f"use one of {', '.join(repr(m) for m in PLAUSIBILITY_MODES)}")
                continue
        elif key == "weight_ratio":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 1:
                problem(f"{where} is not a factor above 1", "give a number above 1, e.g. weight_ratio = 50")
                continue
            value = float(value)
        elif key == "late_days":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problem(f"{where} is not a whole number of days", "give a whole number of 0 or more, e.g. 90")
                continue
        elif key == "earliest_date":
            if isinstance(value, dt.datetime):
                value = value.date()
            elif isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    problem(f"{where} is not a date", "write it as earliest_date = 2015-01-01")
                    continue
            elif not isinstance(value, dt.date):
                problem(f"{where} is not a date", "write it as earliest_date = 2015-01-01")
                continue
        values[key] = value
    return replace(defaults, **values)
