"""Strict configuration: every key and section of a TOML file must be one the toolkit reads.

A misspelt key (``[inputs.desing]``, ``[gate]``, ``confidence_level`` in
the wrong section) is not a default: it is a setting the user believes is
in force.  :func:`unknown_keys` walks a parsed file against a declared
shape and reports every key that shape does not have, with the closest
known key as a "did you mean" suggestion.

A shape is a dict of allowed keys.  A key's value in the shape says what
its value may hold: :data:`ANY` (a value or table of free keys, e.g. the
labels of a scale), :data:`LEAF` (a plain value; a table there is also
refused), a nested shape (a table), or a one-element list holding the shape
of each table of an array of tables (``[[inputs]]``).  The key ``"*"`` in a
shape stands for any key whose value has the given shape (e.g.
``[scales.<name>]``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

ANY = object()
LEAF = object()


def did_you_mean(word: str, options) -> str:
    """``"did you mean 'design'? "`` for the closest of ``options`` (empty when none is close)."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def unknown_keys(data: dict, shape: dict, problem: Callable[[str, str], None], *, path: str = "",
                 where: str = "", hints: dict[str, str] | None = None) -> None:
    """Report every key of ``data`` that ``shape`` does not allow (see the module docstring).

    ``problem(message, fix)`` is called once per unknown key.  ``path`` is the
    dotted TOML name of ``data`` (``inputs.design``) and ``where`` how a
    person finds it in the file (``[[inputs]] number 3, [inputs.design]``).
    ``hints`` gives the fix for keys that belong in another file or section.
    """
    for key, value in data.items():
        name = f"{path}.{key}" if path else str(key)
        if key in shape:
            rule = shape[key]
        elif "*" in shape:
            rule = shape["*"]
        else:
            known = [k for k in shape if k != "*"]
            kind = "section" if isinstance(value, dict) else "key"
            inside = f" in {where}" if where else ""
            fix = (hints or {}).get(key) or (did_you_mean(key, known) + f"the {kind}s read here are "
                                             f"{', '.join(sorted(known)) or 'none'}; remove or rename '{key}'")
            problem(f"unknown {kind} '{key}'{inside}", fix)
            continue
        _check_value(value, rule, problem, name, where, hints)


def _check_value(value, rule, problem, name: str, where: str, hints) -> None:
    if rule is ANY:
        return
    if rule is LEAF:
        if isinstance(value, dict):
            problem(f"'{name}' is a table, but a single value belongs there", f"write {name} = <value>")
        return
    if isinstance(rule, list):
        if not isinstance(value, list):
            problem(f"'{name}' is not a list of tables", f"write each entry as [[{name}]]")
            return
        for k, item in enumerate(value, start=1):
            if isinstance(item, dict):
                unknown_keys(item, rule[0], problem, path=name, where=f"[[{name}]] number {k}", hints=hints)
            else:
                problem(f"'{name}' entry number {k} is not a table", f"write each entry as [[{name}]]")
        return
    if isinstance(rule, dict):
        if not isinstance(value, dict):
            problem(f"'{name}' is a single value, but a table belongs there", f"write it as a [{name}] section")
            return
        unknown_keys(value, rule, problem, path=name, where=f"{where}, [{name}]" if where else f"[{name}]",
                     hints=hints)
