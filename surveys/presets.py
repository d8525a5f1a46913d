"""Survey-platform presets: what an export of 问卷星, 问卷网 or 腾讯问卷 looks like, as data.

A questionnaire platform's download has fixed columns of its own (the
answer's number, submission time, time taken, IP address, ...), headers
that carry the question's number (``3、您对本次办事的总体满意度：``), and
markers for questions the respondent skipped (``(跳过)``, ``(空)``).  An
input declares ``preset = "wjx"`` in ``project.toml`` and minping reads the
file as it comes:

- the platform's columns map onto the canonical structural columns
  (``response_id``, ``interview_date``, ``duration_sec``, ``ip_address``,
  ``device_id``); the columns it knows and does not read are ignored
  without a warning;
- each header is *cleaned* before it is matched: question numbering and
  question-type notes are stripped, so that a question maps by its text to
  a framework item's ``name`` or ``aliases`` (or to a line of
  ``[inputs.columns]`` written with the text, with or without its number);
- the skip and empty markers are item non-response (missing, never bad);
- durations with units (``86秒``, ``2分15秒``) are read as seconds, as for
  every input (:func:`surveys.normalize.parse_durations`).

A preset is a small TOML file in ``surveys/presets/`` (its comments say what
it assumes about the platform's export): ``id``, ``name``, ``name_en``,
``tables`` (the canonical tables it applies to), ``missing`` (markers of
item non-response), ``ignore`` (platform columns not read), ``numbering``
and ``annotations`` (regular expressions: a numbering pattern is removed
from the start of a header, or, when it has a group named ``text``, the
header becomes that group; an annotation is removed wherever it matches),
and ``[columns]`` (platform header -> canonical column).  No platform has
code of its own here.  The project's ``[inputs.columns]`` always wins over
the preset.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FrameworkError, Problem
from .keys import LEAF, did_you_mean, unknown_keys
from .schema import TABLES

PRESET_DIR = Path(__file__).with_name("presets")
#: every key a preset file may have (:mod:`surveys.keys`)
PRESET_SHAPE = {"id": LEAF, "name": LEAF, "name_en": LEAF, "tables": LEAF, "missing": LEAF, "ignore": LEAF,
                "numbering": LEAF, "annotations": LEAF, "columns": {"*": LEAF}}
#: what a header ends with that is punctuation, not the question: "您办理事项的部门：", "满意吗？"
_TRAILING = re.compile(r"[\s:：?？。.,，;；*＊]+$")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Preset:
    """A survey platform's export conventions (see the module docstring).

    Attributes
    ----------
    id, name, name_en : str
        ``wjx`` / 问卷星 / its English name.
    tables : tuple of str
        Canonical tables whose inputs may use the preset.
    columns : dict
        Platform header (in :func:`header_key` form) -> canonical column.
    ignore : frozenset of str
        Platform headers (in :func:`header_key` form) deliberately not read.
    missing : tuple of str
        Cell texts that mean the question was not answered.
    numbering, annotations : tuple of re.Pattern
        Header cleaning rules.
    source : str
        The preset file.
    """

    id: str
    name: str
    name_en: str
    tables: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    missing: tuple[str, ...] = ()
    numbering: tuple[re.Pattern, ...] = ()
    annotations: tuple[re.Pattern, ...] = ()
    source: str = ""

    def clean(self, header: str) -> str:
        """The question text of a header: NFKC, numbering and question-type notes removed (first rule that
        matches of each kind)."""
        text = unicodedata.normalize("NFKC", str(header)).strip()
        for pattern in self.annotations:
            text = pattern.sub("", text).strip()
        for pattern in self.numbering:
            match = pattern.search(text)
            if match:
                text = (match.group("text") if "text" in pattern.groupindex else
                        text[:match.start()] + text[match.end():]).strip()
                break
        return text


def header_key(text: str) -> str:
    """The form in which headers and the names they are matched with are compared.

    NFKC, inner whitespace removed, trailing punctuation (``：``, ``？``)
    stripped, so that ``您办理事项的部门：`` matches ``您办理事项的部门``.
    """
    text = _SPACE.sub("", unicodedata.normalize("NFKC", str(text)))
    return _TRAILING.sub("", text)


def available_presets() -> tuple[str, ...]:
    """The ids of the presets shipped in ``surveys/presets/``."""
    return tuple(sorted(p.stem for p in PRESET_DIR.glob("*.toml")))


@functools.lru_cache(maxsize=16)
def load_preset(name: str) -> Preset:
    """The shipped preset ``name`` (``wjx``, ``wenjuan``, ``tencent``), checked.

    Raises
    ------
    FrameworkError
        An unknown preset (with the nearest known one), or a preset file
        with an unknown key, a bad pattern or a column mapped to no
        canonical column of its tables.
    """
    known = available_presets()
    if name not in known:
        raise FrameworkError(f"unknown preset '{name}'", [Problem(
            f"there is no preset '{name}'", code="unknown_preset",
            fix=did_you_mean(name, known) + f"use one of {', '.join(known)} (surveys/presets/), or leave preset out "
                "and map the columns under [inputs.columns]")])
    path = PRESET_DIR / f"{name}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    problems: list[Problem] = []

    def problem(message: str, fix: str) -> None:
        problems.append(Problem(message, fix=fix, file=str(path), code="invalid_preset"))

    unknown_keys(data, PRESET_SHAPE, problem)
    tables = tuple(str(t) for t in data.get("tables", ()))
    for t in tables:
        if t not in TABLES:
            problem(f"preset '{name}': unknown table '{t}'", f"use one of {sorted(TABLES)}")
    names = {c for t in tables if t in TABLES for c in TABLES[t].names}
    columns = {}
    for header, target in data.get("columns", {}).items():
        if target not in names:
            problem(f"preset '{name}' maps '{header}' to '{target}', a column of none of its tables",
                    did_you_mean(target, names) + "map platform columns to canonical structural columns")
        columns[header_key(header)] = str(target)

    def patterns(key: str) -> tuple[re.Pattern, ...]:
        out = []
        for text in data.get(key, ()):
            try:
                out.append(re.compile(text))
            except re.error as exc:
                problem(f"preset '{name}': {key} pattern {text!r} is not a regular expression ({exc})",
                        "correct the pattern")
        return tuple(out)

    preset = Preset(str(data.get("id", name)), str(data.get("name", name)), str(data.get("name_en", name)), tables,
                    columns, frozenset(header_key(h) for h in data.get("ignore", ())),
                    tuple(str(m) for m in data.get("missing", ())), patterns("numbering"),
                    patterns("annotations"), str(path))
    if preset.id != name:
        problem(f"preset file {name}.toml has id '{preset.id}'", f"set id = \"{name}\"")
    if problems:
        raise FrameworkError(f"The preset {path} is invalid", problems)
    return preset
