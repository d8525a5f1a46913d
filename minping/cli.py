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
from pathlib import Path

from minping import __version__
from minping.outputs import default_out
from minping.pipeline import counts_table, run_project, summary_lines, validate_year
from minping.plan import add_plan_parser
from minping.synthetic import write_demo_project
from minping.template_cmd import add_template_parser
from minping.trend import add_trend_parser
from surveys.errors import MinpingError
from surveys.project import load_project

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_demo(args) -> int:
    out = Path(args.out)
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
    for year in args.year or project.years:
        run = validate_year(project, framework, int(year), out)
        print(f"{year}: rows per channel table")
        print(counts_table(run).to_string())
        flags = run.input.ledger.flags_frame()
        if len(flags):
            summary = flags.groupby("flag").agg(departments=("department_id", "nunique"), rows=("n", "sum"))
            print(f"{year}: quality screens")
            print(summary.to_string())
        q = run.input.ledger.frame()
        if len(q):
            print(f"{year}: quarantined rows by reason")
            print(q.groupby("reason_code").size().rename("rows").to_string())
        print(f"{year}: ledger written to {run.out_dir / 'quarantine.csv'}\n")
    return EXIT_OK


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
    try:
        return args.func(args)
    except MinpingError as exc:
        print(f"minping: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("minping: interrupted", file=sys.stderr)
        return EXIT_USER
    except Exception as exc:  # the last line of defence: a message, and the traceback only on request
        if args.debug:
            raise
        print(f"minping: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in minping. Rerun with --debug for the traceback and report it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
