"""Personal data at the door: phone and ID numbers are hashed or masked on load.

Raw numbers never leave this module: the canonical tables carry
``phone_hash`` (salted SHA-256, for duplicate detection) and
``phone_masked`` (138****5678, for display), never the number itself.  The
salt comes from the project (or the ``MINPING_SALT`` environment variable)
and is never written to any output.

Numbers also turn up where no one meant them to be: a phone number typed
into the department column, an ID card number in an answer or an id column.
:func:`mask_text` is the one function through which every text that quotes
an input cell passes on its way out: every field and detail the quarantine
ledger records (:class:`surveys.ledger.Ledger`), every located problem and
error message (:class:`surveys.errors.Problem`) and every minping warning.
Free-text columns are masked with the same rule (:func:`scrub_text`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd

#: mobile numbers as people type them: optional +86 / 86, spaces or hyphens between digits
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
#: 18-character resident ID numbers, the last character a digit or X, with spaces or hyphens between
#: characters as people group them (110101 19900307 4512)
ID_RE = re.compile(r"(?<!\d)(?:\d[\s-]?){17}[\dXx](?![\dXx])")
_DIGIT = re.compile(r"\d")  # any decimal digit, full-width ones included
#: texts up to this length are remembered by :func:`mask_text` (ledger details repeat a lot)
_CACHED_CHARS = 256


def mask_text(text: str) -> str:
    """The text with every phone and ID number in it masked; unchanged when it holds none.

    Numbers are looked for in the NFKC form of the text (full-width digits
    and spaces become ASCII); a text holding one is returned in that form,
    with mobile numbers in any common notation (``+86 139-1234-5678``,
    ``139 1234 5678``, ``１３９１２３４５６７８``) as ``139****5678`` and
    18-character ID numbers (also ending in X, also with spaces) as their
    first six and last four characters around ``********``.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    if len(text) <= _CACHED_CHARS:
        return _mask_cached(text)
    return _mask(text)


def mask_value(value):
    """:func:`mask_text` for any value a message may quote: text, numbers (``13912345678.0``), None.

    A value whose text holds no number is returned as it is (same type);
    otherwise its masked text.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return mask_text(value)
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


@functools.lru_cache(maxsize=1 << 14)
def _mask_cached(text: str) -> str:
    return _mask(text)


def _mask(text: str) -> str:
    if not _DIGIT.search(text):
        return text
    norm = unicodedata.normalize("NFKC", text)
    if not (ID_RE.search(norm) or PHONE_RE.search(norm)):
        return text                        # text without numbers keeps its own punctuation
    norm = ID_RE.sub(_masked_id, norm)
    return PHONE_RE.sub(_masked_phone, norm)


def _masked_id(match: re.Match) -> str:
    chars = re.sub(r"[\s-]", "", match.group(0)).upper()
    return chars[:6] + "********" + chars[-4:]


def _masked_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))[-11:]
    return digits[:3] + "****" + digits[-4:]


def _digits_each(values) -> list[str]:
    """The decimal digits of each value's NFKC text, one value at a time ("" where missing)."""
    return [re.sub(r"\D", "", unicodedata.normalize("NFKC", str(v))) if pd.notna(v) else "" for v in values]


def _digits(s: pd.Series):
    """The decimal digits of each value's NFKC text, "" where missing, as an Arrow string array.

    Text in ASCII (nearly every phone number) is left to one Arrow regular
    expression: NFKC leaves ASCII as it is, and there ``[0-9]`` is what
    Python's ``\\d`` matches.  Other text (full-width digits, a non-Latin
    script) and values that are not text take :func:`_digits_each`, the
    definition, so the result is the same as applying it to every value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(s.array if isinstance(s.dtype, pd.StringDtype) else s.to_numpy(dtype=object),
                        type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(_digits_each(s), type=pa.string())
    digits = pc.fill_null(pc.replace_substring_regex(text, pattern="[^0-9]+", replacement=""), "")
    other = pc.invert(pc.fill_null(pc.string_is_ascii(text), True))
    if pc.any(other).as_py():
        idx = np.flatnonzero(other.to_numpy(zero_copy_only=False))
        exact = pa.array(_digits_each(text.take(pa.array(idx)).to_pylist()), type=pa.string())
        digits = pc.replace_with_mask(digits, other, exact)
    return digits


def _salted_sha256(salt: str, texts):
    """First 16 hex digits of SHA-256 of ``salt + text`` for each text of an Arrow string array (UTF-8).

    DuckDB computes the digests in C++ over the whole column, about twice as
    fast as one ``hashlib`` call per number; the bytes hashed are the same,
    and so is every digest (``tests/test_speed_equivalence.py``).  The salt is
    a query parameter, never part of the query text.
    """
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    try:
        con.register("numbers", pa.table({"d": texts}))
        rel = con.sql("SELECT left(sha256($salt || d), 16) AS h FROM numbers", params={"salt": salt})
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # the name of DuckDB 2 and of DuckDB 1
        return fetch().column("h")
    finally:
        con.close()


def hash_phone(values: pd.Series, salt: str) -> pd.Series:
    """Salted SHA-256 (first 16 hex digits) of the digits of each phone number; NA stays NA.

    Each distinct number is hashed once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(_digits(values))
    distinct = encoded.dictionary
    hashed = _salted_sha256(salt, distinct).combine_chunks().cast(pa.string())
    hashed = pc.if_else(pc.equal(distinct, ""), pa.scalar(None, pa.string()), hashed)  # no digits: no hash
    return pd.Series(pd.arrays.ArrowStringArray(hashed.take(encoded.indices)), index=values.index)


#: the address at the start of a platform's IP cell ("223.104.5.12(广东-深圳)"): IPv4, or IPv6 letters and colons
_ADDRESS = re.compile(r"^\s*((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)")


def hash_identifier(values: pd.Series, salt: str) -> pd.Series:
    """Salted SHA-256 (first 16 hex digits) of an IP address or device id; NA stays NA.

    An IP address is personal information (PIPL art. 4): only its hash is
    kept, to find many questionnaires from one source.  A platform's IP cell
    often carries the place it resolves to (``223.104.5.12(广东-深圳)``):
    only the address is hashed, so the same address with another place
    gives the same hash.  Other ids are hashed as their NFKC text, stripped.
    """
    def key(v):
        text = unicodedata.normalize("NFKC", str(v)).strip()
        found = _ADDRESS.match(text)
        return found.group(1) if found else text

    codes, uniques = pd.factorize(values)
    table = [hashlib.sha256((salt + "|" + key(u)).encode()).hexdigest()[:16] if key(u) else None for u in uniques]
    return pd.Series(pd.array(table + [None], dtype="string").take(np.where(codes < 0, len(table), codes)),
                     index=values.index)


def mask_phone(values: pd.Series) -> pd.Series:
    """Display form 138****5678 (first three and last four digits)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = _digits(values)
    shown = pc.binary_join_element_wise(pc.utf8_slice_codeunits(digits, 0, 3), "****",
                                        pc.utf8_slice_codeunits(digits, -4, 1 << 30), "")
    shown = pc.if_else(pc.greater_equal(pc.utf8_length(digits), 7), shown, pa.scalar(None, pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(shown), index=values.index)


def scrub_text(values: pd.Series) -> pd.Series:
    """Mask phone and ID numbers that respondents typed into free text (:func:`mask_text` per value).

    Missing values stay missing; a text without numbers keeps its own
    punctuation, a text with one is returned in NFKC with the numbers masked.
    """
    return values.map(lambda v: v if pd.isna(v) else _mask(str(v)))
