"""An independent stratified cluster survey for checking what ``minping run`` publishes.

Four departments are the strata; intercept days are the clusters (3, 4, 6 and 8 days, so the
design degrees of freedom are 2, 3, 5 and 7); each respondent has an unequal sampling weight;
``q_easier`` carries the N/A code 9 (首次办理, excluded) and ``q_overall`` a few too.  The
numbers come from a fixed linear congruential generator written out here, so the file is the
same on every machine and under every numpy version, and ``published_case.R`` (R ``survey``)
can read exactly what the test gives ``minping``.

``write_case(folder)`` writes ``survey.csv``, ``margins.csv`` (totals of respondent type and
interview mode per department, for the calibrated run), ``framework.toml`` (survey indicators
only, so that no gate moves the index) and ``project.toml`` (with ``calibrate=True`` the
survey is raked to ``margins.csv``).  Run as a script it writes them into its own folder's
``published_case/`` for the R script.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DEPARTMENTS = (("X01", 3, 20), ("X02", 4, 15), ("X03", 6, 12), ("X04", 8, 10))  # id, days, respondents a day
ITEMS = ("q_overall", "q_easier", "q_speed", "q_ease", "q_fair")
YEAR = 2024


class _Lcg:
    """Numerical Recipes' 32-bit linear congruential generator: the same numbers everywhere."""

    def __init__(self, seed: int):
        self.state = seed & 0xFFFFFFFF

    def uniform(self) -> float:
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state / 2**32

    def choice(self, probs) -> int:
        u, acc = self.uniform(), 0.0
        for k, p in enumerate(probs):
            acc += p
            if u < acc:
                return k
        return len(probs) - 1


def survey_rows() -> list[dict]:
    rng = _Lcg(20240611)
    rows = []
    rid = 0
    for d, (dept, days, per_day) in enumerate(DEPARTMENTS):
        for day in range(days):
            # a day effect shifts every answer of the day: the clustering the design must see
            shift = rng.uniform() * 0.5 - 0.25 + 0.1 * d
            for _ in range(per_day):
                rid += 1
                lean = rng.uniform() * 0.4 - 0.2 + shift
                row = {"response_id": f"R{rid:05d}", "department_id": dept,
                       "interview_date": f"{YEAR}-{3 + d:02d}-{1 + day:02d}",
                       "respondent_type": "enterprise" if rng.uniform() < 0.3 else "citizen",
                       "mode": "sms" if rng.uniform() < 0.4 else "hall",
                       "weight": f"{1.0 + 4.0 * rng.uniform():.3f}",
                       "cluster": f"{dept}-{day + 1}"}
                for item in ITEMS:
                    base = [0.03, 0.07, 0.25, 0.40, 0.25]
                    tilt = [b * (1.0 + lean * (k - 2)) for k, b in enumerate(base)]
                    total = sum(tilt)
                    code = 1 + rng.choice([t / total for t in tilt])
                    if item == "q_easier" and rng.uniform() < 0.12:
                        code = 9
                    if item == "q_overall" and rng.uniform() < 0.03:
                        code = 9
                    row[item] = code
                rows.append(row)
    return rows


def margins_rows(rows: list[dict]) -> list[dict]:
    """Population totals per department: respondent type and mode (sums of weights, moved a little)."""
    out = []
    for dept, _, _ in DEPARTMENTS:
        sub = [r for r in rows if r["department_id"] == dept]
        total = sum(float(r["weight"]) for r in sub) * 1.5
        for variable, levels, shares in (("respondent_type", ("citizen", "enterprise"), (0.65, 0.35)),
                                         ("mode", ("hall", "sms"), (0.55, 0.45))):
            for level, share in zip(levels, shares):
                out.append({"department_id": dept, "variable": variable, "level": level,
                            "total": f"{total * share:.4f}"})
    return out


