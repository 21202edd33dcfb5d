"""The document as PDF (reportlab Platypus): contents with page numbers, outline, linked citations.

Text is set in the DejaVu TrueType fonts that ship with matplotlib (Latin, Greek,
Cyrillic, math symbols), embedded so the file prints anywhere. CJK runs switch to
reportlab's built-in CID fonts (STSong-Light; HYSMyeongJo-Medium for Hangul),
which viewers supply from their Asian font packs.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable
from reportlab.platypus.tableofcontents import TableOfContents

from exporters.charts import chart_png
from exporters.document import (
    Block,
    Bullets,
    Chart,
    Document,
    Figure,
    Quote,
    Reference,
    Run,
    Table,
    Text,
)
from exporters.document import Paragraph as DocParagraph
from exporters.references import Bibliography

SERIF, SANS = "DejaVuSerif", "DejaVuSans"
CJK_FONT, HANGUL_FONT = "STSong-Light", "HYSMyeongJo-Medium"
_CJK = re.compile(
    r"[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0002fa1f]+"
)
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]+")
_SCRIPT = re.compile(f"({_CJK.pattern}|{_HANGUL.pattern})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LINK = "#1F4E79"
_PAGE = A4
_MARGIN = 2.2 * cm
_WIDTH = _PAGE[0] - 2 * _MARGIN
_HEIGHT = _PAGE[1] - 2 * _MARGIN


@functools.cache
def register_fonts() -> None:
    """Register the DejaVu families and the CJK CID fonts with reportlab, once per process."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = {
        SERIF: ("DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic"),
        SANS: ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique"),
    }
    for family, files in faces.items():
        for name in files:
            pdfmetrics.registerFont(TTFont(name, str(folder / f"{name}.ttf")))
        normal, bold, italic, bold_italic = files
        pdfmetrics.registerFontFamily(
            family, normal=normal, bold=bold, italic=italic, boldItalic=bold_italic
        )
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    pdfmetrics.registerFont(UnicodeCIDFont(HANGUL_FONT))


def markup(text: str) -> str:
    """Plain text as Paragraph markup: XML escaped, CJK runs in a CID font."""
    out = []
    for piece in _SCRIPT.split(_CONTROL.sub("", text)):
        if not piece:
            continue
        if _HANGUL.fullmatch(piece):
            out.append(f'<font name="{HANGUL_FONT}">{escape(piece)}</font>')
        elif _CJK.fullmatch(piece):
            out.append(f'<font name="{CJK_FONT}">{escape(piece)}</font>')
        else:
            out.append(escape(piece))
    return "".join(out)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=SERIF, fontSize=10.5, leading=15, spaceAfter=7)
    head = ParagraphStyle("head", fontName=SANS + "-Bold", textColor=colors.HexColor("#1A2A3A"))
    bold_sans, small = SANS + "-Bold", {"fontSize": 8.5, "leading": 11, "spaceAfter": 0}

    def style(name: str, parent: ParagraphStyle, **values: object) -> ParagraphStyle:
        return ParagraphStyle(name, parent=parent, **values)

    def heading(name: str, size: float, space: float, **values: object) -> ParagraphStyle:
        return style(
            name, head, fontSize=size, leading=size * 1.3, spaceBefore=space,
            spaceAfter=space / 2, keepWithNext=1, **values,
        )  # fmt: skip

    return {
        "body": body,
        "title": style("title", head, fontSize=24, leading=30, spaceAfter=14),
        "subtitle": style("subtitle", body, fontName=SANS, fontSize=14, leading=19, spaceAfter=18),
        "meta": style("meta", body, fontName=SANS, fontSize=9.5, spaceAfter=2),
        "h1": heading("h1", 16, 16),
        "h2": heading("h2", 13, 12),
        "h3": heading("h3", 11.5, 10),
        "h4": heading("h4", 10.5, 8, fontName=SANS + "-BoldOblique"),
        "bullet": style("bullet", body, leftIndent=16, bulletIndent=4, bulletFontName=SERIF),
        "quote": style(
            "quote",
            body,
            fontName=SERIF + "-Italic",
            leftIndent=28,
            rightIndent=28,
            textColor=colors.HexColor("#333333"),
        ),  # fmt: skip
        "caption": style("caption", body, fontName=SANS, fontSize=9, leading=12, spaceAfter=10),
        "cell": style("cell", body, **small),
        "head": style("head", body, fontName=SERIF + "-Bold", **small),
        "reference": style(
            "reference",
            body,
            fontSize=9.5,
            leading=13,
            leftIndent=24,
            firstLineIndent=-24,
            spaceAfter=5,
        ),  # fmt: skip
        "toc0": style("toc0", body, fontName=bold_sans, spaceBefore=4, spaceAfter=0),
        "toc1": style("toc1", body, fontName=SANS, fontSize=10, leftIndent=16, spaceAfter=0),
        "toc2": style("toc2", body, fontName=SANS, fontSize=9.5, leftIndent=32, spaceAfter=0),
    }


