"""Phone-callback outcome rates after AAPOR's Standard Definitions.

Every called case gets one final disposition in one of AAPOR's eight
categories:

======  ==========================================================
code    meaning
======  ==========================================================
I       complete interview
P       partial interview
R       refusal and break-off
NC      non-contact (eligible, never reached)
O       other eligible non-interview
UH      unknown if eligible, nothing known (e.g. always no answer)
UO      unknown eligibility, other
NE      not eligible (e.g. number not in service, not the case's applicant)
======  ==========================================================

A project's own disposition codes (完成, 拒访, 无人接听, 空号, ...) are mapped
onto these with the ``mapping`` argument; which category a code belongs to is a
methodological choice that belongs in the framework, not in this module.

Rates (AAPOR Standard Definitions; formulas as in the R package
``outcomerate``, whose values the tests reproduce)::

    RR1  = I / ((I+P) + (R+NC+O) + (UH+UO))
    RR2  = (I+P) / ((I+P) + (R+NC+O) + (UH+UO))
    RR3  = I / ((I+P) + (R+NC+O) + e(UH+UO))
    RR4  = (I+P) / ((I+P) + (R+NC+O) + e(UH+UO))
    RR5  = I / ((I+P) + (R+NC+O))
    RR6  = (I+P) / ((I+P) + (R+NC+O))
    COOP1 = I / ((I+P) + R + O)          COOP2 = (I+P) / ((I+P) + R + O)
    COOP3 = I / ((I+P) + R)              COOP4 = (I+P) / ((I+P) + R)
    REF1 = R / ((I+P) + (R+NC+O) + (UH+UO))
    REF2 = R / ((I+P) + (R+NC+O) + e(UH+UO))
    REF3 = R / ((I+P) + (R+NC+O))
    CON1 = ((I+P) + R + O) / ((I+P) + (R+NC+O) + (UH+UO))
    CON2 = ((I+P) + R + O) / ((I+P) + (R+NC+O) + e(UH+UO))
    CON3 = ((I+P) + R + O) / ((I+P) + (R+NC+O))
    LOC1 = ((I+P) + R + NC + O) / ((I+P) + (R+NC+O) + (UH+UO))
    LOC2 = ((I+P) + R + NC + O) / ((I+P) + (R+NC+O) + e(UH+UO))

The location rates are not AAPOR's; they follow Valliant, Dever & Kreuter
(2013), *Practical Tools for Designing and Weighting Survey Samples*, as
implemented in ``outcomerate``. A rate whose denominator is 0 is NaN.

``e`` is the estimated share of unknown-eligibility cases that are eligible.
``e="proportional"`` (the default) uses the share among cases whose
eligibility is known, (I+P+R+NC+O) / (I+P+R+NC+O+NE) (``outcomerate``'s
``eligibility_rate``); it is NaN when no case has known eligibility.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.errors import DataValidationError, MethodologyError, Problem

__all__ = [
    "OUTCOME_CODES",
    "RATE_NAMES",
    "OutcomeRates",
    "disposition_counts",
    "outcome_rates",
    "outcome_rates_by_group",
]

OUTCOME_CODES = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
RATE_NAMES = (
    "RR1", "RR2", "RR3", "RR4", "RR5", "RR6",
    "COOP1", "COOP2", "COOP3", "COOP4",
    "REF1", "REF2", "REF3",
    "CON1", "CON2", "CON3",
    "LOC1", "LOC2",
)


@dataclass(frozen=True)
class OutcomeRates:
    """Outcome rates of one set of called cases.

    Attributes
    ----------
    rates : pd.Series
        RR1..RR6, COOP1..COOP4, REF1..REF3, CON1..CON3, LOC1, LOC2 (in
        ``RATE_NAMES`` order), each a proportion in [0, 1] or NaN.
    counts : pd.Series
        (Weighted) count per AAPOR category, in ``OUTCOME_CODES`` order.
    e : float
        Eligibility share of unknown cases used by RR3, RR4, REF2, CON2, LOC2.
    e_method : str
        ``"proportional"`` or ``"given"``.
    n : float
        Number of cases (the unweighted count).
    weighted_n : float
        Sum of the case weights (equals ``n`` when unweighted).
    """

    rates: pd.Series
    counts: pd.Series
    e: float
    e_method: str
    n: float
    weighted_n: float

    def to_frame(self) -> pd.DataFrame:
        """One row: the rate columns, then ``e``, ``e_method``, ``n``, ``weighted_n``."""
        row = {**self.rates.to_dict(), "e": self.e, "e_method": self.e_method,
               "n": self.n, "weighted_n": self.weighted_n}
        return pd.DataFrame([row])


def _rates(counts: pd.DataFrame, e: pd.Series) -> pd.DataFrame:
    """Vectorised rates: one row of category counts per group."""
    c = {k: counts[k].to_numpy(dtype=float) for k in OUTCOME_CODES}
    e = e.to_numpy(dtype=float)
    ip = c["I"] + c["P"]
    known = ip + c["R"] + c["NC"] + c["O"]
    unknown = c["UH"] + c["UO"]
    # e(UH+UO) must vanish when there are no unknown cases, even with e undefined
    e_unknown = np.where(unknown > 0, e * unknown, 0.0)
    all_den = known + unknown
    e_den = known + e_unknown
    contacted = ip + c["R"] + c["O"]
    located = known
    with np.errstate(divide="ignore", invalid="ignore"):
        def ratio(num, den):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

        out = {
            "RR1": ratio(c["I"], all_den), "RR2": ratio(ip, all_den),
            "RR3": ratio(c["I"], e_den), "RR4": ratio(ip, e_den),
            "RR5": ratio(c["I"], known), "RR6": ratio(ip, known),
            "COOP1": ratio(c["I"], contacted), "COOP2": ratio(ip, contacted),
            "COOP3": ratio(c["I"], ip + c["R"]), "COOP4": ratio(ip, ip + c["R"]),
            "REF1": ratio(c["R"], all_den), "REF2": ratio(c["R"], e_den), "REF3": ratio(c["R"], known),
            "CON1": ratio(contacted, all_den), "CON2": ratio(contacted, e_den),
            "CON3": ratio(contacted, known),
            "LOC1": ratio(located, all_den), "LOC2": ratio(located, e_den),
        }
    return pd.DataFrame(out, index=counts.index, columns=list(RATE_NAMES))


def _eligibility(counts: pd.DataFrame, e: float | str) -> tuple[pd.Series, str]:
    if isinstance(e, str):
        if e != "proportional":
            raise MethodologyError(
                "Unknown method for the eligibility share e",
                [Problem(f"e = {e!r} is not known", value=e,
                         fix='pass e="proportional" or a number between 0 and 1')],
            )
        eligible = counts[["I", "P", "R", "NC", "O"]].sum(axis=1)
        known = eligible + counts["NE"]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = eligible / known.where(known > 0)
        return share.astype(float), "proportional"
    try:
        value = float(e)
    except (TypeError, ValueError):
        value = math.nan
    if not (0.0 <= value <= 1.0):
        raise MethodologyError(
            "Invalid eligibility share e",
            [Problem("e must be a number between 0 and 1", value=e,
                     fix='pass a share such as 0.9, or e="proportional"')],
        )
    return pd.Series(value, index=counts.index, dtype=float), "given"


def _check_weights(weights, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise DataValidationError(
            "Case weights do not match the cases",
            [Problem(f"{w.size} weights for {n} cases", fix="give one weight per case")],
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataValidationError(
            "Invalid case weights",
            [Problem(f"{int(bad.sum())} weight(s) missing, negative or infinite",
                     value=np.flatnonzero(bad)[:5].tolist(),
                     fix="give every case a non-negative finite weight (positions shown)")],
        )
    return w


def _categorise(codes: pd.Series, mapping: Mapping[object, str] | None) -> pd.Series:
    lookup = {k: k for k in OUTCOME_CODES}
    if mapping is not None:
        bad_targets = sorted({str(v) for v in mapping.values() if v not in OUTCOME_CODES})
        if bad_targets:
            raise DataValidationError(
                "Disposition mapping points outside AAPOR's categories",
                [Problem(f"mapped to {t!r}", value=t, fix=f"map every code to one of {list(OUTCOME_CODES)}")
                 for t in bad_targets],
            )
        lookup.update(mapping)
    category = codes.map(lookup)
    unknown = codes[category.isna()]
    if len(unknown):
        tally = unknown.astype(object).where(unknown.notna(), "<missing>").value_counts()
        raise DataValidationError(
            "Disposition codes without an AAPOR category",
            [Problem(f"{n} case(s) with disposition {code!r}", value=code, code="unknown_disposition",
                     fix=f"map it to one of {list(OUTCOME_CODES)} with mapping={{...}}, "
                         "or code unresolved cases as 'UO'")
             for code, n in tally.items()],
        )
    return category


def disposition_counts(
    codes: Sequence[object] | pd.Series,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    mapping: Mapping[object, str] | None = None,
) -> pd.Series:
    """(Weighted) number of cases per AAPOR category.

    Parameters
    ----------
    codes : sequence or pd.Series
        Final disposition of each case: an AAPOR category or a key of ``mapping``.
    weights : sequence of float, optional
        Non-negative case weights.
    mapping : dict, optional
        Project disposition code -> AAPOR category.

    Returns
    -------
    pd.Series
        Indexed by ``OUTCOME_CODES`` (zeros included), named ``"count"``.
    """
    codes = pd.Series(codes).reset_index(drop=True)
    w = np.ones(len(codes)) if weights is None else _check_weights(weights, len(codes))
    category = _categorise(codes, mapping)
    return pd.Series(w).groupby(category.to_numpy()).sum().reindex(
        list(OUTCOME_CODES), fill_value=0.0).astype(float).rename("count")


def outcome_rates(
    counts: Mapping[str, float] | pd.Series | None = None,
    *,
    codes: Sequence[object] | pd.Series | None = None,
    weights: Sequence[float] | np.ndarray | None = None,
    e: float | str = "proportional",
    mapping: Mapping[object, str] | None = None,
) -> OutcomeRates:
    """AAPOR outcome rates from category counts or from per-case dispositions.

    Parameters
    ----------
    counts : mapping {code: count}, optional
        Counts per AAPOR category (missing categories count 0), e.g.
        ``{"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}``.
    codes : sequence, optional
        Instead of ``counts``: each case's final disposition.
    weights : sequence of float, optional
        Case weights for ``codes`` (weighted rates).
    e : float in [0, 1] or "proportional"
        Eligibility share of unknown cases (see the module docstring).
    mapping : dict, optional
        Project disposition code -> AAPOR category, for ``codes``.

    Returns
    -------
    OutcomeRates

    Raises
    ------
    DataValidationError
        Both or neither of ``counts`` and ``codes``; unknown categories;
        negative or non-finite counts or weights.
    MethodologyError
        ``e`` neither a share in [0, 1] nor ``"proportional"``.

    Notes
    -----
    Formulas in the module docstring. Matches the R package ``outcomerate``
    (reference case 2: RR1 = 4/11, RR3 = 4/10.8, ...; weighted RR2 = 10.2/20.3).
    """
    if (counts is None) == (codes is None):
        raise DataValidationError(
            "Give either disposition counts or per-case codes",
            [Problem("outcome_rates needs exactly one of counts= and codes=",
                     fix="pass counts={'I': ..., ...} or codes=[...]")],
        )
    if codes is not None:
        codes = pd.Series(codes)
        tally = disposition_counts(codes, weights, mapping=mapping)
        n = float(len(codes))
    else:
        if weights is not None:
            raise DataValidationError(
                "Weights apply to per-case codes only",
                [Problem("weights were given with counts",
                         fix="weight the counts yourself, or pass codes= with weights=")],
            )
        tally = _counts_from_mapping(counts)
        n = float(tally.sum())
    frame = tally.to_frame().T.reset_index(drop=True)
    share, method = _eligibility(frame, e)
    rates = _rates(frame, share).iloc[0].rename("rate")
    return OutcomeRates(rates=rates, counts=tally, e=float(share.iloc[0]), e_method=method,
                        n=n, weighted_n=float(tally.sum()))


def _counts_from_mapping(counts) -> pd.Series:
    problems = []
    values = {}
    for key, raw in dict(counts).items():
        if key not in OUTCOME_CODES:
            problems.append(Problem(f"{key!r} is not an AAPOR category", value=key,
                                    fix=f"use the categories {list(OUTCOME_CODES)}"))
            continue
        try:
            v = float(raw)
        except (TypeError, ValueError):
            v = math.nan
        if not (math.isfinite(v) and v >= 0):
            problems.append(Problem(f"count of {key} must be a non-negative number", value=raw,
                                    fix="give a count of cases (0 if none)"))
            continue
        values[key] = v
    if problems:
        raise DataValidationError("Invalid disposition counts", problems)
    return pd.Series(values, dtype=float).reindex(list(OUTCOME_CODES), fill_value=0.0).rename("count")


def outcome_rates_by_group(
    data: pd.DataFrame,
    group: str,
    code: str,
    weight: str | None = None,
    *,
    e: float | str = "proportional",
    mapping: Mapping[object, str] | None = None,
) -> pd.DataFrame:
    """AAPOR outcome rates per group (e.g. per department) from a tidy frame.

    Parameters
    ----------
    data : pd.DataFrame
        One row per called case.
    group : str
        Column identifying the group; missing groups are an error.
    code : str
        Column with the final disposition (AAPOR category or a key of ``mapping``).
    weight : str, optional
        Column with case weights.
    e : float in [0, 1] or "proportional"
        With ``"proportional"``, e is estimated within each group.
    mapping : dict, optional
        Project disposition code -> AAPOR category.

    Returns
    -------
    pd.DataFrame
        Indexed by group (sorted), columns ``RR1`` ... ``LOC2`` (``RATE_NAMES``),
        ``e``, ``e_method``, ``n`` (cases) and ``weighted_n`` (sum of weights).

    Notes
    -----
    Same formulas as :func:`outcome_rates`, evaluated on each group's
    (weighted) category counts.
    """
    missing_cols = [c for c in (group, code, weight) if c is not None and c not in data.columns]
    if missing_cols:
        raise DataValidationError(
            "Columns missing for outcome rates",
            [Problem("column not found", column=c, fix=f"use one of {list(data.columns)}")
             for c in missing_cols],
        )
    if data[group].isna().any():
        raise DataValidationError(
            "Cases without a group",
            [Problem(f"{int(data[group].isna().sum())} case(s) have no value", column=group,
                     fix="fill the group of every case or drop those cases")],
        )
    w = np.ones(len(data)) if weight is None else _check_weights(data[weight].to_numpy(), len(data))
    category = _categorise(data[code].reset_index(drop=True), mapping)
    frame = pd.DataFrame({"group": data[group].to_numpy(), "category": category.to_numpy(), "w": w})
    counts = (frame.pivot_table(index="group", columns="category", values="w", aggfunc="sum",
                                fill_value=0.0, observed=True)
              .reindex(columns=list(OUTCOME_CODES), fill_value=0.0).astype(float))
    counts.columns.name = None
    share, method = _eligibility(counts, e)
    out = _rates(counts, share)
    out["e"] = share
    out["e_method"] = method
    out["n"] = frame.groupby("group", observed=True).size().reindex(out.index).astype(float)
    out["weighted_n"] = counts.sum(axis=1)
    out.index.name = group
    return out
