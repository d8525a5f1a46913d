"""From call-attempt histories to one final disposition per callback case.

Precedence rule (documented; AAPOR Standard Definitions families in brackets).
Across a case's attempts the final disposition is the first of these that
occurred on any attempt:

1. ``complete`` [I]           the interview was completed
2. ``partial`` [P]            the interview was partly completed
3. ``never_handled`` [NE]     the person reached says they never handled this matter
4. ``wrong_number`` [NE]      empty, wrong or invalid number
5. ``refusal`` / ``breakoff`` [R]
6. ``other`` [O]
7. ``no_answer`` / ``busy`` / ``switched_off`` [UH]   never reached: eligibility unknown

Outcomes that settle the case's status (1-4) take precedence over refusals,
and any contact over non-contact.  ``never_handled`` and ``wrong_number`` are
kept apart from other not-eligible outcomes because they carry the record
authenticity signal (gate G1): a padded case list shows up as wrong numbers
and people who never handled the matter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRECEDENCE = ("complete", "partial", "never_handled", "wrong_number", "refusal", "breakoff", "other",
              "no_answer", "busy", "switched_off")

AAPOR_CODE = {
    "complete": "I", "partial": "P", "refusal": "R", "breakoff": "R", "other": "O",
    "no_answer": "UH", "busy": "UH", "switched_off": "UH", "wrong_number": "NE", "never_handled": "NE",
}


def final_dispositions(attempts: pd.DataFrame) -> pd.DataFrame:
    """One row per case: ``department_id, case_id, disposition, aapor, attempts``.

    Columns
    -------
    disposition : the final outcome by the precedence rule above
    aapor : its AAPOR family code (I, P, R, NC, O, UH, UO, NE)
    attempts : number of call attempts made
    """
    if attempts is None or attempts.empty:
        return pd.DataFrame(columns=["department_id", "case_id", "disposition", "aapor", "attempts"])
    rank = {o: i for i, o in enumerate(PRECEDENCE)}
    r = attempts["outcome"].map(rank).fillna(len(PRECEDENCE)).astype(int)
    tmp = pd.DataFrame({"department_id": attempts["department_id"], "case_id": attempts["case_id"], "r": r})
    g = tmp.groupby(["department_id", "case_id"], sort=True)
    out = g["r"].min().rename("r").reset_index()
    out["attempts"] = g.size().to_numpy()
    names = np.array(PRECEDENCE + ("other",), dtype=object)
    out["disposition"] = names[out["r"].to_numpy()]
    out["aapor"] = out["disposition"].map(AAPOR_CODE)
    return out.drop(columns="r")
