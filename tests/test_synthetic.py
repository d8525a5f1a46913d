"""The synthetic data generator: reproducibility, calibration, the known truth and the demo files."""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from minping.synthetic import (SimulationConfig, build_register, disposition_probabilities, expected_g1,
                               pooled_likert_shares, simulate, simulate_year, true_changes, write_demo_project)
from minping.synthetic.links import SURVEY_ITEMS
from surveys.callbacks import final_dispositions
from minping.synthetic.config import CHECKLIST_ITEMS
from surveys.derive import derive_all
from surveys.errors import MethodologyError
from surveys.framework import load_framework

SEEDS = (1, 2, 3, 4, 5, 6)
SMALL = SimulationConfig(years=(2023, 2024), scale=0.2)


@pytest.fixture(scope="module")
def runs():
    """Three years for each of a few seeds (about 0.2 s per year)."""
    return {s: simulate(SimulationConfig(seed=s)) for s in SEEDS}


@pytest.fixture(scope="module")
def truth(runs):
    return pd.concat([y.truth.assign(seed=s) for s, years in runs.items() for y in years.values()],
                     ignore_index=True)


# ---------------------------------------------------------------- reproducibility


def test_same_seed_gives_the_same_tables_and_truth():
    a, b = simulate_year(SimulationConfig(seed=7), 2024), simulate_year(SimulationConfig(seed=7), 2024)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = simulate_year(SimulationConfig(seed=8), 2024)
    assert not a.tables["survey"]["q_overall"].equals(c.tables["survey"]["q_overall"])
    assert not np.allclose(a.truth["index"], c.truth["index"])


def test_simulate_year_equals_the_year_of_simulate(runs):
    alone = simulate_year(SimulationConfig(seed=SEEDS[0]), 2025)
    pd.testing.assert_frame_equal(alone.tables["ratings"], runs[SEEDS[0]][2025].tables["ratings"])
    pd.testing.assert_frame_equal(alone.truth, runs[SEEDS[0]][2025].truth)


