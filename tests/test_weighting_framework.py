"""AHP weights declared in the framework file replace the explicit weights, and are recorded."""

from __future__ import annotations

import copy
import tomllib

import pytest

from evaluation.weighting import apply_framework_weighting
from surveys.errors import FrameworkError, MethodologyError
from surveys.framework import DEFAULT_FRAMEWORK, load_framework, parse_framework


def framework_with(weighting):
    data = tomllib.loads(DEFAULT_FRAMEWORK.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["weighting"] = weighting
    return parse_framework(data, source="fw.toml")


def test_explicit_is_the_identity():
    fw = load_framework()
    same, record = apply_framework_weighting(fw)
    assert same is fw
    assert set(record["method"]) == {"explicit"} and len(record) == 6 + 23


def test_ahp_dimension_and_indicator_weights():
    # a consistent matrix gives back its weights exactly: D1 twice D2, D2..D4 equal, D5, D6 half of D2
    comps = [["D1", "D2", 2], ["D1", "D3", 2], ["D1", "D4", 2], ["D1", "D5", 4], ["D1", "D6", 4],
             ["D2", "D3", 1], ["D2", "D4", 1], ["D2", "D5", 2], ["D2", "D6", 2], ["D3", "D4", 1], ["D3", "D5", 2],
             ["D3", "D6", 2], ["D4", "D5", 2], ["D4", "D6", 2], ["D5", "D6", 1]]
    fw = framework_with({"method": "ahp", "dimensions": comps,
                         "indicators": {"D5": {"comparisons": [["D5.1", "D5.2", 3]]}}})
    new, record = apply_framework_weighting(fw)
    w = {d.id: d.weight for d in new.dimensions}
    assert w["D1"] == pytest.approx(200 / 6) and w["D5"] == pytest.approx(50 / 6)
    assert sum(w.values()) == pytest.approx(100)
    assert new.indicator("D5.1").weight == pytest.approx(0.75)
    assert new.indicator("D1.1").weight == pytest.approx(0.40)       # untouched dimension keeps its weights
    dim_rows = record[record["level"] == "dimension"]
    assert (dim_rows["method"] == "ahp:eigenvector").all() and dim_rows["cr"].iloc[0] == pytest.approx(0, abs=1e-9)
    assert (dim_rows["random_index_table"] == "saaty1980").all()


def test_inconsistent_comparisons_are_refused():
    fw = framework_with({"method": "ahp", "indicators": {"D4": {"comparisons": [
        ["D4.1", "D4.2", 9], ["D4.1", "D4.3", 1 / 9], ["D4.1", "D4.4", 1], ["D4.2", "D4.3", 9], ["D4.2", "D4.4", 1 / 9],
        ["D4.3", "D4.4", 9]]}}})
    with pytest.raises(MethodologyError, match="allow_inconsistent"):
        apply_framework_weighting(fw)


def test_bad_weighting_section_is_reported():
    with pytest.raises(FrameworkError) as err:
        framework_with({"method": "ahp", "dimensions": [["D1", "D9", 2], ["D1"]]})
    text = str(err.value)
    assert "'D9' is not one of" in text and "is not [a, b, value]" in text
