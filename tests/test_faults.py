"""Faults injected into runs: the published output is the previous run's or the new run's, never a mix.

Runs the second example (small and quick) through the command line, then
breaks the next run at several stages (an interrupt during estimation or
rendering, a full disk, a second concurrent run) and checks what a reader of
the output folder and the history sees.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3

import pytest

import minping.pipeline as pipeline
from minping.cli import main
from minping.outputs import LOCK_FILE, ProjectLock, YearFolder
from tests.conftest import SECOND_EXAMPLE


def snapshot(folder):
    """Every file under ``folder`` with its hash (the published state)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def history_rows(project):
    with sqlite3.connect(project / "history.sqlite") as con:
        return con.execute("SELECT year, manifest_sha256 FROM runs ORDER BY year").fetchall()


@pytest.fixture()
def project(tmp_path):
    dest = tmp_path / "county"
    shutil.copytree(SECOND_EXAMPLE, dest, ignore=shutil.ignore_patterns("make_data.py", "__pycache__"))
    assert main(["run", str(dest), "--year", "2024", "--no-reports"]) == 0
    return dest


def test_interrupted_during_estimation_leaves_the_published_year_whole(project, monkeypatch, capsys):
    published = project / "output" / "2024"
    before, history = snapshot(published), history_rows(project)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "evaluate", interrupted)
    assert main(["run", str(project), "--year", "2024", "--no-reports"]) == 1
    assert snapshot(published) == before and history_rows(project) == history
    assert (project / "output" / ".2024.incomplete").is_dir()  # clearly named, not mistaken for a result
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["run", str(project), "--year", "2024", "--no-reports"]) == 0
    assert "removed the incomplete output of an interrupted run" in capsys.readouterr().err
    assert not (project / "output" / ".2024.incomplete").exists()


def test_interrupted_while_rendering_leaves_no_mix_of_documents(project, monkeypatch):
    assert main(["run", str(project), "--year", "2024"]) == 0
    published = project / "output" / "2024"
    before = snapshot(published)
    real = pipeline.render_reports

    def half_then_interrupt(result, out, **kw):
        real(result, out, departments=list(result.departments["department_id"])[:2], **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "render_reports", half_then_interrupt)
    assert main(["run", str(project), "--year", "2024"]) == 1
    assert snapshot(published) == before


def test_a_full_disk_exits_1_naming_the_path_and_publishes_nothing(project, monkeypatch, capsys):
    published = project / "output" / "2024"
    before = snapshot(published)
    import minping.outputs as outputs

    def full(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "write_csv", full)
    assert main(["run", str(project), "--year", "2024", "--no-reports"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and ".2024.incomplete" in err and "--out" in err
    assert snapshot(published) == before


def test_a_second_concurrent_run_is_refused(project, capsys):
    with ProjectLock(project):
        assert main(["run", str(project), "--year", "2024", "--no-reports"]) == 1
    err = capsys.readouterr().err
    assert f"process {os.getpid()}" in err and "Another minping run" in err
    assert not (project / LOCK_FILE).exists()  # released


def test_a_stale_lock_says_how_to_clear_it(project, capsys):
    import socket

    (project / LOCK_FILE).write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": socket.gethostname(),
                                                 "command": "run", "started": "2026-01-01 00:00:00"}))
    assert main(["run", str(project), "--year", "2024", "--no-reports"]) == 1
    err = capsys.readouterr().err
    assert "no longer runs" in err and f"delete {project / LOCK_FILE}" in err


def test_validate_never_touches_the_published_year(project):
    published = project / "output" / "2024"
    before = snapshot(published)
    assert main(["validate", str(project), "--year", "2024"]) == 0
    assert snapshot(published) == before
    assert (project / "output" / "validate" / "2024" / "quarantine.csv").is_file()


def test_a_department_that_left_keeps_no_old_scorecard(project):
    assert main(["run", str(project), "--year", "2024"]) == 0
    cards = project / "output" / "2024" / "report" / "zh" / "departments"
    assert (cards / "X-MZ.pdf").is_file()
    fw = project / "framework.toml"
    text = fw.read_text(encoding="utf-8")
    fw.write_text(text.replace('id = "X-MZ"\nname = "县民政局"', 'id = "X-MZ"\nname = "县民政局"\nlast_year = 2023'),
                  encoding="utf-8")
    survey = project / "data" / "2024" / "问卷_2024.csv"
    rows = survey.read_text(encoding="gb18030").splitlines()
    survey.write_text("\n".join(r for r in rows if "县民政局" not in r) + "\n", encoding="gb18030")
    visits = project / "data" / "2024" / "现场检查_2024.csv"
    rows = visits.read_text(encoding="utf-8-sig").splitlines()
    visits.write_text("\n".join(r for r in rows if "县民政局" not in r) + "\n", encoding="utf-8-sig")
    assert main(["run", str(project), "--year", "2024"]) == 0
    assert not (cards / "X-MZ.pdf").exists() and (cards / "X-GA.pdf").is_file()


def test_bad_run_settings_exit_1_and_record_nothing(project, capsys):
    history = history_rows(project)
    assert main(["run", str(project), "--year", "2024", "--variance", "bootstrap", "--replicates", "1",
                 "--no-reports"]) == 1
    assert "replicates" in capsys.readouterr().err and history_rows(project) == history
    out_file = project / "a_file"
    out_file.write_text("x")
    assert main(["run", str(project), "--year", "2024", "--out", str(out_file)]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_killed_between_the_two_renames_the_next_run_restores_the_published_year(tmp_path):
    out = tmp_path / "out"
    (out / "2024").mkdir(parents=True)
    (out / "2024" / "manifest.json").write_text("old")
    folder = YearFolder(out, 2024, log=lambda m: None)
    stage = folder.begin()
    (stage / "manifest.json").write_text("new")
    os.rename(out / "2024", out / ".2024.previous")  # the first rename of commit(), then the process dies
    messages = []
    YearFolder(out, 2024, log=messages.append).begin()
    assert (out / "2024" / "manifest.json").read_text() == "old"
    assert not (out / ".2024.incomplete" / "manifest.json").exists()
    assert any("restored" in m for m in messages)
