"""The evaluator's recodes: a file's own values read as canonical values, before validation.

Exports carry their own words: a questionnaire offers 企业（含个体工商户）
where the survey table knows ``enterprise``, 很满意 where the scale says
非常满意, a call centre writes 转人工 where minping knows no result.  A
project declares, per input (``[inputs.recode.<column>]``) or for every
input of a table (``[tables.<table>.recode.<column>]``), what each value
means::

    [tables.survey.recode.respondent_type]
    "企业（含个体工商户）" = "enterprise"     # several values may give one
    "个体户" = "enterprise"
    [tables.survey.recode."总体满意度"]     # a column by the file's header
    "很满意" = 5                            # a scale code ...
    "说不清" = "na"                         # ... or "na": not applicable
    [tables.callback_attempts.recode.outcome]
    "转人工" = "other"                      # a disposition (surveys.callbacks)

``<column>`` is a canonical column of the table or the file's header of one.
What a value may be recoded to depends on the column: a code of the scale
(or one of its labels, or ``"na"``) for an answer on a scale; a canonical
value (or a label the column knows) for a category; a disposition, or
``"connected"``, for a call result; any text for other columns, which then
is read as if the file held it.  Recodes are compared with the file's cells
after NFKC, case folding and removal of whitespace, like scale labels.

Values that neither the framework nor a recode covers are set aside with a
reason (the cell cleared, or the row quarantined where the field is
required) and reported together with the exact lines to add
(:func:`lines_to_add`, used by :mod:`surveys.intake`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .callbacks import RESULT_TARGETS
from .errors import Problem
from .framework import Framework
from .keys import did_you_mean
from .normalize import MISSING_TOKENS, token_key
from .project import InputSpec
from .schema import ColumnSpec, TableSpec

#: a recode target meaning "not applicable" on a scale
NA = "na"


def category_lookup(col: ColumnSpec) -> dict[str, str]:
    """Every text a category column reads (labels, synonyms, canonical values) -> canonical value, by token."""
    out = {}
    for label, value in (*col.labels, *col.synonyms):
        out[token_key(value)] = value
    for label, value in (*col.labels, *col.synonyms):
        out[token_key(label)] = value
    return out


def resolve(spec: InputSpec, table: TableSpec, framework: Framework, targets: dict[str, str],
            problems: list[Problem]) -> dict[str, dict[str, object]]:
    """The input's recodes by canonical column, each value resolved and checked.

    Parameters
    ----------
    spec : InputSpec
        The input (its ``recode`` after ``[tables.<table>]`` defaults).
    table : TableSpec
        The table the file is read as.
    framework : Framework
        Its scales.
    targets : dict
        The file's headers -> canonical columns (the column mapping).
    problems : list of Problem
        Where a recode of an unknown column or to an impossible value goes.

    Returns
    -------
    dict
        canonical column -> {token of the file's value -> target}: a float
        code or None (N/A) for a code column, a canonical value for a
        category column, a text for the others.
    """
    by_header = {token_key(h): c for h, c in targets.items()}
    out: dict[str, dict[str, object]] = {}
    for column, values in spec.recode.items():
        name = column if column in table.names else by_header.get(token_key(column))
        if name is None:
            problems.append(Problem(
                f"[recode.{column}]: '{column}' is neither a column of table '{table.name}' nor a header of the file",
                file=str(spec.path), column=column, code="unknown_recode_column",
                fix=did_you_mean(column, [*table.names, *targets]) +
                    f"name a column of table '{table.name}' ({', '.join(table.names)}) or a header of the file"))
            continue
        col = table.column(name)
        resolved = {}
        for label, target in values.items():
            value = _target(col, target, framework)
            if isinstance(value, Problem):
                problems.append(Problem(f"[recode.{column}] \"{label}\" = {target!r}: {value.message}",
                                        file=str(spec.path), column=name, code="bad_recode_target", fix=value.fix))
                continue
            resolved[token_key(label)] = value
        out[name] = {**out.get(name, {}), **resolved}
    return out


def _target(col: ColumnSpec, target, framework: Framework):
    """A recode's value as the column reads it, or a Problem saying what the column accepts."""
    if col.kind == "code":
        scale = framework.scales[col.scale]
        if isinstance(target, str):
            key = token_key(target)
            if key == NA:
                return None
            labels = {token_key(k): v for k, v in scale.labels.items()}
            if key in labels:
                return labels[key]
            try:
                target = float(target)
            except ValueError:
                return Problem("not a code or label of the scale", fix=_accepts(col, framework))
        if float(target) in scale.codes:
            return float(target)
        if float(target) in scale.na_codes:
            return None
        return Problem(f"{target} is not a code of scale '{scale.id}'", fix=_accepts(col, framework))
    if col.kind == "category":
        lookup = category_lookup(col)
        key = token_key(target)
        if col.name == "outcome":
            if str(target) in RESULT_TARGETS:
                return str(target)
            if key in lookup:
                return lookup[key]
            return Problem("not a disposition or a known call result", fix=_accepts(col, framework))
        if key in lookup:
            return lookup[key]
        return Problem("not a value of the column", fix=_accepts(col, framework))
    return str(target)


def _accepts(col: ColumnSpec, framework: Framework) -> str:
    """What a recode of ``col`` may give, in words."""
    if col.kind == "code":
        scale = framework.scales[col.scale]
        codes = ", ".join(f"{c:g}" for c in scale.codes)
        return f"give a code of scale '{scale.id}' ({codes}), one of its labels, or \"{NA}\" (not applicable)"
    if col.kind == "category" and col.name == "outcome":
        return f"give one of {', '.join(repr(t) for t in RESULT_TARGETS)} (surveys/callbacks.py)"
    if col.kind == "category":
        values = sorted({v for _, v in col.labels})
        return f"give one of {', '.join(repr(v) for v in values)}"
    if col.unit == "s":
        return "give a number of seconds"
    if col.kind in ("number", "count"):
        return "give a number"
    if col.kind in ("date", "month"):
        return "give a date such as 2024-03-05"
    return "give the text the column should hold"


def placeholder(col: ColumnSpec, value: str, framework: Framework) -> str:
    """The value of a line to add for ``value`` of ``col``: a guess only where one is safe, else empty.

    A category value that contains exactly one known label (企业（含个体
    工商户） holds 企业) is guessed as that label's canonical value; scale
    answers are never guessed (很满意 holds 满意, which is the wrong point).
    """
    if col.kind == "category" and col.name != "outcome":
        key = token_key(value)
        found = {canon for label, canon in (*col.labels, *col.synonyms) if token_key(label) in key}
        if len(found) == 1:
            return found.pop()
    return ""


def apply_markers(df: pd.DataFrame, table: TableSpec, markers: tuple[str, ...]) -> pd.DataFrame:
    """Cells holding a marker of item non-response (``(跳过)``, ``(空)``, ``-3``) as missing; ids untouched."""
    if not markers:
        return df
    keys = {token_key(m) for m in markers}
    numbers = {float(k) for k in keys if _is_number(k)}
    out = df.copy()
    for name in out.columns:
        if name not in table.names or table.column(name).kind == "id":
            continue
        s = out[name]
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            if numbers:
                out[name] = s.where(~s.isin(list(numbers)))
            continue
        codes, uniques = pd.factorize(s)
        hit = np.array([token_key(u) in keys for u in uniques], dtype=bool)
        if hit.any():
            out[name] = s.where(~np.append(hit, False)[codes])
    return out


def apply_text_recodes(s: pd.Series, recode: dict[str, object]) -> pd.Series:
    """A column's cells replaced by their recode (compared as tokens); others unchanged."""
    if not recode:
        return s
    codes, uniques = pd.factorize(s)
    new = [recode.get(token_key(u), u) for u in uniques]
    changed = np.array([n is not u for n, u in zip(new, uniques)], dtype=bool)
    if not changed.any():
        return s
    text = s.astype("string")
    values = pd.Series([str(n) for n in new], dtype="string")
    return text.where(~np.append(changed, False)[codes], values.take(np.maximum(codes, 0)).to_numpy())


def prefix_ids(df: pd.DataFrame, table: TableSpec, prefix: str) -> pd.DataFrame:
    """Every id of the file behind ``prefix`` (a platform numbers answers per questionnaire)."""
    if not prefix:
        return df
    out = df.copy()
    for name in out.columns:
        if name in table.names and table.column(name).kind == "id":
            text = out[name].astype("string").str.strip()
            out[name] = text.where(text.isna() | (text == ""), prefix + text)
    return out


def lines_to_add(col: ColumnSpec, table: str, values: pd.DataFrame, framework: Framework, *, limit: int = 20) -> str:
    """The recode lines that would read ``values`` (``value, n`` per distinct value, most frequent first).

    The lines go under ``[tables.<table>.recode.<column>]`` (every input of
    the table); a comment says what each value may be, and each line carries
    the value's count.  A value that cannot be guessed safely is left empty,
    which the project file refuses until it is filled in, so a pasted line
    never reads data by accident.
    """
    lines = [f"[tables.{table}.recode.{col.name}]",
             "# after each value, what it means: " + _accepts(col, framework).removeprefix("give ")]
    shown = values.sort_values(["n", "value"], ascending=[False, True], kind="stable").head(limit)
    for value, n in zip(shown["value"], shown["n"]):
        guess = placeholder(col, value, framework)
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        note = "; guessed from the label it contains: check it" if guess else ""
        lines.append(f'"{quoted}" = "{guess}"   # {n:,} in the file{note}')
    if len(values) > limit:
        lines.append(f"# ... and {len(values) - limit} more values (see cleared_cells.csv and quarantine.csv)")
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text not in MISSING_TOKENS and text.lower() not in ("nan", "inf", "-inf", "infinity")


__all__ = ["NA", "apply_markers", "apply_text_recodes", "category_lookup", "lines_to_add", "placeholder",
           "prefix_ids", "resolve"]
