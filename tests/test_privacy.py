"""Privacy end to end: one demo year with documents in both languages, every output file scanned.

The phone numbers are collected from the demo's input files through
:func:`surveys.readers.read_table`, so that GBK, UTF-16 and workbook cells are
decoded as the ingest layer decodes them.  Every output file is scanned: CSV
and JSON as text, XLSX part by part (every XML member of the archive), PDF
through its extracted text (all pages), anything else as raw bytes.  No input
phone number, no 18-digit ID number and not the project's salt may appear;
no input text may become a worksheet formula.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from surveys.privacy import scrub_text
from surveys.project import load_project
from surveys.readers import read_table

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Letters and dots around the digits: a run inside a hex digest or a decimal fraction is no ID number.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d{17}[0-9Xx](?![0-9A-Za-z])")
FORMULA_START = re.compile(r"^\s*[=+\-@]")
CELL_FORMULA = re.compile(r"<(?:\w+:)?f\b[^>]*>(.*?)</(?:\w+:)?f>", re.S)
TEXT_SUFFIXES = {".csv", ".json", ".txt", ".md", ".html", ".svg", ".log", ".toml"}
ZIP_SUFFIXES = {".xlsx", ".xlsm", ".docx", ".zip"}


@pytest.fixture(scope="module")
def inputs(demo_project) -> dict:
    """Phone numbers, formula-like texts and the salt of the demo's inputs."""
    project = load_project(demo_project)
    phones: set[str] = set()
    formulas: set[str] = set()
    for spec in project.inputs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = read_table(spec.path, sheet=spec.sheet, header_rows=spec.header_rows, delimiter=spec.delimiter,
                             encoding=spec.encoding)
        cells = pd.concat([raw.frame[c] for c in raw.frame.columns], ignore_index=True).dropna()
        cells = cells.str.normalize("NFKC")
        phones |= set(cells.str.findall(PHONE.pattern).explode().dropna())
        formulas |= set(cells[cells.str.contains(FORMULA_START.pattern)])
    salt = tomllib.loads(demo_project.read_text(encoding="utf-8"))["project"]["salt"]
    return {"phones": phones, "formulas": formulas, "salt": salt}


@pytest.fixture(scope="module")
def outputs(demo_project, tmp_path_factory) -> list[Path]:
    from minping.pipeline import run_project

    out = tmp_path_factory.mktemp("privacy")
    run_project(demo_project, years=[2024], out=out, render=True, langs=("zh", "en"), log=lambda m: None)
    return sorted(p for p in out.rglob("*") if p.is_file())


def texts(path: Path) -> Iterator[tuple[str, str]]:
    """(part, text) for every readable part of an output file."""
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(raw))
        for number, page in enumerate(reader.pages, start=1):
            yield f"page {number}", page.extract_text() or ""
    elif suffix in ZIP_SUFFIXES:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            for name in archive.namelist():
                yield name, archive.read(name).decode("utf-8", errors="replace")
    elif suffix in TEXT_SUFFIXES:
        yield "text", raw.decode("utf-8-sig", errors="replace")
    # every file, also as its bytes: a history database or anything unforeseen
    yield "bytes", raw.decode("latin-1")


def leaks(paths: list[Path], phones: set[str], salt: str) -> dict[str, list[str]]:
    """File (and part) -> what leaked there: input phones, ID numbers, the salt."""
    found: dict[str, list[str]] = {}
    for path in paths:
        for part, text in texts(path):
            hits = sorted(set(PHONE.findall(text)) & phones)[:3]
            hits += [f"ID {m}" for m in sorted(set(ID_NUMBER.findall(text)))[:3]]
            if salt in text:
                hits.append("the salt")
            if hits:
                found[f"{path.name} ({part})"] = hits
    return found


