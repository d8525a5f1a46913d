"""Personal data at the door: phone and ID numbers are hashed or masked on load.

Raw numbers never leave this module: the canonical tables carry
``phone_hash`` (salted SHA-256, for duplicate detection) and
``phone_masked`` (138****5678, for display), never the number itself.  The
salt comes from the project (or the ``MINPING_SALT`` environment variable)
and is never written to any output.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

#: mobile numbers as people type them: optional +86 / 86, spaces or hyphens between digits
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
ID_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def _digits(s: pd.Series) -> pd.Series:
    import unicodedata

    return s.map(lambda v: re.sub(r"\D", "", unicodedata.normalize("NFKC", str(v))) if pd.notna(v) else "",
                 na_action=None)


def hash_phone(values: pd.Series, salt: str) -> pd.Series:
    """Salted SHA-256 (first 16 hex digits) of the digits of each phone number; NA stays NA."""
    digits = _digits(values)
    uniq = pd.unique(digits)
    table = {d: (hashlib.sha256((salt + d).encode()).hexdigest()[:16] if d else None) for d in uniq}
    out = digits.map(table)
    return out.astype("string")


def mask_phone(values: pd.Series) -> pd.Series:
    """Display form 138****5678 (first three and last four digits)."""
    digits = _digits(values)
    out = np.where(digits.str.len() >= 7, digits.str[:3] + "****" + digits.str[-4:], "")
    return pd.Series(out, index=values.index, dtype="string").replace("", pd.NA)


def scrub_text(values: pd.Series) -> pd.Series:
    """Mask phone and ID numbers that respondents typed into free text.

    Numbers are looked for in the normalised text (NFKC: full-width digits
    become ASCII); a text with a number is returned normalised, with
    mobile numbers in any common notation (``+86 139-1234-5678``,
    ``139 1234 5678``) as ``139****5678`` and 18-digit ID numbers with only
    their first six and last four characters; other text is left as it is.
    """
    import unicodedata

    def mask(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))[-11:]
        return digits[:3] + "****" + digits[-4:]

    def clean(v):
        if pd.isna(v):
            return v
        norm = unicodedata.normalize("NFKC", str(v))
        if not (ID_RE.search(norm) or PHONE_RE.search(norm)):
            return v                       # text without numbers keeps its own punctuation
        norm = ID_RE.sub(lambda m: m.group(0)[:6] + "********" + m.group(0)[-4:], norm)
        return PHONE_RE.sub(mask, norm)

    return values.map(clean)