FRAMEWORK = '''[framework]
id = "published-case"
version = "1"
name = "发布口径核对"
name_en = "Published uncertainty check"
likert_preset = "linear"
confidence_level = 0.95
share_interval = "logit"

[scales.satisfaction]
kind = "likert"
codes = [1, 2, 3, 4, 5]
na_codes = [9]
top_box = [4, 5]
bottom_box = [1, 2]

[scales.easier]
kind = "likert"
codes = [1, 2, 3, 4, 5]
na_codes = [9]
top_box = [4, 5]
bottom_box = [1, 2]

[scales.agreement]
kind = "likert"
codes = [1, 2, 3, 4, 5]
na_codes = [9]
top_box = [4, 5]
bottom_box = [1, 2]

[[items]]
table = "survey"
id = "q_overall"
name = "总体满意度"
scale = "satisfaction"

[[items]]
table = "survey"
id = "q_easier"
name = "与一年前相比办事难易"
scale = "easier"

[[items]]
table = "survey"
id = "q_speed"
name = "办事效率满意度"
scale = "satisfaction"

[[items]]
table = "survey"
id = "q_ease"
name = "办事便捷度满意度"
scale = "satisfaction"

[[items]]
table = "survey"
id = "q_fair"
name = "受到公平对待"
scale = "agreement"

[[dimensions]]
id = "D1"
name = "总体"
weight = 60

[[dimensions]]
id = "D2"
name = "便利与公平"
weight = 40

[[indicators]]
id = "D1.1"
dimension = "D1"
name = "总体满意度"
channel = "S"
table = "survey"
field = "q_overall"
scale = "satisfaction"
measure = "likert"
transform = { kind = "likert" }
weight = 0.5

[[indicators]]
id = "D1.2"
dimension = "D1"
name = "改革获得感"
channel = "S"
table = "survey"
field = "q_easier"
scale = "easier"
measure = "likert"
transform = { kind = "likert" }
weight = 0.3

[[indicators]]
id = "D1.3"
dimension = "D1"
name = "效率满意率"
channel = "S"
table = "survey"
field = "q_speed"
scale = "satisfaction"
measure = "share"
success = [4, 5]
transform = { kind = "percent" }
weight = 0.2

[[indicators]]
id = "D2.1"
dimension = "D2"
name = "便捷度"
channel = "S"
table = "survey"
field = "q_ease"
scale = "satisfaction"
measure = "likert"
transform = { kind = "likert" }
weight = 0.6

[[indicators]]
id = "D2.2"
dimension = "D2"
name = "公平对待认同率"
channel = "S"
table = "survey"
field = "q_fair"
scale = "agreement"
measure = "share"
success = [4, 5]
transform = { kind = "dtf", worst = 0.3, frontier = 1.0 }
weight = 0.4

[gates]
g4_min_survey = 10
g4_min_callback = 0

[[grades]]
grade = "A"
name = "优秀"
min = 90

[[grades]]
grade = "B"
name = "良好"
min = 80

[[grades]]
grade = "C"
name = "合格"
min = 70

[[grades]]
grade = "D"
name = "不合格"
min = 0

[[categories]]
id = "A"
name = "甲类"

[[departments]]
id = "X01"
name = "甲局"
category = "A"
tier = "L"

[[departments]]
id = "X02"
name = "乙局"
category = "A"
tier = "L"

[[departments]]
id = "X03"
name = "丙局"
category = "A"
tier = "M"

[[departments]]
id = "X04"
name = "丁局"
category = "A"
tier = "M"
'''


def project_toml(calibrate: bool = False) -> str:
    text = f'''[project]
name = "发布口径核对"
framework = "framework.toml"
years = [{YEAR}]
seed = 11
salt = "published-case"

[[inputs]]
year = {YEAR}
table = "survey"
path = "survey.csv"
[inputs.design]
weights = "weight"
cluster = "cluster"
'''
    if calibrate:
        text += '''[inputs.calibrate]
method = "rake"
margins = "margins.csv"
'''
    return text


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_case(folder: Path, *, calibrate: bool = False) -> Path:
    """Write the survey, margins, framework and project files; return the project file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = survey_rows()
    _write_csv(folder / "survey.csv", rows)
    _write_csv(folder / "margins.csv", margins_rows(rows))
    (folder / "framework.toml").write_text(FRAMEWORK, encoding="utf-8")
    (folder / "project.toml").write_text(project_toml(calibrate), encoding="utf-8")
    return folder / "project.toml"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("published_case")
    write_case(out)
    print(out)
