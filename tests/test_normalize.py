"""Tests of surveys.normalize: numbers, scale codes, dates, yes/no."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.errors import FrameworkError
from surveys.normalize import (
    parse_bool,
    parse_codes,
    parse_dates,
    parse_numbers,
    to_halfwidth,
)

SCALES = tomllib.loads((ROOT / "surveys" / "frameworks" / "default.toml").read_text(encoding="utf-8"))["scales"]
SAT = SCALES["satisfaction"]


def text(values, index=None):
    return pd.Series(values, dtype="string", index=index)


def test_to_halfwidth():
    out = to_halfwidth(text(["８７．５", "－３", "９８％", "Ｑ１　满意", None], index=[5, 6, 7, 8, 9]))
    assert out.tolist()[:4] == ["87.5", "-3", "98%", "Q1 满意"]
    assert out.isna().tolist() == [False] * 4 + [True]
    assert out.index.tolist() == [5, 6, 7, 8, 9]


# -------------------------------------------------------------------- numbers


NUMBER_CASES = [
    ("８７．５", 87.5), ("－３", -3.0), ("98%", 0.98), ("９８％", 0.98), ("1,234", 1234.0), ("1,234.5", 1234.5),
    ("１，２３４", 1234.0), ("85分", 85.0), ("３天", 3.0), ("12.5分钟", 12.5), (" 7 ", 7.0), ("+2", 2.0),
    ("−2", -2.0), ("1e3", 1000.0), (".5", 0.5), ("5个工作日", 5.0),
]
MISSING_CASES = ["—", "——", "-", "无", "/", "N/A", "n/a", "", "   ", "NULL", None]
BAD_NUMBERS = ["abc", "约10分钟", "很久", "1,5", "12,34,5", "2小时", "10-20", ">60", "十", "5.5.5", "%", "分"]


def test_parse_numbers_table():
    cases = [v for v, _ in NUMBER_CASES] + MISSING_CASES + BAD_NUMBERS
    values, bad = parse_numbers(text(cases))
    n, m = len(NUMBER_CASES), len(MISSING_CASES)
    np.testing.assert_allclose(values[:n].to_numpy(), [x for _, x in NUMBER_CASES])
    assert values[n:].isna().all()
    assert bad.tolist() == [False] * (n + m) + [True] * len(BAD_NUMBERS)
    assert values.dtype == np.float64 and bad.dtype == bool


def test_parse_numbers_percent_points_and_units():
    values, _ = parse_numbers(text(["98%", "98", "0.98"]), percent="points")
    assert values.tolist() == [98.0, 98.0, 0.98]
    values, bad = parse_numbers(text(["10分钟", "10分", "10"]), units=("分钟",))
    assert values.tolist()[0::2] == [10.0, 10.0] and bad.tolist() == [False, True, False]
    values, bad = parse_numbers(text(["10", "10分"]), units=())
    assert bad.tolist() == [False, True]
    with pytest.raises(ValueError):
        parse_numbers(text(["1"]), percent="percent")


def test_parse_numbers_keeps_numeric_and_object_columns():
    s = pd.Series([1, 2, 3], index=[10, 20, 30])
    values, bad = parse_numbers(s)
    assert values.tolist() == [1.0, 2.0, 3.0] and values.index.tolist() == [10, 20, 30] and not bad.any()
    values, bad = parse_numbers(pd.Series([5, 2.5, None, "３"], dtype=object))
    assert values.tolist()[:2] == [5.0, 2.5] and values.tolist()[3] == 3.0 and not bad.any()


# ---------------------------------------------------------------------- codes


def test_parse_codes_accepts_codes_labels_and_na():
    cells = ["5", "５", "5.0", " 满意 ", "非常 满意", "ｂａｓｉｃ", "基本满意", "不满意", "非常不满意",
             "9", "９", "不了解", "不适用", "", None, "—",
             "6", "0", "-1", "4.5", "好", "满意度", "=5"]
    codes, bad, na = parse_codes(text(cells), SAT["labels"], SAT["codes"], SAT["na_codes"])
    expected = [5, 5, 5, 4, 5, None, 3, 2, 1] + [None] * 14
    assert [None if np.isnan(c) else c for c in codes] == expected
    assert bad.tolist() == [False] * 5 + [True] + [False] * 3 + [False] * 7 + [True] * 7
    assert na.tolist() == [False] * 9 + [True] * 4 + [False] * 10


def test_parse_codes_numeric_input_and_na_label():
    check = SCALES["checklist"]
    codes, bad, na = parse_codes(pd.Series([1.0, 0.5, 0.0, 0.7, np.nan]), check["labels"], check["codes"],
                                 check["na_codes"])
    assert codes.tolist()[:3] == [1.0, 0.5, 0.0] and bad.tolist() == [False, False, False, True, False]
    for labels in (check["labels"], {k: None if v == "na" else v for k, v in check["labels"].items()}):
        codes, bad, na = parse_codes(text(["达标", "部分达标", "不适用", "N/A", "n/a"]), labels, check["codes"],
                                     check["na_codes"])
        assert codes.tolist()[:2] == [1.0, 0.5]
        assert na.tolist() == [False, False, True, True, True] and not bad.any()


def test_parse_codes_rejects_an_inconsistent_scale():
    with pytest.raises(FrameworkError) as info:
        parse_codes(text(["满意"]), {"满意": 4, "很好": 7}, [1, 2, 3, 4, 5], [9])
    assert "很好" in str(info.value) and info.value.problems[0].fix


# ---------------------------------------------------------------------- dates


DATE_CASES = [
    ("2024年3月5日", "2024-03-05"), ("2024年03月05日 14:30", "2024-03-05 14:30"), ("2024年3月5号", "2024-03-05"),
    ("2024年3月5日14时30分", "2024-03-05 14:30"), ("2024/3/5", "2024-03-05"), ("2024-03-05", "2024-03-05"),
    ("2024.3.5", "2024-03-05"), ("20240305", "2024-03-05"), ("2024-03-05T14:30:15", "2024-03-05 14:30:15"),
    ("2024-03-05 14:30:15.250", "2024-03-05 14:30:15.25"), ("2024-03-05T14:30:15+08:00", "2024-03-05 14:30:15"),
    ("2024/3/5 9:05", "2024-03-05 09:05"), ("２０２４－０３－０５", "2024-03-05"), (" 2024-03-05 ", "2024-03-05"),
    # Excel serials: DATE(2024,3,5) = 45356, DATE(1990,1,1) = 32874, DATE(2100,12,31) = 73415.
    ("45356", "2024-03-05"), ("45356.75", "2024-03-05 18:00"), ("32874", "1990-01-01"), ("73415", "2100-12-31"),
    ("2024-02-29", "2024-02-29"),
]
BAD_DATES = ["2024-02-30", "2023-02-29", "2024年13月1日", "2024-03-05 25:00", "2024-03-05 12:60", "5/3/2024",
             "24/3/5", "2024-03/05", "2024-3", "32873", "73416", "60", "昨天", "2024年3月", "20241305"]


def test_parse_dates_table():
    cells = [c for c, _ in DATE_CASES] + MISSING_CASES + BAD_DATES
    dates, bad = parse_dates(text(cells))
    n, m = len(DATE_CASES), len(MISSING_CASES)
    assert dates.dtype == "datetime64[ns]"
    assert dates[:n].tolist() == [pd.Timestamp(x) for _, x in DATE_CASES]
    assert dates[n:].isna().all()
    assert bad.tolist() == [False] * (n + m) + [True] * len(BAD_DATES)


def test_parse_dates_datetime_and_numeric_input():
    stamps = pd.Series(pd.to_datetime(["2024-03-05", None]))
    dates, bad = parse_dates(stamps)
    assert dates.iloc[0] == pd.Timestamp("2024-03-05") and not bad.any()
    dates, bad = parse_dates(pd.Series([45356, 20240305, 12]))
    assert dates.tolist()[:2] == [pd.Timestamp("2024-03-05")] * 2 and bad.tolist() == [False, False, True]


# ------------------------------------------------------------------------ bool


def test_parse_bool():
    cells = ["是", "有", "Y", "yes", "1", "1.0", "TRUE", "√", "否", "没有", "无", "N", "0", "false", "×",
             "", None, "-", "/", "也许", "2"]
    values, bad = parse_bool(text(cells))
    assert values.dtype == "boolean"
    assert values.tolist()[:15] == [True] * 8 + [False] * 7
    assert values[15:].isna().all()
    assert bad.tolist() == [False] * 19 + [True] * 2
    values, bad = parse_bool(text(["记得", "不记得"]), true=["记得"], false=["不记得"])
    assert values.tolist() == [True, False] and not bad.any()


# -------------------------------------------------------------------- property

_POOL = ([v for v, _ in NUMBER_CASES] + [c for c, _ in DATE_CASES] + MISSING_CASES[:-1] + BAD_NUMBERS + BAD_DATES
         + list(SAT["labels"]) + ["5", "9", "6", "是", "否"])


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.sampled_from(_POOL)), min_size=1, max_size=30),
       seed=st.integers(0, 2**16))
def test_parsers_are_per_cell_and_order_free(cells, seed):
    """Each result depends on its own cell only: equal to parsing the cell alone, and to a shuffled parse."""
    s = text(cells, index=np.arange(len(cells)) * 3)
    order = np.random.default_rng(seed).permutation(len(cells))
    parsers = {
        "numbers": lambda x: parse_numbers(x),
        "codes": lambda x: parse_codes(x, SAT["labels"], SAT["codes"], SAT["na_codes"]),
        "dates": lambda x: parse_dates(x),
        "bool": lambda x: parse_bool(x),
    }
    for name, parse in parsers.items():
        whole = parse(s)
        shuffled = parse(s.iloc[order])
        for part, part_shuffled in zip(whole, shuffled):
            assert part.index.equals(s.index)
            pd.testing.assert_series_equal(part_shuffled, part.iloc[order], obj=name)
        for i in range(0, len(cells), 7):
            alone = parse(s.iloc[[i]])
            for part, part_alone in zip(whole, alone):
                assert part_alone.iloc[0] is part.iloc[i] or part_alone.iloc[0] == part.iloc[i] or (
                    pd.isna(part_alone.iloc[0]) and pd.isna(part.iloc[i])), (name, cells[i])


def test_many_rows_are_parsed_through_their_distinct_values():
    n = 240_000
    s = text(np.resize(np.array(["非常满意", "５", " 满意 ", "不了解", "", "6"], dtype=object), n))
    codes, bad, na = parse_codes(s, SAT["labels"], SAT["codes"], SAT["na_codes"])
    assert np.nansum(codes) == pytest.approx(n / 6 * (5 + 5 + 4))
    assert bad.sum() == n / 6 and na.sum() == n / 6
