"""The simulated departments: register, persistent parameters and yearly latent quality."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.errors import MethodologyError, Problem
from surveys.framework import Department, Framework, load_framework

from .config import SimulationConfig
from .links import CHECKLIST_EASE_MEAN, CHECKLIST_EASE_SD, DIMENSIONS, FIELD_DIMENSION, FIELDS

# Independent random streams, so that adding clones or changing the sample
# stream never moves the register's parameters.
STREAM_PARAMS, STREAM_YEAR, STREAM_SAMPLE, STREAM_CLONES = 1, 2, 3, 4


def stream(config: SimulationConfig, *key: int) -> np.random.Generator:
    """A generator for one named stream of ``config.seed`` (reproducible, independent)."""
    return np.random.default_rng(np.random.SeedSequence([int(config.seed), *key]))


@dataclass(frozen=True)
class Register:
    """The departments of a simulation and their persistent parameters.

    ``params`` is indexed by ``department_id`` (register order, clones last)
    with columns ``department, department_en, category, tier, alpha, beta,
    enterprise_share, volume, phi, gamma, low_volume``, ``u_<dimension>`` and
    ``w_<field>``.  ``checklist_ease`` holds the easiness of items c01..c25.
    The framework's departments after the first ``n_register`` are clones.
    """

    framework: Framework
    params: pd.DataFrame
    checklist_ease: np.ndarray
    t0: int
    n_register: int

    @property
    def clones(self) -> tuple[Department, ...]:
        return self.framework.departments[self.n_register:]

    def active(self, config: SimulationConfig, year: int) -> list[str]:
        """Ids of the departments with data in ``year``, in register order."""
        dropped = {d for d, y in config.dropped if year >= y}
        return [d.id for d in self.framework.departments_in(year, include_optional=config.include_utilities)
                if d.id not in dropped]


def build_register(config: SimulationConfig) -> Register:
    """Register (extended with clones for ``n_departments``) and persistent parameters."""
    fw = load_framework(config.framework)
    rng = stream(config, STREAM_PARAMS)
    base = list(fw.departments)
    params = _draw(config, base, rng)
    ease = rng.normal(CHECKLIST_EASE_MEAN, CHECKLIST_EASE_SD, 25)
    _inherit(fw, params)
    _choose_bad(config, fw, params, rng)
    if config.n_departments is not None:
        clones = _clones(config, fw)
        if clones:
            fw = dataclasses.replace(fw, departments=fw.departments + tuple(clones))
            extra = _draw(config, clones, stream(config, STREAM_CLONES))
            params = pd.concat([params, extra])
    return Register(fw, params, ease, min(config.years), len(base))


def latent(config: SimulationConfig, register: Register, year: int, ids: list[str]) -> tuple[np.ndarray, dict]:
    """Latent quality ``q`` and per-field latent ``eta`` of ``ids`` in ``year``.

    q = alpha + beta (year - t0) + eps (eps drawn per year for every register
    department, so a department's eps does not depend on who else is active);
    eta[field] = q + u[dimension of field] + w[field].
    """
    p = register.params
    eps = pd.Series(stream(config, STREAM_YEAR, year).normal(0.0, config.sd_year, len(p)), index=p.index)
    sub = p.loc[ids]
    q = (sub["alpha"] + sub["beta"] * (year - register.t0) + eps.loc[ids]).to_numpy()
    eta = {f: q + sub[f"u_{FIELD_DIMENSION[f]}"].to_numpy() + sub[f"w_{f}"].to_numpy() for f in FIELDS}
    return q, eta


# ---------------------------------------------------------------------------


def _draw(config: SimulationConfig, departments: list[Department], rng: np.random.Generator) -> pd.DataFrame:
    n = len(departments)
    offsets = dict(config.category_offsets)
    ent_range = dict(config.enterprise_share)
    cat = [d.category for d in departments]
    tier = [d.tier for d in departments]
    # Centred department effects: the city's average sits where the calibration puts it for every seed
    # (otherwise the ceiling and the grade mix would drift with the luck of the draw).
    effect = rng.normal(0.0, config.sd_department, n)
    alpha = np.array([offsets.get(c, 0.0) for c in cat]) + effect - effect.mean()
    beta = rng.normal(config.trend_mean, config.trend_sd, n)
    lo = np.array([ent_range.get(c, (0.1, 0.3))[0] for c in cat])
    hi = np.array([ent_range.get(c, (0.1, 0.3))[1] for c in cat])
    ent = lo + (hi - lo) * rng.random(n)
    vlo = np.log([config.tier_value("case_volume", t)[0] for t in tier])
    vhi = np.log([config.tier_value("case_volume", t)[1] for t in tier])
    volume = np.round(np.exp(vlo + (vhi - vlo) * rng.random(n)))
    low = np.array([d.id in config.low_volume for d in departments])
    volume[low] = np.minimum(volume[low], 300.0)
    frame = pd.DataFrame({
        "department": [d.name for d in departments], "department_en": [d.name_en for d in departments],
        "category": cat, "tier": tier, "alpha": alpha, "beta": beta, "enterprise_share": ent,
        "volume": volume, "phi": 0.0, "gamma": 0.0, "low_volume": low,
    }, index=pd.Index([d.id for d in departments], name="department_id"))
    u = rng.normal(0.0, config.sd_dimension, (n, len(DIMENSIONS)))
    w = rng.normal(0.0, config.sd_field, (n, len(FIELDS)))
    extra = {f"u_{k}": u[:, i] for i, k in enumerate(DIMENSIONS)}
    extra.update({f"w_{f}": w[:, i] for i, f in enumerate(FIELDS)})
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)


def _inherit(fw: Framework, params: pd.DataFrame) -> None:
    """A successor continues its predecessors: volume-weighted parameters, summed volume."""
    blend = ["alpha", "beta", "enterprise_share"] + [c for c in params.columns if c[:2] in ("u_", "w_")]
    for entry in fw.crosswalk:
        pred = params.loc[list(entry.predecessors)]
        vol = pred["volume"].to_numpy()
        params.loc[entry.successor, blend] = (pred[blend].to_numpy() * vol[:, None]).sum(axis=0) / vol.sum()
        params.loc[entry.successor, "volume"] = vol.sum()


def _candidates(config: SimulationConfig, fw: Framework) -> list[str]:
    """Departments present every year, outside any crosswalk, not tiny: where misconduct is detectable."""
    moved = {d for e in fw.crosswalk for d in (e.successor, *e.predecessors)}
    dropped = {d for d, _ in config.dropped}
    return [d.id for d in fw.departments
            if all(d.active(y) for y in config.years) and not d.optional and d.tier in ("H", "M")
            and d.id not in moved | dropped and d.id not in config.low_volume]


def _choose_bad(config: SimulationConfig, fw: Framework, params: pd.DataFrame, rng: np.random.Generator) -> None:
    pool = _candidates(config, fw)
    n_pad = int(rng.integers(config.n_padding[0], config.n_padding[1] + 1))
    n_game = int(rng.integers(config.n_gaming[0], config.n_gaming[1] + 1))
    if n_pad + n_game > len(pool):
        raise MethodologyError("Cannot place the simulated misconduct", [Problem(
            f"{n_pad} padding and {n_game} gaming departments need distinct departments, "
            f"but only {len(pool)} qualify", fix="lower n_padding / n_gaming or use a larger register")])
    # Gaming pays only where real satisfaction leaves room above it: gamers come from the lower half by alpha
    # (a department at the ceiling could not show a rating gap of 10 points however much it gamed).
    alpha = params.loc[pool, "alpha"]
    lower = [d for d in pool if alpha[d] <= alpha.median()]
    gamers = list(rng.choice(lower, min(n_game, len(lower)), replace=False))
    rest = [d for d in pool if d not in gamers]
    padders = list(rng.choice(rest, n_pad, replace=False))
    lo, hi = config.phi_range
    phi = lo + (hi - lo) * rng.random(n_pad)
    # The first padding department pads by at least 0.1, so the authenticity gate always has a case.
    phi[0] = max(0.10, lo) + (hi - max(0.10, lo)) * rng.random()
    glo, ghi = config.gamma_range
    params.loc[padders, "phi"] = phi
    params.loc[gamers, "gamma"] = glo + (ghi - glo) * rng.random(len(gamers))


def _clones(config: SimulationConfig, fw: Framework) -> list[Department]:
    first = min(config.years)
    present = [d for d in fw.departments_in(first, include_optional=config.include_utilities)
               if (d.id, first) not in config.dropped]
    n_extra = config.n_departments - len(present)
    if n_extra < 0:
        raise MethodologyError("n_departments is smaller than the register", [Problem(
            f"n_departments = {config.n_departments}, but the register already has {len(present)} "
            f"departments in {first}", fix=f"use n_departments >= {len(present)} or leave it unset")])
    moved = {d for e in fw.crosswalk for d in (e.successor, *e.predecessors)}
    templates = [d for d in present if d.id not in moved and d.id not in config.low_volume
                 and all(d.active(y) for y in config.years)]
    counters: dict[str, int] = {}
    copies: dict[str, int] = {}
    out = []
    for k in range(n_extra):
        t = templates[k % len(templates)]
        counters[t.category] = counters.get(t.category, 99) + 1
        copies[t.id] = copies.get(t.id, 0) + 1
        out.append(Department(f"{t.category}{counters[t.category]}", f"{t.name}（{copies[t.id]}）",
                              f"{t.name_en} ({copies[t.id]})", t.category, t.tier, optional=t.optional))
    return out
