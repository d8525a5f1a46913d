"""The evaluation result: tidy frames with fixed column names, the framework and the provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from surveys.framework import Framework

DEPARTMENT_COLUMNS = [
    "year", "department_id", "department", "department_en", "category", "category_name", "category_name_en",
    "tier", "index", "se", "ci_low", "ci_high", "df", "index_raw", "g1_deduction", "bonus", "rank", "rank_low",
    "rank_high", "p_top3", "p_bottom3", "rank_in_category", "rank_in_category_low", "rank_in_category_high",
    "grade", "grade_name", "grade_name_en", "borderline", "n_survey", "n_callback", "n_visit", "flags",
]


@dataclass(frozen=True)
class EvaluationResult:
    """Everything one evaluation year produced.

    Attributes
    ----------
    departments : one row per department (DEPARTMENT_COLUMNS): final index
        (after gates) with ``se``, interval at ``level``, raw index before
        gates, ranks and marginal rank intervals overall and within category,
        grade, borderline mark, sample sizes and ``;``-joined flag codes.
    dimensions : department x dimension (evaluation.index.DIMENSION_COLUMNS)
    indicators : department x indicator (evaluation.indicators.INDICATOR_COLUMNS)
    quality : per department callback, 好差评 and objective figures
        (evaluation.quality)
    extra : further tidy tables by name (e.g. ``effective_weights``)
    provenance : toolkit version, framework id/version/sha256, seed, level,
        input hashes, options
    """

    year: int
    framework: Framework
    level: float
    departments: pd.DataFrame
    dimensions: pd.DataFrame
    indicators: pd.DataFrame
    quality: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def conf_int(self) -> pd.DataFrame:
        """The index interval per department (``ci_low``, ``ci_high``) at ``level``."""
        return self.departments.set_index("department_id")[["ci_low", "ci_high"]]

    def summary_frame(self) -> pd.DataFrame:
        """Departments by rank with index, interval, rank interval, grade and flags."""
        cols = ["rank", "department", "category", "index", "se", "ci_low", "ci_high", "rank_low", "rank_high",
                "grade", "borderline", "flags"]
        return self.departments.sort_values(["rank", "department_id"])[["department_id", *cols]].reset_index(drop=True)
