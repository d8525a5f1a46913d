"""Simulate evaluation years: canonical tables plus the truth they were drawn from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import admin, fieldwork, people
from .config import SimulatedYear, SimulationConfig
from .departments import STREAM_SAMPLE, STREAM_YEAR, Register, build_register, latent, stream
from .truth import indicator_truth, population_values, truth_tables

PARAM_COLUMNS = ["department_id", "department", "department_en", "category", "tier", "alpha", "beta", "q", "phi",
                 "gamma", "volume", "enterprise_share", "default_share"]


def simulate_year(config: SimulationConfig, year: int, *, rng: np.random.Generator | None = None,
                  register: Register | None = None) -> SimulatedYear:
    """Simulate one evaluation year.

    Parameters
    ----------
    config : SimulationConfig
    year : int
        One of ``config.years`` (the trend counts from the first).
    rng : numpy.random.Generator, optional
        Draws the samples (survey, callbacks, site visits, guides).  The
        department parameters, the year's latent quality and the censuses
        (administrative data, 好差评 ratings) come from ``config.seed`` alone,
        so the truth does not depend on ``rng``: repeated calls with fresh
        generators are repeated samples of one fixed truth (coverage
        studies).  Default: a stream of ``config.seed`` for this year, as
        :func:`simulate` uses.
    register : Register, optional
        A register built by :func:`~minping.synthetic.departments.build_register`
        for this config (saves rebuilding it in loops).

    Returns
    -------
    SimulatedYear
    """
    register = register or build_register(config)
    ids = register.active(config, year)
    q, eta = latent(config, register, year, ids)
    # Censuses (administrative data, 好差评) belong to the department-year, not to the sample: fixed by the seed.
    census_rng = stream(config, STREAM_YEAR, year, 1)
    admin_true, admin_reported = admin.admin_census(config, register, year, ids, eta, census_rng)
    ratings = fieldwork.ratings(config, register, year, ids, eta, census_rng)
    population = population_values(config, register, ids, eta)
    indicators = indicator_truth(register.framework, population, {**admin_true, "ratings": ratings}, ids)
    indicators.insert(0, "year", year)
    truth = truth_tables(config, register, year, ids, q, indicators, population)

    rng = rng if rng is not None else stream(config, STREAM_SAMPLE, year)
    n_phones = int(people.survey_sizes(config, register, ids).sum()
                   + people.callback_sizes(config, register, ids).sum() + people.STAFF_PHONES * len(ids))
    numbers = people.phones(rng, n_phones)
    survey = people.survey(config, register, year, ids, eta, rng, numbers)
    attempts, interviews = people.callbacks(config, register, year, ids, eta, rng, numbers[len(survey):],
                                            admin_true["admin_matters"])
    tables = {
        "survey": survey,
        "callback_attempts": attempts,
        "callback_interviews": interviews,
        "visits": fieldwork.visits(config, register, year, ids, eta, rng),
        "guides": fieldwork.guides(config, register, year, ids, eta, rng),
        "admin_monthly": admin_reported["admin_monthly"],
        "admin_matters": admin_reported["admin_matters"],
        "ratings": ratings,
    }
    params = register.params.loc[ids].reset_index()
    params["q"] = q
    params["default_share"] = np.clip(config.default_share + config.default_per_gamma * params["gamma"], 0, 1)
    return SimulatedYear(year, tables, truth, indicators, params[PARAM_COLUMNS], admin_true)


def simulate(config: SimulationConfig) -> dict[int, SimulatedYear]:
    """Simulate every year of ``config`` with shared department parameters and trends."""
    register = build_register(config)
    return {year: simulate_year(config, year, register=register) for year in config.years}


def pooled_likert_shares(tables: dict[str, pd.DataFrame], items) -> tuple[float, float]:
    """Share of answers 4-5 and of answers 1-2 over all valid survey Likert answers (the ceiling check)."""
    codes = tables["survey"][list(items)].to_numpy().ravel()
    codes = codes[~np.isnan(codes)]
    return float(np.mean(codes >= 4)), float(np.mean(codes <= 2))
