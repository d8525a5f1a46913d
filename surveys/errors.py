"""Errors and warnings shared by every layer of minping.

Every error carries a list of :class:`Problem` records so that loading can
collect all problems and report them together.  A problem says *where*
(file, row, column, department), *what was found*, *what was expected* and
*how to fix it*.  The command line prints ``str(error)``; no traceback.

Messages quote cells, and a cell may hold a personal number typed in the
wrong column.  Every text of a :class:`Problem`, every error summary and
every :class:`MinpingWarning` passes through
:func:`surveys.privacy.mask_text` when it is made, so no phone or ID number
reaches a terminal, a log or a file through a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from .privacy import mask_text, mask_value


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as possible.

    ``row`` is the row number as a person opening the file would count it
    (the header is row 1 in a one-row-header CSV, so the first data row is 2).
    """

    message: str
    fix: str = ""
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None
    department: str | None = None
    code: str = "invalid"

    def __post_init__(self) -> None:
        # Masked once, here: every way a problem is shown (str, repr, the fields) is then safe.
        for f in fields(self):
            if f.name not in ("file", "row", "code"):
                object.__setattr__(self, f.name, mask_value(getattr(self, f.name)))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        if self.department:
            where.append(f"department {self.department}")
        text = self.message
        if self.value is not None:
            text += f" (found: {self.value!r})"
        if where:
            text = ", ".join(where) + ": " + text
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class MinpingError(Exception):
    """Base class of every error minping raises on purpose."""

    def __init__(self, summary: str, problems: list[Problem] | tuple[Problem, ...] = ()):
        self.summary = mask_text(summary)
        self.problems = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.problems:
            return self.summary
        lines = [f"{self.summary} ({len(self.problems)} problem(s)):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class DataValidationError(MinpingError):
    """Input data cannot be used as it is (structural problems)."""


class FrameworkError(MinpingError):
    """The evaluation framework or project configuration is invalid."""


class MethodologyError(MinpingError):
    """A statistical method cannot be applied as asked (e.g. infeasible margins)."""


class InsufficientDataError(MinpingError):
    """Too little data to compute what was asked."""


class MinpingWarning(UserWarning):
    """Base class of minping warnings; the message is masked (:func:`surveys.privacy.mask_text`)."""

    def __init__(self, *args):
        super().__init__(*(mask_text(a) if isinstance(a, str) else a for a in args))


class SmallSampleWarning(MinpingWarning):
    """A department's sample is below the framework's minimum."""


class NormalisedWeightsWarning(MinpingWarning):
    """Weights did not sum as documented and were rescaled."""


def listing(items: Sequence, shown: int = 2, total: int | None = None) -> str:
    """``C5, C9 and 12 more``: the first ``shown`` items and how many others there are.

    ``total`` is the number of items when ``items`` holds only the first
    of them.

    Examples
    --------
    >>> listing(["C5", "C9", "C12"], shown=2)
    'C5, C9 and 1 more'
    >>> listing([4, 7])
    '4 and 7'
    """
    items = [str(x) for x in items]
    total = len(items) if total is None else total
    if total <= shown and total == len(items):
        return " and ".join(([", ".join(items[:-1])] if len(items) > 1 else []) + items[-1:])
    shown = min(shown, len(items))
    return f"{', '.join(items[:shown])} and {total - shown} more"
