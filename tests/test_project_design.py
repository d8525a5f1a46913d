"""Designs and calibration declared in the project file reach the estimates.

- ``[inputs.design]`` with a cluster and an fpc per stage: the columns (not canonical) are kept through
  ingest and the published standard errors are those of the multistage design
  (:func:`evaluation.design.design_mean`, itself checked against R in
  ``test_design_multistage_calibration.py``);
- ``[inputs.calibrate]``: parsing and its errors, margins from a file (names or ids) and from the
  administrative cases by month; the calibrated estimates and SEs equal post-stratification done by hand.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from evaluation.calibration import poststratify
from evaluation.design import Design, design_mean
from evaluation.indicators import estimate_indicators
from minping.cli import main
from surveys.errors import DataValidationError, FrameworkError, MethodologyError
from surveys.project import CalibrationSpec, load_project
from surveys.schema import ChannelData
from tests.conftest import REFERENCE


def _case():
    spec = importlib.util.spec_from_file_location("published_case", REFERENCE / "published_case.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project(folder, design: str, calibrate: str = "") -> str:
    text = _case().project_toml().split("[inputs.design]")[0]
    return text + "[inputs.design]\n" + design + ("[inputs.calibrate]\n" + calibrate if calibrate else "")


def test_multistage_design_through_the_command_line(tmp_path):
    case = _case()
    case.write_case(tmp_path)
    survey = pd.read_csv(tmp_path / "survey.csv")
    # two stages: intercept days out of 30 in the period, then the morning or afternoon shift of a day out of
    # 3 shifts (a late shift was never covered)
    survey["shift"] = np.where(survey.groupby("cluster").cumcount() % 2 == 0, "am", "pm")
    survey["days_in_period"] = 30
    survey["shifts_a_day"] = 3
    survey.to_csv(tmp_path / "survey.csv", index=False)
    (tmp_path / "project.toml").write_text(_project(tmp_path, 'weights = "weight"\ncluster = ["cluster", "shift"]\n'
                                                    'fpc = ["days_in_period", "shifts_a_day"]\n'), encoding="utf-8")
    project = load_project(tmp_path / "project.toml")
    assert project.inputs[0].design["cluster"] == ("cluster", "shift")
    assert project.inputs[0].design_columns() == ("weight", "cluster", "shift", "days_in_period", "shifts_a_day")
    assert main(["run", str(tmp_path / "project.toml"), "--no-reports", "--out", str(tmp_path / "out")]) == 0
    ind = pd.read_csv(tmp_path / "out" / "2024" / "results" / "indicators.csv", encoding="utf-8-sig")
    got = ind[ind["indicator_id"] == "D2.1"].set_index("department_id")
    survey["s"] = np.where(survey["q_ease"].between(1, 5), (survey["q_ease"] - 1) * 25.0, np.nan)
    design = Design(weights="weight", strata="department_id", cluster=("cluster", "shift"),
                    fpc=("days_in_period", "shifts_a_day"), lonely_psu="adjust")
    want = design_mean(survey, "s", design, by="department_id").set_index("department_id")
    np.testing.assert_allclose(got["raw_se"], want["se"], rtol=1e-9)
    one_stage = design_mean(survey, "s", Design(weights="weight", strata="department_id", cluster="cluster"),
                            by="department_id").set_index("department_id")
    assert not np.allclose(got["raw_se"], one_stage["se"])


def test_design_and_calibrate_keys_are_checked(tmp_path):
    _case().write_case(tmp_path)

    def problems(design: str, calibrate: str = "") -> str:
        (tmp_path / "project.toml").write_text(_project(tmp_path, design, calibrate), encoding="utf-8")
        with pytest.raises(FrameworkError) as err:
            load_project(tmp_path / "project.toml")
        return str(err.value)

    assert "one fpc column per stage" in problems('cluster = ["cluster", "ssu"]\nfpc = "N1"\n')
    assert "did you mean 'weights'" in problems('weight = "weight"\n')
    assert "did you mean 'rake'" in problems('weights = "weight"\n', 'method = "raking"\nmargins = "margins.csv"\n')
    assert "either margins or admin" in problems('weights = "weight"\n', 'method = "rake"\n')
    assert "did you mean 'margins'" in problems('weights = "weight"\n', 'method = "rake"\nmargin = "margins.csv"\n')

    def spec(margins: str) -> CalibrationSpec:
        (tmp_path / "project.toml").write_text(
            _project(tmp_path, 'weights = "weight"\n', f'method = "rake"\nmargins = "{margins}"\n'), encoding="utf-8")
        return load_project(tmp_path / "project.toml").inputs[0].design["calibrate"]

    # like an input file, the margins are read when the year is loaded
    with pytest.raises(DataValidationError, match="calibration margins"):
        spec("nope.csv").margins_frame()
    (tmp_path / "bad.csv").write_text("department_id,variable,level,total\nX01,mode,hall,-3\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        spec("bad.csv").margins_frame()
    assert "negative" in str(err.value)
    good = spec("margins.csv")
    assert isinstance(good, CalibrationSpec) and good.method == "rake" and len(good.sha256) == 64
    assert list(good.margins_frame().columns) == ["department_id", "variable", "level", "total"]


def _framework():
    import tomllib

    from surveys.framework import parse_framework

    return parse_framework(tomllib.loads(_case().FRAMEWORK))


def _admin_case():
    rng = np.random.default_rng(5)
    rows = []
    for dept, n in (("X01", 40), ("X02", 30)):
        for k in range(n):
            month = 3 if k % 3 else 4
            row = {"department_id": dept, "interview_date": pd.Timestamp(2024, month, 1 + k % 20),
                   "weight": 1.0 + (k % 4)}
            row.update({item: float(rng.integers(1, 6)) for item in _case().ITEMS})
            rows.append(row)
    survey = pd.DataFrame(rows)
    admin = pd.DataFrame({"department_id": ["X01", "X01", "X02", "X02"], "month": ["2024-03", "2024-04"] * 2,
                          "cases_received": [600.0, 900.0, 300.0, 200.0]})
    return survey, admin


def test_calibration_to_administrative_cases_by_month():
    fw = _framework()
    survey, admin = _admin_case()
    spec = CalibrationSpec("poststratify", admin="cases_by_month")
    data = ChannelData(2024, {"survey": survey, "admin_monthly": admin},
                       {"survey": {"weights": "weight", "calibrate": spec}})
    est = estimate_indicators(data, fw)
    cal = est.calibrations["survey"]
    month = survey["interview_date"].dt.strftime("%Y-%m")
    sums = pd.Series(cal.weights).groupby([survey["department_id"], month]).sum()
    assert sums.to_dict() == pytest.approx({("X01", "2024-03"): 600.0, ("X01", "2024-04"): 900.0,
                                            ("X02", "2024-03"): 300.0, ("X02", "2024-04"): 200.0})
    # the same post-stratification by hand: estimate and calibration-aware standard error
    frame = survey.assign(_m=month.to_numpy(), s=(survey["q_overall"] - 1) * 25.0)
    design = Design(weights="weight", strata="department_id", lonely_psu="adjust")
    counts = {(d, m): float(v) for d, m, v in zip(admin["department_id"], admin["month"], admin["cases_received"])}
    by_hand = poststratify(frame, design, "_m", counts, by="department_id")
    want = design_mean(frame, "s", design, by="department_id", calibration=by_hand).set_index("department_id")
    got = est.frame[est.frame["indicator_id"] == "D1.1"].set_index("department_id")
    np.testing.assert_allclose(got["raw_value"], want["estimate"], rtol=1e-12)
    np.testing.assert_allclose(got["raw_se"], want["se"], rtol=1e-10)
    uncal = design_mean(frame, "s", design, by="department_id").set_index("department_id")
    assert not np.allclose(got["raw_se"], uncal["se"])


def test_calibration_needs_margins_for_every_department():
    fw = _framework()
    survey, admin = _admin_case()
    margins = pd.DataFrame({"department_id": ["X01", "X01"], "variable": "month", "level": ["2024-03", "2024-04"],
                            "total": [600.0, 900.0]})
    data = ChannelData(2024, {"survey": survey}, {"survey": {"calibrate": CalibrationSpec("rake", margins=margins)}})
    with pytest.raises(MethodologyError, match="departments without margins"):
        estimate_indicators(data, fw)
    # a continuous total needs linear calibration
    margins = pd.DataFrame({"department_id": ["X01", "X02"], "variable": "weight", "level": "", "total": [1.0, 2.0]})
    data = ChannelData(2024, {"survey": survey}, {"survey": {"calibrate": CalibrationSpec("rake", margins=margins)}})
    with pytest.raises(MethodologyError, match="needs linear calibration"):
        estimate_indicators(data, fw)


def test_margins_may_name_departments_as_the_register_does():
    fw = _framework()
    survey, admin = _admin_case()
    a, b = fw.departments[0], fw.departments[1]
    margins = pd.DataFrame({"department_id": [a.name, a.name, b.id, b.id], "variable": "month",
                            "level": ["2024-03", "2024-04"] * 2, "total": [600.0, 900.0, 300.0, 200.0]})
    data = ChannelData(2024, {"survey": survey},
                       {"survey": {"calibrate": CalibrationSpec("poststratify", margins=margins)}})
    cal = estimate_indicators(data, fw).calibrations["survey"]
    assert cal.weights[(survey["department_id"] == a.id).to_numpy()].sum() == pytest.approx(1500.0)
