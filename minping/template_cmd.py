"""``minping template [PROJECT] --out DIR``: XLSX input templates for field teams.

Wired into the command line by :func:`add_template_parser`; the templates
themselves are written by :func:`reports.templates.write_templates`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reports.templates import write_templates
from surveys.framework import load_framework
from surveys.project import load_project

DEFAULT_PROJECT = "project.toml"


def add_template_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``template`` command to the ``minping`` sub-command parsers."""
    t = subparsers.add_parser(
        "template", help="write one XLSX input template per channel table for field teams",
        description="Write one XLSX template per canonical table: Chinese headers, drop-down lists for coded "
                    "columns and departments, and an instructions sheet (说明). A filled template reads back "
                    "without a column mapping.")
    t.add_argument("project", nargs="?", default=DEFAULT_PROJECT,
                   help="project file or folder whose framework to use (default: %(default)s; without one "
                        "the shipped default framework)")
    t.add_argument("--out", required=True, help="folder to write the templates to")
    t.add_argument("--year", type=int,
                   help="offer the departments of this year (default: the project's last year; every "
                        "department of the register without a project)")
    t.set_defaults(func=cmd_template)
    return t


def cmd_template(args) -> int:
    """Write the templates; print one path per line."""

    path = Path(args.project)
    year = args.year
    if args.project == DEFAULT_PROJECT and not path.exists():
        framework = load_framework()
    else:
        project = load_project(path)
        framework = project.load_framework()
        year = year if year is not None else max(project.years)
    for written in write_templates(framework, Path(args.out), year=year):
        print(written)
    return 0
