"""What the documents read from the evaluation's robustness tables (``result.extra``).

The evaluation adds tidy tables by name to ``result.extra`` (see
:mod:`evaluation.robustness`): ``rank_uncertainty``, ``drivers``,
``priorities``, ``sensitivity*``, ``funnel*``, ``shrinkage``, ``weighting``,
``weights``, ``reliability``, ``interrater``, ``agreement``.  Every
accessor here returns None or an empty frame when a table is absent, so the
documents render (without that part) from older or partial results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.labels import label, split_flags
from reports.layout import fmt, missing

SCOPES = ("overall", "category")


def extra(result, name: str) -> pd.DataFrame | None:
    """``result.extra[name]`` (or an attribute of that name), None when absent or empty."""
    frame = (getattr(result, "extra", None) or {}).get(name)
    if frame is None:
        frame = getattr(result, name, None)
    if isinstance(frame, pd.DataFrame) and len(frame):
        return frame
    return None


def tie_groups(result, scope: str = "overall") -> pd.DataFrame | None:
    """Tie groups and simultaneous rank intervals of one scope (``overall`` or ``category``).

    Returns
    -------
    DataFrame or None
        ``department_id``, ``tie_group``, ``tie_group_size``,
        ``rank_sim_low``, ``rank_sim_high`` (NaN where unknown).  From
        ``rank_uncertainty``; for ``overall`` without it, the departments'
        own ``tie_group`` / ``rank_sim_*`` columns, the group size counted
        from them.
    """
    cols = ["department_id", "tie_group", "tie_group_size", "rank_sim_low", "rank_sim_high"]
    ru = extra(result, "rank_uncertainty")
    if ru is not None and "scope" in ru:
        rows = ru[ru["scope"] == scope]
        if len(rows):
            out = rows.assign(department_id=rows["department_id"].astype(str)).drop_duplicates("department_id")
            for col in cols:
                if col not in out:
                    out = out.assign(**{col: np.nan})
            return out[cols].reset_index(drop=True)
    deps = result.departments
    if scope != "overall" or "tie_group" not in deps:
        return None
    out = pd.DataFrame({"department_id": deps["department_id"].astype(str).to_numpy(),
                        "tie_group": deps["tie_group"].to_numpy()})
    out["tie_group_size"] = out.groupby("tie_group")["department_id"].transform("size")
    for col in ("rank_sim_low", "rank_sim_high"):
        out[col] = deps[col].to_numpy() if col in deps else np.nan
    return out


def rank_info(result, department_id: str) -> dict:
    """Tie group size and simultaneous interval of one department, per scope.

    Returns ``{"overall": {...}, "category": {...}}`` with keys
    ``tie_group``, ``tie_group_size``, ``rank_sim_low``, ``rank_sim_high``
    (None where unknown).
    """
    out = {}
    for scope in SCOPES:
        info = {"tie_group": None, "tie_group_size": None, "rank_sim_low": None, "rank_sim_high": None}
        frame = tie_groups(result, scope)
        if frame is not None:
            rows = frame[frame["department_id"] == str(department_id)]
            if len(rows):
                info = {k: (None if missing(rows[k].iloc[0]) else rows[k].iloc[0]) for k in info}
        out[scope] = info
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


def quality_sentences(row: pd.Series, quality_row: pd.Series | None, gates: dict, lang: str) -> list[str]:
    """The gates G1, G2 and G4 and the AAPOR response rate of one department, each a sentence.

    ``row`` is the department's row of ``result.departments`` (``flags``,
    ``g1_deduction``, ``n_survey``, ``n_callback``), ``quality_row`` its row of
    ``result.quality`` (``g1_authenticity``, ``g2_gap``, ``rr1``, ``rr3``,
    ``aapor_e``), ``gates`` the framework's thresholds.
    """
    flags = set(split_flags(row.get("flags")))
    out = []
    g1 = _num(quality_row, "g1_authenticity")
    ded = _num(row, "g1_deduction")
    thr = f"{float(gates.get('g1_threshold', 95)):g}"
    if np.isnan(g1):
        out.append(label("q_g1_missing", lang))
    else:
        ded_text = f"{0.0 if np.isnan(ded) else ded:.1f}"
        if "G1_audit" in flags:
            out.append(label("q_g1_audit", lang, g1=fmt(g1, "percent"), ded=ded_text,
                             audit=f"{float(gates.get('g1_audit_threshold', 80)):g}"))
        elif "G1_deduction" in flags or (not np.isnan(ded) and ded > 0):
            out.append(label("q_g1_deduct", lang, g1=fmt(g1, "percent"), thr=thr, ded=ded_text))
        else:
            out.append(label("q_g1_ok", lang, g1=fmt(g1, "percent"), thr=thr))
    g2 = _num(quality_row, "g2_gap")
    g2_thr = f"{float(gates.get('g2_threshold', 10)):g}"
    if np.isnan(g2):
        out.append(label("q_g2_missing", lang))
    elif "G2_inflation" in flags:
        out.append(label("q_g2_flag", lang, gap=f"{g2:.1f}", thr=g2_thr))
    else:
        out.append(label("q_g2_ok", lang, gap=fmt(g2, "points"), thr=g2_thr))
    s, c = _num(row, "n_survey"), _num(row, "n_callback")
    smin, cmin = gates.get("g4_min_survey", 50), gates.get("g4_min_callback", 30)
    if not (np.isnan(s) and np.isnan(c)):
        key = "q_g4_small" if "G4_small_sample" in flags else "q_g4_ok"
        out.append(label(key, lang, s=fmt(s, "int"), c=fmt(c, "int"), smin=f"{float(smin):g}",
                         cmin=f"{float(cmin):g}"))
    rr1, rr3, e = _num(quality_row, "rr1"), _num(quality_row, "rr3"), _num(quality_row, "aapor_e")
    if not np.isnan(rr3) and not np.isnan(e):
        out.append(label("q_rr", lang, rr3=fmt(rr3, "share"), e=f"{e:.2f}", rr1=fmt(rr1, "share")))
    elif not np.isnan(rr1):
        out.append(label("q_rr_plain", lang, rr1=fmt(rr1, "share")))
    return out


def flag_short(codes, lang: str) -> str:
    """Flag codes as short words (``G1扣分; G2虚高``)."""
    from reports.labels import LABELS

    parts = []
    for code in split_flags(codes) if isinstance(codes, str) else list(codes or []):
        key = f"flag_short_{code}"
        parts.append(label(key, lang) if key in LABELS else label("flag_unknown", lang, code=code))
    return ("；" if lang == "zh" else "; ").join(parts)
