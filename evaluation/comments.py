"""Open comments put to work: what citizens complain about, per department, counted by theme.

Every questionnaire and callback may end with an open question (您的意见和
建议).  Read one by one the comments are anecdotes; counted by theme they are
evidence a problem list can cite ("排队久: 23 of 180 comments").  Each
comment, masked at the door (:func:`surveys.privacy.scrub_text`) and masked
again here, is matched against the framework's lexicon of complaint themes
(:attr:`surveys.framework.Framework.comment_themes`: the shipped default
排队久, 跑多次, 材料多, 态度差, 系统故障, 收费, 推诿, 办理慢, 告知不清,
吃拿卡要, extended or replaced by ``[[comment_themes]]``).

Matching.  A comment mentions a theme when, after NFKC, case folding and
removal of whitespace, it contains one of the theme's keywords once the
theme's ``except`` phrases are taken out of it (不用排队 is no complaint
about queues).  A comment may mention several themes; each theme counts a
comment once.  This is a lexicon count, not a reading: negations the
lexicon does not list, irony and misspellings escape it, so the counts are
a floor, and the example quotes let a reader check what was counted.

The comments read are the ``comment`` column of the questionnaire and of the
callback interviews, and the free-text items (``kind = "text"``) the
framework declares for them.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from surveys.framework import CommentTheme, Framework
from surveys.privacy import mask_text
from surveys.schema import ChannelData

#: the comment-theme table: one row per department and theme mentioned
COMMENT_THEME_COLUMNS = ["department_id", "theme", "theme_zh", "theme_en", "n", "examples", "n_comments", "share"]
#: tables whose open comments are read
COMMENT_TABLES = ("survey", "callback_interviews")
#: example quotes kept per department and theme, and the longest quote (characters, after masking)
MAX_EXAMPLES = 3
MAX_QUOTE_CHARS = 60
_SPACE = re.compile(r"\s+")


def comment_themes(data: ChannelData, framework: Framework) -> pd.DataFrame:
    """Open comments per department reduced to counts by complaint theme, with a few masked quotes.

    Parameters
    ----------
    data : ChannelData
        The year's validated tables.
    framework : Framework
        Its ``comment_themes`` lexicon and the declared text items.

    Returns
    -------
    pandas.DataFrame
        :data:`COMMENT_THEME_COLUMNS`, one row per department and theme that
        at least one comment mentions, themes in lexicon order:

        - ``theme``, ``theme_zh``, ``theme_en``: the theme's id and names;
        - ``n``: comments of the department that mention the theme;
        - ``examples``: up to :data:`MAX_EXAMPLES` of them, masked, each cut
          to :data:`MAX_QUOTE_CHARS` characters, in quotes, joined by ``；``
          (the shortest first: they read best in a problem list);
        - ``n_comments``: the department's non-empty comments;
        - ``share``: ``n / n_comments``.

        Empty (with the columns) when there are no comments.

    Notes
    -----
    Matching rules in the module docstring.  Deterministic: the same data
    give the same table and the same quotes.
    """
    comments = _comments(data, framework)
    if comments.empty or not framework.comment_themes:
        return pd.DataFrame(columns=COMMENT_THEME_COLUMNS)
    # each distinct comment keyed and matched once (a province's millions of comments repeat a great deal)
    codes, uniques = pd.factorize(comments["text"])
    keys = [_key(u) for u in uniques]
    totals = comments.groupby("department_id").size()
    rows = []
    for theme in framework.comment_themes:
        words, exceptions = _theme_keys(theme)
        hit = np.fromiter((_mentions(k, words, exceptions) for k in keys), dtype=bool, count=len(keys))
        found = comments[hit[codes]]
        for dept, grp in found.groupby("department_id", sort=True):
            quotes = sorted(dict.fromkeys(grp["text"]), key=lambda q: (len(q), q))[:MAX_EXAMPLES]
            rows.append({"department_id": dept, "theme": theme.id, "theme_zh": theme.name, "theme_en": theme.name_en,
                         "n": len(grp), "examples": "；".join(f"“{_quote(q)}”" for q in quotes),
                         "n_comments": int(totals[dept]), "share": len(grp) / int(totals[dept])})
    out = pd.DataFrame(rows, columns=COMMENT_THEME_COLUMNS)
    order = out["theme"].map({t.id: i for i, t in enumerate(framework.comment_themes)})
    return out.assign(_order=order).sort_values(["department_id", "_order"], kind="stable").drop(
        columns="_order").reset_index(drop=True)


def mentions(key: str, theme: CommentTheme) -> bool:
    """Whether a comment (in :func:`_key` form) mentions ``theme`` (keyword present once exceptions are out)."""
    return _mentions(key, *_theme_keys(theme))


def _theme_keys(theme: CommentTheme) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The theme's keywords and exception phrases in :func:`_key` form."""
    return tuple(_key(w) for w in theme.keywords), tuple(_key(p) for p in theme.exceptions)


def _mentions(key: str, words: tuple[str, ...], exceptions: tuple[str, ...]) -> bool:
    for phrase in exceptions:
        key = key.replace(phrase, "\x00")
    return any(word in key for word in words)


def _comments(data: ChannelData, framework: Framework) -> pd.DataFrame:
    """Every non-empty comment of the year: ``department_id, text`` (masked)."""
    parts = []
    for table in COMMENT_TABLES:
        df = data.tables.get(table)
        if df is None or df.empty:
            continue
        columns = [c for c in ("comment", *framework.item_ids(table)) if c in df.columns and (
            c == "comment" or framework.item(table, c).kind == "text")]
        for column in columns:
            text = df[column].astype("string").str.strip()
            keep = text.notna() & (text != "")
            codes, uniques = pd.factorize(text[keep])   # each distinct comment masked once
            masked = np.array([mask_text(u) for u in uniques], dtype=object)
            parts.append(pd.DataFrame({"department_id": df.loc[keep, "department_id"].astype(str),
                                       "text": masked[codes] if len(codes) else np.array([], dtype=object)}))
    if not parts:
        return pd.DataFrame(columns=["department_id", "text"])
    return pd.concat(parts, ignore_index=True)


def _key(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(text)).casefold())


def _quote(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_QUOTE_CHARS else text[:MAX_QUOTE_CHARS - 1] + "…"


__all__ = ["COMMENT_TABLES", "COMMENT_THEME_COLUMNS", "MAX_EXAMPLES", "comment_themes", "mentions"]
