"""What this year's evaluation rests on: the channels collected, and the checks that could or could not be made.

A framework may define indicators on five channels; a year's data may hold
only some of them (a city with questionnaires only).  A channel without a
single row is *not collected*: its indicators drop out, the weights are
renormalised over the indicators present (:mod:`evaluation.index`), and no
gate gives a verdict from it (:func:`evaluation.gates.apply_gates`).  That
is said, not hidden: :func:`channel_coverage` lists every channel of the
framework with what it carries, and :func:`checks` lists every check (gates
and declared roles) with whether it was made and, if not, why.
"""

from __future__ import annotations

import pandas as pd

from surveys.framework import Framework
from surveys.schema import CHANNELS, TABLES, ChannelData

CHANNEL_COLUMNS = ["channel", "channel_zh", "channel_en", "collected", "tables", "rows", "n_indicators",
                   "nominal_weight"]
CHECK_COLUMNS = ["check", "assessed", "reason_code", "reason_zh", "reason_en"]


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
}
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


def checks(data: ChannelData, framework: Framework) -> pd.DataFrame:
    """Each gate and role-based analysis: made or not, and the reason when not (CHECK_COLUMNS)."""
    have = collected_channels(data)
    rows = []
    for check, (channels, role) in CHECKS.items():
        missing = [c for c in channels if c not in have]
        declared = role is None or bool(getattr(framework.roles, role))
        if missing:
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
