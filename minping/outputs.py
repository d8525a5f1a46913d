"""The output folder: where a project's results go, written so that a reader never sees half a run.

Layout under ``OUT`` (default ``output/`` beside the project file)::

    OUT/<year>/                 one complete, published year (manifest.json last)
    OUT/.<year>.incomplete/     a year being written (left behind only by an interrupted run)
    OUT/.<year>.previous/       the published year during the instant it is being replaced
    OUT/trends.csv ...          year-over-year tables (each file replaced atomically)
    OUT/validate/<year>/        what ``minping validate`` writes (never the published year)

A year is written into ``.<year>.incomplete`` and swapped in only when
complete (:class:`YearFolder`): the published folder is renamed to
``.<year>.previous``, the new one renamed into place, the previous one
removed.  An interrupted run therefore leaves the previous complete output
untouched (or, killed between the two renames, recoverable: the next run
puts ``.<year>.previous`` back) and a clearly named incomplete folder, which
the next run reports and removes.

:class:`ProjectLock` refuses a second concurrent run of the same project.
Writing errors (a full disk, a read-only folder) become
:class:`OutputError` naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reports.safety import write_csv
from surveys.errors import MinpingError, Problem

LOCK_FILE = ".minping.lock"


class OutputError(MinpingError):
    """The outputs cannot be written (full disk, read-only or missing folder, a file where a folder belongs)."""


def default_out(project_root: Path) -> Path:
    """Where a project's outputs go unless ``--out`` says otherwise: ``output/`` beside the project file."""
    return Path(project_root) / "output"


def writing_error(exc: OSError, path: Path | str) -> OutputError:
    """An :class:`OutputError` for an operating-system error while writing ``path``."""
    why = exc.strerror or str(exc)
    return OutputError("The outputs cannot be written", [Problem(
        f"{why} while writing", file=str(path),
        fix="free disk space, make the folder writable, or choose another output folder with --out")])


def check_out_dir(out: Path) -> Path:
    """``out`` must be a folder (created if missing); a file there is a user error, said so."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError("The output location is not a folder", [Problem(
            "a file stands where the output folder should be", file=str(out),
            fix="pass --out a folder (it is created if missing)")])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise writing_error(exc, out) from None
    return out


def jsonable(value):
    """``value`` as strict JSON data: NaN and infinities become null, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (int, str)):
        return value
    return str(value)


def write_json(data: dict, path: Path) -> Path:
    """Strict JSON (no NaN), UTF-8, written through a temporary file and renamed into place."""
    text = json.dumps(jsonable(data), ensure_ascii=False, indent=2, allow_nan=False)
    return write_text_atomic(text, path)


def write_text_atomic(text: str, path: Path) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise writing_error(exc, path) from None
    return path


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """A results CSV (UTF-8 with BOM, neutralised against formula injection); writing errors said so."""
    try:
        return write_csv(frame, path)
    except OSError as exc:
        raise writing_error(exc, path) from None


def replace_file(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV that replaces an existing one atomically (written beside it, then renamed)."""
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    write_table(frame, tmp)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise writing_error(exc, path) from None
    return Path(path)


class YearFolder:
    """A year's output folder written aside and swapped in only when complete.

    Use::

        folder = YearFolder(out, 2025, log=print)   # recovers or reports what an interrupted run left
        stage = folder.begin()                      # an empty .2025.incomplete folder
        ... write everything into stage, manifest.json last ...
        folder.commit()                             # the swap; OUT/2025 is now the new run
    """

    def __init__(self, out: Path, year: int, *, log=print):
        self.out = check_out_dir(out)
        self.year = int(year)
        self.final = self.out / str(self.year)
        self.stage = self.out / f".{self.year}.incomplete"
        self.previous = self.out / f".{self.year}.previous"
        self.log = log

    def begin(self) -> Path:
        """Recover from an interrupted run, then give an empty staging folder."""
        try:
            if self.previous.exists():
                if self.final.exists():
                    shutil.rmtree(self.previous)
                else:
                    os.rename(self.previous, self.final)
                    self.log(f"[{self.year}] restored the published output that an interrupted run had moved "
                             f"aside: {self.final}")
            if self.stage.exists():
                self.log(f"[{self.year}] removed the incomplete output of an interrupted run: {self.stage}")
                shutil.rmtree(self.stage)
            self.stage.mkdir(parents=True)
        except OSError as exc:
            raise writing_error(exc, self.stage) from None
        return self.stage

    def commit(self) -> Path:
        """Swap the complete staging folder in place of the published one."""
        try:
            if self.final.exists():
                os.rename(self.final, self.previous)
            os.rename(self.stage, self.final)
            if self.previous.exists():
                shutil.rmtree(self.previous)
        except OSError as exc:
            raise writing_error(exc, self.final) from None
        return self.final


class ProjectLock:
    """One run per project at a time: a lock file beside the project file.

    The file holds the process id, host and start time of the run holding
    it.  A second run is refused with a message naming that process; when
    the process no longer runs (a crash, a power cut), the message says so
    and how to clear the stale lock.
    """

    def __init__(self, project_root: Path, command: str = "run"):
        self.path = Path(project_root) / LOCK_FILE
        self.command = command
        self.held = False

    def __enter__(self) -> ProjectLock:
        body = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                           "started": time.strftime("%Y-%m-%d %H:%M:%S")})
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise self._busy() from None
        except OSError as exc:
            raise writing_error(exc, self.path) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        self.held = True
        return self

    def __exit__(self, *exc) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.held = False

    def _busy(self) -> OutputError:
        try:
            other = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            other = {}
        who = (f"process {other.get('pid', '?')} on {other.get('host', '?')} "
               f"(minping {other.get('command', '?')}, started {other.get('started', '?')})")
        alive = _running(other.get("pid")) if other.get("host") == socket.gethostname() else None
        if alive is False:
            return OutputError("A stale lock from an interrupted run", [Problem(
                f"the lock names {who}, which no longer runs", file=str(self.path),
                fix=f"delete {self.path} and run again")])
        return OutputError("Another minping run is using this project", [Problem(
            f"locked by {who}", file=str(self.path),
            fix=f"wait for it to finish; if it is not running any more, delete {self.path}")])


def _running(pid) -> bool | None:
    """Whether process ``pid`` runs on this machine (None when it cannot be told)."""
    if os.name != "posix":
        return None  # os.kill(pid, 0) is a probe only on POSIX (on Windows it would signal the process)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    except (TypeError, ValueError, OSError):
        return None
    return True
