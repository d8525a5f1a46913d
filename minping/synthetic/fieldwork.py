"""Site visits, service-guide checks and 好差评 ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import CHECKLIST_ITEMS

from . import links
from .config import SimulationConfig
from .departments import Register
from .people import likert_codes, make_ids, sequence

N_RATERS = 8
CHECKLIST_NA = 0.06       # an item that does not apply at that window (both raters agree)
MYSTERY_SHARE = 0.5
LATE_EXTRA_DAYS = (6, 26)  # working days past the deadline of a late rectification (clear of any holiday)


def _days(year: int) -> tuple[np.datetime64, int]:
    jan1 = np.datetime64(f"{year}-01-01")
    return jan1, int((np.datetime64(f"{year + 1}-01-01") - jan1).astype(int))


def _workdays(year: int, rng: np.random.Generator, size: int, first_month: int = 1, last_month: int = 12):
    lo = np.datetime64(f"{year}-{first_month:02d}-01")
    hi = np.datetime64(f"{year}-{last_month:02d}-25")
    day = lo + rng.integers(0, int((hi - lo).astype(int)), size)
    return np.busday_offset(day, 0, roll="forward")


def visits(config: SimulationConfig, register: Register, year: int, ids: list[str], eta: dict,
           rng: np.random.Generator) -> pd.DataFrame:
    """Announced and mystery visits, one row per visit and rater.

    Checklist items follow an ordered probit (1 / 0.5 / 0) on the department's
    latent plus item easiness, a visit effect, the true state of the item at
    that visit, the rater's leniency and rater noise; a second rater sees the
    same visit.  The queue wait is log-normal (shorter for better
    departments) and timed once per visit.
    """
    lo, hi = config.visits_range
    n = rng.integers(lo, hi + 1, len(ids))
    vdept, vseq = sequence(n)
    nv = len(vdept)
    mystery = rng.random(nv) < MYSTERY_SHARE
    date = _workdays(year, rng, nv, 3, 11)
    base = (links.CHECKLIST_SLOPE * eta["checklist"][vdept][:, None] + register.checklist_ease[None, :]
            + rng.normal(0.0, links.SD_VISIT, nv)[:, None] + rng.standard_normal((nv, 25)))
    na = rng.random((nv, 25)) < CHECKLIST_NA
    wait = np.round(np.exp(links.wait_log_median(eta["wait"][vdept]) + links.WAIT_SD * rng.standard_normal(nv)), 1)
    scenario = np.where(mystery, (rng.random(nv) < links.share("scenario", eta["scenario"])[vdept]).astype(float),
                        np.nan)
    two = rng.random(nv) < config.two_rater_share
    raters_per = 1 + two
    visit, second = sequence(raters_per)
    first_rater = rng.integers(0, N_RATERS, nv)
    rater = np.where(second == 0, first_rater[visit], (first_rater[visit] + rng.integers(1, N_RATERS, len(visit)))
                     % N_RATERS)
    leniency = rng.normal(0.0, links.SD_RATER, N_RATERS)
    z = base[visit] + leniency[rater][:, None] + rng.normal(0.0, links.SD_RATER_ITEM, (len(visit), 25))
    items = np.where(z > 0, 1.0, np.where(z > -links.CHECKLIST_PARTIAL, 0.5, 0.0))
    items[na[visit]] = np.nan
    dept_ids = np.asarray(ids)
    frame = pd.DataFrame({
        "visit_id": make_ids(f"V{year}-", dept_ids[vdept], vseq, 2)[visit],
        "department_id": dept_ids[vdept][visit],
        "visit_date": date[visit].astype("datetime64[ns]"),
        "visit_type": np.where(mystery, "mystery", "announced")[visit],
        "rater": np.char.add("R", np.char.zfill((rater + 1).astype(str), 2)),
        "wait_minutes": wait[visit],
    })
    for k, c in enumerate(CHECKLIST_ITEMS):
        frame[c] = items[:, k]
    frame["scenario_all_listed"] = scenario[visit]
    return frame


def guides(config: SimulationConfig, register: Register, year: int, ids: list[str], eta: dict,
           rng: np.random.Generator) -> pd.DataFrame:
    """Desk check of ``guides_n`` service guides per department."""
    n = np.full(len(ids), config.guides_n)
    dept, seq = sequence(n)
    dept_ids = np.asarray(ids)
    number = seq * 5 + rng.integers(1, 6, len(dept))      # distinct catalogue numbers, ascending
    return pd.DataFrame({
        "department_id": dept_ids[dept],
        "guide_id": np.char.add(np.char.add(np.char.add("ZN-", dept_ids[dept]), "-"),
                                np.char.zfill(number.astype(str), 3)),
        "check_date": _workdays(year, rng, len(dept), 4, 10).astype("datetime64[ns]"),
        "accurate": (rng.random(len(dept)) < links.share("guide_accurate", eta["guide_accurate"])[dept]).astype(float),
    })


def rating_sizes(config: SimulationConfig, register: Register, ids: list[str], rng: np.random.Generator):
    p = register.params.loc[ids]
    mean = np.array([config.tier_value("ratings_n", t) * config.scale for t in p["tier"]], dtype=float)
    mean = np.where(p["low_volume"].to_numpy(), config.tier_value("ratings_n", "L") / 4, mean)
    return rng.poisson(mean)


def ratings(config: SimulationConfig, register: Register, year: int, ids: list[str], eta: dict,
            rng: np.random.Generator) -> pd.DataFrame:
    """好差评 records: default and prompted ratings, bad reviews with deadlines, rectification and callback.

    A share ``default_share + default_per_gamma * gamma`` are system default
    ratings (level 5, stamped at midnight); a share ``gamma`` of the active
    ones is prompted to level 5; the rest follow the callback's ordered probit
    shifted by ``rating_offset``.  Bad reviews (levels 1-2) get a deadline of
    1-15 working days; they are rectified within the deadline with the
    department's probability, otherwise late (well past it) or never; a share
    of the rectified ones is called back.
    """
    p = register.params.loc[ids]
    n = rating_sizes(config, register, ids, rng)
    dept, seq = sequence(n)
    size = len(dept)
    gamma = p["gamma"].to_numpy()
    default = rng.random(size) < links.default_share(config, gamma)[dept]
    prompted = ~default & (rng.random(size) < gamma[dept])
    ent = rng.random(size) < p["enterprise_share"].to_numpy()[dept]
    denied = rng.random(size) < config.denied_share
    mu = (eta["cb_overall"][dept] + config.callback_offset + config.rating_offset + ent * config.enterprise_offset
          + denied * config.denied_offset + rng.normal(0.0, config.sd_leniency, size))
    level = np.where(default | prompted, 5.0, likert_codes(config, mu, rng))

    jan1, ndays = _days(year)
    day = jan1 + rng.integers(0, ndays, size)
    minute = np.where(default, 0, rng.integers(8 * 60, 21 * 60, size))
    rated = day.astype("datetime64[m]") + minute

    bad = level <= 2
    deadline = np.where(bad, rng.integers(1, 16, size), 0)
    on_time = bad & (rng.random(size) < links.share("rectified_on_time", eta["rectified_on_time"])[dept])
    late = bad & ~on_time & (rng.random(size) >= config.unrectified_share)
    # On time: before midnight ending the deadline-th calendar day, which no working-day count can call late.
    limit = (day + deadline).astype("datetime64[m]")
    soon = rated + np.floor(rng.random(size) * (limit - rated).astype(float)).astype("timedelta64[m]")
    extra = rng.integers(LATE_EXTRA_DAYS[0], LATE_EXTRA_DAYS[1], size)
    later = (np.busday_offset(day, deadline + extra, roll="forward").astype("datetime64[m]")
             + rng.integers(9 * 60, 18 * 60, size))
    rectified = np.where(on_time, soon, np.where(late, later, np.datetime64("NaT", "m")))
    called = (on_time | late) & (rng.random(size) < config.rectification_callback)
    satisfied = rng.random(size) < links.share("rectification_satisfied", eta["rectification_satisfied"])[dept]
    cb_level = np.where(satisfied, rng.choice([3.0, 4.0, 5.0], size, p=[0.3, 0.4, 0.3]),
                        rng.choice([1.0, 2.0], size))
    dept_ids = np.asarray(ids)
    return pd.DataFrame({
        "rating_id": np.char.replace(make_ids(f"H{year}", dept_ids[dept], seq, 6), "-", ""),
        "department_id": dept_ids[dept],
        "rated_at": rated.astype("datetime64[ns]"),
        "level": level,
        "default_rating": default.astype(float),
        "deadline_days": np.where(bad, deadline.astype(float), np.nan),
        "rectified_at": rectified.astype("datetime64[ns]"),
        "callback_level": np.where(called, cb_level, np.nan),
    })
