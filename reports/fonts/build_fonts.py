"""Rebuild the two static fonts that minping's reports embed.

The reports carry their own font so that Chinese text renders the same on
every machine (a fresh machine has no CJK font, and CFF-flavoured ``.otf``
CJK fonts break matplotlib's Type 42 output and are refused by reportlab).

Source: the variable TrueType (glyf) Noto Sans SC shipped on PyPI in
``justmytype-intl-cjk``, licensed under the SIL Open Font License 1.1
(``OFL.txt`` beside this script).  The script

1. subsets the variable font to the characters a report can contain: every
   character of GBK (GB2312 plus the GBK-only Hanzi that occur in names, such
   as 喆 堃 镕), ASCII, Latin-1, general punctuation, CJK symbols and
   punctuation, full-width forms, a few mathematical signs, and every
   character of the shipped framework file (department, dimension and
   indicator names);
2. instantiates static Regular (wght 400) and Bold (wght 700) fonts with
   ``fontTools.varLib.instancer``;
3. renames the family to "Noto Sans SC Subset" (the OFL asks modified
   versions to be distinguishable; it also keeps matplotlib from confusing
   the files with a system-wide Noto Sans SC of different coverage);
4. writes ``NotoSansSCSubset-Regular.ttf`` and ``NotoSansSCSubset-Bold.ttf``
   with the source's timestamps so that a rebuild is byte-identical.

Run by hand (it is not run at install time), about a minute::

    pip install justmytype-intl-cjk fonttools
    python reports/fonts/build_fonts.py [--source PATH] [--repertoire gbk|gb2312]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAMEWORKS = HERE.parent.parent / "surveys" / "frameworks"
FAMILY = "Noto Sans SC Subset"
PS_FAMILY = "NotoSansSCSubset"
STYLES = {"Regular": 400, "Bold": 700}

# Signs the report text and charts use beyond GBK (GBK already has most CJK
# punctuation, Greek and Cyrillic).
EXTRA_RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement
    (0x2000, 0x206F),  # general punctuation
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (minus sign, <=, >=, +-)
    (0x25A0, 0x25FF),  # geometric shapes (legend markers)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # half-width and full-width forms
]


def gbk_characters(repertoire: str) -> set[str]:
    """Every character encodable in GB2312 or GBK (two-byte part)."""
    codec = "gb2312" if repertoire == "gb2312" else "gbk"
    chars: set[str] = set()
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                chars.add(bytes([lead, trail]).decode(codec))
            except UnicodeDecodeError:
                continue
    return chars


def framework_characters() -> set[str]:
    """Characters of the shipped framework files (names of everything)."""
    chars: set[str] = set()
    for path in sorted(FRAMEWORKS.glob("*.toml")):
        chars |= set(path.read_text(encoding="utf-8"))
    return {c for c in chars if c.isprintable()}


def repertoire_text(repertoire: str) -> str:
    chars = gbk_characters(repertoire) | framework_characters()
    chars |= {"喆", "堃", "镕"}
    for lo, hi in EXTRA_RANGES:
        chars |= {chr(c) for c in range(lo, hi + 1)}
    return "".join(sorted(chars))


def default_source() -> Path:
    spec = importlib.util.find_spec("justmytype_intl_cjk")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("justmytype-intl-cjk is not installed: pip install justmytype-intl-cjk")
    root = Path(list(spec.submodule_search_locations)[0])
    found = sorted(root.rglob("NotoSansSC*wght*.ttf"))
    if not found:
        sys.exit(f"no variable Noto Sans SC TTF under {root}")
    return found[0]


def rename(font, style: str) -> None:
    """Set family, style, full and PostScript names of a static instance."""
    name = font["name"]
    version = name.getDebugName(5) or ""
    keep = {0, 7, 8, 9, 10, 11, 12, 13, 14}
    name.names = [r for r in name.names if r.nameID in keep]
    records = {
        1: FAMILY,
        2: style,
        3: f"{re.sub(';.*', '', version)};{PS_FAMILY}-{style}",
        4: f"{FAMILY} {style}",
        5: version,
        6: f"{PS_FAMILY}-{style}",
    }
    for name_id, text in records.items():
        name.setName(text, name_id, 3, 1, 0x409)
        name.setName(text, name_id, 1, 0, 0)
    os2 = font["OS/2"]
    os2.usWeightClass = STYLES[style]
    # fsSelection: bit 0 italic, bit 5 bold, bit 6 regular
    os2.fsSelection &= ~((1 << 0) | (1 << 5) | (1 << 6))
    os2.fsSelection |= (1 << 5) if style == "Bold" else (1 << 6)
    font["head"].macStyle = 1 if style == "Bold" else 0


def build(source: Path, out_dir: Path, repertoire: str) -> list[Path]:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    text = repertoire_text(repertoire)
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = ["kern", "liga", "locl", "ccmp", "mark", "mkmk", "palt", "fwid", "hwid"]
    options.drop_tables += ["BASE", "vhea", "vmtx", "VORG"]

    written = []
    for style, weight in STYLES.items():
        font = TTFont(source, recalcTimestamp=False)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        static = instancer.instantiateVariableFont(font, {"wght": weight}, inplace=False)
        rename(static, style)
        static.recalcTimestamp = False
        path = out_dir / f"{PS_FAMILY}-{style}.ttf"
        static.save(path)
        written.append(path)
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, "
              f"{len(static.getBestCmap())} characters")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None,
                        help="variable NotoSansSC[wght].ttf (default: from justmytype-intl-cjk)")
    parser.add_argument("--repertoire", choices=["gbk", "gb2312"], default="gbk")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    build(args.source or default_source(), args.out, args.repertoire)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