def test_the_run_wrote_every_kind_of_output(outputs, inputs):
    suffixes = {p.suffix for p in outputs}
    assert {".csv", ".json", ".xlsx", ".pdf"} <= suffixes
    assert {p.parent.name for p in outputs if p.suffix == ".pdf"} >= {"zh", "en", "departments"}
    assert len(inputs["phones"]) > 1000 and len(inputs["salt"]) >= 8


def test_no_phone_number_id_number_or_salt_in_any_output(outputs, inputs):
    found = leaks(outputs, inputs["phones"], inputs["salt"])
    assert not found, "\n".join(f"{where}: {hits}" for where, hits in sorted(found.items())[:20])


def test_the_scan_finds_a_planted_leak(tmp_path, inputs):
    from openpyxl import Workbook
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    phone = sorted(inputs["phones"])[0]
    book = Workbook()
    book.active["B3"] = f"联系 {phone}"
    book.save(tmp_path / "leak.xlsx")
    pdf = Canvas(str(tmp_path / "leak.pdf"), pagesize=A4)
    pdf.drawString(72, 720, "page one")
    pdf.showPage()
    pdf.drawString(72, 720, f"call {phone}")
    pdf.save()
    (tmp_path / "leak.csv").write_text("a,b\nx,110101199003074512\n", encoding="utf-8-sig")
    (tmp_path / "leak.json").write_text(f'{{"s": "{inputs["salt"]}"}}', encoding="utf-8")
    (tmp_path / "clean.csv").write_text("a\n0.110101199003074512\n", encoding="utf-8")
    found = leaks(sorted(tmp_path.iterdir()), inputs["phones"], inputs["salt"])
    assert found["leak.xlsx (xl/worksheets/sheet1.xml)"] == [phone]
    assert found["leak.pdf (page 2)"] == [phone] and "leak.pdf (page 1)" not in found
    assert found["leak.csv (text)"] == ["ID 110101199003074512"]
    assert found["leak.json (text)"] == ["the salt"]
    assert not any(k.startswith("clean.csv") for k in found)


def test_input_text_never_becomes_a_formula(outputs, inputs):
    assert any(f.startswith("=") for f in inputs["formulas"])  # the demo plants a comment starting with "="
    bodies = {f.strip().lstrip("=+-@").strip() for f in inputs["formulas"]}
    offenders = []
    for path in outputs:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if not name.startswith("xl/worksheets/"):
                        continue  # charts hold series references, not cell formulas
                    for formula in CELL_FORMULA.findall(archive.read(name).decode("utf-8")):
                        if any(body and body in formula for body in bodies) or re.search(
                                r"HYPERLINK|WEBSERVICE|IMPORT|DDE|cmd\|", formula, re.I):
                            offenders.append(f"{path.name} {name}: {formula[:60]}")
        elif path.suffix == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as handle:
                for row in csv.reader(handle):
                    offenders += [f"{path.name}: {v[:60]}" for v in row if v.startswith(("=", "@"))]
    assert not offenders, "\n".join(offenders[:20])


def test_phone_numbers_typed_into_free_text_are_masked_in_every_common_form():
    typed = pd.Series(["+8613912345678", "86-139-1234-5678", "139 1234 5678", "１３９１２３４５６７８"])
    assert not scrub_text(typed).str.contains("1234").any()


# ---------------------------------------------------------------- the ledger and messages

#: Numbers planted where no masking was designed to look: the department column, answer columns and ids, in
#: the forms people type them (spaces, full-width digits, an ID card number ending in X).
PLANTED = {
    "phone_spaced": "139 1234 5678",
    "phone_fullwidth": "１３８１２３４５６７８",
    "phone_hyphen": "+86 137-1234-5678",
    "id_x": "11010119900307451X",
    "id_spaced": "110101 19900307 4512",
    "id_fullwidth_x": "１１０１０５１９４９１２３１００２Ｘ",
    "phone_in_id": "13612345678",
    "id_in_date": "32010219851015123x",
}


def _digits(value: str) -> str:
    import unicodedata

    return re.sub(r"[^0-9X]", "", unicodedata.normalize("NFKC", value).upper())


