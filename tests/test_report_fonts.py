"""The shipped fonts: coverage, format, licence, and that chart and PDF output embed them."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tomllib

import pytest

from reports import fonts
from tests.conftest import ROOT
from tests.fixtures.report_checks import pdf_fonts, pdf_text

SAMPLE = "政务服务评估成绩单 喆 堃 镕"


def _gb2312_hanzi() -> set[str]:
    chars = set()
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


@pytest.fixture(scope="module")
def cmaps():
    from fontTools.ttLib import TTFont

    out = {}
    for style, path in fonts.font_paths().items():
        font = TTFont(path, lazy=True)
        out[style] = (font, set(font.getBestCmap()))
    return out


def test_font_files_are_truetype_static_and_small(cmaps):
    for style, (font, _) in cmaps.items():
        path = fonts.font_paths()[style]
        assert path.stat().st_size < 10_000_000, f"{path.name} is {path.stat().st_size} bytes"
        assert "glyf" in font and "CFF " not in font, "must be TrueType outlines, not CFF"
        assert "fvar" not in font, "must be a static instance"
        assert font["OS/2"].fsType & 0x0002 == 0, "licence bits must allow embedding"
        assert font["name"].getDebugName(1) == fonts.FAMILY
    assert cmaps["regular"][0]["OS/2"].usWeightClass == 400
    assert cmaps["bold"][0]["OS/2"].usWeightClass == 700


def test_font_covers_gb2312_gbk_names_and_framework(cmaps):
    framework = (ROOT / "surveys" / "frameworks" / "default.toml").read_text(encoding="utf-8")
    names = []
    data = tomllib.loads(framework)
    for table in ("departments", "dimensions", "indicators", "categories", "grades"):
        names += [row["name"] for row in data[table]]
    needed = _gb2312_hanzi() | set("".join(names)) | set("喆堃镕０１２３４５６７８９，。：；（）—％×≥≤…·")
    needed |= {chr(c) for c in range(0x20, 0x7F)}
    for style, (_, cmap) in cmaps.items():
        missing = sorted(c for c in needed if ord(c) not in cmap and not c.isspace())
        assert not missing, f"{style} lacks {''.join(missing[:40])}"


def test_licence_and_build_script_are_shipped():
    text = fonts.LICENSE_PATH.read_text(encoding="utf-8")
    assert "SIL Open Font License" in text
    assert (fonts.FONT_DIR / "build_fonts.py").is_file()


def test_importing_reports_has_no_side_effects():
    """Importing defines things only: no font registered, matplotlib (notebook charts) not even loaded."""
    code = ("import sys; import reports.fonts, reports.charts, reports.render; "
            "from reportlab.pdfbase import pdfmetrics; "
            "print('matplotlib' in sys.modules, any('Noto' in f for f in pdfmetrics.getRegisteredFontNames()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_register_reportlab_is_idempotent():
    from reportlab.pdfbase import pdfmetrics

    first = fonts.register_reportlab()
    font = pdfmetrics.getFont(first[0])
    assert fonts.register_reportlab() == first
    assert pdfmetrics.getFont(first[0]) is font


def test_matplotlib_style_is_scoped_and_embeds_font(tmp_path):
    import matplotlib
    from matplotlib.figure import Figure

    before = matplotlib.rcParams["pdf.fonttype"]
    with fonts.matplotlib_style():
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        assert matplotlib.rcParams["svg.fonttype"] == "path"
        assert matplotlib.rcParams["font.sans-serif"][0] == fonts.FAMILY
        fig = Figure(figsize=(3, 1))
        fig.text(0.05, 0.5, SAMPLE)
        fig.savefig(tmp_path / "chart.pdf")
    assert matplotlib.rcParams["pdf.fonttype"] == before
    found = pdf_fonts(tmp_path / "chart.pdf")
    ours = {name: emb for name, emb in found.items() if "NotoSansSCSubset" in name}
    assert ours and all(ours.values()), found
    assert "喆" in pdf_text(tmp_path / "chart.pdf")


def _reportlab_pdf(path):
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    regular, bold = fonts.register_reportlab()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, invariant=1, initialFontName=regular)
    style = ParagraphStyle("t", fontName=regular, wordWrap="CJK")
    doc.build([Paragraph(f"{SAMPLE} <b>加粗</b>", style)])
    path.write_bytes(buf.getvalue())
    return path


def test_reportlab_output_embeds_font_and_text_is_extractable(tmp_path):
    path = _reportlab_pdf(tmp_path / "doc.pdf")
    found = pdf_fonts(path)
    assert found and all(found.values()), f"every font must be embedded: {found}"
    assert any("NotoSansSCSubset-Bold" in n for n in found)
    text = pdf_text(path)
    assert "政务服务评估成绩单" in text and "镕" in text


def test_pdffonts_reports_embedded(tmp_path):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) not installed; embedding is also checked with pypdf above")
    path = _reportlab_pdf(tmp_path / "doc.pdf")
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows
    for row in rows:
        # columns: name type [type...] encoding emb sub uni id gen -> emb is 5th from the end
        assert row[-5] == "yes", out
