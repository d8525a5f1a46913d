"""Samples of people: survey respondents and callback cases (attempts and interviews)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.callbacks import PRECEDENCE

from . import links
from .config import SimulationConfig
from .departments import Register

PHONE_PREFIX = "1700"     # 1700xxxxxxx: a block of the 170 virtual-operator range used only for test numbers
PHONE_DIGITS = 7
NON_CONTACT = np.array(["no_answer", "busy", "switched_off"])
NON_CONTACT_P = np.array([0.75, 0.15, 0.10])
#: attempts until a case settles, by final disposition (else up to ``max`` attempts)
SETTLE_AFTER = {"wrong_number": (0.9, 0.1, 0.0), "never_handled": (0.75, 0.20, 0.05)}
SETTLE_DEFAULT = (0.65, 0.25, 0.10)
MAX_ATTEMPTS = 3
STAFF_PHONES = 3          # numbers a padding department reuses on fabricated records
COMMENT_SHARE = 0.15
COMMENTS = {
    "good": ("工作人员态度很好，办事效率高", "一次就办好了，点赞", "网上办理很方便", "窗口服务热情周到",
             "流程清楚，指引明确"),
    "bad": ("排队时间太长", "材料要求反复变化，跑了好几次", "网上系统经常打不开", "工作人员解释不清楚",
            "办理时间比承诺的长"),
    "idea": ("希望进一步减少申请材料", "建议增加自助办理设备", "希望延长周末服务时间", "建议公开办理进度查询渠道",
             "停车不方便，希望改善"),
}


def survey_sizes(config: SimulationConfig, register: Register, ids: list[str]) -> np.ndarray:
    return _sizes(config, register, ids, "survey_n", config.low_volume_n[0])


def callback_sizes(config: SimulationConfig, register: Register, ids: list[str]) -> np.ndarray:
    return _sizes(config, register, ids, "callback_n", config.low_volume_n[1])


def _sizes(config, register, ids, knob, low_n) -> np.ndarray:
    p = register.params.loc[ids]
    n = np.array([max(1, round(config.tier_value(knob, t) * config.scale)) for t in p["tier"]])
    return np.where(p["low_volume"].to_numpy(), low_n, n)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct fake mobile numbers (11-digit strings starting 1700)."""
    return np.char.add(PHONE_PREFIX, np.char.zfill(rng.choice(10**PHONE_DIGITS, n, replace=False).astype(str),
                                                   PHONE_DIGITS))


def make_ids(prefix: str, dept_ids: np.ndarray, seq: np.ndarray, width: int) -> np.ndarray:
    """Identifiers ``<prefix><department>-<zero-padded sequence>``."""
    return np.char.add(np.char.add(np.char.add(prefix, dept_ids), "-"),
                       np.char.zfill((seq + 1).astype(str), width))


