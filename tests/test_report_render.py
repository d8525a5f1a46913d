"""render_reports end to end: file layout, byte-for-byte reproducibility, language purity.

Built from the demo's real evaluation (``demo_result``); rendering speed is
measured by ``benchmarks/documents.py``, not here.
"""

from __future__ import annotations

import dataclasses
import time
import zipfile

import pytest

from reports.render import render_reports
from surveys.rectification import header
from surveys.errors import DataValidationError, MinpingError
from tests.fixtures.report_checks import docx_text, has_cjk, pdf_text

SUBSET = ["A01", "C04", "D07"]


@pytest.fixture(scope="module")
def result(demo_result):
    return demo_result


def test_every_evaluated_department_gets_a_scorecard(result, tmp_path):
    files = render_reports(result, tmp_path)
    evaluated = result.departments.dropna(subset=["index"])
    assert len(evaluated) < len(result.departments)  # the demo's last year has a department not evaluated
    base = tmp_path / "report" / "zh"
    assert files[:4] == [base / "city_report.pdf", base / "city_report.docx", base / "city_report.xlsx",
                         base / "rectification.xlsx"]
    names = sorted(p.name for p in (base / "departments").iterdir())
    expected = sorted(f"{d}.{ext}" for d in evaluated.department_id for ext in ("pdf", "docx", "xlsx"))
    assert names == expected
    charts = sorted(p.name for p in (base / "charts").iterdir())
    for d in evaluated.department_id:  # every scorecard chart as PNG and SVG, for pasting
        assert {f"{d}_profile.png", f"{d}_profile.svg", f"{d}_quadrant.png", f"{d}_quadrant.svg"} <= set(charts)
    assert {"city_ranking.png", "city_ranking.svg", "city_grades.png", "city_funnel.svg"} <= set(charts)
    assert len(files) == 4 + 3 * len(evaluated) + len(charts)
    assert all(p.stat().st_size > 1000 for p in files)


def test_svg_charts_carry_no_font_and_no_text_elements(result, tmp_path):
    """SVG text is glyph outlines of the shipped font: the chart shows the same without the font installed."""
    files = render_reports(result, tmp_path, departments=SUBSET[:1])
    svgs = [p for p in files if p.suffix == ".svg"]
    assert svgs
    for path in svgs:
        text = path.read_text(encoding="utf-8")
        assert "<text" not in text and "@font-face" not in text and "font-family" not in text
        assert "<use " in text and "<path id=" in text
    png = next(p for p in files if p.suffix == ".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_input_gives_identical_bytes(result, tmp_path):
    first = render_reports(result, tmp_path / "a", departments=SUBSET)
    second = render_reports(result, tmp_path / "b", departments=SUBSET)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_no_clock_in_files(result, tmp_path):
    files = render_reports(result, tmp_path, departments=SUBSET[:1])
    for path in files:
        if path.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(path) as archive:
                assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
                core = archive.read("docProps/core.xml").decode()
            assert "2000-01-01T00:00:00Z" in core and str(time.gmtime().tm_year) not in core
        elif path.suffix == ".pdf":
            assert b"D:20000101000000" in path.read_bytes()
        elif path.suffix == ".png":
            assert b"tIME" not in path.read_bytes()


def test_english_documents_have_no_cjk(result, tmp_path):
    files = render_reports(result, tmp_path, lang="en", departments=SUBSET)
    assert all(p.parent.parent.name == "en" or p.parent.name == "en" for p in files)
    for path in files:
        if path.suffix in (".pdf", ".docx"):
            text = pdf_text(path) if path.suffix == ".pdf" else docx_text(path)
            assert text and not has_cjk(text), path.name


# Names of methods, standards and the toolkit that Chinese documents cite as they are.
CITED = {"minping", "AAPOR", "LMG", "GB", "OECD", "JRC", "Saltelli", "Jansen", "Cronbach", "McDonald",
         "Krippendorff", "ICC", "Pearson", "Spearman", "Bland", "Altman", "Fay", "Herriot", "Dirichlet", "Holm",
         "Saaty", "Donegan", "Dodd", "Benjamini", "Hochberg", "fgf", "default", "RR", "Korn", "Graubard",
         "Wilson"}


def test_chinese_documents_have_no_english_words(result, tmp_path):
    import re

    import openpyxl

    files = render_reports(result, tmp_path, lang="zh", departments=SUBSET)
    for path in files:
        if path.suffix in (".png", ".svg"):
            continue
        if path.suffix == ".pdf":
            text = pdf_text(path)
        elif path.suffix == ".docx":
            text = docx_text(path)
        else:
            wb = openpyxl.load_workbook(path)
            # the manifest keeps its keys; the 整改 workbook its problem and kind codes (what next year's run
            # matches on), in their own columns
            codes = {header(c, "zh") for c in ("key", "kind")}
            text = " ".join(c.value for ws in wb for col in ws.iter_cols() if col[0].value not in codes
                            for c in col if isinstance(c.value, str) and ws.title != "清单")
        text = re.sub(r"\b[0-9a-f]{12,64}\b", " ", text)  # manifest hashes
        # whole words only: item codes (q_overall) and symbols (λmax) are not prose
        words = {w for w in re.findall(r"(?<![\w\u03bb])[A-Za-z]{3,}(?!\w)", text, re.ASCII) if w not in CITED}
        assert not words, (path.name, sorted(words)[:20])


def test_ids_with_path_characters_are_refused(result, tmp_path):
    deps = result.departments.copy()
    deps.loc[0, "department_id"] = "../escape"
    with pytest.raises(DataValidationError, match="file name"):
        render_reports(dataclasses.replace(result, departments=deps), tmp_path)
    assert not (tmp_path / "report").exists()
    assert not (tmp_path / "escape.pdf").exists()


def test_bad_arguments(result, tmp_path):
    with pytest.raises(MinpingError, match="language"):
        render_reports(result, tmp_path, lang="fr")
    with pytest.raises(DataValidationError, match="Z99"):
        render_reports(result, tmp_path, departments=["Z99"])
    with pytest.raises(ValueError, match="score"):  # a result without its contract's columns cannot exist
        dataclasses.replace(result, indicators=result.indicators.drop(columns=["score", "indicator_en"]))


def test_manifest_hash_is_printed(result, tmp_path):
    digest = "0123456789abcdef" * 4
    files = render_reports(result.with_manifest(digest), tmp_path, departments=SUBSET[:1])
    for path in files:
        if path.suffix == ".pdf":
            assert digest in pdf_text(path).replace("\n", "")
        elif path.suffix == ".docx":
            assert digest[:12] in docx_text(path)
    assert result.provenance.manifest_sha256 != digest  # the input result is left alone
