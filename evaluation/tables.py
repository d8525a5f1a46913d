"""The contract machinery of the result tables: every table a frame with its column constant's columns."""

from __future__ import annotations

from typing import ClassVar

import pandas as pd


def check_table(owner: object, name: str, frame: object, columns) -> None:
    """A result table must be a frame with its contract's columns: anything else is a defect, said so."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{type(owner).__name__}.{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{type(owner).__name__}.{name} lacks the contract columns {missing}")


class TableGroup:
    """Shared behaviour of the table groups: checked columns and the output file names."""

    #: attribute -> (file name in ``results/``, column constant)
    CONTRACT: ClassVar[dict] = {}

    def __post_init__(self):
        for attr, (_, columns) in self.CONTRACT.items():
            check_table(self, attr, getattr(self, attr), columns)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the group under its file name (``results/<name>.csv``)."""
        return {file: getattr(self, attr) for attr, (file, _) in self.CONTRACT.items()}
