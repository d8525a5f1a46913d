"""What several documents say about a result, in words: rules, methods, ranks, data quality, the manifest.

Content only (no renderer is imported here): every function reads the typed
:class:`~evaluation.result.EvaluationResult` and returns text, facts or
small frames that the PDF, Excel and Word renderers lay out alike.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from evaluation.result import EvaluationResult
from reports.format import Fact, fmt, level_text, missing
from reports.labels import LABELS, label, split_flags
from surveys.ledger import REASONS

SCOPES = ("overall", "category")


# ---------------------------------------------------------------------------
# the framework's rules and the run's record
# ---------------------------------------------------------------------------

def manifest_hash(result: EvaluationResult) -> str:
    """The run's manifest hash (printed on every document).

    A result rendered outside a run (from the Python API) has none; its
    provenance's SHA-256 stands in, so that two documents of the same
    numbers still carry the same mark.
    """
    prov = result.provenance
    if prov.manifest_sha256:
        return prov.manifest_sha256
    text = json.dumps(prov.as_dict(), sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def flag_fields(result: EvaluationResult) -> dict:
    """The gate thresholds that flag texts quote."""
    g = result.framework.gates
    return {"g1": f"{g.g1_threshold:g}", "audit": f"{g.g1_audit_threshold:g}", "g2": f"{g.g2_threshold:g}"}


def grade_bands_text(result: EvaluationResult, lang: str) -> str:
    """"A 优秀 ≥ 90；B 良好 ≥ 80；…；D 不合格 < 70" from the framework's bands."""
    bands = sorted(result.framework.grades, key=lambda b: -b.min)
    lowest_edge = min((b.min for b in bands if b.min > 0), default=0.0)
    parts = []
    for b in bands:
        name = b.name if lang == "zh" else b.name_en
        parts.append(f"{b.grade} {name} ≥ {b.min:g}" if b.min > 0 else f"{b.grade} {name} < {lowest_edge:g}")
    return ("；" if lang == "zh" else "; ").join(parts)


def framework_name(result: EvaluationResult, lang: str) -> str:
    fw = result.framework
    return f"{fw.name if lang == 'zh' else fw.name_en} ({fw.id} {fw.version})"


def channels_text(result: EvaluationResult, lang: str) -> str:
    """Which channels the year's evaluation rests on, in words, and which the framework has but were not collected."""
    ch = result.coverage.channels
    sep = "、" if lang == "zh" else ", "
    name = "channel_zh" if lang == "zh" else "channel_en"
    used = sep.join(ch.loc[ch["collected"].astype(bool), name])
    absent = ch.loc[~ch["collected"].astype(bool)]
    if not len(absent):
        return label("method_channels", lang, used=used)
    return label("method_channels_partial", lang, used=used, absent=sep.join(absent[name]),
                 share=fmt(float(absent["nominal_weight"].sum()), "share"))


def missing_columns_text(result: EvaluationResult, lang: str) -> str | None:
    """The indicators whose column some of the year's files lack, with the files (None when none lack any)."""
    mc = result.coverage.missing_columns
    if not len(mc):
        return None
    zh = lang == "zh"
    parts = []
    for r in mc.itertuples():
        files = "、".join(str(r.files).split(";")) if zh else ", ".join(str(r.files).split(";"))
        scope = ("全部文件" if zh else "every file") if r.none_read else files
        ids = "、".join(str(r.indicators).split(";")) if zh else ", ".join(str(r.indicators).split(";"))
        parts.append(f"{ids}（列 {r.column}，缺于{scope}）" if zh else f"{ids} (column {r.column}, missing from {scope})")
    return label("method_columns_absent", lang, items=("；" if zh else "; ").join(parts))


def checks_text(result: EvaluationResult, lang: str) -> str | None:
    """The gates and analyses that could not be made this year, each with its reason (None when all were)."""
    checks = result.coverage.checks
    skipped = checks[~checks["assessed"].astype(bool)]
    if not len(skipped):
        return None
    reason = "reason_zh" if lang == "zh" else "reason_en"
    parts = [f"{label(f'check_{r.check}', lang)}（{getattr(r, reason)}）" if lang == "zh"
             else f"{label(f'check_{r.check}', lang)} ({getattr(r, reason)})" for r in skipped.itertuples()]
    return label("method_checks_skipped", lang, checks=("；" if lang == "zh" else "; ").join(parts))


