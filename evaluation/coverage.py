"""What this year's evaluation rests on: the channels collected, and the checks that could or could not be made.

A file may also lack a column an indicator reads (a call centre's log
without the promised days): :func:`missing_columns` lists each such column
with the files without it, and whether the year holds any value of it at all.

A framework may define indicators on five channels; a year's data may hold
only some of them (a city with questionnaires only).  A channel without a
single row is *not collected*: its indicators drop out, the weights are
renormalised over the indicators present (:mod:`evaluation.index`), and no
gate gives a verdict from it (:func:`evaluation.gates.apply_gates`).  That
is said, not hidden: :func:`channel_coverage` lists every channel of the
framework with what it carries, and :func:`checks` lists every check (gates
and declared roles) with whether it was made and, if not, why.

Record authenticity (G1) also needs the call results to be able to say
"I never handled this": a call centre whose result codes have no such
outcome (only 接通 / 无人接听 / 空号 / 拒访 ...) would read 100% whatever the
truth.  When the year's call results cannot record ``never_handled``
(:attr:`surveys.schema.ChannelData.recordable`), G1 is not assessed, with the
reason ``vocabulary_cannot_record``.
"""

from __future__ import annotations

import pandas as pd

from surveys.framework import Framework
from surveys.schema import CHANNELS, TABLES, ChannelData

CHANNEL_COLUMNS = ["channel", "channel_zh", "channel_en", "collected", "tables", "rows", "n_indicators",
                   "nominal_weight"]
CHECK_COLUMNS = ["check", "assessed", "reason_code", "reason_zh", "reason_en"]
MISSING_COLUMN_COLUMNS = ["table", "column", "indicators", "files", "none_read", "nominal_weight"]


def collected_channels(data: ChannelData) -> frozenset[str]:
    """The channels with at least one validated row this year."""
    return frozenset(TABLES[name].channel for name, df in data.tables.items() if df is not None and len(df))


def channel_coverage(data: ChannelData, framework: Framework) -> pd.DataFrame:
    """Every channel the framework uses: collected or not, its tables and rows, indicators and nominal weight.

    Returns
    -------
    DataFrame with CHANNEL_COLUMNS, one row per channel in framework order:
    ``collected`` (any row this year), ``tables`` (``;``-joined canonical
    tables read), ``rows`` (validated rows in them), ``n_indicators`` and
    ``nominal_weight`` (the channel's indicators' share of the index before
    renormalisation).
    """
    nominal = framework.nominal_weights()
    have = collected_channels(data)
    rows = []
    for code in dict.fromkeys(i.channel for i in framework.indicators):
        inds = [i for i in framework.indicators if i.channel == code]
        tables = sorted({i.table for i in inds})
        n = sum(len(data.tables[t]) for t in tables if data.tables.get(t) is not None)
        rows.append({"channel": code, "channel_zh": CHANNELS[code][0], "channel_en": CHANNELS[code][1],
                     "collected": code in have, "tables": ";".join(tables), "rows": int(n),
                     "n_indicators": len(inds), "nominal_weight": sum(nominal[i.id] for i in inds)})
    return pd.DataFrame(rows, columns=CHANNEL_COLUMNS)


#: reason code -> (zh, en)
REASONS = {
    "channel_not_collected": ("本年度未开展{channel}", "no {channel_en} this year"),
    "role_not_declared": ("指标体系未声明{role}", "the framework declares no {role}"),
    "vocabulary_cannot_record": ("回访拨打结果无法记录“非本人办理”，无法评估记录真实性",
                                 "the call results cannot record a never-handled case"),
}
#: check -> the final call disposition the year's call results must be able to record for it
NEEDS_DISPOSITION = {"G1_authenticity": "never_handled"}
#: check -> (channels whose data it needs, framework role it needs)
CHECKS = {
    "G1_authenticity": (("C",), None),
    "G2_inflation": (("H", "C"), "inflation_indicator"),
    "G3_callback_quality": (("C",), None),
    "G4_survey_sample": (("S",), None),
    "G4_callback_sample": (("C",), None),
    "drivers": (("S",), "outcome"),
    "agreement": (("S", "C"), "agreement"),
    "reform_figures": ((), "reform_figures"),
}


def records_authenticity(data: ChannelData) -> bool:
    """Whether the year's call results can record a never-handled case (True when that is not known)."""
    return data.recordable is None or NEEDS_DISPOSITION["G1_authenticity"] in data.recordable


def checks(data: ChannelData, framework: Framework) -> pd.DataFrame:
    """Each gate and role-based analysis: made or not, and the reason when not (CHECK_COLUMNS)."""
    have = collected_channels(data)
    rows = []
    for check, (channels, role) in CHECKS.items():
        missing = [c for c in channels if c not in have]
        declared = role is None or bool(getattr(framework.roles, role))
        needs = NEEDS_DISPOSITION.get(check)
        if not missing and needs and data.recordable is not None and needs not in data.recordable:
            code = "vocabulary_cannot_record"
            zh, en = REASONS[code]
        elif missing:
            names = "、".join(CHANNELS[c][0] for c in missing)
            names_en = ", ".join(CHANNELS[c][1].lower() for c in missing)
            code, zh, en = "channel_not_collected", REASONS["channel_not_collected"][0].format(channel=names), \
                REASONS["channel_not_collected"][1].format(channel_en=names_en)
        elif not declared:
            code = "role_not_declared"
            zh, en = (r.format(role=f"[roles] {role}") for r in REASONS["role_not_declared"])
        else:
            code = zh = en = ""
        rows.append({"check": check, "assessed": not code, "reason_code": code, "reason_zh": zh, "reason_en": en})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def missing_columns(data: ChannelData, framework: Framework) -> pd.DataFrame:
    """Columns the framework's indicators read that files of the year lack (MISSING_COLUMN_COLUMNS).

    One row per table and column: ``indicators`` (``;``-joined ids reading it),
    ``files`` (``;``-joined files without it), ``none_read`` (no row of the year
    holds a value of the column: the indicators have no data from it at all),
    ``nominal_weight`` (those indicators' share of the index before
    renormalisation).  Empty when every file had every column.
    """
    absent = data.absent
    if absent is None or not len(absent):
        return pd.DataFrame(columns=MISSING_COLUMN_COLUMNS)
    nominal = framework.nominal_weights()
    rows = []
    for (table, column), g in absent.groupby(["table", "column"], sort=False):
        ids = list(dict.fromkeys(i for s in g["indicators"] for i in str(s).split(";") if i))
        df = data.tables.get(table)
        none_read = df is None or column not in df.columns or not df[column].notna().any()
        rows.append({"table": table, "column": column, "indicators": ";".join(ids),
                     "files": ";".join(dict.fromkeys(g["file"])), "none_read": bool(none_read),
                     "nominal_weight": float(sum(nominal.get(i, 0.0) for i in ids))})
    return pd.DataFrame(rows, columns=MISSING_COLUMN_COLUMNS)