def test_rng_redraws_the_samples_but_not_the_truth_or_the_censuses():
    cfg = SimulationConfig(seed=11)
    a = simulate_year(cfg, 2023, rng=np.random.default_rng(1))
    b = simulate_year(cfg, 2023, rng=np.random.default_rng(2))
    pd.testing.assert_frame_equal(a.truth, b.truth)
    for name in ("admin_monthly", "admin_matters", "ratings"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    for name in ("survey", "callback_attempts", "visits", "guides"):
        assert not a.tables[name].equals(b.tables[name])


# ---------------------------------------------------------------- calibration


def test_survey_answers_sit_at_the_chinese_ceiling(runs):
    # DOMAIN.md: 60-70% of answers at 4-5, 2-5% at 1-2.  A single year drifts a little with the
    # draw of departments and the trend, the calibration target is the average.
    shares = np.array([pooled_likert_shares(sim.tables, SURVEY_ITEMS) for years in runs.values()
                       for sim in years.values()])
    assert 0.62 <= shares[:, 0].mean() <= 0.69
    assert 0.025 <= shares[:, 1].mean() <= 0.045
    assert (shares[:, 0] > 0.58).all() and (shares[:, 0] < 0.73).all()
    assert (shares[:, 1] > 0.02).all() and (shares[:, 1] < 0.05).all()


def test_true_index_distribution_and_grade_mix(truth):
    # DOMAIN.md aims at a mean about 84, SD about 5, grades about A 15%, B 50%, C 30%, D 5%; with the
    # answers held at the ceiling the calibration settles at a mean near 82.7 and an SD near 6.8
    # (A 12%, B 59%, C 24%, D 5% over 40 seeds).
    assert 81.0 <= truth["index"].mean() <= 85.0
    assert 5.0 <= truth["index"].std() <= 8.5
    mix = truth["grade"].value_counts(normalize=True)
    assert 0.04 <= mix.get("A", 0) <= 0.25
    assert 0.45 <= mix.get("B", 0) <= 0.75
    assert 0.12 <= mix.get("C", 0) <= 0.38
    assert mix.get("D", 0) <= 0.12


def test_padding_and_gaming_departments_and_their_expected_gates(truth):
    for _, t in truth.groupby(["seed", "year"]):
        assert 2 <= (t["phi"] > 0).sum() <= 3 and 2 <= (t["gamma"] > 0).sum() <= 3
        assert t.loc[t["phi"] > 0, "phi"].between(0.05, 0.25).all() and (t["phi"] >= 0.1).any()
        assert t.loc[t["gamma"] > 0, "gamma"].between(0.3, 0.6).all()
        assert not ((t["phi"] > 0) & (t["gamma"] > 0)).any()
    honest = truth[truth["honest"]]
    assert (truth.loc[truth["phi"] >= 0.1, "g1"] < 90).all()
    assert (truth.loc[truth["phi"] == 0, "g1"] > 95).all()
    assert (truth.loc[truth["gamma"] >= 0.3, "g2"] > 10).all()
    assert (honest["g2"] < 10).all()


def test_expected_dispositions_follow_the_padding_rate():
    cfg = SimulationConfig()
    honest = disposition_probabilities(cfg, 0.0)
    assert sum(honest.values()) == pytest.approx(1.0)
    assert honest["complete"] == pytest.approx(0.62) and honest["never_handled"] == pytest.approx(0.02)
    padded = disposition_probabilities(cfg, 0.2)
    assert sum(padded.values()) == pytest.approx(1.0)
    # 0.8 x 0.63 confirmed against 0.8 x 0.02 + 0.2 x 0.55 never handled
    assert expected_g1(cfg, 0.2) == pytest.approx(100 * 0.504 / (0.504 + 0.126))


def test_observed_dispositions_match_the_expected_ones():
    cfg = SimulationConfig(seed=5, scale=8)
    sim = simulate_year(cfg, 2023)
    disp = final_dispositions(sim.tables["callback_attempts"])
    last = sim.tables["callback_attempts"].groupby("case_id")["outcome"].last()
    assert (disp.set_index("case_id")["disposition"] == last.reindex(disp["case_id"]).to_numpy()).all()
    assert sim.tables["callback_attempts"]["attempt_no"].max() == 3
    phi = sim.params.set_index("department_id")["phi"]
    for dept, grp in disp.groupby("department_id"):
        expect = disposition_probabilities(cfg, phi[dept])
        n = len(grp)
        for outcome in ("complete", "never_handled", "wrong_number"):
            share = (grp["disposition"] == outcome).mean()
            tol = 4 * np.sqrt(expect[outcome] * (1 - expect[outcome]) / n) + 0.01
            assert abs(share - expect[outcome]) < tol, (dept, outcome)
    interviews = sim.tables["callback_interviews"]
    done = disp.loc[disp["disposition"].isin(["complete", "partial"]), "case_id"]
    assert set(interviews["case_id"]) == set(done)


# ---------------------------------------------------------------- the known truth


def _estimate(tables: dict, fw, ind) -> pd.Series:
    """Plain per-department estimate of an indicator's raw value (weighted for the survey)."""
    df = tables[ind.table]
    if ind.measure == "likert":
        x = df[ind.field].map(fw.likert_scores(ind.scale))
        w = df["weight"] if "weight" in df else pd.Series(1.0, index=df.index)
        ok = x.notna()
        return (x * w)[ok].groupby(df["department_id"][ok]).sum() / w[ok].groupby(df["department_id"][ok]).sum()
    if ind.measure == "share":
        x = df[ind.field]
        ok = x.notna()
        return x[ok].isin(ind.success).groupby(df["department_id"][ok]).mean()
    if ind.measure == "mean":
        return df.groupby("department_id")[ind.field].mean()
    sums = df.groupby("department_id")[[ind.field, ind.denominator]].sum()
    return sums[ind.field] / sums[ind.denominator]


def test_truth_is_the_expectation_of_what_the_sampler_draws():
    cfg = SimulationConfig(seed=3, scale=10, visits_range=(60, 60), guides_n=400)
    sim = simulate_year(cfg, 2024)
    fw = load_framework()
    tables = derive_all(sim.tables, checklist=CHECKLIST_ITEMS)
    true = sim.truth_indicators.set_index(["indicator_id", "department_id"])["raw_value"]
    params = sim.params.set_index("department_id")
    big = params.index[params["tier"].isin(["H", "M"])]
    honest = params.index[params["phi"] == 0]
    for ind in fw.indicators:
        diff = (_estimate(tables, fw, ind) - true.loc[ind.id]).reindex(big)
        if ind.channel in ("A", "H"):     # censuses: exact, except the padding departments' claims
            assert np.allclose(diff.reindex(big.intersection(honest)), 0.0, atol=1e-12), ind.id
            if ind.channel == "A":
                assert (diff.reindex(big.difference(honest)) > 0).all(), ind.id
            continue
        scale = 100.0 if ind.measure == "likert" else (40.0 if ind.field == "wait_minutes" else 1.0)
        # the mean over departments averages out sampling and intercept-day noise
        assert abs(diff.mean()) < 0.012 * scale, ind.id
        assert diff.abs().max() < 0.06 * scale, ind.id


def test_truth_columns_ranks_and_aggregation():
    sim = simulate_year(SimulationConfig(seed=2), 2024)
    fw = load_framework()
    t = sim.truth
    for col in ("year", "department_id", "department", "category", "tier", "phi", "gamma", "honest", "index",
                "rank", "rank_in_category", "grade", "g1", "g2", *[d.id for d in fw.dimensions],
                *[i.id for i in fw.indicators]):
        assert col in t.columns, col
    assert sorted(t["rank"]) == list(range(1, len(t) + 1))
    assert t.loc[t["index"].idxmax(), "rank"] == 1
    for _, g in t.groupby("category"):
        assert sorted(g["rank_in_category"]) == list(range(1, len(g) + 1))
    assert (t["honest"] == ((t["phi"] == 0) & (t["gamma"] == 0))).all()
    # index = sum of dimension weights / 100 x (within-dimension weighted indicator scores)
    row = t.iloc[0]
    index = sum(d.weight / 100 * sum(i.weight * row[i.id] for i in fw.indicators if i.dimension == d.id)
                for d in fw.dimensions)
    assert row["index"] == pytest.approx(index, rel=1e-12)
    assert ((t["index"] >= 90) == (t["grade"] == "A")).all()
    assert set(sim.params.columns) >= {"alpha", "beta", "phi", "gamma", "tier", "category"}


def test_likert_truth_is_the_closed_form_of_the_ordered_probit():
    sim = simulate_year(SimulationConfig(seed=4), 2023)
    ti = sim.truth_indicators
    likert = ti[ti["indicator_id"].isin(["D1.1", "D1.2", "D4.1"])]
    assert likert["raw_value"].between(0, 100).all() and likert["top2"].between(0, 1).all()
    # callback answers are less positive than window answers
    by = likert.pivot(index="department_id", columns="indicator_id", values="top2")
    assert (by["D1.2"] < by["D1.1"]).mean() > 0.8


# ---------------------------------------------------------------- structure across years


def test_rename_merge_new_and_dropped_departments(runs):
    years = runs[SEEDS[0]]
    ids = {y: set(s.truth["department_id"]) for y, s in years.items()}
    assert {"D92", "B91", "B92"} <= ids[2023] and not {"D02", "B01", "A07"} & ids[2023]
    for y in (2024, 2025):
        assert {"D02", "B01", "A07"} <= ids[y] and not {"D92", "B91", "B92"} & ids[y]
    assert "D08" in ids[2023] and "D08" in ids[2024] and "D08" not in ids[2025]
    assert not {"E01", "E02", "E03"} & ids[2023]
    assert len(ids[2023]) == 32
    for y in (2023, 2024):
        t = years[y].tables
        assert (t["survey"]["department_id"] == "D08").sum() == 40
        assert (t["callback_interviews"]["department_id"] == "D08").sum() < 30
    for name, df in years[2025].tables.items():
        assert not (df["department_id"] == "D08").any(), name
    p = build_register(SimulationConfig(seed=SEEDS[0])).params
    vol = p.loc[["B91", "B92"], "volume"]
    assert p.loc["B01", "alpha"] == pytest.approx((p.loc[["B91", "B92"], "alpha"] * vol).sum() / vol.sum())
    assert p.loc["D02", "alpha"] == pytest.approx(p.loc["D92", "alpha"])


def test_true_changes_combine_predecessors_by_volume(runs):
    years = runs[SEEDS[1]]
    ch = true_changes(years, load_framework()).set_index(["year", "department_id"])
    before = years[2023].truth.set_index("department_id")["index"]
    vol = years[2023].params.set_index("department_id")["volume"]
    b01 = ch.loc[(2024, "B01")]
    assert b01["predecessors"] == "B91;B92"
    assert b01["index_previous"] == pytest.approx((before[["B91", "B92"]] * vol[["B91", "B92"]]).sum()
                                                  / vol[["B91", "B92"]].sum())
    assert ch.loc[(2024, "D02"), "index_previous"] == pytest.approx(before["D92"])
    assert (2024, "A07") not in ch.index and (2025, "A07") in ch.index
    assert (2025, "D08") not in ch.index
    assert np.allclose(ch["change"], ch["index"] - ch["index_previous"])


def test_utilities_and_province_scale():
    with_e = simulate_year(SimulationConfig(include_utilities=True), 2023)
    assert {"E01", "E02", "E03"} <= set(with_e.truth["department_id"])
    cfg = SimulationConfig(n_departments=60, scale=0.1)
    sim = simulate_year(cfg, 2023)
    assert len(sim.truth) == 60 and sim.truth["department_id"].is_unique
    assert sim.truth["department"].is_unique
    base = simulate_year(replace(cfg, n_departments=None), 2023)
    shared = base.params.set_index("department_id")
    assert np.allclose(sim.params.set_index("department_id").loc[shared.index, "alpha"], shared["alpha"])
    with pytest.raises(MethodologyError):
        build_register(SimulationConfig(n_departments=10))


# ---------------------------------------------------------------- canonical tables


def test_canonical_tables_types_phones_and_weights(runs):
    sim = runs[SEEDS[2]][2024]
    t = sim.tables
    s = t["survey"]
    assert s["phone"].str.fullmatch(r"1700\d{7}").all() and s["phone"].is_unique
    assert pd.api.types.is_datetime64_any_dtype(s["interview_date"])
    assert (s["interview_date"].dt.year == 2024).all()
    assert set(s["q_overall"].dropna().unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    na = s[list(SURVEY_ITEMS)].isna().mean()
    assert na.between(0.02, 0.10).all()
    assert set(s["mode"]) == {"hall", "sms", "panel"} and set(s["respondent_type"]) == {"citizen", "enterprise"}
    # weights: enterprises oversampled in the sample, population share restored by the weights
    vol = sim.params.set_index("department_id")["volume"]
    ent = sim.params.set_index("department_id")["enterprise_share"]
    sums = s.groupby("department_id")["weight"].sum()
    assert np.allclose(sums, vol[sums.index], rtol=1e-4)
    weighted = (s["weight"] * (s["respondent_type"] == "enterprise")).groupby(s["department_id"]).sum() / sums
    assert np.allclose(weighted, ent[sums.index], atol=1e-4)
    raw = (s["respondent_type"] == "enterprise").groupby(s["department_id"]).mean()
    assert (raw > ent[raw.index]).mean() > 0.8
    assert s.groupby("department_id")["cluster"].nunique().between(2, 10).all()
    honest = sim.params.loc[sim.params["phi"] == 0, "department_id"]
    cases = t["callback_attempts"].drop_duplicates("case_id")
    assert cases.loc[cases["department_id"].isin(honest), "phone"].is_unique
    v = t["visits"]
    per = v.groupby("department_id")["visit_id"].nunique()
    assert per.between(2, 4).all() and v.duplicated(["visit_id"]).any()
    items = v[[f"c{i:02d}" for i in range(1, 26)]].to_numpy()
    assert set(np.unique(items[~np.isnan(items)])) == {0.0, 0.5, 1.0} and 0.02 < np.isnan(items).mean() < 0.12
    r = t["ratings"]
    bad = r["level"] <= 2
    assert r.loc[bad, "deadline_days"].between(1, 15).all() and r.loc[~bad, "deadline_days"].isna().all()
    assert r.loc[~bad, "rectified_at"].isna().all() and r.loc[bad, "rectified_at"].isna().any()
    assert (r.loc[bad & r["rectified_at"].notna(), "rectified_at"] >= r.loc[bad & r["rectified_at"].notna(),
                                                                             "rated_at"]).all()


# ---------------------------------------------------------------- the demo project files


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo_project(tmp_path_factory.mktemp("demo"), config=SMALL)


def test_demo_files_are_byte_identical_for_the_same_seed(demo, tmp_path):
    again = write_demo_project(tmp_path / "again", config=SMALL)
    files = sorted(p.relative_to(demo.parent) for p in demo.parent.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again.parent) for p in again.parent.rglob("*") if p.is_file())
    for rel in files:
        assert (demo.parent / rel).read_bytes() == (again.parent / rel).read_bytes(), rel


def test_demo_files_have_the_evaluators_encodings_and_layouts(demo):
    root = demo.parent
    data = root / "data" / "2023"
    survey = (data / "survey_2023.csv").read_bytes()
    assert survey.startswith(b"\xef\xbb\xbf") and "非常满意".encode() in survey
    attempts = (data / "callback_attempts_2023.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        attempts.decode("utf-8")
    assert "成功访问" in attempts.decode("gb18030") and not attempts.startswith(b"\xef\xbb\xbf")
    guides = (data / "guides_2023.txt").read_bytes()
    assert guides.startswith(b"\xff\xfe") and "\t" in guides.decode("utf-16")
    ws = load_workbook(data / "visits_2023.xlsx").active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:F1", "G1:AE1"} <= merged
    assert [ws.cell(1, c).value for c in (1, 7, 32)] == ["基本信息", "检查项目", "情景测试"]
    assert ws.cell(2, 7).value == "c01 窗口标识清晰"
    assert {ws.cell(r, 10).value for r in range(3, ws.max_row + 1)} <= {"达标", "部分达标", "不达标", "不适用"}
    assert load_workbook(data / "admin_2023.xlsx").sheetnames == ["说明", "月度数据", "事项清单"]
    ratings = (data / "ratings_2023.csv").read_text(encoding="utf-8")
    assert "年" in ratings and "2023/" in ratings
    for name in ("truth_2023.csv", "indicators_2023.csv", "injected_2023.csv", "changes.csv"):
        assert (root / "truth" / name).read_bytes().startswith(b"\xef\xbb\xbf")
    project = tomllib.loads(demo.read_text(encoding="utf-8"))
    assert project["project"]["years"] == [2023, 2024] and project["project"]["framework"] == "framework.toml"
    assert {i["table"] for i in project["inputs"]} == {"survey", "callback_attempts", "callback_interviews",
                                                       "visits", "guides", "admin_monthly", "admin_matters",
                                                       "ratings"}


def test_demo_files_load_back_to_the_canonical_tables(demo):
    from surveys.ingest import load_year
    from surveys.project import load_project

    project = load_project(demo)
    fw = project.load_framework()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_year(project, fw, 2024)
    sim = simulate_year(SMALL, 2024)
    keys = {"survey": ["response_id"], "callback_attempts": ["case_id", "attempt_no"],
            "callback_interviews": ["case_id"], "visits": ["visit_id", "rater"], "guides": ["guide_id"],
            "admin_monthly": ["department_id", "month"], "admin_matters": ["matter_id"], "ratings": ["rating_id"]}
    for name, canon in sim.tables.items():
        got = loaded.tables[name].sort_values(keys[name]).reset_index(drop=True)
        want = canon.sort_values(keys[name]).reset_index(drop=True)
        cols = [c for c in want.columns if c not in ("phone", "comment")]
        assert len(got) == len(want), name
        for c in cols:
            if pd.api.types.is_numeric_dtype(want[c]):
                assert np.allclose(got[c].astype(float), want[c], equal_nan=True, rtol=0, atol=1e-9), (name, c)
            elif pd.api.types.is_datetime64_any_dtype(want[c]):
                same = (pd.to_datetime(got[c]) == want[c]) | (got[c].isna() & want[c].isna())
                assert same.all(), (name, c)
            else:
                assert (got[c].astype(str).to_numpy() == want[c].astype(str).to_numpy()).all(), (name, c)
    injected = pd.read_csv(demo.parent / "truth" / "injected_2024.csv", encoding="utf-8-sig")
    planted = injected[injected["action"] == "quarantine"].set_index("issue")["n_rows"]
    found = loaded.ledger.frame().groupby("reason_code").size()
    assert found.reindex(planted.index).tolist() == planted.tolist()
    assert set(found.index) == set(planted.index)


def test_province_scale_project_carries_its_cloned_register(tmp_path):
    cfg = SimulationConfig(years=(2023,), n_departments=40, scale=0.05)
    path = write_demo_project(tmp_path, config=cfg)
    fw = load_framework(path.parent / "framework.toml")
    assert len(fw.departments_in(2023)) == 40
    truth = pd.read_csv(path.parent / "truth" / "truth_2023.csv", encoding="utf-8-sig")
    assert set(truth["department_id"]) == {d.id for d in fw.departments_in(2023)}
