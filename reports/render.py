"""Render every document of an evaluated year: the city report, the 整改 workbook and one scorecard per department.

The content is built once from the typed result (:class:`reports.city_content.CityContent`,
:class:`reports.scorecard.ScorecardContent`) and laid out by each renderer
(PDF, Word, Excel), so the documents cannot disagree.  Every chart is also
written as PNG and SVG for pasting (:mod:`reports.images`); the Word
documents embed the same PNG.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.result import EvaluationResult
from reports.city_content import city_content
from reports.city_docx import render_city_docx
from reports.city_pdf import render_city_pdf
from reports.city_xlsx import render_city_xlsx
from reports.drawings import chart_drawing
from reports.images import drawing_png, drawing_svg
from reports.labels import check_lang
from reports.rectification_xlsx import render_rectification_xlsx
from reports.safety import safe_filename
from reports.scorecard import scorecard_content
from reports.scorecard_docx import render_scorecard_docx, scorecard_drawings
from reports.scorecard_pdf import render_scorecard_pdf
from reports.scorecard_xlsx import render_scorecard_xlsx
from surveys.errors import DataValidationError, Problem

#: width (points) of the city charts as files and in Word: the PDF's text width
CHART_WIDTH = 515.0


def _chart_files(drawing, base: Path, written: list[Path]) -> bytes:
    """``base.png`` and ``base.svg`` of a drawing; returns the PNG for embedding."""
    png = drawing_png(drawing)
    base.with_suffix(".png").write_bytes(png)
    base.with_suffix(".svg").write_text(drawing_svg(drawing), encoding="utf-8")
    written += [base.with_suffix(".png"), base.with_suffix(".svg")]
    return png


def render_reports(result: EvaluationResult, out_dir: str | Path, *, lang: str = "zh",
                   departments: list[str] | None = None) -> list[Path]:
    """Write the city report, the 整改 workbook and every department's scorecard, as PDF, Word and Excel.

    Parameters
    ----------
    result : the evaluated year; the change since last year appears when
        :attr:`~evaluation.result.EvaluationResult.trends` is attached, the
        city, evaluator and dates when :attr:`~evaluation.result.EvaluationResult.context`
        is (the pipeline attaches both)
    out_dir : files go to ``out_dir/report/<lang>/``: ``city_report.pdf|.docx|.xlsx``,
        ``rectification.xlsx`` (the citywide 整改 workbook the departments
        return), ``departments/<department_id>.pdf|.docx|.xlsx`` and
        ``charts/<name>.png|.svg`` (``city_<chart>`` and
        ``<department_id>_profile|_quadrant``); file names carry only
        register ids, never names
    lang : {"zh", "en"}; English documents use the ``*_en`` names and contain no Chinese
    departments : render scorecards only for these ids (default: every evaluated department; the
        city report lists the departments not evaluated, with the reason)

    Returns
    -------
    list of pathlib.Path
        The files written, city report first.

    Notes
    -----
    Equal input gives byte-identical files (fixed PDF, Office and PNG
    metadata).  The fonts are parsed once per process and reused for every
    document.  The manifest hash printed on every document is the run's
    (:meth:`~evaluation.result.EvaluationResult.with_manifest`).
    """
    check_lang(lang)
    evaluated = result.departments[result.departments["index"].notna()]
    ids = list(evaluated["department_id"])
    if departments is not None:
        wanted = {str(d) for d in departments}
        unknown = sorted(wanted - set(ids))
        if unknown:
            raise DataValidationError("scorecards asked for departments that were not evaluated", [
                Problem(message="no evaluated department with this id", value=d, column="department_id",
                        fix="use ids of result.departments that have an index") for d in unknown])
        ids = [d for d in ids if d in wanted]
    names = [safe_filename(d) for d in ids]  # every id checked before anything is written
    base = Path(out_dir) / "report" / lang
    dep_dir, chart_dir = base / "departments", base / "charts"
    dep_dir.mkdir(parents=True, exist_ok=True)
    chart_dir.mkdir(parents=True, exist_ok=True)

    city = city_content(result, lang)
    written = [render_city_pdf(city, base / "city_report.pdf")]
    charts: list[Path] = []
    pictures = {b.name: _chart_files(chart_drawing(b.chart, b.data, CHART_WIDTH, lang=lang, **b.options),
                                     chart_dir / f"city_{b.name}", charts)
                for b in city.blocks if b.kind == "chart"}
    written += [render_city_docx(city, base / "city_report.docx", pictures=pictures),
                render_city_xlsx(result, city, base / "city_report.xlsx"),
                render_rectification_xlsx(result, base / "rectification.xlsx", lang=lang)]
    for dep, name in zip(ids, names):
        content = scorecard_content(result, dep, lang=lang)
        written.append(render_scorecard_pdf(content, dep_dir / f"{name}.pdf"))
        pngs = {key: _chart_files(drawing, chart_dir / f"{name}_{key}", charts)
                for key, drawing in scorecard_drawings(content).items()}
        written.append(render_scorecard_docx(content, dep_dir / f"{name}.docx", pictures=pngs))
        written.append(render_scorecard_xlsx(content, dep_dir / f"{name}.xlsx"))
    return written + charts