def sequence(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Department index and within-department sequence number for blocks of ``counts`` rows."""
    dept = np.repeat(np.arange(len(counts)), counts)
    return dept, np.arange(len(dept)) - np.repeat(np.cumsum(counts) - counts, counts)


def likert_codes(config: SimulationConfig, mu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Codes 1..5 of an ordered probit with latent mean ``mu`` and unit residual."""
    return np.searchsorted(np.asarray(config.cut_points), mu + rng.standard_normal(mu.shape)) + 1.0


def survey(config: SimulationConfig, register: Register, year: int, ids: list[str], eta: dict,
           rng: np.random.Generator, numbers: np.ndarray) -> pd.DataFrame:
    """Survey completes: exit intercepts, SMS links and the enterprise panel.

    Enterprises are oversampled (the panel); ``weight`` = population share of
    the respondent's type / its share in the department's sample x N / n, so
    weighted estimates target the department's users.  ``cluster`` is the
    fieldwork day (intercept day, SMS dispatch or panel wave) with a small
    shared effect on every answer.
    """
    p = register.params.loc[ids]
    n = survey_sizes(config, register, ids)
    dept, seq = sequence(n)
    size = len(dept)
    pi = p["enterprise_share"].to_numpy()
    ent = rng.random(size) < (pi + (1 - pi) * config.enterprise_oversampling)[dept]
    denied = rng.random(size) < config.denied_share
    k = np.minimum(np.array([config.tier_value("clusters", t) for t in p["tier"]]), n)
    k = np.where(p["low_volume"].to_numpy(), np.minimum(k, 4), k)
    local = np.floor(rng.random(size) * k[dept]).astype(int)
    start = np.cumsum(k) - k
    cluster = start[dept] + local
    cdept, clocal = sequence(k)
    jan1 = np.datetime64(f"{year}-01-01")
    ndays = int((np.datetime64(f"{year + 1}-01-01") - jan1).astype(int))
    span = (ndays - 8) / k[cdept]
    cday = np.busday_offset(jan1 + (2 + np.floor((clocal + rng.random(len(cdept))) * span)).astype(int),
                            0, roll="forward")
    u = rng.random(size)
    mode = np.where(ent, np.where(u < 0.5, "panel", np.where(u < 0.85, "hall", "sms")),
                    np.where(u < 0.65, "hall", "sms"))
    lag = np.where(mode == "hall", 0, rng.integers(0, 7, size))
    date = np.minimum(cday[cluster] + lag, np.datetime64(f"{year}-12-31"))

    shift = (ent * config.enterprise_offset + denied * config.denied_offset
             + rng.normal(0.0, config.sd_leniency, size)
             + rng.normal(0.0, config.sd_cluster, len(cdept))[cluster])
    items = links.SURVEY_ITEMS
    mu = np.column_stack([eta[i][dept] + links.item_offset(config, i) for i in items]) + shift[:, None]
    codes = likert_codes(config, mu, rng)
    na = rng.random(codes.shape) < np.array([dict(config.na_rates).get(i, 0.05) for i in items])
    codes[na] = np.nan

    n_ent = np.bincount(dept, weights=ent, minlength=len(n))
    s_ent = n_ent / n
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ent, pi[dept] / s_ent[dept], (1 - pi[dept]) / (1 - s_ent[dept]))
    ratio = np.where((s_ent[dept] > 0) & (s_ent[dept] < 1), ratio, 1.0)
    # Evaluators' files carry weights to four decimals; the canonical table holds exactly what is written.
    weight = np.round(ratio * (p["volume"].to_numpy() / n)[dept], 4)

    duration = np.exp(np.log(240.0) + 0.35 * rng.standard_normal(size))
    speeder = rng.random(size) < 0.02
    duration = np.round(np.where(speeder, rng.uniform(20, 58, size), duration))
    dept_ids = np.asarray(ids)
    frame = pd.DataFrame({
        "response_id": make_ids(f"S{year}-", dept_ids[dept], seq, 4),
        "department_id": dept_ids[dept],
        "interview_date": date.astype("datetime64[ns]"),
        "respondent_type": np.where(ent, "enterprise", "citizen"),
        "mode": mode,
        "phone": numbers[:size],
        "duration_sec": duration,
        "weight": weight,
        "cluster": np.char.add(np.char.add(dept_ids[cdept], "-"),
                               np.char.replace(cday.astype(str), "-", ""))[cluster],
    })
    for j, item in enumerate(items):
        frame[item] = codes[:, j]
    frame["comment"] = _comments(codes, rng)
    return frame


