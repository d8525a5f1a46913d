"""The framework file: the shipped default loads, and every invalid case is reported with its fix."""

from __future__ import annotations

import copy
import re
import tomllib
import warnings

import pytest

from surveys.errors import FrameworkError, NormalisedWeightsWarning
from surveys.framework import DEFAULT_FRAMEWORK, load_framework, parse_framework


@pytest.fixture(scope="module")
def raw():
    return tomllib.loads(DEFAULT_FRAMEWORK.read_text(encoding="utf-8"))


def problems_of(data) -> list[str]:
    with pytest.raises(FrameworkError) as err:
        parse_framework(data, source="fw.toml")
    return [str(p) for p in err.value.problems]


def test_default_framework_matches_the_domain_brief():
    fw = load_framework()
    assert fw.id == "fgf-default" and fw.version == "1.0"
    assert [d.weight for d in fw.dimensions] == [25, 20, 20, 15, 10, 10]
    assert len(fw.indicators) == 23
    weights = fw.nominal_weights()
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["D1.1"] == pytest.approx(0.25 * 0.40)
    assert weights["D6.4"] == pytest.approx(0.10 * 0.20)
    channels = {i.id: i.channel for i in fw.indicators}
    assert channels["D2.4"] == "V" and channels["D6.3"] == "H" and channels["D2.1"] == "A"
    assert fw.likert_scores("satisfaction") == {1.0: 0, 2.0: 25, 3.0: 50, 4.0: 75, 5.0: 100}
    assert fw.likert_scores("satisfaction", "cn_common")[5.0] == 100 and fw.likert_scores(
        "satisfaction", "cn_common")[1.0] == 20
    assert fw.scales["satisfaction"].labels["不了解"] is None
    assert len(fw.departments_in(2024)) == 32
    assert {d.id for d in fw.departments_in(2023)} >= {"D92", "B91", "B92"}
    assert fw.predecessors("B01", 2024) == ("B91", "B92")
    assert fw.grade_for(89.99).grade == "B" and fw.grade_for(90).grade == "A" and fw.grade_for(12).grade == "D"
    assert len(fw.sha256) == 64


def test_unknown_channel_and_item(raw):
    data = copy.deepcopy(raw)
    data["indicators"][0]["channel"] = "X"
    data["indicators"][1]["field"] = "q_nothing"
    msgs = problems_of(data)
    assert "file fw.toml: indicator D1.1 has unknown channel 'X'. Fix: use one of ['S', 'C', 'V', 'A', 'H']" in msgs
    assert any(m.startswith("file fw.toml: indicator D1.2 reads unknown item 'q_nothing' of table "
                            "'callback_interviews'. Fix: use one of [") for m in msgs)


def test_duplicate_ids(raw):
    data = copy.deepcopy(raw)
    data["indicators"][1]["id"] = "D1.1"
    data["departments"][1]["id"] = data["departments"][0]["id"]
    msgs = problems_of(data)
    assert "file fw.toml: duplicate indicator id 'D1.1'. Fix: give every indicator a unique id" in msgs
    assert "file fw.toml: duplicate department id 'A01'. Fix: give every department a unique id" in msgs


def test_weights_far_off_are_refused(raw):
    data = copy.deepcopy(raw)
    data["dimensions"][0]["weight"] = 35
    msgs = problems_of(data)
    assert ("file fw.toml: dimension weights sum to 110, not 100. Fix: correct the weights so they sum to 100 "
            "(sums within 1% are rescaled with a warning)") in msgs


def test_weights_slightly_off_are_rescaled_with_a_warning(raw):
    data = copy.deepcopy(raw)
    for ind in data["indicators"]:
        if ind["dimension"] == "D5":
            ind["weight"] = 0.498
    with pytest.warns(NormalisedWeightsWarning, match="indicator weights in dimension D5 sum to 0.996"):
        fw = parse_framework(data)
    assert sum(i.weight for i in fw.indicators if i.dimension == "D5") == pytest.approx(1.0)