class _Heading(Paragraph):
    """A heading that the template turns into an outline entry and, when `toc`, a TOC line."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str, toc: bool) -> None:
        super().__init__(markup(text), style)
        self.plain, self.level, self.key, self.toc = text, level, key, toc


class _Contents(TableOfContents):
    """A table of contents laid out from the first pass with one line per heading to come.

    Its height is then right from the start, page numbers do not move between passes,
    and multiBuild settles in two passes instead of three.
    """

    def __init__(self, expected: list[tuple[int, str, int, str]], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._entries = expected  # beforeBuild() moves them to _lastEntries, which wrap() draws


class _Template(BaseDocTemplate):
    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _Heading):
            self.canv.bookmarkPage(flowable.key)
            self.canv.addOutlineEntry(flowable.plain, flowable.key, level=flowable.level)
            if flowable.toc:
                self.notify(
                    "TOCEntry", (flowable.level, markup(flowable.plain), self.page, flowable.key)
                )


def write_pdf(document: Document, path: Path) -> Path:
    """Write `document` to `path` as PDF and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    register_fonts()
    template = _Template(
        str(path),
        pagesize=_PAGE,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=document.title,
        subject=document.subtitle,
        author="; ".join(f"{k}: {v}" for k, v in document.metadata.items()),
        creator="Agent Swarm",
    )
    frame = Frame(_MARGIN, _MARGIN, _WIDTH, _HEIGHT, id="body")
    template.addPageTemplates(
        [
            PageTemplate(id="title", frames=[frame]),
            PageTemplate(id="body", frames=[frame], onPage=_page_number),
        ]
    )
    template.multiBuild(_Story(document, path.parent).build())
    return path