def _comments(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    answered = (~np.isnan(codes)).sum(axis=1)
    mean = np.nansum(codes, axis=1) / np.maximum(answered, 1)
    kind = np.where(mean >= 4.2, "good", np.where(mean <= 3.0, "bad", "idea"))
    pick = rng.integers(0, 5, len(codes))
    text = np.empty(len(codes), dtype=object)
    for k, vocab in COMMENTS.items():
        m = kind == k
        text[m] = np.asarray(vocab, dtype=object)[pick[m]]
    text[rng.random(len(codes)) >= COMMENT_SHARE] = None
    return text


def callbacks(config: SimulationConfig, register: Register, year: int, ids: list[str], eta: dict,
              rng: np.random.Generator, numbers: np.ndarray, matters: pd.DataFrame):
    """Callback attempts (up to three per drawn case) and interviews of the completed cases.

    A share ``phi`` of a department's drawn records is fabricated and ends
    as "never handled" or a wrong number.  Earlier attempts are non-contacts,
    and the last attempt carries the final disposition, which is also the
    first by the precedence rule of :mod:`surveys.callbacks`.
    """
    p = register.params.loc[ids]
    m = callback_sizes(config, register, ids)
    dept, seq = sequence(m)
    size = len(dept)
    names = np.array([k for k, _ in config.dispositions])
    probs = np.array([v for _, v in config.dispositions])
    final = names[np.minimum(np.searchsorted(np.cumsum(probs / probs.sum()), rng.random(size)), len(names) - 1)]
    fab = rng.random(size) < p["phi"].to_numpy()[dept]
    final = np.where(fab, np.where(rng.random(size) < config.fabricated_never_handled, "never_handled",
                                   "wrong_number"), final)
    n_att, outcomes = _attempt_outcomes(final, rng)

    dept_ids = np.asarray(ids)
    staff = numbers[size:size + STAFF_PHONES * len(ids)].reshape(len(ids), STAFF_PHONES)
    phone = np.where(fab & (rng.random(size) < 0.5), staff[dept, rng.integers(0, STAFF_PHONES, size)],
                     numbers[:size])
    month = rng.integers(1, 12, size)
    first = (np.array([f"{year}-{mm:02d}-01" for mm in range(2, 13)], dtype="datetime64[D]")[month - 1]
             + rng.integers(0, 22, size))
    case_id = make_ids(f"C{year}-", dept_ids[dept], seq, 4)

    case, j = sequence(n_att)
    gaps = np.cumsum(np.where(j == 0, 0, rng.integers(1, 3, len(case))))   # retries 1-2 days apart
    day = first[case] + gaps - gaps[(np.cumsum(n_att) - n_att)[case]]
    minute = rng.integers(9 * 60, 20 * 60, len(case))
    attempts = pd.DataFrame({
        "case_id": case_id[case], "department_id": dept_ids[dept][case], "phone": phone[case],
        "handled_month": np.array([f"{year}-{mm:02d}" for mm in range(1, 13)])[month - 1][case],
        "attempt_no": j + 1,
        "called_at": (day.astype("datetime64[m]") + minute).astype("datetime64[ns]"),
        "outcome": outcomes[case, j],
    })
    done = np.isin(final, ("complete", "partial"))
    interviews = _interviews(config, p, dept[done], final[done] == "partial", case_id[done], dept_ids, eta, rng,
                             matters)
    return attempts, interviews


def _attempt_outcomes(final: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Number of attempts per case and the outcome of each attempt (cases x MAX_ATTEMPTS)."""
    size = len(final)
    non_contact = np.isin(final, NON_CONTACT)
    n_att = np.full(size, MAX_ATTEMPTS)
    for name, probs in [(k, v) for k, v in SETTLE_AFTER.items()] + [(None, SETTLE_DEFAULT)]:
        sel = (final == name) if name else ~non_contact & ~np.isin(final, list(SETTLE_AFTER))
        n_att[sel] = rng.choice(np.arange(1, MAX_ATTEMPTS + 1), sel.sum(), p=probs)
    earlier = NON_CONTACT[np.searchsorted(np.cumsum(NON_CONTACT_P), rng.random((size, MAX_ATTEMPTS)))]
    rank = {o: i for i, o in enumerate(PRECEDENCE)}
    # A case never reached: its final is the highest-precedence non-contact, placed last.
    order = np.argsort(-np.vectorize(rank.get)(earlier), axis=1, kind="stable")
    sorted_nc = np.take_along_axis(earlier, order, axis=1)
    outcomes = np.where(non_contact[:, None], sorted_nc, earlier).astype(object)
    last = ~non_contact
    outcomes[last, n_att[last] - 1] = final[last]
    return n_att, outcomes


def _interviews(config, p, dept, partial, case_id, dept_ids, eta, rng, matters: pd.DataFrame) -> pd.DataFrame:
    size = len(dept)
    ent = rng.random(size) < p["enterprise_share"].to_numpy()[dept]
    denied = rng.random(size) < config.denied_share
    mu = (eta["cb_overall"][dept] + config.callback_offset + ent * config.enterprise_offset
          + denied * config.denied_offset + rng.normal(0.0, config.sd_leniency, size))
    overall = likert_codes(config, mu, rng)
    overall[rng.random(size) < 0.02] = np.nan

    # The matter of each case, drawn by annual volume within the department.
    pos = pd.Index(dept_ids).get_indexer(matters["department_id"])
    vol = matters["annual_volume"].groupby(pos)
    share = (vol.cumsum() / vol.transform("sum")).to_numpy(copy=True)
    share[np.r_[pos[1:] != pos[:-1], True]] = 1.0   # rows are grouped by department; each group ends at 1
    pick = np.searchsorted(pos + share, dept + rng.random(size), side="right")
    promised = matters["promised_days"].to_numpy()[pick]
    ok = rng.random(size) < links.share("within_promised", eta["within_promised"])[dept]
    days = np.where(ok, np.ceil(rng.random(size) * promised), promised + 1 + rng.geometric(0.3, size) - 1)
    days[rng.random(size) < 0.05] = np.nan

    cum_trips = np.cumsum(links.trips_distribution(eta["trips"])[dept], axis=1)
    trips = (rng.random(size)[:, None] > cum_trips[:, :3]).sum(axis=1).astype(float)
    trips[rng.random(size) < 0.03] = np.nan
    told = (rng.random(size) < links.share("told_once", eta["told_once"])[dept]).astype(float)
    told[(rng.random(size) < 0.06) | partial] = np.nan
    improper = (rng.random(size) >= links.share("no_improper", eta["no_improper"])[dept]).astype(float)
    improper[(rng.random(size) < 0.04) | partial] = np.nan
    return pd.DataFrame({"case_id": case_id, "department_id": dept_ids[dept], "cb_overall": overall,
                         "days_reported": days, "promised_days": promised, "trips": trips, "told_once": told,
                         "improper_demand": improper})
