"""Render every document of an evaluation: the city report and one scorecard per department."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from reports.city import render_city_pdf, render_city_xlsx
from reports.labels import check_lang
from reports.safety import safe_filename
from reports.scorecard import render_scorecard_pdf, render_scorecard_xlsx, scorecard_content
from surveys.errors import DataValidationError, Problem

REQUIRED = {
    "departments": ["department_id", "department", "department_en", "category", "category_name",
                    "category_name_en", "index", "grade", "grade_name", "grade_name_en"],
    "dimensions": ["department_id", "dimension_id", "dimension", "dimension_en", "weight", "estimate"],
    "indicators": ["department_id", "indicator_id", "indicator", "indicator_en", "dimension_id", "channel",
                   "weight", "score"],
}


def check_result(result) -> None:
    """Raise if the result lacks a frame or a column the renderers need (all problems at once)."""
    problems = []
    for frame_name, columns in REQUIRED.items():
        frame = getattr(result, frame_name, None)
        if frame is None:
            problems.append(Problem(message=f"the result has no '{frame_name}' frame",
                                    fix="pass an EvaluationResult from evaluation.evaluate()"))
            continue
        for col in columns:
            if col not in frame.columns:
                problems.append(Problem(message=f"result.{frame_name} lacks a required column", column=col,
                                        fix="see the EvaluationResult contract (evaluation/result.py)"))
    if problems:
        raise DataValidationError("the evaluation result cannot be rendered", problems)


def with_manifest_hash(result, manifest_hash: str):
    """The result with ``manifest_sha256`` set in its provenance (the hash printed on every document)."""
    prov = {**(getattr(result, "provenance", None) or {}), "manifest_sha256": str(manifest_hash)}
    if dataclasses.is_dataclass(result):
        return dataclasses.replace(result, provenance=prov)
    return _ProvenanceView(result, prov)


class _ProvenanceView:
    """A result-like object whose provenance is replaced; everything else is the original's."""

    def __init__(self, result, provenance: dict):
        self._result = result
        self.provenance = provenance

    def __getattr__(self, name):
        return getattr(self._result, name)


def render_reports(result, out_dir: str | Path, *, lang: str = "zh", history=None,
                   departments: list[str] | None = None, manifest_hash: str | None = None) -> list[Path]:
    """Write the city report and every department's scorecard, as PDF and XLSX.

    Parameters
    ----------
    result : EvaluationResult-like
        Frames ``departments``, ``dimensions``, ``indicators`` (and optionally
        ``quality``), ``year``, ``provenance``, ``framework``, and the
        robustness tables in ``extra`` (``rank_uncertainty``, ``drivers``,
        ``priorities``, ``sensitivity``, ``sensitivity_summary``, ``funnel``,
        ``funnel_limits``, ``shrinkage``, ``weighting``, ``weights``,
        ``reliability``, ``interrater``, ``agreement``); each part of a
        document whose table is absent is left out.
    out_dir : path
        Files go to ``out_dir/report/<lang>/``: ``city_report.pdf``,
        ``city_report.xlsx`` and ``departments/<department_id>.pdf|.xlsx``.
        File names carry only register ids, never names.
    lang : {"zh", "en"}
        Language of every document; English documents use the ``*_en`` names
        and contain no Chinese.
    history : optional
        Earlier years for the change since last year, the trend lines and the
        city report's trends section: a frame ``year, department_id, index``
        (optionally ``se``) mapped through the crosswalk, the history store's
        frames, the output of :func:`evaluation.trends.trends` (its tested,
        crosswalked changes are then shown as they are), or earlier results
        (see :mod:`reports.history`).
    departments : list of str, optional
        Render scorecards only for these ids (default: all).
    manifest_hash : str, optional
        The run's manifest hash, printed on every document; default: the
        result provenance's ``manifest_sha256``, else the SHA-256 of the
        provenance itself.

    Returns
    -------
    list of pathlib.Path
        The files written, city report first.

    Notes
    -----
    Equal input gives byte-identical files (fixed PDF and XLSX timestamps).
    The fonts are parsed once per process and reused for every document.
    """
    check_lang(lang)
    check_result(result)
    if manifest_hash is not None:
        result = with_manifest_hash(result, manifest_hash)
    ids = [str(d) for d in result.departments["department_id"]]
    if departments is not None:
        wanted = {str(d) for d in departments}
        unknown = sorted(wanted - set(ids))
        if unknown:
            raise DataValidationError("scorecards asked for departments that are not in the result", [
                Problem(message="unknown department id", value=d, column="department_id",
                        fix="use ids from result.departments") for d in unknown])
        ids = [d for d in ids if d in wanted]
    names = [safe_filename(d) for d in ids]
    base = Path(out_dir) / "report" / lang
    dep_dir = base / "departments"
    dep_dir.mkdir(parents=True, exist_ok=True)
    written = [render_city_pdf(result, base / "city_report.pdf", lang=lang, history=history),
               render_city_xlsx(result, base / "city_report.xlsx", lang=lang, history=history)]
    for dep, name in zip(ids, names):
        content = scorecard_content(result, dep, lang=lang, history=history)
        written.append(render_scorecard_pdf(result, dep, dep_dir / f"{name}.pdf", content=content))
        written.append(render_scorecard_xlsx(result, dep, dep_dir / f"{name}.xlsx", content=content))
    return written