def method_notes(result: EvaluationResult, lang: str, *, n_indicators: int) -> list[str]:
    """The method paragraphs shared by scorecards and the city report."""
    g = result.framework.gates
    notes = [
        channels_text(result, lang),
        label("method_index", lang, m=n_indicators, level=level_text(result.level)),
        label(f"share_interval_{result.framework.share_interval}", lang),
        label("method_grades", lang, bands=grade_bands_text(result, lang)),
        label("method_gates", lang, g1=f"{g.g1_threshold:g}", per=f"{g.g1_deduction_per_point:g}",
              cap=f"{g.g1_max_deduction:g}", audit=f"{g.g1_audit_threshold:g}", g2=f"{g.g2_threshold:g}",
              s=f"{g.g4_min_survey:g}", c=f"{g.g4_min_callback:g}"),
        label(f"gate_rule_{result.framework.gate_rule}", lang),
    ]
    columns = missing_columns_text(result, lang)
    skipped = checks_text(result, lang)
    return notes + [t for t in (columns, skipped) if t]


def manifest_facts(result: EvaluationResult, lang: str) -> list[Fact]:
    prov = result.provenance
    return [
        Fact(label("manifest_hash", lang), manifest_hash(result), "text"),
        Fact(label("toolkit_version", lang), prov.toolkit_version, "text"),
        Fact(label("framework_id", lang), f"{prov.framework_id} {prov.framework_version}", "text"),
        Fact(label("seed", lang), prov.seed, "text"),
        Fact(label("level", lang), level_text(result.level), "text"),
    ]


def provenance_items(result: EvaluationResult) -> list[tuple[str, object]]:
    """The provenance as (dotted key, value) pairs in key order, nested settings flattened."""
    def flatten(value: dict, prefix: str = "") -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        for key in sorted(value, key=str):
            v, name = value[key], f"{prefix}{key}"
            if isinstance(v, dict):
                out += flatten(v, name + ".")
            elif isinstance(v, (list, tuple)):
                out.append((name, ", ".join(map(str, v))))
            else:
                out.append((name, v))
        return out

    prov = result.provenance.as_dict()
    prov.pop("weights")
    return flatten(prov)


def provenance_facts(result: EvaluationResult, lang: str) -> list[Fact]:
    """The provenance as labelled facts: every key in words, nested settings as "group · key"."""
    out = []
    for key, value in provenance_items(result):
        head, _, rest = key.partition(".")
        name = label(f"prov_{head}", lang) if f"prov_{head}" in LABELS else head
        name = f"{name} · {rest}" if rest else name
        if value is None:
            out.append(Fact(name, "—", "text"))
        elif isinstance(value, bool):
            out.append(Fact(name, label("yes" if value else "no", lang), "text"))
        elif isinstance(value, int):
            out.append(Fact(name, value, "int"))
        elif isinstance(value, float):
            out.append(Fact(name, value, "raw"))
        else:
            out.append(Fact(name, str(value), "text"))
    return out


def channel_name(code: object, lang: str) -> str:
    """The channel code (S, C, V, A, H) as a word in ``lang``."""
    key = f"channel_{code}"
    return label(key, lang) if key in LABELS else str(code)


def footer(result: EvaluationResult, lang: str) -> str:
    return label("footer", lang, version=result.provenance.toolkit_version, hash=manifest_hash(result)[:12])


# ---------------------------------------------------------------------------
# ranks: tie groups and simultaneous intervals
# ---------------------------------------------------------------------------

def tie_groups(result: EvaluationResult, scope: str = "overall") -> pd.DataFrame:
    """``department_id, tie_group, tie_group_size, rank_sim_low, rank_sim_high`` of one scope."""
    ru = result.ranking.rank_uncertainty
    rows = ru[ru["scope"] == scope]
    return rows[["department_id", "tie_group", "tie_group_size", "rank_sim_low", "rank_sim_high"]].reset_index(
        drop=True)


def rank_info(result: EvaluationResult, department_id: str) -> dict:
    """Tie group size and simultaneous interval of one department, per scope (None where not ranked).

    Returns ``{"overall": {...}, "category": {...}}`` with keys ``tie_group``,
    ``tie_group_size``, ``rank_sim_low``, ``rank_sim_high``.
    """
    out = {}
    for scope in SCOPES:
        frame = tie_groups(result, scope)
        rows = frame[frame["department_id"] == str(department_id)]
        keys = ("tie_group", "tie_group_size", "rank_sim_low", "rank_sim_high")
        out[scope] = {k: (None if not len(rows) or missing(rows[k].iloc[0]) else rows[k].iloc[0]) for k in keys}
    return out


def tie_text(size, lang: str) -> str:
    """"与 N 个部门无显著差异" for a tie group of ``size`` departments ('' when unknown)."""
    if size is None or missing(size):
        return ""
    n = int(size) - 1
    if n <= 0:
        return label("tied_none", lang)
    return label("tied_with_1", lang) if n == 1 else label("tied_with", lang, n=n)


