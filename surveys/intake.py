"""What reading set aside, said out loud: the loss check and the report of values that could not be read.

A year whose files lose a large share of their rows is not evaluated quietly:
a questionnaire export whose 1,501 rows were all set aside (durations written
``86秒``, respondent types the table did not know) used to exit 0 and rank
departments on nothing.  :func:`loss_problems` stops ``validate`` and ``run``
when a file loses more than ``[intake] max_loss`` (20%) of its rows, or a
column of it more than that share of its filled cells, once at least
``min_loss`` (10) rows or cells are lost (a handful of rows of a small
file is the ledger's business, not a stop).  The message
names the top reasons with their counts and examples, and, where values
could not be read, the recode lines that would read them
(:func:`surveys.recode.lines_to_add`).  A project that expects a loss (a
call log that also holds last year's calls) accepts it for that input
with ``accept_loss`` (a share, or ``true`` for any).

:func:`unread_report` gives the same lines for files that stay within the
limit, for a warning: every value that could not be read is listed with
its count, never only counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pandas as pd

from .errors import Problem, listing
from .framework import Framework, Intake
from .ledger import REASONS, Ledger
from .recode import lines_to_add
from .schema import ColumnSpec

#: reasons shown in a loss message (the others are counted)
TOP_REASONS = 5


def loss_problems(ledger: Ledger, intake: Intake, framework: Framework, *, accept: Mapping[str, float | None],
                  paths: Mapping[str, str], column_of: Callable[[str, str], ColumnSpec | None]) -> list[Problem]:
    """One problem per file, and per column, that lost more than its share (rule in the module docstring).

    Parameters
    ----------
    ledger : Ledger
        The year's books, every rule applied.
    intake : Intake
        ``max_loss`` and ``min_loss``.
    framework : Framework
        For the recode lines (scales).
    accept : mapping
        Ledger label of each file -> the share the project accepts it to lose
        (None: ``max_loss``).
    paths : mapping
        Ledger label -> the file's path as problems name it.
    column_of : callable
        ``(table, column) -> ColumnSpec`` of the column as the file was read.
    """
    out = []
    rows = ledger.frame()
    cells = ledger.cells_frame()
    unread = ledger.unread_frame()
    for rec in ledger.counts:
        label, table, n, lost = rec["file"], rec["table"], rec["rows_in"], rec["rows_quarantined"]
        limit = accept.get(label) or intake.max_loss
        if not _beyond(lost, n, limit, intake):
            continue
        mine = rows[(rows["file"] == label) & (rows["table"] == table)].drop_duplicates("source_row")
        listed, lines = _unread(unread, label, table, None, column_of, framework)
        out.append(Problem(
            f"table '{table}' lost {lost:,} of its {n:,} rows ({lost / n:.0%}, more than {limit:.0%}): "
            + _reasons(mine) + listed,
            file=paths.get(label, label), code="too_many_rows_lost", fix=_fix(lines, lost / n)))
    for (label, table, column), filled in sorted(ledger.filled.items()):
        mine = cells[(cells["file"] == label) & (cells["table"] == table) & (cells["column"] == column)]
        limit = accept.get(label) or intake.max_loss
        if not _beyond(len(mine), filled, limit, intake):
            continue
        listed, lines = _unread(unread, label, table, column, column_of, framework)
        out.append(Problem(
            f"column '{column}' of table '{table}' lost {len(mine):,} of its {filled:,} filled cells "
            f"({len(mine) / filled:.0%}, more than {limit:.0%}): " + _reasons(mine) + listed,
            file=paths.get(label, label), column=column, code="too_many_cells_lost",
            fix=_fix(lines, len(mine) / filled)))
    return out


def unread_report(ledger: Ledger, label: str, framework: Framework,
                  column_of: Callable[[str, str], ColumnSpec | None]) -> str:
    """The values of file ``label`` that could not be read, and the lines that would read them ("" if none)."""
    unread = ledger.unread_frame()
    unread = unread[unread["file"] == label]
    if unread.empty:
        return ""
    parts = []
    for table in dict.fromkeys(unread["table"]):
        listed, lines = _unread(unread, label, table, None, column_of, framework)
        parts.append(listed.lstrip("; ") + ("\n  to read them, add to project.toml and fill in each value:\n" +
                                        _indent(lines) if lines else ""))
    return "\n".join(parts)


def _fix(lines: str, share: float) -> str:
    read = ("add to project.toml the lines that read the values listed, filling in each value:\n" + _indent(lines)
            + "\n    or correct the column mapping or the preset; ") if lines else \
        "correct the column mapping, the preset or the recodes in project.toml; "
    return (read + "quarantine.csv and cleared_cells.csv of `minping validate` list every row and cell set aside. "
            f"If the loss is expected, accept it for this input: accept_loss = {_share(share)} under its "
            "[[inputs]] (or under [tables.<table>])")


def _indent(lines: str) -> str:
    return "      " + lines.replace("\n", "\n      ")


def _beyond(lost: int, n: int, limit: float, intake: Intake) -> bool:
    return bool(n) and lost / n > limit and lost >= intake.min_loss


def _share(value: float) -> str:
    """The share to accept, rounded up to a hundredth (true for everything)."""
    return "true" if value >= 0.995 else f"{math.ceil(value * 100) / 100:g}"


def _reasons(found: pd.DataFrame) -> str:
    """``missing_required 1,046 (rows 2, 3 and 1,044 more; e.g. ...), ...``: the top reasons by count."""
    if found.empty:
        return "no reason recorded"
    parts = []
    counts = found.groupby("reason_code").size().sort_values(ascending=False, kind="stable")
    for code, n in counts.head(TOP_REASONS).items():
        rows = found[found["reason_code"] == code]
        example = rows["reason_en"].iloc[0]
        en = REASONS[code][1]
        detail = example[len(en) + 2:] if example.startswith(en + ": ") else ""
        where = listing(rows["source_row"].tolist()[:3], shown=3, total=len(rows))
        parts.append(f"{code} {n:,} ({'row' if len(rows) == 1 else 'rows'} {where}"
                     + (f"; e.g. {detail}" if detail else "") + ")")
    rest = len(counts) - TOP_REASONS
    return "; ".join(parts) + (f"; and {rest} more reason(s)" if rest > 0 else "")


def _unread(unread: pd.DataFrame, label: str, table: str, column: str | None,
            column_of: Callable[[str, str], ColumnSpec | None], framework: Framework) -> tuple[str, str]:
    """The values not read in the file (one column, or all) in words, and the recode lines that would read them."""
    mine = unread[(unread["file"] == label) & (unread["table"] == table)]
    if column is not None:
        mine = mine[mine["column"] == column]
    listed, lines = [], []
    for name, grp in mine.groupby("column", sort=False):
        values = grp.groupby("value", as_index=False)["n"].sum()
        top = values.sort_values("n", ascending=False, kind="stable").head(8)
        more = f" and {len(values) - 8} more" if len(values) > 8 else ""
        listed.append(f"; values of '{name}' that could not be read: "
                      + ", ".join(f"'{v}' ({n:,})" for v, n in top[["value", "n"]].itertuples(index=False)) + more)
        col = column_of(table, name)
        if col is not None:
            lines.append(lines_to_add(col, table, values, framework))
    return "".join(listed), "\n".join(lines)


__all__ = ["TOP_REASONS", "loss_problems", "unread_report"]
