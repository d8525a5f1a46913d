"""``minping init DIR``: a blank project of one's own, to fill in.

Writes ``DIR/project.toml`` (one year, a seed and a salt of its own, the
input entries to fill in, commented), ``DIR/framework.toml`` (the shipped
framework with a short example register in place of the demo's 38
departments, to edit) and an empty ``DIR/data/<year>/`` folder.  No history:
the project's first ``minping run`` starts it.  An existing project is never
overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from surveys.errors import FrameworkError, Problem
from surveys.framework import DEFAULT_FRAMEWORK, load_framework

PROJECT_TEMPLATE = '''# {name}: the project file (see the README, "Evaluating your own data").
[project]
name = "{name}"
name_en = "{name}"
framework = "framework.toml"          # the framework you edit; "default" = the one shipped with minping
years = [{year}]
seed = {seed}                         # seeds every random step; keep it, so the numbers can be reproduced
salt = "{salt}"    # hashes phone numbers at the door; keep it secret and unchanged across years

# [periods]                            # the evaluation period (default: the calendar year)
# {year} = ["{year}-01-01", "{year}-12-31"]

# Settings every file of a table shares; an [[inputs]] entry may override them.
# [tables.survey.columns]              # your file's column -> the canonical column or a framework item id
# "问卷编号" = "response_id"
# "被评部门" = "department_id"
# "您对本次办事的总体满意度" = "q_overall"

# One [[inputs]] entry per file (paths relative to this file).  `minping template . --out templates`
# writes an Excel template per table whose headers need no mapping.
# [[inputs]]
# year = {year}
# table = "survey"                     # survey, callback_attempts, callback_interviews, visits, guides,
#                                      # admin_monthly, admin_matters, ratings
# path = "data/{year}/survey.xlsx"
# [inputs.design]                      # optional sampling design: weights, strata, cluster, fpc
# weights = "weight"
'''

EXAMPLE_REGISTER = '''# The department register: replace these examples with your departments.  Stable ids;
# `first_year` / `last_year` bound the years a department exists; `aliases` are other names
# seen in your files; `tier` is the case volume (H > 50k a year, M 5k-50k, L < 5k).

[[departments]]
id = "A01"
name = "示例局一"
name_en = "Example bureau one"
category = "A"
tier = "M"
aliases = ["示例一局"]

[[departments]]
id = "B01"
name = "示例局二"
name_en = "Example bureau two"
category = "B"
tier = "L"

# Renames and merges (none yet): from `year` on, `successor` continues `predecessors`.
# [[crosswalk]]
# year = {year}
# successor = "A01"
# predecessors = ["A91"]
# kind = "rename"
'''

FRAMEWORK_HEADER = '''# The evaluation framework of this project, to edit.  It starts as a copy of the framework
# shipped with minping: its dimensions, indicators and weights, the questions ([[items]]),
# scales, gates, grades and categories.  Change the id (and version) when you change what is
# measured; an indicator's `version` says when its definition changed (only equal versions
# are compared across years).  Every key is checked: a misspelt one is an error.

'''


def write_blank_project(folder: str | Path, *, year: int | None = None) -> Path:
    """Write a blank project into ``folder`` (created); return the path of its project file.

    Raises
    ------
    FrameworkError
        when ``folder`` already holds a project (a ``project.toml``, a
        ``framework.toml`` or a results history): nothing is overwritten.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FrameworkError("Cannot create the project", [Problem(
            "a file stands where the project folder should be", file=str(folder), fix="choose a folder name")])
    taken = [p for p in ("project.toml", "framework.toml", "history.sqlite") if (folder / p).exists()]
    if taken:
        raise FrameworkError("The folder already holds a project", [Problem(
            f"{', '.join(taken)} already there", file=str(folder),
            fix="choose a new folder for a new project; to work on this one, edit its files and run "
                "`minping validate` / `minping run`")])
    year = int(year or dt.date.today().year)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data" / str(year)).mkdir(parents=True, exist_ok=True)
    text = DEFAULT_FRAMEWORK.read_text(encoding="utf-8")
    start = text.index("# The department register.")
    framework = FRAMEWORK_HEADER + text[:start] + EXAMPLE_REGISTER.format(year=year)
    framework = re.sub(r'(?m)^id = "fgf-default"$', 'id = "my-evaluation"', framework, count=1)
    (folder / "framework.toml").write_text(framework, encoding="utf-8")
    load_framework(folder / "framework.toml")  # what init writes must load
    project = folder / "project.toml"
    project.write_text(PROJECT_TEMPLATE.format(name=folder.resolve().name, year=year, seed=secrets.randbelow(10**8),
                                               salt=secrets.token_hex(16)), encoding="utf-8")
    return project
