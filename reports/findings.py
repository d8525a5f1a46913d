"""What the documents say about the findings: problem lists, evidence in words, deadlines, recommendations.

Content only (no renderer is imported here).  Every function reads the typed
:class:`~evaluation.result.EvaluationResult`, above all ``result.findings``
(the problem lists that :mod:`evaluation.problems` builds from the evidence),
and returns text or :class:`~reports.format.TableSpec` tables that the PDF,
Word and Excel renderers lay out alike.  Nothing here decides what a
problem is or whether it exceeds sampling noise: that is the evaluation's.

Texts of a finding are chosen by its kind and the canonical field it reads
(``told_once``, ``accurate``, ``rectified_on_time``, ...: the names of
``surveys.schema``), with a generic text for any other field, so a
framework with other indicators still gets correct sentences.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from evaluation.result import EvaluationResult
from reports.format import DASH, TableSpec, level_text, missing
from reports.labels import LABELS, label, name_column
from surveys.rectification import STATUSES

#: month abbreviations for English dates
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: fields whose mean is a duration in minutes (raw values shown with the unit)
MINUTE_FIELDS = ("wait_minutes",)
#: fields whose mean is a share of criteria met (shown in percent)
SHARE_MEAN_FIELDS = ("checklist_score",)
#: how many example ids a printed cell shows
EXAMPLES_SHOWN = 3
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


# ---------------------------------------------------------------------------
# small texts
# ---------------------------------------------------------------------------

def sep(lang: str) -> str:
    return "；" if lang == "zh" else "; "


def listing(parts, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(str(p) for p in parts)


def date_text(date: dt.date | None, lang: str) -> str:
    if date is None:
        return DASH
    return label("date_fmt", lang, y=date.year, m=date.month if lang == "zh" else MONTHS[date.month - 1], d=date.day)


def count_text(value) -> str:
    return DASH if missing(value) else f"{int(round(float(value))):,}"


def deadline_text(result: EvaluationResult, lang: str) -> str:
    """The rectification deadline: a date when the report date is known, else relative to the report."""
    ctx = result.context
    months = ctx.rectification_months if ctx is not None else 1
    if ctx is not None and ctx.deadline is not None:
        return label("deadline_date", lang, date=date_text(ctx.deadline, lang))
    return label("deadline_relative", lang, months=label("month_en" if months == 1 else "months_en", lang, n=months))


def department_names(result: EvaluationResult, lang: str) -> dict[str, str]:
    """Every register id (earlier years' departments too) -> name in ``lang``."""
    out = {d.id: (d.name if lang == "zh" else d.name_en) for d in result.framework.departments}
    deps = result.departments
    out.update(zip(deps["department_id"].astype(str), deps[name_column("department", lang)].astype(str)))
    return out


def names_text(result: EvaluationResult, ids, lang: str, limit: int = 4) -> str:
    """Department names joined, the first ``limit`` and "等" (and others) after."""
    names = department_names(result, lang)
    ids = [i for i in ids if i]
    text = listing([names.get(i, i) for i in ids[:limit]], lang)
    return text + (label("and_more", lang) if len(ids) > limit else "")


#: the unit of the counts of a finding, by kind and field (Chinese counts need their measure word)
UNITS = {"checklist": "unit_visits", "gate_g1": "unit_contacts", "never_handled": "unit_contacts",
         "gate_g3": "unit_reviews", "survey_item": "unit_people", "closed_on_time": "unit_cases",
         "cases_online": "unit_cases", "cases_one_window": "unit_cases", "told_once": "unit_people",
         "improper_demand": "unit_people", "trips": "unit_people", "within_promised": "unit_people",
         "accurate": "unit_guides", "scenario_all_listed": "unit_visits", "rectified_on_time": "unit_reviews",
         "rectification_satisfied": "unit_reviews"}


def unit_text(kind: str, item: str, lang: str) -> str:
    key = UNITS.get(item) if kind in ("share", "census_share") else UNITS.get(kind)
    if key:
        return label(key, lang)
    return "" if lang == "zh" else label("unit_records", lang)


def probability_text(p: float) -> str:
    """A simulated probability as a percentage; the ends say "above 99.9%" rather than a certain 100%."""
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    return f"{100 * p:.1f}%"


def probability_word(p: float, lang: str) -> str:
    """A probability in calibrated words (the scale of :data:`p_note`)."""
    if p >= 0.99:
        key = "certain"
    elif p >= 0.9:
        key = "very_likely"
    elif p >= 0.66:
        key = "likely"
    elif p >= 0.33:
        key = "even"
    else:
        key = "unlikely"
    return label(f"p_word_{key}", lang)


# ---------------------------------------------------------------------------
# indicators: units and scoring rules
# ---------------------------------------------------------------------------

def indicator_specs(result: EvaluationResult) -> dict:
    return {i.id: i for i in result.framework.indicators}


def indicator_name(result: EvaluationResult, indicator_id: str, lang: str) -> str:
    spec = indicator_specs(result).get(indicator_id)
    if spec is None:
        return str(indicator_id)
    return spec.name if lang == "zh" else spec.name_en


def _is_share(spec) -> bool:
    return spec.measure in ("share", "ratio") or (spec.measure == "mean" and spec.field in SHARE_MEAN_FIELDS)


def raw_text(spec, value, lang: str) -> str:
    """A raw value with its unit: percent for shares and rates, minutes for waits, points for Likert means."""
    if missing(value):
        return DASH
    x = float(value)
    if spec.measure == "likert":
        return f"{x:.1f}{label('unit_points', lang) if lang == 'zh' else ' ' + label('unit_points', lang)}"
    if _is_share(spec):
        return f"{100 * x:.1f}%"
    if spec.measure == "mean" and spec.field in MINUTE_FIELDS:
        return f"{x:.1f}{label('unit_minutes', lang) if lang == 'zh' else ' ' + label('unit_minutes', lang)}"
    return f"{x:.3g}"


def _anchor(spec, value: float, lang: str) -> str:
    if _is_share(spec):
        return f"{100 * value:g}%"
    unit = label("unit_minutes", lang) if spec.field in MINUTE_FIELDS else ""
    return f"{value:g}{unit}" if lang == "zh" else (f"{value:g} {unit}".strip())


def rule_text(spec, lang: str) -> str:
    """The scoring rule of one indicator in a few characters (footnoted by :func:`rule_notes`)."""
    t = spec.transform
    if t.kind == "dtf":
        return label("rule_dtf", lang, worst=_anchor(spec, t.worst, lang), frontier=_anchor(spec, t.frontier, lang))
    return label(f"rule_{t.kind}", lang) if f"rule_{t.kind}" in LABELS else t.kind


def rule_notes(result: EvaluationResult, indicator_ids, lang: str) -> str:
    """One footnote per transform kind used by ``indicator_ids``, with the units of the raw values."""
    specs = indicator_specs(result)
    kinds = []
    for iid in indicator_ids:
        spec = specs.get(str(iid))
        if spec is not None and spec.transform.kind not in kinds:
            kinds.append(spec.transform.kind)
    preset = result.provenance.settings.get("likert_preset", result.framework.likert_preset)
    scores = "/".join(f"{v:g}" for v in reversed(result.framework.likert_presets.get(preset, ())))
    parts = [label(f"rule_note_{k}", lang, preset=scores) for k in ("likert", "percent", "dtf", "identity")
             if k in kinds]
    return label("unit_note", lang) + "".join(parts).rstrip("；; ")


# ---------------------------------------------------------------------------
# one finding in words
# ---------------------------------------------------------------------------

def _text_key(row, prefix: str) -> str:
    """The label of a finding: by field for the kinds that count failures of a field, else by kind."""
    if row["kind"] in ("share", "census_share") and f"{prefix}_{row['item']}" in LABELS:
        return f"{prefix}_{row['item']}"
    return f"{prefix}_{row['kind']}"


def _item(row, lang: str) -> str:
    text = row["item_label"] if lang == "zh" else row["item_label_en"]
    if isinstance(text, str) and text:
        return f"{row['item']}（{text}）" if lang == "zh" else f"{row['item']} ({text})"
    return str(row["item"])


def _examples(row, lang: str, limit: int | None = EXAMPLES_SHOWN) -> str:
    ids = [x for x in str(row["examples"] or "").split(";") if x]
    if not ids:
        return label("examples_none", lang)
    if lang == "en" and limit is not None and any(_CJK.search(x) for x in ids):
        # an evaluator's ids in Chinese stay out of English prose; the workbook lists them as recorded
        return label("examples_in_workbook", lang)
    shown = ids if limit is None else ids[:limit]
    return listing(shown, lang) + (label("and_more", lang) if limit is not None and len(ids) > limit else "")


def problem_title(result: EvaluationResult, row, lang: str) -> str:
    key = _text_key(row, "pt")
    label_text = row["item_label"] if lang == "zh" else row["item_label_en"]
    return label(key, lang, item=_item(row, lang), indicator=indicator_name(result, row["indicator_id"], lang),
                 label=label_text if isinstance(label_text, str) and label_text else row["item"])


def problem_evidence(result: EvaluationResult, row, lang: str, *, examples: int | None = EXAMPLES_SHOWN) -> str:
    key = _text_key(row, "pe")
    if row["kind"] == "survey_item" and not missing(row["count"]) and float(row["count"]) == 0:
        key = "pe_survey_item_none"
    spec = indicator_specs(result).get(str(row["indicator_id"]))
    fields = {
        "count": count_text(row["count"]), "base": count_text(row["base"]),
        "rate": "—" if missing(row["rate"]) else f"{100 * float(row['rate']):.1f}%",
        "score": "—" if missing(row["score"]) else f"{float(row['score']):.1f}",
        "ref": "—" if missing(row["reference"]) else f"{float(row['reference']):.1f}".rstrip("0").rstrip("."),
        "low": "—" if missing(row["ci_low"]) else f"{float(row['ci_low']):.1f}",
        "high": "—" if missing(row["ci_high"]) else f"{float(row['ci_high']):.1f}",
        "points": "—" if missing(row["points_at_stake"]) else f"{float(row['points_at_stake']):.1f}",
        "level": level_text(result.level), "examples": _examples(row, lang, examples),
        "raw": raw_text(spec, row["raw_value"], lang) if spec is not None else DASH,
        "ref_raw": raw_text(spec, row["reference_raw"], lang) if spec is not None else DASH,
    }
    if row["kind"] == "gate_g3":
        fields["ref"] = f"{float(row['reference']):g}"
    if row["kind"] == "comment_theme":
        fields["examples"] = "" if fields["examples"] == label("examples_none", lang) else (
            f"（{fields['examples']}）" if lang == "zh" else f" ({fields['examples']})")
    return label(key, lang, **fields)


def noise_text(row, lang: str) -> str:
    value = row["beyond_noise"]
    if missing(value):
        return label("noise_na", lang)
    word = label("noise_yes" if bool(value) else "noise_no", lang)
    if bool(row["census"]) and row["kind"] not in ("gate_g1", "never_handled"):
        census = label("noise_census", lang)
        return f"{word}（{census}）" if lang == "zh" else f"{word} ({census})"
    return word


def department_problems(result: EvaluationResult, department_id: str) -> pd.DataFrame:
    """The department's problems, numbered as the evaluation numbered them."""
    if result.findings is None:
        return pd.DataFrame()
    p = result.findings.problems
    return p[p["department_id"] == str(department_id)].sort_values("problem_no").reset_index(drop=True)


def problem_table(result: EvaluationResult, department_id: str, lang: str, *, limit: int | None = None,
                  printed: bool = True) -> TableSpec:
    """The department's problem list: number, problem, evidence, points at stake, noise verdict, deadline, owner.

    ``printed`` joins problem and evidence in one cell (PDF, Word); otherwise
    they are separate columns and the counts are numbers (the workbook).
    """
    rows = department_problems(result, department_id)
    if limit is not None:
        rows = rows.head(limit)
    deadline = deadline_text(result, lang)
    out = []
    for _, r in rows.iterrows():
        title, evidence = problem_title(result, r, lang), problem_evidence(result, r, lang,
                                                                          examples=EXAMPLES_SHOWN if printed else None)
        if printed:
            # the deadline is the same for every row (said once above the table); the owner is left to fill in
            out.append([int(r["problem_no"]), f"{title}{'：' if lang == 'zh' else ': '}{evidence}",
                        r["points_at_stake"], noise_text(r, lang), " "])
        else:
            out.append([int(r["problem_no"]), label(f"kind_{r['kind']}", lang), title, evidence, r["count"], r["base"],
                        r["points_at_stake"], noise_text(r, lang), deadline])
    if printed:
        heads = ["#", label("problem", lang), label("points_at_stake", lang), label("beyond_noise", lang),
                 label("owner_person", lang)]
        return TableSpec(heads, ["int", "text", "gain", "text", "text"], out)
    heads = ["#", label("kind_label_head", lang), label("problem", lang), label("evidence", lang),
             label("total_count", lang), label("base_head", lang), label("points_at_stake", lang),
             label("beyond_noise", lang), label("deadline", lang)]
    return TableSpec(heads, ["int", "text", "text", "text", "int", "int", "gain", "text", "text"], out)


def problems_note(result: EvaluationResult, lang: str) -> str:
    outcomes = [indicator_name(result, i, lang) for i in result.framework.roles.outcomes]
    if outcomes:
        return label("problems_note", lang, level=level_text(result.level), outcomes=listing(outcomes, lang))
    return label("problems_note_plain", lang, level=level_text(result.level))


# ---------------------------------------------------------------------------
# last year's problems judged again
# ---------------------------------------------------------------------------

def _follow_up_rows(result: EvaluationResult, department_id: str | None = None) -> pd.DataFrame | None:
    if result.findings is None or not len(result.findings.follow_up):
        return None
    f = result.findings.follow_up
    return f if department_id is None else f[f["department_id"] == str(department_id)]


def follow_up_summary(result: EvaluationResult, lang: str, department_id: str | None = None) -> str | None:
    """Counts of last year's problems by verdict, in a sentence (None without a returned workbook)."""
    f = _follow_up_rows(result, department_id)
    if f is None or not len(f):
        return None
    n = f["verdict"].value_counts()
    return label("follow_up_summary", lang, year=int(f["previous_year"].iloc[0]), n=len(f),
                 fixed=int(n.get("fixed", 0)), not_fixed=int(n.get("not_fixed", 0)),
                 reopened=int(n.get("reopened", 0)), unverifiable=int(n.get("not_verifiable", 0)))


def follow_up_table(result: EvaluationResult, department_id: str, lang: str) -> TableSpec | None:
    """Last year's problems of the department with the reported status and this year's verdict."""
    f = _follow_up_rows(result, department_id)
    if f is None or not len(f):
        return None
    heads = ["#", label("problem", lang), label("last_year_evidence", lang), label("reported_status", lang),
             label("this_year", lang), label("verdict", lang)]
    rows = []
    for _, r in f.iterrows():
        item = {"kind": r["kind"], "item": r["item"], "item_label": "", "item_label_en": "",
                "indicator_id": r["indicator_id"] or _indicator_of(result, r["key"])}
        title = problem_title(result, item, lang)
        status = (STATUSES[r["reported_status"]][0 if lang == "zh" else 1] if r["reported_status"] in STATUSES
                  else label("status_blank", lang))
        now = (f"{count_text(r['count'])}/{count_text(r['base'])}" if not missing(r["count"])
               else (DASH if r["verdict"] != "fixed" else "0"))
        before = f"{count_text(r['previous_count'])}/{count_text(r['previous_base'])}"
        rows.append([r["previous_problem_no"], title, before,
                     status, now, label(f"verdict_{r['verdict']}", lang)])
    return TableSpec(heads, ["int", "text", "text", "text", "text", "text"], rows)


def _indicator_of(result: EvaluationResult, key: str) -> str:
    """The indicator reading the field of a ``table.field`` key (for texts of a finding absent this year)."""
    table, _, field = str(key).partition(".")
    for spec in result.framework.indicators:
        if spec.table == table and spec.field == field:
            return spec.id
    return ""


# ---------------------------------------------------------------------------
# across departments (the city report)
# ---------------------------------------------------------------------------

def common_items(result: EvaluationResult, lang: str, *, top: int = 8) -> list[str]:
    """The findings shared by most departments, each a sentence with its evidence counts."""
    if result.findings is None:
        return []
    common = result.findings.common
    common = common[common["n_departments"] >= 2].head(top)
    out = []
    for _, c in common.iterrows():
        row = _row_of(result, c["key"])
        title = problem_title(result, row, lang)
        evidence = ""
        if not missing(c["count"]) and not missing(c["base"]) and float(c["base"]) > 0:
            evidence = label("s3_common_count", lang, count=count_text(c["count"]), base=count_text(c["base"]),
                             rate=f"{100 * float(c['count']) / float(c['base']):.1f}%",
                             unit=unit_text(c["kind"], c["item"], lang))
        if int(c["n_beyond_noise"]):
            evidence += label("s3_common_noise", lang, k=int(c["n_beyond_noise"]))
        out.append(label("s3_common_item", lang, title=title, n=int(c["n_departments"]),
                         names=names_text(result, str(c["departments"]).split(";"), lang), evidence=evidence))
    return out


def _row_of(result: EvaluationResult, key: str):
    p = result.findings.problems
    return p[p["key"] == key].iloc[0]


def common_table(result: EvaluationResult, lang: str, *, top: int | None = None) -> TableSpec | None:
    """Every finding with the number of departments, total count and points at stake (workbook: all)."""
    if result.findings is None or not len(result.findings.common):
        return None
    common = result.findings.common if top is None else result.findings.common.head(top)
    rows = [[problem_title(result, _row_of(result, c["key"]), lang), int(c["n_departments"]), c["count"], c["base"],
             int(c["n_beyond_noise"]), c["points_at_stake"], names_text(result, str(c["departments"]).split(";"), lang,
                                                                        limit=50 if top is None else 3)]
            for _, c in common.iterrows()]
    heads = [label("problem", lang), label("n_departments_short", lang), label("total_count", lang),
             label("base_head", lang), label("n_beyond_noise", lang), label("points_total", lang),
             label("department", lang)]
    return TableSpec(heads, ["text", "int", "int", "int", "int", "gain", "text"], rows)


def own_problems_table(result: EvaluationResult, lang: str, *, k: int = 3) -> TableSpec | None:
    """Each evaluated department (ranking order) with its three largest problems and its number of problems."""
    if result.findings is None:
        return None
    deps = result.departments[result.departments["index"].notna()].sort_values(["rank", "department_id"])
    names = department_names(result, lang)
    rows = []
    for dep in deps["department_id"]:
        own = department_problems(result, dep)
        main = sep(lang).join(f"{int(r['problem_no'])}. {problem_title(result, r, lang)}"
                              for _, r in own.head(k).iterrows()) or label("no_problems", lang)
        rows.append([names.get(dep, dep), main, len(own)])
    return TableSpec([label("department", lang), label("main_problems", lang), label("n_problems", lang)],
                     ["text", "text", "int"], rows)


def recommendations(result: EvaluationResult, lang: str) -> list[str]:
    """Recommendations, one per kind of finding, each citing its evidence; most index points at stake first.

    Gate findings come first (the deductions are points already lost, and
    records that are not genuine undermine every other figure).
    """
    if result.findings is None or not len(result.findings.problems):
        return []
    p = result.findings.problems
    out: list[tuple[float, str]] = []
    gates = p[p["kind"].isin(["gate_g1", "never_handled", "gate_g3"])]
    if len(gates):
        out.append((np.inf, label("rec_gate", lang, names=names_text(result, _by_points(gates), lang),
                         count=count_text(gates["count"].sum()),
                         audit=f"{result.framework.gates.g1_audit_threshold:g}")))
    g2 = p[p["kind"] == "gate_g2"]
    if len(g2):
        out.append((np.inf, label("rec_gate_g2", lang, names=names_text(result, _by_points(g2), lang))))
    checklist = p[p["kind"] == "checklist"]
    if len(checklist):
        counts = checklist.groupby("key")["department_id"].nunique().sort_values(ascending=False, kind="mergesort")
        items = [_item(_row_of(result, k), lang) for k in counts.index[:3]]
        out.append((checklist["points_at_stake"].sum(), label(
            "rec_checklist", lang, n=checklist["department_id"].nunique(), items=listing(items, lang))))
    for (kind, item), g in p[p["kind"].isin(["share", "census_share"])].groupby(["kind", "item"], sort=False):
        key = f"rec_{item}"
        fields = {"n": g["department_id"].nunique(), "count": count_text(g["count"].sum()),
                  "names": names_text(result, _by_points(g), lang, limit=3)}
        points = g["points_at_stake"].sum()
        if key in LABELS:
            out.append((points, label(key, lang, **fields)))
        else:
            out.append((points, label("rec_generic", lang, title=problem_title(result, g.iloc[0], lang), **fields)))
    for kind in ("survey_item", "indicator"):
        g = p[p["kind"] == kind]
        if len(g):
            counts = g.groupby("indicator_id")["department_id"].nunique().sort_values(ascending=False, kind="mergesort")
            items = [indicator_name(result, i, lang) for i in counts.index[:4]]
            out.append((g["points_at_stake"].sum(), label(f"rec_{kind}", lang, items=listing(items, lang),
                                                          n=g["department_id"].nunique())))
    themes = p[p["kind"] == "comment_theme"]
    if len(themes):
        out.append((0.0, label("rec_comment_theme", lang, items=listing(
            [problem_title(result, r, lang) for _, r in themes.drop_duplicates("key").iterrows()][:4], lang))))
    order = sorted(range(len(out)), key=lambda k: -out[k][0])  # stable: equal points keep their order
    return [out[k][1] for k in order]


def _by_points(g: pd.DataFrame) -> list[str]:
    """Department ids of ``g``, largest points at stake (then count) first."""
    order = g.groupby("department_id").agg(p=("points_at_stake", "sum"), c=("count", "sum"))
    return list(order.sort_values(["p", "c"], ascending=False, kind="mergesort").index)
