"""The demo end to end: the output contract, the books, the known truth, privacy."""

from __future__ import annotations

import json
import re

import pandas as pd
from scipy import stats

from minping.cli import main

CONTRACT = ["year", "department_id", "department", "department_en", "category", "index", "se", "ci_low", "ci_high",
            "rank", "rank_low", "rank_high", "grade", "n_survey", "n_callback", "n_visit", "flags"]


def read(path):
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"department_id": str})


def test_output_contract(demo_runs):
    assert [r.year for r in demo_runs] == [2023, 2024, 2025]
    for run in demo_runs:
        folder = run.out_dir
        raw = (folder / "results" / "departments.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "CSV must carry a BOM for Excel"
        deps = read(folder / "results" / "departments.csv")
        assert set(CONTRACT) <= set(deps.columns)
        evaluated = deps.dropna(subset=["index"])
        assert len(evaluated) >= 30
        assert (evaluated["ci_low"] < evaluated["index"]).all() and (evaluated["index"] < evaluated["ci_high"]).all()
        assert (evaluated["se"] > 0).all()
        assert (evaluated["rank_low"] <= evaluated["rank"]).all() and (evaluated["rank"] <= evaluated["rank_high"]).all()
        dims = read(folder / "results" / "dimensions.csv")
        assert set(dims["dimension_id"]) == {"D1", "D2", "D3", "D4", "D5", "D6"}
        assert (dims.loc[dims["estimate"].notna(), "se"] >= 0).all()
        ind = read(folder / "results" / "indicators.csv")
        assert {"raw_value", "score", "se", "ci_low", "ci_high", "n"} <= set(ind.columns)
        sampled = ind[~ind["census"]]
        assert (sampled["se"] > 0).mean() > 0.95
        assert (folder / "quarantine.csv").exists() and (folder / "results" / "quality.csv").exists()
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["framework"]["id"] == "fgf-default" and len(manifest["project_sha256"]) == 64
        assert all(len(i["sha256"]) == 64 for i in manifest["inputs"]) and len(manifest["inputs"]) >= 7


def test_rows_reconcile_with_what_was_injected(demo_runs, demo_project):
    for run in demo_runs:
        counts = read(run.out_dir / "results" / "input_counts.csv")
        assert (counts["rows_in"] == counts["rows_used"] + counts["rows_quarantined"]).all()
        ledger = read(run.out_dir / "quarantine.csv")
        assert len(ledger.drop_duplicates(["file", "table", "source_row"])) == counts["rows_quarantined"].sum()
        injected = read(demo_project.parent / "truth" / f"injected_{run.year}.csv")
        expected = injected[injected["action"] == "quarantine"].groupby("issue")["n_rows"].sum()
        found = ledger.groupby("reason_code").size()
        for issue, n in expected.items():
            assert found.get(issue, 0) == n, f"{run.year} {issue}: expected {n}, ledger has {found.get(issue, 0)}"
        # answers planted outside their scale: the cell cleared, the respondent kept
        cells = read(run.out_dir / "cleared_cells.csv")
        assert len(cells) == counts["cells_cleared"].sum()
        expected = injected[injected["action"] == "clear_cell"].groupby("issue")["n_rows"].sum()
        found = cells.groupby("reason_code").size()
        for issue, n in expected.items():
            assert found.get(issue, 0) == n, f"{run.year} {issue}: expected {n} cells, found {found.get(issue, 0)}"


def test_estimates_track_the_known_truth(demo_runs, demo_project):
    for run in demo_runs:
        truth = read(demo_project.parent / "truth" / f"truth_{run.year}.csv")
        deps = read(run.out_dir / "results" / "departments.csv").merge(
            truth[["department_id", "index", "tier", "phi", "gamma"]], on="department_id", suffixes=("", "_true"))
        hm = deps[deps["tier"].isin(["H", "M"])]
        rho = stats.spearmanr(hm["index_raw"], hm["index_true"]).statistic
        assert rho >= 0.8, f"{run.year}: Spearman {rho:.3f}"
        padded = deps[deps["phi"] >= 0.1]
        assert padded["flags"].str.contains("G1_deduction").all()
        gamed = deps[deps["gamma"] >= 0.3]
        assert gamed["flags"].str.contains("G2_inflation").all()


def test_small_and_dropped_departments(demo_runs):
    by_year = {r.year: read(r.out_dir / "results" / "departments.csv").set_index("department_id") for r in demo_runs}
    assert "G4_small_sample" in by_year[2023].loc["D08", "flags"]
    assert "D08" not in by_year[2025].index or pd.isna(by_year[2025].loc["D08", "index"])
    assert "D92" in by_year[2023].index and "D02" in by_year[2024].index and "D92" not in by_year[2024].index
    assert "A07" in by_year[2024].index and "A07" not in by_year[2023].index


PHONE = re.compile(rb"1[3-9]\d{9}")


def test_no_phone_number_leaves_the_door(demo_runs, demo_project):
    inputs = set()
    for path in (demo_project.parent / "data").rglob("*.csv"):
        text = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                inputs |= set(re.findall(r"1[3-9]\d{9}", text.decode(enc)))
                break
            except UnicodeDecodeError:
                continue
    assert len(inputs) > 1000
    for run in demo_runs:
        for path in run.out_dir.rglob("*"):
            if path.is_file() and path.suffix in (".csv", ".json"):
                found = set(re.findall(r"1[3-9]\d{9}", path.read_text(encoding="utf-8-sig")))
                assert not (found & inputs), f"{path.name} leaks {sorted(found & inputs)[:3]}"


def test_cli_validate_and_user_errors(demo_project, capsys, tmp_path):
    assert main(["validate", str(demo_project), "--year", "2024", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rows per channel table" in out and "quarantine.csv" in out
    assert main(["run", str(tmp_path / "nowhere.toml")]) == 1
    err = capsys.readouterr().err
    assert "Cannot read the project file" in err and "Traceback" not in err
