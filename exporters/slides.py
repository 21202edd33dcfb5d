"""The document as a slide deck (python-pptx): key points per section, native charts and tables.

Nothing overflows: `capacity` estimates how many lines of how many characters a
text box holds at a font size, `lines_needed` how many lines some text takes, and
every slide is filled only up to that estimate; the rest goes on "(cont.)" slides.
`fits` checks a finished shape the same way, so tests can hold every slide to it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.oxml.xmlchemy import OxmlElement
from pptx.presentation import Presentation as PresentationType
from pptx.shapes.autoshape import Shape
from pptx.slide import Slide
from pptx.text.text import _Paragraph
from pptx.util import Emu, Inches, Pt

from exporters.document import (
    Bullets,
    Chart,
    Cite,
    Document,
    Figure,
    Paragraph,
    Quote,
    Run,
    Section,
    Table,
    Text,
)
from exporters.references import Bibliography
from exporters.sentences import sentences

CHAR_WIDTH_EM = 0.55  # average advance of a proportional Latin font, a little generous
LINE_HEIGHT_EM = 1.2  # single line spacing
SPACE_BEFORE_EM = 0.3  # the space we put before each paragraph
BULLET_INDENT = Inches(0.375)  # level-1 bullet indent of the default master's body text
BODY_PT, REFERENCE_PT, TABLE_PT = 18, 12, 11
_TITLE_SIZES = (30, 26, 22, 18)
_MAX_POINT_CHARS = 220
_CONT = " (cont.)"
_TITLE_SLIDE, _CONTENT, _SECTION_HEADER, _TITLE_ONLY = 0, 1, 2, 5
_BODY_TYPES = (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.SUBTITLE)
_AFTER_BU_NONE = ("a:buAutoNum", "a:buChar", "a:buBlip", "a:tabLst", "a:defRPr", "a:extLst")


@dataclass(frozen=True)
class Capacity:
    """What a text box holds at one font size."""

    lines: int
    chars_per_line: int


def capacity(width: int, height: int, font_pt: float) -> Capacity:
    """Lines from the box's height, characters per line from its width (EMU, insets removed)."""
    width_pt, height_pt = Emu(width).pt, Emu(height).pt
    return Capacity(
        lines=max(int(height_pt / (font_pt * LINE_HEIGHT_EM)), 0),
        chars_per_line=max(int(width_pt / (font_pt * CHAR_WIDTH_EM)), 1),
    )


def _char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _wrapped_lines(text: str, chars_per_line: int) -> int:
    """Lines the text takes when wrapped at word boundaries (CJK breaks between characters)."""
    lines, used = 1, 0
    for token in re.findall(
        r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|\S+\s*|\s+", text
    ):
        width = sum(_char_width(c) for c in token.rstrip()) or len(token)
        if used and used + width > chars_per_line:
            lines, used = lines + 1, 0
            token = token.lstrip()
            width = sum(_char_width(c) for c in token.rstrip())
        while width > chars_per_line:  # a word longer than a line breaks anywhere
            lines, width = lines + 1, width - chars_per_line
        used += width + (len(token) - len(token.rstrip()))
    return lines


def lines_needed(paragraphs: list[str], cap: Capacity) -> float:
    """Lines the paragraphs fill, counting the space before each as a fraction of a line."""
    spacing = SPACE_BEFORE_EM / LINE_HEIGHT_EM
    return sum(_wrapped_lines(text, cap.chars_per_line) + spacing for text in paragraphs)


def box_capacity(shape: Shape, font_pt: float) -> Capacity:
    """The capacity of a placeholder or text box: its size less insets and bullet indent."""
    frame = shape.text_frame
    width = shape.width - frame.margin_left - frame.margin_right
    if shape.is_placeholder and shape.placeholder_format.type in _BODY_TYPES:
        width -= BULLET_INDENT
    height = shape.height - frame.margin_top - frame.margin_bottom
    return capacity(width, height, font_pt)


