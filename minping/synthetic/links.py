"""From latent quality to population values: the links shared by the sampler and the truth.

Every generated field has a latent ``eta`` per department and year (see
:func:`minping.synthetic.departments.latent`).  The functions here give the
population value of each field as a function of ``eta``; the sampler draws
from exactly these distributions and the truth is computed from them, so the
truth is the expectation of what the sampler produces.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit, ndtr

from .config import SimulationConfig

DIMENSIONS = ("D1", "D2", "D3", "D4", "D5", "D6")

SURVEY_ITEMS = ("q_overall", "q_easier", "q_speed", "q_ease", "q_courtesy", "q_competence", "q_info", "q_fair")

#: generator field -> the dimension whose latent drives it (the default framework's)
FIELD_DIMENSION = {
    "q_overall": "D1", "q_easier": "D1", "q_speed": "D2", "q_ease": "D3", "q_courtesy": "D4",
    "q_competence": "D4", "q_info": "D5", "q_fair": "D6", "cb_overall": "D1", "within_promised": "D2",
    "trips": "D3", "told_once": "D4", "no_improper": "D6", "wait": "D2", "checklist": "D4", "scenario": "D4",
    "guide_accurate": "D5", "on_time": "D2", "online": "D3", "one_window": "D3", "compression": "D2",
    "docs_reduction": "D3", "rectified_on_time": "D6", "rectification_satisfied": "D6",
}
FIELDS = tuple(FIELD_DIMENSION)

#: share fields: probability = expit(logit(centre) + slope * eta).  Centres are
#: the values of an average department; slopes give roughly 15 score points
#: per latent unit under the default framework's transforms.
SHARE_LINKS = {
    "within_promised": (0.95, 2.3),   # reported days within the promise
    "trips": (0.93, 1.7),             # at most one trip
    "told_once": (0.95, 2.3),
    "no_improper": (0.988, 1.0),      # no improper demand
    "scenario": (0.85, 1.5),          # mystery visit: every missing item listed at once
    "guide_accurate": (0.95, 2.0),
    "on_time": (0.99, 1.3),
    "online": (0.96, 1.5),
    "one_window": (0.94, 1.2),
    "rectified_on_time": (0.93, 1.7),
    "rectification_satisfied": (0.92, 1.4),
}
#: bounded shares: value = bound * expit(logit(centre / bound) + slope * eta)
BOUNDED_LINKS = {"compression": (0.62, 0.8, 0.9), "docs_reduction": (0.38, 0.5, 0.9)}
#: queue wait: log-normal with this population mean (minutes) at eta = 0
WAIT_MEAN, WAIT_SLOPE, WAIT_SD = 8.0, 0.6, 0.5
#: checklist items: ordered probit on slope * eta + easiness + visit, rater and item noise
CHECKLIST_SLOPE, CHECKLIST_PARTIAL = 1.0, 0.8
CHECKLIST_EASE_MEAN, CHECKLIST_EASE_SD = 1.5, 0.4
SD_VISIT, SD_RATER, SD_RATER_ITEM = 0.30, 0.15, 0.35
#: trips given at most one trip: share with none; given more: share with three or more
TRIPS_ZERO, TRIPS_THREE = 0.30, 0.35


def share(field: str, eta):
    centre, slope = SHARE_LINKS[field]
    return expit(logit(centre) + slope * np.asarray(eta, dtype=float))


def bounded(field: str, eta):
    centre, bound, slope = BOUNDED_LINKS[field]
    return bound * expit(logit(centre / bound) + slope * np.asarray(eta, dtype=float))


def wait_log_median(eta):
    """Location of log(wait minutes): the population mean is exp(location + WAIT_SD**2 / 2)."""
    return np.log(WAIT_MEAN) - WAIT_SD**2 / 2 - WAIT_SLOPE * np.asarray(eta, dtype=float)


def wait_mean(eta):
    return np.exp(wait_log_median(eta) + WAIT_SD**2 / 2)


def checklist_sd() -> float:
    return float(np.sqrt(1.0 + SD_VISIT**2 + SD_RATER**2 + SD_RATER_ITEM**2))


def checklist_mean(eta, ease: np.ndarray):
    """Expected item score (1 / 0.5 / 0) averaged over the items, visits and raters integrated out."""
    mu = CHECKLIST_SLOPE * np.asarray(eta, dtype=float)[..., None] + ease
    s = checklist_sd()
    return (0.5 * (ndtr((mu + CHECKLIST_PARTIAL) / s) + ndtr(mu / s))).mean(axis=-1)


def trips_distribution(eta):
    """P(trips = 0, 1, 2, 3+), shape (..., 4)."""
    p = share("trips", eta)
    return np.stack([p * TRIPS_ZERO, p * (1 - TRIPS_ZERO), (1 - p) * (1 - TRIPS_THREE), (1 - p) * TRIPS_THREE],
                    axis=-1)


# ---------------------------------------------------------------- Likert


def ordered_probs(mu, cuts, s: float):
    """P(code = 1..5) of an ordered probit with latent mean ``mu`` and total SD ``s``, shape (..., 5)."""
    mu = np.asarray(mu, dtype=float)
    c = np.asarray(cuts, dtype=float)
    cdf = ndtr((c - mu[..., None]) / s)
    lower = np.concatenate([np.zeros(mu.shape + (1,)), cdf], axis=-1)
    upper = np.concatenate([cdf, np.ones(mu.shape + (1,))], axis=-1)
    return upper - lower


def type_mix(config: SimulationConfig, enterprise_share) -> list[tuple[np.ndarray, float]]:
    """The population respondent types as (weight per department, latent offset) pairs."""
    e = np.asarray(enterprise_share, dtype=float)
    d = config.denied_share
    return [((1 - e) * (1 - d), 0.0), ((1 - e) * d, config.denied_offset),
            (e * (1 - d), config.enterprise_offset), (e * d, config.enterprise_offset + config.denied_offset)]


def likert_population(config: SimulationConfig, mu, enterprise_share, s: float):
    """P(code = 1..5) over the population's respondent mix, leniency integrated out."""
    return sum(w[..., None] * ordered_probs(np.asarray(mu) + off, config.cut_points, s)
               for w, off in type_mix(config, enterprise_share))