def planted_leaks(text: str) -> list[str]:
    """Planted numbers found in ``text`` (compared without spaces and hyphens, in NFKC, X upper-cased)."""
    import unicodedata

    flat = re.sub(r"(?<=[0-9])[\s\-]+(?=[0-9Xx])", "", unicodedata.normalize("NFKC", text)).upper()
    found = [name for name, value in PLANTED.items() if _digits(value) in flat]
    found += [f"phone {m}" for m in PHONE.findall(flat)]
    found += [f"ID {m}" for m in ID_NUMBER.findall(flat)]
    return found


@pytest.fixture()
def planted_project(tmp_path) -> Path:
    """A one-year project whose survey carries personal numbers in non-phone columns."""
    header = ["问卷编号", "部门", "调查日期", "Q1总体满意度", "Q2办事效率满意度", "手机号", "意见建议",
              PLANTED["phone_in_id"]]
    clean = [[f"S2024-{i:04d}", ("税务局", "公安局", "民政局")[i % 3], f"2024-03-{i % 27 + 1:02d}", "满意", "满意",
              f"170000{i:05d}", "", ""] for i in range(1, 21)]
    bad = [
        ["S2024-0101", PLANTED["phone_spaced"], "2024-03-05", "满意", "满意", "", "", ""],
        ["S2024-0102", PLANTED["phone_fullwidth"], "2024-03-05", "满意", "满意", "", "", ""],
        ["S2024-0103", "税务局", "2024-03-05", PLANTED["id_x"], "满意", "", "", ""],
        ["S2024-0104", "税务局", "2024-03-05", "满意", PLANTED["id_spaced"], "", "", ""],
        ["S2024-0105", "税务局", PLANTED["id_in_date"], "满意", "满意", "", "", ""],
        [PLANTED["phone_in_id"], "公安局", "2024-03-05", "满意", "满意", "", "", ""],
        [PLANTED["phone_in_id"], "公安局", "2024-03-06", "满意", "满意", "", "", ""],
        [PLANTED["id_fullwidth_x"], "民政局", "2024-03-05", "满意", "满意", "", "", ""],
        [PLANTED["id_fullwidth_x"], "民政局", "2024-03-06", "满意", "满意", "", "", ""],
        ["S2024-0106", PLANTED["phone_hyphen"], "2024-03-05", "满意", "满意", "", "", ""],
        ["S2024-0107", "民政局", "2024-03-05", "满意", "满意", "", f"我的身份证 {PLANTED['id_x']}", ""],
    ]
    data = tmp_path / "survey.csv"
    with open(data, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *clean, *bad])
    mapping = {"问卷编号": "response_id", "部门": "department_id", "调查日期": "interview_date",
               "Q1总体满意度": "q_overall", "Q2办事效率满意度": "q_speed", "手机号": "phone", "意见建议": "comment"}
    lines = ["[project]", 'name = "privacy"', 'framework = "default"', "years = [2024]", 'salt = "planted-salt"',
             "[[inputs]]", "year = 2024", 'table = "survey"', 'path = "survey.csv"', "[inputs.columns]"]
    lines += [f'"{k}" = "{v}"' for k, v in mapping.items()]
    (tmp_path / "project.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "project.toml"


def test_no_planted_number_in_the_ledger_or_warnings(planted_project, tmp_path):
    from minping.pipeline import validate_year
    from surveys.errors import MinpingWarning

    project = load_project(planted_project)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = validate_year(project, project.load_framework(), 2024, tmp_path / "out")
    ledger = run.input.ledger.frame()
    # every planted row is in the ledger, with the reason quoting its (masked) cell
    assert set(ledger["reason_code"]) >= {"unknown_department", "code_out_of_range", "bad_date", "duplicate_id"}
    assert len(ledger) >= 8
    assert ledger["reason"].str.contains(r"\*\*\*\*").any() and ledger["department"].str.contains(r"\*\*\*\*").any()
    found = {}
    for path in sorted((tmp_path / "out").rglob("*")):
        if path.is_file():
            for part, text in texts(path):
                if hits := planted_leaks(text):
                    found[f"{path.name} ({part})"] = hits
    for w in caught:
        if issubclass(w.category, MinpingWarning) and (hits := planted_leaks(str(w.message))):
            found[f"warning {str(w.message)[:40]}"] = hits
    assert any(issubclass(w.category, MinpingWarning) for w in caught)
    assert not found, found
    # the comment is masked in the table, as before
    assert not planted_leaks(" ".join(run.input.tables["survey"]["comment"].dropna()))


def test_error_messages_quote_cells_masked(tmp_path):
    from surveys.errors import DataValidationError, Problem

    rows = [["问卷编号", "部门", "调查日期"]] + [[f"S{i}", PLANTED["phone_spaced"] if i % 2 else
                                               PLANTED["id_fullwidth_x"], "2024-03-05"] for i in range(6)]
    data = tmp_path / "survey.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "x"\nframework = "default"\nyears = [2024]\nsalt = "s"\n'
        '[[inputs]]\nyear = 2024\ntable = "survey"\npath = "survey.csv"\n', encoding="utf-8")
    project = load_project(tmp_path / "project.toml")
    from surveys.ingest import load_year

    with pytest.raises(DataValidationError) as info:
        load_year(project, project.load_framework(), 2024)
    assert "department" in str(info.value) and not planted_leaks(str(info.value))
    problem = Problem("value " + PLANTED["phone_hyphen"], value=13912345678, column=PLANTED["id_x"],
                      department=PLANTED["phone_fullwidth"])
    assert not planted_leaks(str(problem)) and not planted_leaks(repr(problem))