def fits(shape: Shape) -> bool:
    """Whether the shape's text stays within its capacity estimate at its largest font size."""
    paragraphs = list(shape.text_frame.paragraphs)
    sizes = [run.font.size.pt for p in paragraphs for run in p.runs if run.font.size]
    texts = [p.text for p in paragraphs if p.text]
    if not texts:
        return True
    cap = box_capacity(shape, max(sizes or [BODY_PT]))
    return lines_needed(texts, cap) <= cap.lines


def write_slides(document: Document, path: Path) -> Path:
    """Write `document` to `path` as .pptx and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _Deck(document, path.parent).build().save(str(path))
    return path


class _Deck:
    def __init__(self, document: Document, folder: Path) -> None:
        self.document = document
        self.folder = folder
        self.bib = Bibliography.of(document)
        self.prs: PresentationType = Presentation()
        self.tables = 0
        self.figures = 0

    def build(self) -> PresentationType:
        document = self.document
        self.prs.core_properties.title = document.title
        self._title_slide()
        agenda = [section.title for section in document.sections] + ["References"]
        self._bullet_slides("Agenda", agenda, BODY_PT)
        for _, section in document.walk():
            self._section(section)
        entries = [self.bib.entry_text(ref) for ref in self.bib.references]
        self._bullet_slides("References", entries, REFERENCE_PT, bullets=False)
        return self.prs

    def _slide(self, layout: int) -> Slide:
        return self.prs.slides.add_slide(self.prs.slide_layouts[layout])

    def _title_slide(self) -> None:
        slide = self._slide(_TITLE_SLIDE)
        _set_title(slide.shapes.title, self.document.title, sizes=(40, 34, 28, 24))
        subtitle = slide.placeholders[1]
        lines = [self.document.subtitle] if self.document.subtitle else []
        lines += [f"{k}: {v}" for k, v in self.document.metadata.items()]
        if not lines:
            _remove(subtitle)
            return
        _fill(subtitle, _pack(lines, box_capacity(subtitle, 18))[0], 18, bullets=False)
        slide.notes_slide.notes_text_frame.text = "\n".join(lines)

    def _bullet_slides(
        self, title: str, items: list[str], font_pt: int, bullets: bool = True
    ) -> None:
        """Slides of items, as many as their capacity needs, each after the first "(cont.)"."""
        cap = box_capacity(self.prs.slide_layouts[_CONTENT].placeholders[1], font_pt)
        for i, chunk in enumerate(_pack(items, cap)):
            slide = self._slide(_CONTENT)
            _set_title(slide.shapes.title, title + (_CONT if i else ""))
            _fill(slide.placeholders[1], chunk, font_pt, bullets=bullets)

    def _section(self, section: Section) -> None:
        points = [point for block in section.blocks for point in self._points(block)]
        visuals = [b for b in section.blocks if isinstance(b, Table | Chart | Figure)]
        if points:
            self._bullet_slides(section.title, points, BODY_PT)
            self._notes(section)
        elif not visuals:
            slide = self._slide(_SECTION_HEADER)
            _set_title(slide.shapes.title, section.title)
            _remove(slide.placeholders[1])
        for block in visuals:
            if isinstance(block, Table):
                self.tables += 1
                self._table(f"Table {self.tables}. {block.caption}", block.columns, block.rows)
            elif isinstance(block, Chart):
                self.figures += 1
                self._chart(block)
            else:
                self.figures += 1
                self._figure(block)
        if visuals and not points:
            self._notes(section)

    def _notes(self, section: Section) -> None:
        """The section's full text, with full citations, as notes on its latest slide."""
        texts = []
        for block in section.blocks:
            if isinstance(block, Paragraph | Quote):
                texts.append(self._text(block.runs, short=False))
            elif isinstance(block, Bullets):
                texts.extend(f"• {self._text(item, short=False)}" for item in block.items)
        if texts:
            self.prs.slides[-1].notes_slide.notes_text_frame.text = "\n\n".join(texts)

    def _text(self, runs: list[Run], short: bool = True) -> str:
        cite = self.bib.short_cite if short else self.bib.cite
        return "".join(
            run.text if isinstance(run, Text) else cite(run.keys, run.narrative) for run in runs
        )

    def _points(self, block: object) -> list[str]:
        """Key points: the first sentence (two when the first is short) of each paragraph."""
        if isinstance(block, Paragraph | Quote):
            first = sentences(block.runs)[:2]
            if len(first) == 2 and len(self._text(first[0])) >= 80:
                first = first[:1]
            joined = [run for sentence in first for run in [*sentence, Text(text=" ")]]
            point = self._point(joined)
            return [f"“{point}”" if isinstance(block, Quote) else point] if point else []
        if isinstance(block, Bullets):
            return [p for item in block.items if (p := self._point((sentences(item) or [[]])[0]))]
        return []

    def _point(self, runs: list[Run]) -> str:
        text = self._text(runs).strip()
        if len(text) <= _MAX_POINT_CHARS:
            return text
        keys = [k for run in runs if isinstance(run, Cite) and not run.narrative for k in run.keys]
        plain = self._text([run for run in runs if isinstance(run, Text) or run.narrative])
        cut = plain[: _MAX_POINT_CHARS - 40].rsplit(" ", 1)[0].rstrip(",;: ") + "…"
        return f"{cut} {self.bib.short_cite(keys)}" if keys else cut

    def _content_area(self) -> tuple[int, int, int, int]:
        """Left, top, width and height under a title-only slide's title."""
        title = self.prs.slide_layouts[_TITLE_ONLY].placeholders[0]
        top = title.top + title.height + Inches(0.15)
        return title.left, top, title.width, self.prs.slide_height - top - Inches(0.4)

    def _table(self, title: str, columns: list[str], rows: list[list[str]]) -> None:
        left, top, width, height = self._content_area()
        count = max([len(columns), *(len(row) for row in rows)])
        grid = [[*columns, *[""] * (count - len(columns))]]
        grid += [[_clip(str(c), 160) for c in row] + [""] * (count - len(row)) for row in rows]
        weights = [min(max(len(line[c]) for line in grid[:200]), 50) + 6 for c in range(count)]
        widths = [int(width * w / sum(weights)) for w in weights]
        heights = [self._row_height(line, widths) for line in grid]
        chunks: list[list[int]] = [[]]
        used = heights[0]
        for index in range(1, len(grid)):
            if chunks[-1] and used + heights[index] > height:
                chunks.append([])
                used = heights[0]
            chunks[-1].append(index)
            used += heights[index]
        for i, chunk in enumerate(chunks):
            slide = self._slide(_TITLE_ONLY)
            _set_title(slide.shapes.title, title + (_CONT if i else ""))
            lines = [0, *chunk]
            shape = slide.shapes.add_table(
                len(lines), count, left, top, width, sum(heights[r] for r in lines)
            )
            table = shape.table
            for c, column_width in enumerate(widths):
                table.columns[c].width = column_width
            for r, source in enumerate(lines):
                table.rows[r].height = heights[source]
                for c, text in enumerate(grid[source]):
                    cell = table.cell(r, c)
                    cell.text = text
                    for paragraph in cell.text_frame.paragraphs:
                        for run in paragraph.runs:
                            run.font.size = Pt(TABLE_PT)
                            run.font.bold = r == 0 or None

    def _row_height(self, cells: list[str], widths: list[int]) -> int:
        margins = Inches(0.2)
        lines = max(
            _wrapped_lines(text, capacity(w - margins, Inches(10), TABLE_PT).chars_per_line)
            for text, w in zip(cells, widths, strict=True)
        )
        return int(Pt(TABLE_PT * LINE_HEIGHT_EM) * lines + Inches(0.1))

    def _chart(self, chart: Chart) -> None:
        slide = self._slide(_TITLE_ONLY)
        _set_title(slide.shapes.title, f"Figure {self.figures}. {chart.caption}")
        if not chart.categories or not chart.series:
            slide.shapes.add_textbox(*self._content_area()).text_frame.text = "(no data)"
            return
        data = CategoryChartData()
        data.categories = chart.categories
        for name, values in chart.series.items():
            padded = [*values[: len(chart.categories)]]
            data.add_series(name, padded + [None] * (len(chart.categories) - len(padded)))
        kind = (
            XL_CHART_TYPE.COLUMN_CLUSTERED
            if chart.chart_type == "bar"
            else XL_CHART_TYPE.LINE_MARKERS
        )
        left, top, width, height = self._content_area()
        graphic = slide.shapes.add_chart(kind, left, top, width, height, data).chart
        graphic.has_legend = len(chart.series) > 1
        if graphic.has_legend:
            graphic.legend.position = XL_LEGEND_POSITION.BOTTOM
            graphic.legend.include_in_layout = False
        for axis, label in (
            (graphic.category_axis, chart.x_label),
            (graphic.value_axis, chart.y_label),
        ):
            if label:
                axis.has_title = True
                axis.axis_title.text_frame.text = label

    def _figure(self, figure: Figure) -> None:
        slide = self._slide(_TITLE_ONLY)
        _set_title(slide.shapes.title, f"Figure {self.figures}. {figure.caption}")
        left, top, width, height = self._content_area()
        file = self.folder / figure.path
        if file.suffix.lower() == ".svg":
            box = slide.shapes.add_textbox(left, top, width, Inches(1))
            box.text_frame.text = f"[SVG image: {figure.path}]"
            return
        picture = slide.shapes.add_picture(str(file), left, top)
        scale = min(width / picture.width, height / picture.height, 3.0)
        picture.width, picture.height = int(picture.width * scale), int(picture.height * scale)
        picture.left = left + (width - picture.width) // 2