def sim_interval_text(info: dict) -> str:
    if info.get("rank_sim_low") is None or info.get("rank_sim_high") is None:
        return "—"
    return f"{int(info['rank_sim_low'])}–{int(info['rank_sim_high'])}"


# ---------------------------------------------------------------------------
# data quality of one department in words
# ---------------------------------------------------------------------------

def _num(row: pd.Series | None, col: str) -> float:
    if row is None or col not in row.index or missing(row[col]):
        return float("nan")
    return float(row[col])


def quality_sentences(result: EvaluationResult, row: pd.Series, quality_row: pd.Series | None,
                      lang: str) -> list[str]:
    """The gates G1, G2 and G4 and the AAPOR response rate of one department, each a sentence.

    ``row`` is the department's row of ``result.departments``, ``quality_row``
    its row of ``result.quality`` (None when it has none).
    """
    g = result.framework.gates
    flags = set(split_flags(row.get("flags")))
    out = []
    g1 = _num(quality_row, "g1_authenticity")
    ded = _num(row, "g1_deduction")
    thr = f"{g.g1_threshold:g}"
    if np.isnan(g1):
        out.append(label("q_g1_missing", lang))
    else:
        ded_text = f"{0.0 if np.isnan(ded) else ded:.1f}"
        if "G1_audit" in flags:
            out.append(label("q_g1_audit", lang, g1=fmt(g1, "percent"), ded=ded_text,
                             audit=f"{g.g1_audit_threshold:g}"))
        elif "G1_deduction" in flags:
            out.append(label("q_g1_deduct", lang, g1=fmt(g1, "percent"), thr=thr, ded=ded_text))
        else:
            out.append(label("q_g1_ok", lang, g1=fmt(g1, "percent"), thr=thr))
    g2 = _num(quality_row, "g2_gap")
    if np.isnan(g2):
        out.append(label("q_g2_missing", lang))
    elif "G2_inflation" in flags:
        out.append(label("q_g2_flag", lang, gap=f"{g2:.1f}", thr=f"{g.g2_threshold:g}"))
    else:
        out.append(label("q_g2_ok", lang, gap=fmt(g2, "points"), thr=f"{g.g2_threshold:g}"))
    key = "q_g4_small" if "G4_small_sample" in flags else "q_g4_ok"
    out.append(label(key, lang, s=fmt(row["n_survey"], "int"), c=fmt(row["n_callback"], "int"),
                     smin=f"{g.g4_min_survey:g}", cmin=f"{g.g4_min_callback:g}"))
    rr1, rr3, e = _num(quality_row, "rr1"), _num(quality_row, "rr3"), _num(quality_row, "aapor_e")
    if not np.isnan(rr3) and not np.isnan(e):
        out.append(label("q_rr", lang, rr3=fmt(rr3, "share"), e=f"{e:.2f}", rr1=fmt(rr1, "share")))
    elif not np.isnan(rr1):
        out.append(label("q_rr_plain", lang, rr1=fmt(rr1, "share")))
    return out


def flag_short(codes, lang: str) -> str:
    """Flag codes as short words (``G1扣分; G2虚高``)."""
    parts = []
    for code in split_flags(codes) if isinstance(codes, str) else list(codes or []):
        key = f"flag_short_{code}"
        if key in LABELS:
            parts.append(label(key, lang))
        elif code in REASONS:
            parts.append(label("flag_short_data_rule", lang))
        else:
            parts.append(label("flag_unknown", lang, code=code))
    return ("；" if lang == "zh" else "; ").join(parts)


# ---------------------------------------------------------------------------
# the change since last year
# ---------------------------------------------------------------------------

def adjustment_label(result: EvaluationResult, lang: str) -> str:
    """The multiplicity adjustment of the year's change tests, in words."""
    method = result.trends.p_adjust if result.trends is not None else "holm"
    key = f"adjust_{method}"
    return label(key, lang) if key in LABELS else method


def index_changes(result: EvaluationResult) -> pd.DataFrame | None:
    """The ``index`` rows of the year's change since the previous recorded year, by department (None without)."""
    if result.trends is None:
        return None
    ch = result.trends.changes
    return ch[ch["measure"] == "index"].set_index("department_id")


def trend_series(result: EvaluationResult, department_id: str) -> pd.Series:
    """Index by year for one department (earlier years through the crosswalk, then this year)."""
    if result.trends is None:
        row = result.departments[result.departments["department_id"] == department_id]
        return pd.Series({result.year: float(row["index"].iloc[0])} if len(row) else {}, dtype=float)
    s = result.trends.series
    own = s[s["department_id"] == department_id]
    return pd.Series(own["estimate"].to_numpy(float), index=own["year"].astype(int).to_numpy()).sort_index()