def test_dtf_worst_equals_frontier(raw):
    data = copy.deepcopy(raw)
    d21 = next(i for i in data["indicators"] if i["id"] == "D2.1")
    d21["transform"] = {"kind": "dtf", "worst": 0.5, "frontier": 0.5}
    msgs = problems_of(data)
    assert ("file fw.toml: indicator D2.1: distance-to-frontier worst equals frontier (0.5). Fix: set different "
            "worst and frontier values (the score divides by their difference)") in msgs


def test_indicator_in_no_dimension_and_department_in_no_category(raw):
    data = copy.deepcopy(raw)
    data["indicators"][0]["dimension"] = "D9"
    data["departments"][0]["category"] = "Z"
    msgs = problems_of(data)
    assert ("file fw.toml: indicator D1.1 is in no known dimension (dimension = 'D9'). Fix: set dimension to one "
            "of ['D1', 'D2', 'D3', 'D4', 'D5', 'D6']") in msgs
    assert ("file fw.toml: department A01 (发展和改革委员会) is in no known category (category = 'Z'). Fix: set "
            "category to one of ['A', 'B', 'C', 'D', 'E']") in msgs


def test_all_problems_are_reported_together(raw):
    data = copy.deepcopy(raw)
    data["indicators"][0]["channel"] = "X"
    data["indicators"][2]["measure"] = "median"
    data["departments"][0]["tier"] = "XL"
    data["crosswalk"][0]["predecessors"] = ["Q99"]
    with pytest.raises(FrameworkError) as err:
        parse_framework(data, source="fw.toml")
    text = str(err.value)
    assert "problem(s)" in text
    assert "unknown channel 'X'" in text and "unknown measure 'median'" in text
    assert "unknown volume tier 'XL'" in text and "department 'Q99' is not in the register" in text


def test_likert_transform_on_a_share_and_share_without_success(raw):
    data = copy.deepcopy(raw)
    d23 = next(i for i in data["indicators"] if i["id"] == "D2.3")
    d23["transform"] = {"kind": "likert"}
    d23.pop("success")
    msgs = problems_of(data)
    assert ("file fw.toml: indicator D2.3: transform 'likert' only applies to measure 'likert'. Fix: use percent, "
            "dtf or identity") in msgs
    assert ("file fw.toml: indicator D2.3 is a share without success codes. Fix: add success = [codes that count "
            "as success]") in msgs


