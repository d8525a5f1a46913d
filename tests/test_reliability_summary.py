"""Reliability tables: scale reliability of the survey, inter-rater agreement, survey-callback agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.reliability_tables import (
    AGREEMENT_COLUMNS,
    INTERRATER_COLUMNS,
    RELIABILITY_COLUMNS,
    agreement_table,
    interrater_table,
    reliability_table,
)
from surveys.errors import MinpingWarning
from surveys.framework import load_framework

FW = load_framework()


def survey():
    """Five respondents; D4 = (q_courtesy, q_competence) is the hand-computed scale."""
    return pd.DataFrame({
        "q_courtesy": [1.0, 2, 3, 4, 5],
        "q_competence": [2.0, 2, 3, 5, 4],
        "q_overall": [2.0, 3, 3, 4, 5],
        "q_easier": [1.0, 3, 2, 5, 4],
        "q_speed": [2.0, 2, 4, 4, 5],
        "q_ease": [1.0, 2, 4, 4, 4],
        "q_info": [3.0, 2, 3, 5, 5],
        "q_fair": [2.0, 3, np.nan, 4, 5],
        "weight": [1.0, 2, 1, 1, 3],
    })


def alpha_by_formula(x: np.ndarray) -> float:
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0).sum() / x.sum(axis=1).var())


def test_two_item_scale_by_hand():
    # with five respondents, the weighted one-factor model of the eight-item battery hits a Heywood case
    with pytest.warns(MinpingWarning, match="Heywood"):
        out = reliability_table(survey(), FW, weights="weight")
    assert list(out.columns) == RELIABILITY_COLUMNS
    assert "Heywood" in out.set_index(["scale_id", "level"]).loc[("survey_battery", "scale"), "note"]
    d4 = out[(out["scale_id"] == "D4") & (out["level"] == "scale")].iloc[0]
    # item variances 2 and 1.36, variance of the sum 6.16: alpha = 2 (1 - 3.36 / 6.16) = 10/11
    assert d4["alpha"] == pytest.approx(10 / 11, rel=1e-12)
    r = 1.4 / np.sqrt(2 * 1.36)                       # covariance 1.4
    assert d4["alpha_standardized"] == pytest.approx(2 * r / (1 + r), rel=1e-12)
    assert (d4["k"], d4["n"], d4["n_dropped"]) == (2, 5, 0)
    assert np.isnan(d4["omega_total"]) and "3 or more" in d4["note"]
    items = out[(out["scale_id"] == "D4") & (out["level"] == "item")].set_index("item")
    assert items.loc["q_courtesy", "item_total_corr"] == pytest.approx(r, rel=1e-12)
    assert items.loc["q_competence", "indicator_id"] == "D4.2"
    # integer design weights act as repeated respondents
    rep = survey().loc[np.repeat(np.arange(5), [1, 2, 1, 1, 3]), ["q_courtesy", "q_competence"]].to_numpy()
    assert d4["alpha_weighted"] == pytest.approx(alpha_by_formula(rep), rel=1e-12)


def test_battery_uses_complete_respondents_and_reports_omega():
    out = reliability_table(survey(), FW)
    battery = out[(out["scale_id"] == "survey_battery") & (out["level"] == "scale")].iloc[0]
    assert (battery["k"], battery["n"], battery["n_dropped"]) == (8, 4, 1)       # q_fair missing once
    complete = survey().drop(columns="weight").dropna()
    cols = ["q_overall", "q_easier", "q_speed", "q_ease", "q_courtesy", "q_competence", "q_info", "q_fair"]
    assert battery["alpha"] == pytest.approx(alpha_by_formula(complete[cols].to_numpy()), rel=1e-12)
    assert 0 < battery["omega_total"] <= 1 and np.isnan(battery["alpha_weighted"])
    assert set(out["scale_id"]) == {"D1", "D4", "survey_battery"}    # the dimensions with 2+ survey items


def visits_from(matrix: list[str], column: str) -> pd.DataFrame:
    """Coders x units text rows ('.' missing) as visit rows of one rater each."""
    rows = []
    for c, line in enumerate(matrix):
        for u, value in enumerate(line.split()):
            if value != ".":
                rows.append({"visit_id": f"v{u:02d}", "department_id": "A01", "rater": f"r{c}",
                             column: float(value)})
    return pd.DataFrame(rows)


def test_interrater_reproduces_krippendorff_2011_interval_alpha():
    # Krippendorff (2011), 4 coders x 12 units: interval alpha 0.849107 (reference case 3, tests/reference/README.md)
    data = ["1 2 3 3 2 1 4 1 2 . . .",
            "1 2 3 3 2 2 4 1 2 5 . 3",
            ". 3 3 3 2 3 4 2 2 5 1 .",
            "1 2 3 3 2 4 4 1 2 5 1 ."]
    out = interrater_table(visits_from(data, "checklist_score"))
    assert list(out.columns) == INTERRATER_COLUMNS
    row = out.set_index("measure").loc["checklist_score"]
    assert row["alpha"] == pytest.approx(0.849107, abs=1e-6)
    assert (row["n_units"], row["n_values"], row["n_double_rated"]) == (11, 40, 11)
    assert row["level"] == "interval"


def test_interrater_ordinal_item_by_hand():
    # two raters, four visits: (1,1) (1,1) (0,0) (1,0). n = 8, n_1 = 5, n_0 = 3; D_o = 2/8,
    # D_e = 2 * 5 * 3 / (8 * 7); with two categories the ordinal metric is constant: alpha = 1 - (1/4)/(30/56) = 8/15
    out = interrater_table(visits_from(["1 1 0 1", "1 1 0 0"], "c01"), ("c01",)).set_index("measure")
    assert out.loc["c01", "alpha"] == pytest.approx(8 / 15, rel=1e-12)
    assert out.loc["c01", "level"] == "ordinal"
    # no variation at all: alpha undefined, said so
    flat = interrater_table(visits_from(["1 1 1", "1 1 1"], "c02"), ("c02",)).set_index("measure")
    assert np.isnan(flat.loc["c02", "alpha"]) and "undefined" in flat.loc["c02", "note"]


def test_interrater_icc_reproduces_shrout_fleiss_1979():
    # Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges; Table 4: ICC(1,1) = .17, ICC(1,k) = .44
    ratings = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    data = [" ".join(str(v) for v in ratings[:, j]) for j in range(4)]
    visits = visits_from(data, "checklist_score")
    # a visit rated by a single rater is left out of the balanced matrix
    visits = pd.concat([visits, pd.DataFrame([{"visit_id": "solo", "department_id": "A01", "rater": "r0",
                                               "checklist_score": 5.0}])])
    row = interrater_table(visits).set_index("measure").loc["checklist_score"]
    bms, wms = 11.241666666666667, 6.263888888888889
    assert row["icc"] == pytest.approx((bms - wms) / (bms + 3 * wms), rel=1e-9)
    assert (round(row["icc"], 2), round(row["icc_k"], 2)) == (0.17, 0.44)
    assert row["icc_type"] == "ICC(1,1)" and row["n_icc_units"] == 6 and row["n_double_rated"] == 6


def test_interrater_without_double_ratings_is_empty():
    single = visits_from(["1 0 1"], "c01")
    assert interrater_table(single).empty and list(interrater_table(single).columns) == INTERRATER_COLUMNS
    assert interrater_table(None).empty


def test_survey_callback_agreement_by_hand():
    ind = pd.DataFrame({"department_id": list("abcd") * 2 + ["e"],
                        "indicator_id": ["D1.1"] * 4 + ["D1.2"] * 4 + ["D1.1"],
                        "score": [80.0, 70, 90, 60, 78, 74, 85, 63, 99]})
    summary, points = agreement_table(ind, survey="D1.1", callback="D1.2", level=0.95)
    assert list(summary.columns) == AGREEMENT_COLUMNS
    s = summary.iloc[0]
    assert s["n"] == 4                                            # e has no callback score
    assert s["mean_diff"] == pytest.approx(0.0, abs=1e-12)        # differences 2, -4, 5, -3
    assert s["sd_diff"] == pytest.approx(np.sqrt(18.0))
    assert (s["loa_low"], s["loa_high"]) == pytest.approx((-1.96 * np.sqrt(18), 1.96 * np.sqrt(18)))
    assert s["pearson_r"] == pytest.approx(np.corrcoef([80, 70, 90, 60], [78, 74, 85, 63])[0, 1])
    assert s["spearman_rho"] == pytest.approx(1.0)                # same order
    assert points["diff"].tolist() == [2.0, -4.0, 5.0, -3.0]


def test_an_item_everyone_answered_alike_is_a_note_not_a_stopped_year():
    """A small project's fairness item answered 同意 by everyone: alpha of that scale cannot be computed, said so."""
    data = survey().assign(q_fair=4.0)
    out = reliability_table(data, FW, weights="weight")
    scales = out[out["level"] == "scale"].set_index("scale_id")
    assert "no variance" in scales.loc["survey_battery", "note"] and np.isnan(scales.loc["survey_battery", "alpha"])
    assert scales.loc["D4", "alpha"] == pytest.approx(10 / 11, rel=1e-12)  # other scales unaffected