def survey_sd(config: SimulationConfig) -> float:
    """Total latent SD of a survey answer: residual, leniency and intercept-day effect."""
    return float(np.sqrt(1.0 + config.sd_leniency**2 + config.sd_cluster**2))


def phone_sd(config: SimulationConfig) -> float:
    """Total latent SD of a callback answer or a 好差评 rating (no intercept day)."""
    return float(np.sqrt(1.0 + config.sd_leniency**2))


def item_offset(config: SimulationConfig, item: str) -> float:
    return dict(config.item_offsets).get(item, 0.0)


# ---------------------------------------------------------------- callbacks and 好差评


def disposition_probabilities(config: SimulationConfig, phi) -> dict[str, np.ndarray]:
    """Expected final disposition shares of drawn cases for padding rate(s) ``phi``.

    A share ``phi`` of the drawn records is fabricated; a fabricated record is
    reached as "never handled" with probability ``fabricated_never_handled``
    and is otherwise a wrong number.  Genuine records end as in
    ``config.dispositions``.
    """
    phi = np.asarray(phi, dtype=float)
    out = {k: (1 - phi) * p for k, p in config.dispositions}
    out["never_handled"] = out.get("never_handled", 0.0) + phi * config.fabricated_never_handled
    out["wrong_number"] = out.get("wrong_number", 0.0) + phi * (1 - config.fabricated_never_handled)
    return out


def expected_g1(config: SimulationConfig, phi):
    """Expected record authenticity (percent): (I + P) / (I + P + never handled)."""
    d = disposition_probabilities(config, phi)
    ok = d.get("complete", 0.0) + d.get("partial", 0.0)
    return 100.0 * ok / (ok + d["never_handled"])


def default_share(config: SimulationConfig, gamma):
    return np.clip(config.default_share + config.default_per_gamma * np.asarray(gamma, dtype=float), 0.0, 1.0)


def rating_distribution(config: SimulationConfig, eta_overall, enterprise_share, gamma):
    """P(好差评 level = 1..5): default ratings and prompted ratings are 5, the rest honest."""
    honest = likert_population(config, np.asarray(eta_overall) + config.callback_offset + config.rating_offset,
                               enterprise_share, phone_sd(config))
    g = np.asarray(gamma, dtype=float)
    fixed = default_share(config, g) + (1 - default_share(config, g)) * g
    probs = (1 - fixed)[..., None] * honest
    probs[..., 4] += fixed
    return probs
