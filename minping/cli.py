"""The ``minping`` command.

Exit codes
----------
0  success
1  a problem with the inputs, framework or project (message printed, no traceback)
2  wrong command-line usage
3  an unexpected internal error (rerun with ``--debug`` for the traceback)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from evaluation.indicators import design_summary
from minping import __version__
from minping.messages import cli_lang, error_text, say, show_warning
from minping.outputs import default_out
from minping.pipeline import counts_table, run_project, summary_lines, validate_year
from minping.plan import add_plan_parser
from minping.scaffold import write_blank_project
from minping.synthetic import write_demo_project
from minping.template_cmd import add_template_parser
from minping.trend import add_trend_parser
from surveys.errors import DataValidationError, FrameworkError, MinpingError, Problem
from surveys.project import load_project

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_init(args) -> int:
    project_file = write_blank_project(args.dir, year=args.year)
    print(f"A blank project is in {project_file.parent}:")
    print(f"  {project_file}  (years, seed, salt; add one [[inputs]] entry per file)")
    print(f"  {project_file.parent / 'framework.toml'}  (your departments, dimensions, indicators, questions)")
    print(f"  {project_file.parent / 'data'}  (put the year's files here)")
    print(f"Next: minping template {project_file.parent} --out {project_file.parent / 'templates'}; then "
          f"minping validate {project_file.parent}")
    return EXIT_OK


def cmd_demo(args) -> int:
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FrameworkError("The demo needs a new folder", [Problem(
            "the folder exists and is not empty", file=str(out),
            fix="choose a new folder with --out (the demo writes its own project, data and history there; it "
                "never writes into an existing project); for a project of your own use `minping init DIR`")])
    _log(f"writing the demo project to {out} (seed {args.seed})")
    project_file = write_demo_project(out, seed=args.seed)
    runs = run_project(project_file, out=out / "output", render=not args.no_reports, langs=_langs(args),
                       variance=args.variance, n_replicates=args.replicates, log=_log)
    for run in runs:
        print("\n".join(summary_lines(run)))
    print(f"\nThe demo project is in {out}; rerun it with: minping run {project_file}")
    print(f"Year-over-year changes: {out / 'output' / 'trends.csv'}; summary: minping trend {project_file}")
    return EXIT_OK


def cmd_run(args) -> int:
    runs = run_project(args.project, years=args.year, out=args.out, render=not args.no_reports,
                       langs=_langs(args), variance=args.variance, n_replicates=args.replicates, log=_log)
    for run in runs:
        print("\n".join(summary_lines(run)))
    return EXIT_OK


def cmd_validate(args) -> int:
    project = load_project(args.project)
    framework = project.load_framework()
    out = Path(args.out) if args.out else default_out(project.root)
    code = EXIT_OK
    for year in args.year or project.years:
        try:
            run = validate_year(project, framework, int(year), out)
        except DataValidationError as exc:
            codes = {p.code for p in exc.problems}
            if codes == {"no_inputs"}:
                print(say("no_inputs_yet", year=year, path=project.path))
            elif codes == {"input_missing"}:
                print(say("not_there_yet", year=year, n=len(exc.problems), file=exc.problems[0].file))
            else:
                raise
            code = EXIT_USER
            continue
        print(say("rows_per_table", year=year))
        print(counts_table(run).to_string())
        designs = design_summary(run.input.data)
        if len(designs):
            print(say("design", year=year))
            print(designs.set_index("table").drop(columns=["channel"]).to_string())
        flags = run.input.ledger.flags_frame()
        if len(flags):
            summary = flags.groupby("flag").agg(departments=("department_id", "nunique"), rows=("n", "sum"))
            print(say("screens", year=year))
            print(summary.to_string())
        q = run.input.ledger.frame()
        if len(q):
            print(say("quarantined", year=year))
            print(q.groupby("reason_code").size().rename("rows").to_string())
        cells = run.input.ledger.cells_frame()
        if len(cells):
            print(say("cleared", year=year))
            print(cells.groupby(["table", "column", "reason_code"]).size().rename("cells").to_string())
            print(say("cells_written", year=year, path=run.out_dir / "cleared_cells.csv"))
        print(say("ledger_written", year=year, path=run.out_dir / "quarantine.csv") + "\n")
    return code


def _langs(args) -> tuple[str, ...]:
    return ("zh", "en") if args.lang == "both" else (args.lang,)


def _variance_options(p) -> None:
    p.add_argument("--variance", choices=["linearisation", "bootstrap"], default="linearisation",
                   help="how the index and dimension intervals are computed (default: %(default)s)")
    p.add_argument("--replicates", type=int, default=500, help="bootstrap replicates (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minping", description="Third-party evaluation of government-service reform.")
    p.add_argument("--version", action="version", version=f"minping {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="write the demo project (synthetic data with a known truth) and evaluate it")
    d.add_argument("--out", default="minping-demo", help="folder for the demo project (default: %(default)s)")
    d.add_argument("--seed", type=int, default=20261125, help="seed of the synthetic data (default: %(default)s)")
    d.add_argument("--lang", choices=["zh", "en", "both"], default="both", help="document language(s)")
    d.add_argument("--no-reports", action="store_true", help="skip the PDF and Excel documents")
    _variance_options(d)
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("init", help="write a blank project of your own to fill in (framework, project file, data folder)")
    i.add_argument("dir", help="folder for the new project (created; an existing project is never overwritten)")
    i.add_argument("--year", type=int, help="the first evaluation year (default: this year)")
    i.set_defaults(func=cmd_init)

    r = sub.add_parser("run", help="evaluate a project")
    r.add_argument("project", nargs="?", default="project.toml", help="project file or folder (default: %(default)s)")
    r.add_argument("--year", type=int, action="append", help="only this year (repeatable)")
    r.add_argument("--out", help="output folder (default: output/ beside the project file)")
    r.add_argument("--lang", choices=["zh", "en", "both"], default="zh", help="document language(s)")
    r.add_argument("--no-reports", action="store_true", help="skip the PDF and Excel documents")
    _variance_options(r)
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check the inputs only: counts, quality screens, quarantine ledger")
    v.add_argument("project", nargs="?", default="project.toml")
    v.add_argument("--year", type=int, action="append")
    v.add_argument("--out", help="where to write the ledger (default: output/ beside the project file)")
    v.set_defaults(func=cmd_validate)

    add_template_parser(sub)
    add_trend_parser(sub)
    add_plan_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = cli_lang()
    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        try:
            return args.func(args)
        except MinpingError as exc:
            print(error_text(exc, lang), file=sys.stderr)
            return EXIT_USER
        except KeyboardInterrupt:
            print(say("interrupted", lang), file=sys.stderr)
            return EXIT_USER
        except Exception as exc:  # the last line of defence: a message, and the traceback only on request
            if args.debug:
                raise
            print(say("internal", lang, kind=type(exc).__name__, text=exc), file=sys.stderr)
            return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