def _page_number(canvas: Canvas, doc: BaseDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(SANS, 9)
    canvas.drawCentredString(_PAGE[0] / 2, _MARGIN / 2, str(doc.page))
    canvas.restoreState()


class _Story:
    """The flowables for one document, numbering headings, tables and figures as they come."""

    def __init__(self, document: Document, folder: Path) -> None:
        self.document = document
        self.folder = folder
        self.bib = Bibliography.of(document)
        self.anchors = {ref.key: f"ref_{i + 1}" for i, ref in enumerate(self.bib.references)}
        self.styles = _styles()
        self.tables = 0
        self.figures = 0
        self.headings = 0

    def build(self) -> list[Flowable]:
        document, styles = self.document, self.styles
        story: list[Flowable] = [NextPageTemplate("body")]
        story.append(Paragraph(markup(document.title), styles["title"]))
        if document.subtitle:
            story.append(Paragraph(markup(document.subtitle), styles["subtitle"]))
        for name, value in document.metadata.items():
            story.append(Paragraph(f"<b>{markup(name)}:</b> {markup(value)}", styles["meta"]))
        if document.abstract:
            story.append(Spacer(1, 18))
            story.append(self._heading("Abstract", 1, toc=False))
            for block in document.abstract:
                story.extend(self._block(block))
        story.append(PageBreak())
        story.append(self._heading("Contents", 1, toc=False))
        body: list[Flowable] = []
        for depth, section in document.walk():
            body.append(self._heading(section.title, depth, toc=depth <= 3))
            for block in section.blocks:
                body.extend(self._block(block))
        body.append(self._heading("References", 1, toc=True))
        for ref in self.bib.references:
            body.append(Paragraph(self._reference(ref), styles["reference"]))
        expected = [
            (f.level, markup(f.plain), 0, f.key) for f in body if isinstance(f, _Heading) and f.toc
        ]
        toc = _Contents(expected, dotsMinLevel=0)
        toc.levelStyles = [styles["toc0"], styles["toc1"], styles["toc2"]]
        return [*story, toc, PageBreak(), *body]

    def _heading(self, text: str, depth: int, toc: bool) -> _Heading:
        self.headings += 1
        style = self.styles[f"h{min(depth, 4)}"]
        return _Heading(text, style, level=depth - 1, key=f"section_{self.headings}", toc=toc)

    def _runs(self, runs: list[Run]) -> str:
        out = []
        for run in runs:
            if isinstance(run, Text):
                out.append(markup(run.text))
                continue
            for part in self.bib.cite_parts(run.keys, run.narrative):
                if part.key:
                    anchor = self.anchors[part.key]
                    out.append(f'<a href="#{anchor}" color="{_LINK}">{markup(part.text)}</a>')
                else:
                    out.append(markup(part.text))
        return "".join(out)

    def _reference(self, ref: Reference) -> str:
        label = self.bib.label(ref.key)
        out = [f'<a name="{self.anchors[ref.key]}"/>', markup(f"{label} ") if label else ""]
        for part in self.bib.entry(ref):
            text = markup(part.text)
            if part.url:
                text = f'<a href={quoteattr(part.url)} color="{_LINK}">{text}</a>'
            out.append(f"<i>{text}</i>" if part.italic else text)
        return "".join(out)

    def _block(self, block: Block) -> list[Flowable]:
        styles = self.styles
        if isinstance(block, DocParagraph):
            return [Paragraph(self._runs(block.runs), styles["body"])]
        if isinstance(block, Bullets):
            return [
                Paragraph(self._runs(item), styles["bullet"], bulletText="•")
                for item in block.items
            ]
        if isinstance(block, Quote):
            return [Paragraph(self._runs(block.runs), styles["quote"])]
        if isinstance(block, Table):
            self.tables += 1
            caption = Paragraph(
                f"<b>Table {self.tables}.</b> {markup(block.caption)}", styles["caption"]
            )
            caption.keepWithNext = 1
            return [caption, self._table(block.columns, block.rows)]
        if isinstance(block, Chart):
            self.figures += 1
            image = _image(io.BytesIO(chart_png(block)), _WIDTH, _HEIGHT * 0.6)
            return [KeepTogether([image, self._caption(block.caption)])]
        assert isinstance(block, Figure)
        self.figures += 1
        file = self.folder / block.path
        if file.suffix.lower() == ".svg":
            body: Flowable = Paragraph(markup(f"[SVG image: {block.path}]"), styles["body"])
        else:
            body = _image(str(file), _WIDTH, _HEIGHT * 0.6)
        return [KeepTogether([body, self._caption(block.caption)])]

    def _caption(self, text: str) -> Paragraph:
        return Paragraph(f"<b>Figure {self.figures}.</b> {markup(text)}", self.styles["caption"])

    def _table(self, columns: list[str], rows: list[list[str]]) -> PdfTable:
        width = max([len(columns), *(len(row) for row in rows)])
        grid = [[*columns, *[""] * (width - len(columns))]]
        grid += [[*map(str, row), *[""] * (width - len(row))] for row in rows]
        weights = [min(max(len(line[c]) for line in grid[:200]), 60) + 6 for c in range(width)]
        col_widths = [_WIDTH * w / sum(weights) for w in weights]
        cell, head = self.styles["cell"], self.styles["head"]
        data = [[Paragraph(markup(text), head) for text in grid[0]]]
        data += [[Paragraph(markup(text), cell) for text in line] for line in grid[1:]]
        table = PdfTable(data, colWidths=col_widths, repeatRows=1, splitInRow=1)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DCE6F0")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8C9BAB")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    (
                        "ROWBACKGROUNDS",
                        (0, 1),
                        (-1, -1),
                        [colors.white, colors.HexColor("#F5F7FA")],
                    ),
                ]
            )
        )
        return table


def _image(source: str | io.BytesIO, max_width: float, max_height: float) -> Image:
    width, height = ImageReader(source).getSize()
    if isinstance(source, io.BytesIO):
        source.seek(0)
    scale = min(max_width / width, max_height / height, 1.0)
    image = Image(source, width=width * scale, height=height * scale)
    image.hAlign = "CENTER"
    return image