def test_plausibility_details_flags_and_stops_are_masked(tmp_path):
    """Ids and values quoted by the plausibility rules: in the ledger, in the flag table, in a stopping error."""
    import dataclasses

    from surveys.errors import DataValidationError
    from surveys.ingest import load_year

    rows = {
        "callback_attempts": [["case_id", "department_id", "attempt_no", "outcome"],
                              [PLANTED["id_x"], "税务局", "1", "拒访"]],
        "callback_interviews": [["case_id", "department_id", "cb_overall"], [PLANTED["phone_spaced"], "税务局", "5"],
                                [PLANTED["id_x"], "税务局", "4"]],
        "survey": [["response_id", "department_id", "interview_date", "weight"]]
        + [[f"S{i}", "税务局", "2024-03-05", "212.5"] for i in range(5)]
        + [["S9", "税务局", "2024-03-05", _digits(PLANTED["phone_fullwidth"])]],
    }
    lines = ['[project]\nname = "p"\nframework = "default"\nyears = [2024]\nsalt = "s"']
    for name, table in rows.items():
        with open(tmp_path / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(table)
        lines.append(f'[[inputs]]\nyear = 2024\ntable = "{name}"\npath = "{name}.csv"')
    lines.append('[inputs.design]\nweights = "weight"')
    (tmp_path / "project.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = load_project(tmp_path / "project.toml")
    framework = project.load_framework()
    with pytest.raises(DataValidationError) as info:
        load_year(project, framework, 2024)
    # a phone number in the weight column is above any population: weight_invalid
    assert "weight_invalid" in str(info.value) and not planted_leaks(str(info.value))
    for mode in ("quarantine", "flag"):
        rules = dataclasses.replace(framework.plausibility, weight_invalid=mode, weight_outlier=mode,
                                    no_call_record=mode, no_final_disposition=mode)
        loaded = load_year(project, dataclasses.replace(framework, plausibility=rules), 2024)
        ledger, flags = loaded.ledger.frame(), loaded.ledger.flags_frame()
        assert len(ledger) + len(flags) >= 3 - (mode == "flag")
        text = ledger.to_csv() + flags.to_csv()
        assert "****" in text and not planted_leaks(text), mode
