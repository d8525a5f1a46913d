"""Render every document of an evaluated year: the city report and one scorecard per department.

The content is built once from the typed result (:mod:`reports.city`,
:mod:`reports.city_sections`, :class:`reports.scorecard.ScorecardContent`)
and laid out by each renderer (PDF, Excel), so the documents cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.result import EvaluationResult
from reports.city_pdf import render_city_pdf
from reports.city_xlsx import render_city_xlsx
from reports.labels import check_lang
from reports.safety import safe_filename
from reports.scorecard import scorecard_content
from reports.scorecard_pdf import render_scorecard_pdf
from reports.scorecard_xlsx import render_scorecard_xlsx
from surveys.errors import DataValidationError, Problem


def render_reports(result: EvaluationResult, out_dir: str | Path, *, lang: str = "zh",
                   departments: list[str] | None = None) -> list[Path]:
    """Write the city report and every department's scorecard, as PDF and XLSX.

    Parameters
    ----------
    result : the evaluated year; the change since last year appears when
        :attr:`~evaluation.result.EvaluationResult.trends` is attached
        (the pipeline does; from the API, ``result.with_trends(year_trends(history, year, ...))``)
    out_dir : files go to ``out_dir/report/<lang>/``: ``city_report.pdf``,
        ``city_report.xlsx`` and ``departments/<department_id>.pdf|.xlsx``
        (file names carry only register ids, never names)
    lang : {"zh", "en"}; English documents use the ``*_en`` names and contain no Chinese
    departments : render scorecards only for these ids (default: every evaluated department; the
        city report lists the departments not evaluated, with the reason)

    Returns
    -------
    list of pathlib.Path
        The files written, city report first.

    Notes
    -----
    Equal input gives byte-identical files (fixed PDF and XLSX timestamps).
    The fonts are parsed once per process and reused for every document.
    The manifest hash printed on every document is the run's
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
    dep_dir = base / "departments"
    dep_dir.mkdir(parents=True, exist_ok=True)
    written = [render_city_pdf(result, base / "city_report.pdf", lang=lang),
               render_city_xlsx(result, base / "city_report.xlsx", lang=lang)]
    for dep, name in zip(ids, names):
        content = scorecard_content(result, dep, lang=lang)
        written.append(render_scorecard_pdf(content, dep_dir / f"{name}.pdf"))
        written.append(render_scorecard_xlsx(content, dep_dir / f"{name}.xlsx"))
    return written
