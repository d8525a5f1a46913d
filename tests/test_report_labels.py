"""Every label exists in both languages, once, and the English ones carry no Chinese."""

from __future__ import annotations

import ast
import re
import string
from collections import Counter

import pytest

from reports import labels
from surveys.errors import MinpingError
from tests.conftest import ROOT
from tests.fixtures.report_checks import has_cjk


def test_no_key_defined_twice():
    tree = ast.parse((ROOT / "reports" / "labels.py").read_text(encoding="utf-8"))
    table = next(node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                 and getattr(node.target, "id", "") == "LABELS")
    counts = Counter(k.value for k in table.keys)
    assert [k for k, n in counts.items() if n > 1] == []


def test_each_label_in_both_languages_with_the_same_fields():
    for key, (zh, en) in labels.LABELS.items():
        assert zh and en, key
        assert not has_cjk(en), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (zh, en)]
        assert fields[0] == fields[1], key


def test_every_label_used_in_code_exists():
    used = set()
    for path in (ROOT / "reports").glob("*.py"):
        used |= set(re.findall(r'label\(\s*"([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    assert sorted(used - set(labels.LABELS)) == []


def test_label_lookup():
    assert labels.label("tied_with", "zh", n=3) == "与3个部门无显著差异"
    assert labels.label("tied_with", "en", n=3) == "statistically tied with 3 departments"
    with pytest.raises(MinpingError, match="labels.py"):
        labels.label("no_such_label", "zh")
    with pytest.raises(MinpingError, match="language"):
        labels.label("index", "fr")
