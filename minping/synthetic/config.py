"""Settings of the synthetic-data generator and the containers it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: The demo questionnaire: item -> (scale, Chinese wording), as the default framework's [[items]] declare them
SURVEY_ITEMS = {
    "q_overall": ("satisfaction", "总体满意度"),
    "q_easier": ("easier", "与一年前相比办事难易"),
    "q_speed": ("satisfaction", "办事效率满意度"),
    "q_ease": ("satisfaction", "办事便捷度满意度"),
    "q_courtesy": ("satisfaction", "服务态度满意度"),
    "q_competence": ("satisfaction", "业务能力满意度"),
    "q_info": ("satisfaction", "信息获取满意度"),
    "q_fair": ("agreement", "受到公平对待"),
}
#: The demo's site-visit checklist (the default framework's visit items on the checklist scale)
CHECKLIST_ITEMS = tuple(f"c{i:02d}" for i in range(1, 26))

#: Disposition of a *genuine* drawn case record at the end of its call attempts
#: (DOMAIN.md: complete ~62%, no answer 15%, refusal 8%, wrong number 6%,
#: never handled ~2% for honest departments, other ~6%).
DISPOSITIONS: tuple[tuple[str, float], ...] = (
    ("complete", 0.62), ("partial", 0.01), ("refusal", 0.07), ("breakoff", 0.01), ("no_answer", 0.15),
    ("wrong_number", 0.06), ("never_handled", 0.02), ("other", 0.06),
)


@dataclass(frozen=True)
class SimulationConfig:
    """Every knob of the synthetic evaluation data, with the DOMAIN.md defaults.

    The latent scale is that of an ordered probit with unit residual variance:
    a department one unit above another answers as if every respondent moved
    one residual standard deviation up.

    Parameters
    ----------
    seed : int
        Seeds everything: department parameters, yearly quality, administrative
        censuses and (unless ``simulate_year`` gets an ``rng``) every sample.
    years : tuple of int
        Evaluation years; ``t0`` of the trend is the first.
    include_utilities : bool
        Also simulate the optional utilities (category E).
    scale : float
        Multiplies survey completes, callback cases and 好差评 rating counts
        (not the deliberately tiny samples of ``low_volume`` departments).
    n_departments : int or None
        Province scale: add synthetic departments cloned from the register's
        continuing departments (cycling through them, so categories and tiers
        keep the register's mix) until there are this many in the first year.
    framework : str or None
        Path of the framework TOML; None = the shipped default.
    category_offsets, sd_department : latent mean per category and spread of
        the department effect alpha around it.
    trend_mean, trend_sd : the department trend beta per year.
    sd_year, sd_dimension, sd_field : year-to-year noise of q; persistent
        department-by-dimension effects u; persistent department-by-field
        effects w (so indicators of one dimension are not identical).
    cut_points : the four cut-points of the 5-point ordered probit.
    sd_leniency, sd_cluster : respondent leniency and intercept-day effect.
    enterprise_offset, denied_share, denied_offset : respondent-type shifts
        (an applicant whose matter was refused answers much lower).
    callback_offset : shift of phone answers against window answers (less
        social desirability).
    rating_offset : shift of honest 好差评 ratings against the callback.
    item_offsets, na_rates : per survey item difficulty and N/A share.
    enterprise_share : per category the range of the enterprise share among a
        department's users; ``enterprise_oversampling`` moves the sample share
        that far towards 1 (the enterprise panel).
    survey_n, callback_n, ratings_n, clusters, matters_n : per tier H/M/L.
    case_volume : per tier the range of annual case volume (users).
    visits_range, two_rater_share, guides_n : site visits per department (an
        inclusive range), share rated by two raters, guides checked.
    low_volume, low_volume_n : departments with tiny samples (survey
        completes, callback cases drawn; ratings at a quarter of tier L).
    dropped : (department, year) pairs from which a department has no data.
    dispositions : final dispositions of genuine case records.
    n_padding, phi_range : how many departments pad their case lists and by
        how much (the first drawn is at least 0.1 so gate G1 has work).
    fabricated_never_handled : share of fabricated records reached as "never
        handled" (the rest are wrong numbers).
    claims_inflation : a padding department reports ``min(0.9, k * phi)`` of
        its late / offline / outside-window cases as on time / online / at the
        window, and promises and documents cut by half that share.
    n_gaming, gamma_range : how many departments game 好差评 and by how much.
    default_share, default_per_gamma : share of system default ratings
        (``default_share + default_per_gamma * gamma``).
    rectification_callback : share of rectified bad reviews called back.
    unrectified_share : share of the late bad reviews never rectified.
    """

    seed: int = 20261125
    years: tuple[int, ...] = (2023, 2024, 2025)
    include_utilities: bool = False
    scale: float = 1.0
    n_departments: int | None = None
    framework: str | None = None

    category_offsets: tuple[tuple[str, float], ...] = (
        ("A", 0.15), ("B", 0.0), ("C", 0.10), ("D", -0.05), ("E", -0.10))
    sd_department: float = 0.42
    trend_mean: float = 0.04
    trend_sd: float = 0.04
    sd_year: float = 0.08
    sd_dimension: float = 0.15
    sd_field: float = 0.10

    cut_points: tuple[float, float, float, float] = (-2.85, -2.35, -0.54, 0.12)
    sd_leniency: float = 0.60
    sd_cluster: float = 0.12
    enterprise_offset: float = -0.10
    denied_share: float = 0.06
    denied_offset: float = -1.20
    callback_offset: float = -0.25
    rating_offset: float = 0.0
    item_offsets: tuple[tuple[str, float], ...] = (
        ("q_overall", 0.0), ("q_easier", -0.15), ("q_speed", -0.05), ("q_ease", 0.0),
        ("q_courtesy", 0.15), ("q_competence", 0.05), ("q_info", -0.05), ("q_fair", 0.10))
    na_rates: tuple[tuple[str, float], ...] = (
        ("q_overall", 0.03), ("q_easier", 0.08), ("q_speed", 0.04), ("q_ease", 0.04),
        ("q_courtesy", 0.03), ("q_competence", 0.05), ("q_info", 0.06), ("q_fair", 0.07))
    enterprise_share: tuple[tuple[str, tuple[float, float]], ...] = (
        ("A", (0.35, 0.65)), ("B", (0.10, 0.30)), ("C", (0.02, 0.10)), ("D", (0.10, 0.40)), ("E", (0.05, 0.20)))
    enterprise_oversampling: float = 0.30

    survey_n: tuple[tuple[str, int], ...] = (("H", 300), ("M", 150), ("L", 60))
    callback_n: tuple[tuple[str, int], ...] = (("H", 200), ("M", 150), ("L", 80))
    ratings_n: tuple[tuple[str, int], ...] = (("H", 6000), ("M", 2000), ("L", 500))
    clusters: tuple[tuple[str, int], ...] = (("H", 10), ("M", 8), ("L", 6))
    matters_n: tuple[tuple[str, int], ...] = (("H", 30), ("M", 20), ("L", 10))
    case_volume: tuple[tuple[str, tuple[int, int]], ...] = (
        ("H", (50_000, 300_000)), ("M", (5_000, 50_000)), ("L", (800, 5_000)))
    visits_range: tuple[int, int] = (2, 4)
    two_rater_share: float = 0.40
    guides_n: int = 10
    low_volume: tuple[str, ...] = ("D08",)
    low_volume_n: tuple[int, int] = (40, 32)
    dropped: tuple[tuple[str, int], ...] = (("D08", 2025),)

    dispositions: tuple[tuple[str, float], ...] = DISPOSITIONS
    n_padding: tuple[int, int] = (2, 3)
    phi_range: tuple[float, float] = (0.05, 0.25)
    fabricated_never_handled: float = 0.55
    claims_inflation: float = 3.0
    n_gaming: tuple[int, int] = (2, 3)
    gamma_range: tuple[float, float] = (0.30, 0.60)
    default_share: float = 0.05
    default_per_gamma: float = 0.80
    rectification_callback: float = 0.85
    unrectified_share: float = 0.30

    def tier_value(self, knob: str, tier: str):
        """The value of a per-tier knob (``survey_n``, ``callback_n``, ...) for ``tier``."""
        return dict(getattr(self, knob))[tier]


@dataclass(frozen=True)
class SimulatedYear:
    """One simulated evaluation year.

    Attributes
    ----------
    year : int
    tables : dict of str to DataFrame
        The canonical tables of ``surveys.schema.TABLES`` (survey,
        callback_attempts, callback_interviews, visits, guides,
        admin_monthly, admin_matters, ratings): ``department_id`` register ids,
        codes as floats, N/A as NaN, no derived fields.
    truth : DataFrame
        One row per department (see :func:`minping.synthetic.truth.truth_tables`).
    truth_indicators : DataFrame
        One row per department and indicator: ``department_id, indicator_id,
        dimension_id, raw_value, score, top2, bottom2``.
    params : DataFrame
        One row per department: ``department_id, department, category, tier,
        alpha, beta, q, phi, gamma, volume, enterprise_share, default_share``.
    admin_true : dict of str to DataFrame
        The administrative censuses without the claims inflation (same
        columns as ``tables['admin_monthly']`` and ``tables['admin_matters']``).
    """

    year: int
    tables: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    truth_indicators: pd.DataFrame
    params: pd.DataFrame
    admin_true: dict[str, pd.DataFrame] = field(default_factory=dict)