def test_unreadable_and_invalid_toml(tmp_path):
    with pytest.raises(FrameworkError, match="Cannot read the framework file"):
        load_framework(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[framework\nid = 1", encoding="utf-8")
    with pytest.raises(FrameworkError, match="not valid TOML"):
        load_framework(bad)


def test_variants_are_replacements():
    from dataclasses import replace

    fw = load_framework()
    variant = replace(fw, likert_preset="cn_common")
    assert variant.likert_scores("satisfaction")[1.0] == 20 and fw.likert_scores("satisfaction")[1.0] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_framework()


# ---------------------------------------------------------------------------
# the framework's own questions ([[items]]) and strict keys
# ---------------------------------------------------------------------------

def _default():
    return tomllib.loads(DEFAULT_FRAMEWORK.read_text(encoding="utf-8"))


def test_items_become_columns_of_the_tables():
    fw = load_framework()
    assert fw.tables["survey"].column("q_overall").zh == "总体满意度"
    assert fw.tables["survey"].column("q_overall").en == "Overall satisfaction"
    assert len(fw.item_ids("visits", kind="checklist")) == 25
    assert fw.item("visits", "c01").name == "窗口标识清晰"
    # the demo generator asks exactly the questions the default framework declares
    from minping.synthetic.config import CHECKLIST_ITEMS, SURVEY_ITEMS
    assert fw.item_ids("survey") == tuple(SURVEY_ITEMS)
    assert fw.item_ids("visits", kind="checklist") == CHECKLIST_ITEMS


def test_an_item_of_ones_own_on_a_scale_of_ones_own():
    data = _default()
    data["scales"]["trips_city"] = {"kind": "count", "codes": [1, 2, 3], "labels": {"跑了1次": 1, "跑了2次": 2}}
    data["items"].append({"table": "survey", "id": "q_trips", "name": "跑了几次", "name_en": "Trips",
                          "scale": "trips_city", "aliases": ["您为办这件事跑了几次？"]})
    fw = parse_framework(data)
    col = fw.tables["survey"].column("q_trips")
    assert (col.scale, col.aliases) == ("trips_city", ("您为办这件事跑了几次？",))


@pytest.mark.parametrize("item, message", [
    ({"table": "survey", "id": "q_x", "scale": "satisfactoin"}, "did you mean 'satisfaction'"),
    ({"table": "surveys", "id": "q_x", "scale": "satisfaction"}, "did you mean 'survey'"),
    ({"table": "survey", "id": "weight", "kind": "number"}, "built-in column"),
    ({"table": "survey", "id": "q_overall", "scale": "satisfaction"}, "also item number 1"),
    ({"table": "survey", "id": "q_x", "kind": "numbr"}, "did you mean 'number'"),
])
def test_bad_items_are_refused_with_the_fix(item, message):
    data = _default()
    data["items"].append(item)
    with pytest.raises(FrameworkError, match=re.escape(message)):
        parse_framework(data)


def test_indicator_on_an_undeclared_item_says_how_to_declare_it():
    data = _default()
    data["indicators"][0]["field"] = "q_overal"
    with pytest.raises(FrameworkError) as err:
        parse_framework(data)
    assert "did you mean 'q_overall'" in str(err.value) and "[[items]]" in str(err.value)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.__setitem__("gate", d.pop("gates")), "unknown section 'gate'. Fix: did you mean 'gates'"),
    (lambda d: d["framework"].__setitem__("confidnce_level", 0.9), "did you mean 'confidence_level'"),
    (lambda d: d["indicators"][2].__setitem__("wieght", 0.2), "did you mean 'weight'"),
    (lambda d: d["scales"]["satisfaction"].__setitem__("top_boxes", [5]), "did you mean 'top_box'"),
])
def test_unknown_framework_keys_are_errors(edit, message):
    data = _default()
    edit(data)
    with pytest.raises(FrameworkError, match=re.escape(message)):
        parse_framework(data)


def test_a_scale_need_not_be_named_satisfaction():
    """The 好差评 ratings use the built-in national scale; every other scale name is the framework's own."""
    data = _default()
    data["scales"]["manyi"] = data["scales"].pop("satisfaction")
    for key in ("items", "indicators"):
        for x in data[key]:
            if x.get("scale") == "satisfaction":
                x["scale"] = "manyi"
    fw = parse_framework(data)
    assert "satisfaction" not in fw.scales and fw.tables["ratings"].column("level").scale == "haocha"
    assert fw.scales["haocha"].top_box == (4.0, 5.0) and fw.scales["haocha"].bottom_box == (1.0, 2.0)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["dimensions"][0].__setitem__("weight", "25"), "dimension D1 weight = '25' is not a number"),
    (lambda d: d["indicators"][0].__setitem__("weight", "0.4"), "indicator D1.1 weight = '0.4' is not a number"),
    (lambda d: d["framework"].__setitem__("confidence_level", "95%"), "confidence_level = '95%' is not a number"),
    (lambda d: d["gates"].__setitem__("g4_min_survey", 49.5), "g4_min_survey = 49.5 is not a whole number"),
    (lambda d: d["gates"].__setitem__("g1_threshold", "95"), "[gates] g1_threshold = '95' is not a number"),
    (lambda d: d["grades"][0].__setitem__("min", "九十"), "grade A min = '九十' is not a number"),
    (lambda d: d["scales"]["satisfaction"].__setitem__("codes", [1, 2, "3", 4, 5]), "codes holds '3', not a number"),
    (lambda d: d["screens"].__setitem__("speeder_seconds", "60s"), "speeder_seconds = '60s' is not a number"),
    (lambda d: d["departments"][0].pop("id"), "[[departments]] number 1 has no 'id'"),
])
def test_a_value_of_the_wrong_type_is_a_located_problem_not_a_crash(edit, message):
    data = _default()
    data.setdefault("screens", {})
    edit(data)
    with pytest.raises(FrameworkError, match=re.escape(message)):
        parse_framework(data)
