"""``minping trend``: year over year changes from the project's results history.

Reads ``<project folder>/history.sqlite`` (written by every ``minping run``,
see :mod:`minping.history`), optionally imports published rankings first,
computes :func:`evaluation.trends.trends`, prints a summary and writes
``OUT/trends.csv``, ``OUT/rank_changes.csv`` and ``OUT/movers.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from evaluation.trends import trends
from minping.history import history_path, load_history
from minping.outputs import default_out
from minping.pipeline import write_trend_tables
from minping.published import import_published
from surveys.errors import FrameworkError, Problem
from surveys.project import load_project


def add_trend_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``trend`` sub-command to the ``minping`` parser."""
    t = subparsers.add_parser(
        "trend", help="year over year: changes with intervals and tests, rank changes, movers",
        description="Compare the years recorded in the project's history (history.sqlite): per department and "
                    "dimension the change with its interval and test, multiplicity control across departments, "
                    "rank changes with intervals, the most improved and declined, consequence flags.")
    t.add_argument("project", nargs="?", default="project.toml", help="project file or folder (default: %(default)s)")
    t.add_argument("--years", type=int, nargs="+", metavar="YEAR",
                   help="years to compare, consecutive pairs (default: every recorded year)")
    t.add_argument("--level", type=float, help="confidence level (default: the framework's)")
    t.add_argument("--p-adjust", choices=["holm", "bh"], default="holm",
                   help="multiplicity control across departments: Holm or Benjamini-Hochberg (default: %(default)s)")
    t.add_argument("--seed", type=int, help="seed of the rank-change simulation (default: the project's)")
    t.add_argument("--top", type=int, default=3, help="departments per movers list (default: %(default)s)")
    t.add_argument("--out", help="output folder (default: output/ beside the project file)")
    t.add_argument("--import-published", nargs=2, action="append", metavar=("YEAR", "FILE"),
                   help="first record a published ranking (XLSX/CSV) for YEAR whose raw data are gone (repeatable)")
    t.set_defaults(func=cmd_trend)
    return t


def cmd_trend(args) -> int:
    """Run the ``trend`` command; returns the exit code."""
    project = load_project(args.project)
    framework = project.load_framework()
    db = history_path(project.root)
    for year, file in args.import_published or []:
        try:
            year = int(year)
        except ValueError:
            raise FrameworkError("--import-published needs a year and a file", [Problem(
                f"'{year}' is not a year", fix="write --import-published 2022 ranking_2022.xlsx")]) from None
        path = Path(file)
        rows = import_published(db, path, year, framework=framework)
        note = "" if rows["se"].notna().all() else " (no standard errors: changes against it cannot be tested)"
        print(f"imported {len(rows)} departments for {year} from {path}{note}")
    level = framework.confidence_level if args.level is None else args.level
    seed = project.seed if args.seed is None else args.seed
    tables = trends(load_history(db), args.years, level=level, seed=seed, p_adjust=args.p_adjust, k=args.top,
                    frameworks=framework.lineage)
    out = Path(args.out) if args.out else default_out(project.root)
    written = write_trend_tables(out, tables)
    print("\n".join(summary_lines(tables, level=level, p_adjust=args.p_adjust)))
    print("written: " + ", ".join(str(p) for p in written))
    return 0


def _signed(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{x:+.1f}"


def summary_lines(tables: dict[str, pd.DataFrame], *, level: float, p_adjust: str) -> list[str]:
    """A readable summary: per pair of years the movers, significant counts, crosswalk, flags and caveats."""
    tr, ranks, movers = tables["trends"], tables["rank_changes"], tables["movers"]
    pct = round(level * 100)
    method = {"holm": "Holm", "bh": "Benjamini-Hochberg"}[p_adjust]
    lines = []
    idx = tr[(tr["measure"] == "index") & tr["previous_year"].notna()]
    for (t, s), g in idx.groupby(["year", "previous_year"]):
        rk = ranks[(ranks["year"] == t)].set_index("department_id")
        lines.append(f"{s} -> {t}: index change per department ({pct}% intervals; tests adjusted across "
                     f"departments by {method})")
        compared = g[g["change"].notna()]
        lines.append(f"  compared: {len(compared)} departments; new: {int((g['mapping'] == 'new').sum())}")
        for kind, word in (("rename", "renamed"), ("merge", "merged (predecessors weighted by case volume)")):
            sel = g[g["mapping"] == kind]
            if len(sel):
                lines.append(f"  {word}: " + ", ".join(f"{r.department_id} <- {r.predecessors.replace(';', '+')}"
                                                        for r in sel.itertuples()))
        m = movers[(movers["year"] == t)]
        for name, title in (("most_improved", "most improved"), ("most_declined", "most declined")):
            sel = m[m["list"] == name]
            lines.append(f"  {title}:" + ("" if len(sel) else " none"))
            for r in sel.itertuples():
                sig = "significant" if r.significant else "not significant"
                p = "" if pd.isna(r.p_adjusted) else f", adjusted p {r.p_adjusted:.3f} ({sig})"
                ci = ("" if pd.isna(r.change_ci_low) else
                      f" [{pct}% CI {_signed(r.change_ci_low)}, {_signed(r.change_ci_high)}]")
                basis = " (comparable indicators only)" if r.basis == "comparable_indicators" else ""
                line = f"    {r.department_id} {r.department}: {_signed(r.change)}{ci}{p}{basis}"
                if r.department_id in rk.index:
                    x = rk.loc[r.department_id]
                    line += f"; rank {int(x['previous_rank'])} -> {int(x['rank'])}"
                    if pd.notna(x["rank_change_low"]):
                        line += f" (change {int(x['rank_change']):+d}, {pct}% interval " \
                                f"{int(x['rank_change_low']):+d} to {int(x['rank_change_high']):+d})"
                lines.append(line)
        sig = g[g["significant"].fillna(False).astype(bool)]
        lines.append(f"  significant changes: {int((sig['change'] > 0).sum())} up, {int((sig['change'] < 0).sum())} "
                     f"down, of {int(g['p_value'].notna().sum())} tested")
        bottom = rk[rk["bottom_of_category_two_years"].astype(bool)]
        for d, x in bottom.iterrows():
            lines.append(f"  consequence: {d} {x['department']} last in category {x['category']} in {s} and {t} "
                         f"({int(x['rank_in_category'])} of {int(x['n_in_category'])})")
        allrows = tr[(tr["year"] == t) & tr["previous_year"].notna()]
        changed = allrows[allrows["comparable"].eq(False).fillna(False).astype(bool)]
        for measure, grp in changed.groupby("measure", sort=False):
            ids = grp["changed_indicators"].iloc[0]
            lines.append(f"  not comparable: {measure} (口径调整，不可比 / definition changed: {ids}); "
                         "see comparable_change")
        unknown = g[g["flags"].str.contains("definitions_unknown", regex=False)]
        if len(unknown):
            lines.append(f"  {s} was imported from a published ranking: definitions cannot be checked")
        untestable = g[g["flags"].str.contains("no_se", regex=False)]
        if len(untestable):
            who = (f"all {len(untestable)} departments" if len(untestable) == len(compared)
                   else ", ".join(untestable["department_id"]))
            lines.append(f"  not testable (无标准误，无法检验 / no standard error): {who}")
    return lines
