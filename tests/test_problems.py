"""The evidence-based problem list, computed by hand on a two-department fixture.

Department A01 fails things a reader can count: one checklist criterion at one
of two visits and another half-met, three of ten service guides, two of ten
callback answers on being told everything at once, two of five bad reviews
rectified late, five of a hundred cases closed late, and five of 45 callback
contacts who never handled the matter (a G1 deduction).  A02 is clean.  Every
count, points at stake and noise verdict below is worked out from those
numbers and the shipped framework's weights and transforms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.problems import (
    COMMENT_THEME_COLUMNS,
    FOLLOW_UP_COLUMNS,
    PROBLEM_COLUMNS,
    build_problems,
    common_problems,
    follow_up,
)
from evaluation.transforms import score
from surveys.framework import load_framework
from surveys.schema import ChannelData

FW = load_framework()
CHECKLIST = FW.item_ids("visits", kind="checklist")
#: the indicators of the fixture by what they read (ids looked up, as library code must)
BY_FIELD = {(i.table, i.field): i.id for i in FW.indicators}
CHECK = BY_FIELD["visits", "checklist_score"]
GUIDE = BY_FIELD["guides", "accurate"]
TOLD = BY_FIELD["callback_interviews", "told_once"]
RECT = BY_FIELD["ratings", "rectified_on_time"]
ONTIME = BY_FIELD["admin_monthly", "closed_on_time"]
W = 0.05  # every effective weight of the fixture


def _visit(dep, vid, **values):
    row = {"department_id": dep, "visit_id": vid, "rater": "r1", **{c: 1.0 for c in CHECKLIST}}
    row.update(values)
    return row


def fixture():
    visits = pd.DataFrame([_visit("A01", "V1", c01=0.0), _visit("A01", "V2", c02=0.5), _visit("A02", "V3")])
    visits["checklist_score"] = visits[list(CHECKLIST)].mean(axis=1)
    guides = pd.DataFrame({"department_id": ["A01"] * 10 + ["A02"] * 10,
                           "guide_id": [f"G{k}" for k in range(20)],
                           "accurate": [1, 1, 1, 0, 1, 0, 1, 0, 1, 1] + [1] * 10}, dtype=object)
    guides["accurate"] = guides["accurate"].astype(float)
    told = [1.0] * 8 + [0.0] * 2 + [np.nan]
    callbacks = pd.DataFrame({"department_id": ["A01"] * 11 + ["A02"] * 5, "case_id": [f"K{k}" for k in range(16)],
                              "told_once": told + [1.0] * 5})
    ratings = pd.DataFrame({"department_id": ["A01"] * 7 + ["A02"] * 3, "rating_id": [f"R{k}" for k in range(10)],
                            "is_bad": [1, 1, 1, 1, 1, 0, 0, 1, 0, 0],
                            "rectified_on_time": [1, 1, 1, 0, 0, 0, 0, 1, 0, 0]}).astype({"is_bad": float,
                                                                                       "rectified_on_time": float})
    admin = pd.DataFrame({"department_id": ["A01", "A02"], "month": ["2025-01", "2025-01"],
                          "cases_closed": [100.0, 100.0], "closed_on_time": [95.0, 100.0]})
    data = ChannelData(year=2025, tables={"visits": visits, "guides": guides, "callback_interviews": callbacks,
                                          "ratings": ratings, "admin_monthly": admin})
    deps = pd.DataFrame({"department_id": ["A01", "A02"], "index": [80.0, 90.0], "category": ["A", "A"],
                         "flags": ["G1_deduction", ""], "g1_deduction": [3.0556, 0.0]})
    rows = []
    # (indicator, A01 raw, A02 raw, A01 ci_high, census)
    for iid, a, b, high, census in ((CHECK, 0.97, 1.0, 98.0, False), (GUIDE, 0.7, 1.0, 80.0, False),
                                    (TOLD, 0.8, 1.0, 95.0, False), (RECT, 0.6, 1.0, None, True),
                                    (ONTIME, 0.95, 1.0, None, True), (FW.roles.outcome, 0.1, 0.9, 20.0, False)):
        spec = FW.indicator(iid)
        for dep, raw in (("A01", a), ("A02", b)):
            s = float(score(spec.transform, raw))
            hi = s if census or dep == "A02" else (high if high is not None else s)
            rows.append({"department_id": dep, "indicator_id": iid, "dimension_id": spec.dimension,
                         "raw_value": raw, "score": s, "ci_low": s - 1, "ci_high": hi, "n": 10, "census": census})
    indicators = pd.DataFrame(rows)
    effective = indicators[["department_id", "indicator_id"]].assign(w_index=W)
    quality = pd.DataFrame({"department_id": ["A01", "A02"], "n_callback_drawn": [50, 50],
                            "n_callback_complete": [40, 45], "never_handled_rate": [0.1, 0.0],
                            "wrong_number_rate": [0.0, 0.0], "g1_authenticity": [100 * 40 / 45, 100.0],
                            # the Wilson interval of 40 of 45 at 90%, as evaluation.quality gives it beside G1
                            "g1_ci_low": [78.9, 93.9], "g1_ci_high": [94.5, 100.0], "g2_gap": [np.nan, np.nan]})
    return data, deps, indicators, effective, quality


@pytest.fixture(scope="module")
def built():
    data, deps, inds, eff, quality = fixture()
    return build_problems(data, FW, deps, inds, eff, quality, level=0.9)


def _row(problems, dep, key):
    rows = problems[(problems.department_id == dep) & (problems.key == key)]
    assert len(rows) == 1, key
    return rows.iloc[0]


def test_columns_and_the_clean_department(built):
    problems, checked = built
    assert list(problems.columns) == PROBLEM_COLUMNS
    assert set(problems["department_id"]) == {"A01"}  # A02 fails nothing
    assert {("A02", "guides.accurate"), ("A02", "visits.c01"), ("A01", "gate.G1")} <= set(
        zip(checked.department_id, checked.key))


def test_checklist_criteria_by_hand(built):
    problems, _ = built
    c01 = _row(problems, "A01", "visits.c01")
    assert (c01["count"], c01["base"], c01["examples"]) == (1, 2, "V1")
    # meeting c01 at V1 adds (1 - 0) / 25 to that visit's score: the mean over two visits rises 0.02, the
    # percent transform makes it 2 points, at an effective weight of 0.05
    assert c01["points_at_stake"] == pytest.approx(W * 2.0)
    c02 = _row(problems, "A01", "visits.c02")
    assert (c02["count"], c02["base"]) == (1, 2)  # half met counts as not met
    assert c02["points_at_stake"] == pytest.approx(W * 100 * (0.5 / 25) / 2)
    assert c01["item_label"] == FW.item("visits", "c01").name  # the framework's text, never invented


def test_guides_callbacks_ratings_and_cases_by_hand(built):
    problems, _ = built
    guides = _row(problems, "A01", "guides.accurate")
    assert (guides["count"], guides["base"], guides["examples"]) == (3, 10, "G3;G5;G7")
    assert guides["points_at_stake"] == pytest.approx(W * 30.0)
    told = _row(problems, "A01", "callback_interviews.told_once")
    assert (told["count"], told["base"], told["examples"]) == (2, 10, "")  # never a respondent's case number
    rect = _row(problems, "A01", "ratings.rectified_on_time")
    assert (rect["kind"], rect["count"], rect["base"]) == ("census_share", 2, 5)
    late = _row(problems, "A01", "admin_monthly.closed_on_time")
    # distance to frontier 0.90 -> 1.00: 95% on time scores 50, all on time 100
    assert (late["count"], late["base"]) == (5, 100)
    assert late["points_at_stake"] == pytest.approx(W * 50.0)


def test_gate_deduction_with_its_evidence(built):
    problems, _ = built
    g1 = _row(problems, "A01", "gate.G1")
    assert (g1["kind"], g1["count"], g1["base"]) == ("gate_g1", 5, 45)
    assert g1["points_at_stake"] == pytest.approx(3.0556)  # the deduction applied, not recomputed
    assert g1["reference"] == 95.0 and g1["ci_high"] < 95.0 and bool(g1["beyond_noise"])
    first = problems[problems.department_id == "A01"].sort_values("problem_no").iloc[0]
    assert first["key"] == "gate.G1"  # the largest lever first


def test_noise_verdicts(built):
    problems, _ = built
    # guides: score 70, interval up to 80, city mean (70 + 100) / 2 = 85: the whole interval is below
    assert bool(_row(problems, "A01", "guides.accurate")["beyond_noise"])
    # told once: score 80, interval up to 95, city mean 90: noise could explain the gap
    assert not bool(_row(problems, "A01", "callback_interviews.told_once")["beyond_noise"])
    # a census has no sampling error: below the city mean is beyond noise
    late = _row(problems, "A01", "admin_monthly.closed_on_time")
    assert bool(late["census"]) and bool(late["beyond_noise"])


def test_outcomes_are_never_listed(built):
    problems, _ = built
    assert not problems["indicator_id"].isin(FW.roles.outcomes).any()


def test_numbered_by_points_at_stake(built):
    problems, _ = built
    own = problems[problems.department_id == "A01"].sort_values("problem_no")
    assert own["problem_no"].tolist() == list(range(1, len(own) + 1))
    points = own["points_at_stake"].fillna(-1).to_numpy()
    assert (np.diff(points) <= 1e-12).all()


def test_common_problems(built):
    problems, _ = built
    common = common_problems(problems, 2025)
    assert common["n_departments"].eq(1).all()
    row = common.set_index("key").loc["guides.accurate"]
    assert (row["count"], row["base"], row["departments"]) == (3, 10, "A01")


def test_comment_themes_extension_point():
    data, deps, inds, eff, quality = fixture()
    themes = pd.DataFrame([{"department_id": "A01", "theme": "parking", "theme_zh": "停车难", "theme_en": "Parking",
                            "n": 7, "examples": "没有停车位"}], columns=COMMENT_THEME_COLUMNS)
    problems, checked = build_problems(data, FW, deps, inds, eff, quality, level=0.9, comment_themes=themes)
    row = _row(problems, "A01", "comment.parking")
    assert (row["kind"], row["count"], row["item_label"], row["item_label_en"]) == ("comment_theme", 7, "停车难",
                                                                                   "Parking")
    assert ("A01", "comment.parking") in set(zip(checked.department_id, checked.key))


def test_follow_up_verdicts(built):
    problems, checked = built
    previous = pd.DataFrame([
        {"year": 2024, "department_id": "A01", "problem_no": 1, "kind": "share", "key": "guides.accurate",
         "count": 4, "base": 10, "status": "done", "owner": "", "note": ""},          # reported done, still there
        {"year": 2024, "department_id": "A01", "problem_no": 2, "kind": "share",
         "key": "callback_interviews.told_once", "count": 5, "base": 10, "status": "open", "owner": "",
         "note": ""},                                                                   # still there
        {"year": 2024, "department_id": "A02", "problem_no": 1, "kind": "checklist", "key": "visits.c01",
         "count": 1, "base": 3, "status": "done", "owner": "", "note": ""},           # checked again: gone
        {"year": 2024, "department_id": "A02", "problem_no": 2, "kind": "comment_theme", "key": "comment.queue",
         "count": 3, "base": np.nan, "status": "", "owner": "", "note": ""},           # no comments this year
        {"year": 2024, "department_id": "Z91", "problem_no": 1, "kind": "share", "key": "guides.accurate",
         "count": 2, "base": 8, "status": "", "owner": "", "note": ""},                 # merged into A01
    ])
    out = follow_up(previous, problems, checked, year=2025, successors={"Z91": "A01"})
    assert list(out.columns) == FOLLOW_UP_COLUMNS
    verdicts = dict(zip(zip(out.previous_department_id, out.key), out.verdict))
    assert verdicts == {("A01", "guides.accurate"): "reopened", ("A01", "callback_interviews.told_once"): "not_fixed",
                        ("A02", "visits.c01"): "fixed", ("A02", "comment.queue"): "not_verifiable",
                        ("Z91", "guides.accurate"): "not_fixed"}
    merged = out[out.previous_department_id == "Z91"].iloc[0]
    assert merged["department_id"] == "A01" and merged["count"] == 3
    assert follow_up(None, problems, checked, year=2025).empty
