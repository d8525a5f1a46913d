"""The fast paths give exactly what their plain definitions give.

Each test writes the definition the fast code replaced (a Python loop, a
``melt``, a ``nunique``), beside it, and checks equality on data built to hit
the edges: missing values, signed zeros, full-width and non-Latin digits,
repeated unit labels, text where numbers were expected.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.reliability import krippendorff_alpha
from surveys import privacy
from surveys.screens import _straight_lining

# ----------------------------------------------------------------------------- straight-lining


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_straight_lining_is_nunique_equal_one(k, n, min_items, seed):
    rng = np.random.default_rng(seed)
    x = rng.choice([1.0, 2.0, 5.0, np.nan, -0.0, 0.0], size=(n, k), p=[.4, .15, .1, .25, .05, .05])
    answers = pd.DataFrame(x, columns=[f"q{i}" for i in range(k)])
    expected = (answers.notna().sum(axis=1) >= min_items) & (answers.nunique(axis=1, dropna=True) == 1)
    pd.testing.assert_series_equal(_straight_lining(answers, min_items), expected)


def test_straight_lining_keeps_nunique_for_text_answers():
    answers = pd.DataFrame({"a": ["x", "x", None], "b": ["x", "y", None]}, dtype=object)
    assert _straight_lining(answers, 1).tolist() == [True, False, False]


# ----------------------------------------------------------------------------- phone numbers


def _digits_by_definition(s: pd.Series) -> pd.Series:
    return s.map(lambda v: re.sub(r"\D", "", unicodedata.normalize("NFKC", str(v))) if pd.notna(v) else "")


def _hash_by_definition(values: pd.Series, salt: str) -> pd.Series:
    digits = _digits_by_definition(values)
    table = {d: (hashlib.sha256((salt + d).encode()).hexdigest()[:16] if d else None) for d in pd.unique(digits)}
    return digits.map(table).astype("string")


def _mask_by_definition(values: pd.Series) -> pd.Series:
    digits = _digits_by_definition(values)
    out = np.where(digits.str.len() >= 7, digits.str[:3] + "****" + digits.str[-4:], "")
    return pd.Series(out, index=values.index, dtype="string").replace("", pd.NA)


PHONES = ["13912345678", "+86 139-1234-5678", "１３９１２３４５６７８", None, "", "abc", "٣٤٥1391234", "139 1234 5678",
          "12", "1391234567890123", np.nan, "电话13812345678", "  ", "①②③1234567", "13912345678"]


@pytest.mark.parametrize("values", [
    pd.Series(PHONES, dtype=object), pd.Series(PHONES, dtype="string"),
    pd.Series(PHONES, dtype=object, index=range(7, 7 + len(PHONES))),
    pd.Series([13912345678, None, 138.5], dtype=object), pd.Series([13912345678.0, np.nan]),
    pd.Series([], dtype="string"), pd.Series(pd.Categorical(["13912345678", None, "13912345678"])),
    pd.Series([None, None], dtype=object)], ids=lambda s: str(s.dtype) + str(len(s)))
@pytest.mark.parametrize("salt", ["demo-salt", "盐 with spaces", ""])
def test_phone_hash_and_mask_are_the_per_value_definitions(values, salt):
    pd.testing.assert_series_equal(privacy.hash_phone(values, salt), _hash_by_definition(values, salt))
    pd.testing.assert_series_equal(privacy.mask_phone(values), _mask_by_definition(values))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="0123456789 +-()１２３٣x电", max_size=20)), max_size=30))
def test_phone_digits_any_text(texts):
    values = pd.Series(texts, dtype=object)
    pd.testing.assert_series_equal(privacy.hash_phone(values, "s"), _hash_by_definition(values, "s"))
    pd.testing.assert_series_equal(privacy.mask_phone(values), _mask_by_definition(values))


# ----------------------------------------------------------------------------- Krippendorff


def _long_by_melt(frame: pd.DataFrame) -> pd.DataFrame:
    long = frame.melt(var_name="unit", value_name="value", ignore_index=True)
    return long[long["value"].notna()]


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 5), st.integers(1, 25), st.booleans(), st.integers(0, 2**32 - 1))
def test_krippendorff_without_melt_is_the_same(coders, units, repeated_labels, seed):
    rng = np.random.default_rng(seed)
    x = rng.choice([1.0, 2.0, 3.0, 4.0, np.nan], size=(coders, units), p=[.3, .2, .2, .1, .2])
    columns = list(rng.choice(list("abcde"), size=units)) if repeated_labels else None
    frame = pd.DataFrame(x, columns=columns)
    for level in ("nominal", "ordinal", "interval", "ratio"):
        try:
            found = dataclasses.asdict(krippendorff_alpha(frame, level))
        except Exception as exc:  # noqa: BLE001 (the same error must come from the definition)
            found = type(exc).__name__
        try:
            expected = dataclasses.asdict(_alpha_by_melt(frame, level))
        except Exception as exc:  # noqa: BLE001
            expected = type(exc).__name__
        assert found == expected


def _alpha_by_melt(frame: pd.DataFrame, level: str):
    """The coincidence-matrix computation on the long table as ``melt`` makes it (the previous code)."""
    from evaluation import reliability

    long = _long_by_melt(frame)
    if level != "nominal":
        long = long.assign(value=pd.to_numeric(long["value"]).astype(float))
    unit_codes, _ = pd.factorize(long["unit"])
    value_codes, values = pd.factorize(long["value"], sort=level != "nominal")
    counts = np.zeros((unit_codes.max() + 1 if len(unit_codes) else 0, len(values)))
    np.add.at(counts, (unit_codes, value_codes), 1.0)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if counts.shape[0] == 0:
        raise reliability.InsufficientDataError("no pairable values", [])
    weighted = counts / (m - 1.0)[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = reliability._delta(level, np.asarray(values, dtype=object), n_c)
    d_o = float((o * delta).sum() / n)
    d_e = float((np.outer(n_c, n_c) * delta).sum() / (n * (n - 1.0)))
    if d_e == 0.0:
        raise reliability.InsufficientDataError("no variation", [])
    return reliability.KrippendorffResult(alpha=1.0 - d_o / d_e, level=level, observed_disagreement=d_o,
                                          expected_disagreement=d_e, n_values=int(round(n)),
                                          n_units=int(counts.shape[0]), n_coders=int(frame.shape[0]))