def _pack(items: list[str], cap: Capacity) -> list[list[str]]:
    """Items in slide-sized groups, an item too long for a whole slide clipped to fit."""
    chunks: list[list[str]] = [[]]
    used = 0.0
    for item in _fit_items(items, cap):
        need = lines_needed([item], cap)  # additive: a group needs the sum of its items
        if chunks[-1] and used + need > cap.lines:
            chunks.append([])
            used = 0.0
        chunks[-1].append(item)
        used += need
    return chunks


def _fit_items(items: list[str], cap: Capacity) -> list[str]:
    out = []
    for item in items:
        while lines_needed([item], cap) > cap.lines and len(item) > 1:
            item = _clip(item, int(len(item) * 0.8))
        out.append(item)
    return out


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 1)].rsplit(" ", 1)[0].rstrip(",;:. ") + "…"


def _set_title(shape: Shape, text: str, sizes: tuple[int, ...] = _TITLE_SIZES) -> None:
    """The title at the largest size that fits its placeholder, clipped at the smallest."""
    for size in sizes:
        cap = box_capacity(shape, size)
        if lines_needed([text], cap) <= cap.lines:
            break
    else:
        text = _fit_items([text], box_capacity(shape, size))[0]
    _fill(shape, [text], size, bullets=True)


def _fill(shape: Shape, items: list[str], font_pt: int, bullets: bool = True) -> None:
    frame = shape.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.clear()
    for i, item in enumerate(items):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.space_before = Pt(font_pt * SPACE_BEFORE_EM)
        paragraph.line_spacing = 1.0
        if not bullets:
            _no_bullet(paragraph)
        run = paragraph.add_run()
        run.text = item
        run.font.size = Pt(font_pt)


def _no_bullet(paragraph: _Paragraph) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.set("marL", "0")
    p_pr.set("indent", "0")
    p_pr.insert_element_before(OxmlElement("a:buNone"), *_AFTER_BU_NONE)


def _remove(shape: Shape) -> None:
    element = shape._element
    element.getparent().remove(element)
