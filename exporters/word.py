"""The document as Word (python-docx): title page, TOC field, Heading styles, captions, references.

Heading 1-3 styles feed the navigation pane and the `TOC \\o "1-3"` field, which
Word fills when the file opens (`w:updateFields`). Citations link to bookmarks on
their reference entries; captions carry SEQ fields so Word can list figures.
"""

from __future__ import annotations

import io
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shape import InlineShape
from docx.shared import Inches, Pt, RGBColor
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from exporters.charts import chart_png
from exporters.document import (
    Block,
    Bullets,
    Chart,
    Document,
    Figure,
    Paragraph,
    Quote,
    Run,
    Table,
    Text,
)
from exporters.references import Bibliography

_TEXT_WIDTH = Inches(6.0)
_LINK_COLOR = RGBColor(0x1F, 0x4E, 0x79)
_AFTER_UPDATE_FIELDS = (  # w:settings children that must follow w:updateFields (ECMA-376)
    "w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars", "w:rsids",
    "m:mathPr", "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping",
    "w:doNotIncludeSubdocsInStats", "w:doNotAutoCompressPictures", "w:forceUpgrade", "w:captions",
    "w:readModeInkLockDown", "w:smartTagType", "w:shapeDefaults", "w:doNotEmbedSmartTags",
    "w:decimalSymbol", "w:listSeparator",
)  # fmt: skip


def write_word(document: Document, path: Path) -> Path:
    """Write `document` to `path` as .docx and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _WordWriter(document, path.parent).build().save(str(path))
    return path


class _WordWriter:
    def __init__(self, document: Document, folder: Path) -> None:
        self.document = document
        self.folder = folder
        self.bib = Bibliography.of(document)
        self.bookmarks = {ref.key: f"ref_{i + 1}" for i, ref in enumerate(self.bib.references)}
        self.doc = docx.Document()
        self.tables = 0
        self.figures = 0
        self._bookmark_id = 0

    def build(self) -> docx.document.Document:
        doc, document = self.doc, self.document
        doc.core_properties.title = document.title
        doc.core_properties.subject = document.subtitle
        doc.core_properties.comments = "; ".join(f"{k}: {v}" for k, v in document.metadata.items())
        doc.styles["Normal"].font.size = Pt(11)
        self._title_page()
        self._contents()
        for depth, section in document.walk():
            doc.add_heading(section.title, level=min(depth, 9))
            for block in section.blocks:
                self._block(block)
        self._references()
        self._page_numbers()
        _update_fields_on_open(doc)
        return doc

    def _title_page(self) -> None:
        doc, document = self.doc, self.document
        doc.add_paragraph(document.title, style="Title")
        if document.subtitle:
            doc.add_paragraph(document.subtitle, style="Subtitle")
        for name, value in document.metadata.items():
            paragraph = doc.add_paragraph()
            paragraph.add_run(f"{name}: ").bold = True
            paragraph.add_run(value)
        if document.abstract:
            doc.add_paragraph("Abstract", style="TOC Heading")
            for block in document.abstract:
                self._block(block)
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def _contents(self) -> None:
        """A TOC field whose cached result already lists the headings; Word adds page numbers."""
        doc = self.doc
        doc.add_paragraph("Contents", style="TOC Heading")
        entries = [(d, s.title) for d, s in self.document.walk() if d <= 3] + [(1, "References")]
        paragraphs = [doc.add_paragraph() for _ in entries]
        _field_begin(paragraphs[0], 'TOC \\o "1-3" \\h \\z \\u')
        for paragraph, (depth, title) in zip(paragraphs, entries, strict=True):
            paragraph.paragraph_format.left_indent = Inches(0.25 * (depth - 1))
            paragraph.paragraph_format.space_after = Pt(2)
            paragraph.add_run(title)
        _field_end(paragraphs[-1])
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def _runs(self, paragraph: DocxParagraph, runs: list[Run]) -> None:
        for run in runs:
            if isinstance(run, Text):
                paragraph.add_run(run.text)
                continue
            for part in self.bib.cite_parts(run.keys, run.narrative):
                if part.key:
                    _internal_link(paragraph, part.text, self.bookmarks[part.key])
                else:
                    paragraph.add_run(part.text)

    def _block(self, block: Block) -> None:
        doc = self.doc
        if isinstance(block, Paragraph):
            self._runs(doc.add_paragraph(), block.runs)
        elif isinstance(block, Bullets):
            for item in block.items:
                self._runs(doc.add_paragraph(style="List Bullet"), item)
        elif isinstance(block, Quote):
            self._runs(doc.add_paragraph(style="Quote"), block.runs)
        elif isinstance(block, Table):
            self.tables += 1
            caption = doc.add_paragraph(style="Caption")
            caption.paragraph_format.keep_with_next = True
            _caption(caption, "Table", self.tables, block.caption)
            _table(doc, block.columns, block.rows)
        elif isinstance(block, Chart):
            self._picture(io.BytesIO(chart_png(block)), width=_TEXT_WIDTH)
            self.figures += 1
            _caption(doc.add_paragraph(style="Caption"), "Figure", self.figures, block.caption)
        elif isinstance(block, Figure):
            self.figures += 1
            self._figure(block)

    def _figure(self, figure: Figure) -> None:
        file = self.folder / figure.path
        if file.suffix.lower() == ".svg":
            self.doc.add_paragraph(f"[SVG image: {figure.path}]")
        else:
            picture = self._picture(str(file))
            if picture.width > _TEXT_WIDTH:
                picture.height = int(picture.height * _TEXT_WIDTH / picture.width)
                picture.width = _TEXT_WIDTH
        _caption(self.doc.add_paragraph(style="Caption"), "Figure", self.figures, figure.caption)

    def _picture(self, source: str | io.BytesIO, width: int | None = None) -> InlineShape:
        """A picture in its own paragraph, kept on the page of the caption that follows."""
        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        return paragraph.add_run().add_picture(source, width=width)

    def _references(self) -> None:
        doc, bib = self.doc, self.bib
        doc.add_heading("References", level=1)
        for ref in bib.references:
            paragraph = doc.add_paragraph()
            fmt = paragraph.paragraph_format
            fmt.left_indent, fmt.first_line_indent = Inches(0.5), Inches(-0.5)
            fmt.space_after = Pt(6)
            self._bookmark(paragraph, self.bookmarks[ref.key])
            if label := bib.label(ref.key):
                paragraph.add_run(f"{label}\t")
                fmt.tab_stops.add_tab_stop(Inches(0.5))
            for part in bib.entry(ref):
                if part.url:
                    _external_link(paragraph, part.text, part.url)
                else:
                    paragraph.add_run(part.text).italic = part.italic or None

    def _bookmark(self, paragraph: DocxParagraph, name: str) -> None:
        self._bookmark_id += 1
        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        start.set(qn("w:id"), str(self._bookmark_id))
        start.set(qn("w:name"), name)
        end.set(qn("w:id"), str(self._bookmark_id))
        paragraph._p.append(start)
        paragraph._p.append(end)

    def _page_numbers(self) -> None:
        section = self.doc.sections[0]
        section.different_first_page_header_footer = True
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _field(paragraph, "PAGE", "1")


def _caption(paragraph: DocxParagraph, label: str, number: int, text: str) -> None:
    """`Table 3. text`, the number a SEQ field so Word's table of figures can find it."""
    paragraph.add_run(f"{label} ")
    _field(paragraph, f"SEQ {label} \\* ARABIC", str(number))
    paragraph.add_run(f". {text}")


def _table(doc: docx.document.Document, columns: list[str], rows: list[list[str]]) -> DocxTable:
    width = max([len(columns), *(len(row) for row in rows)])
    table = doc.add_table(rows=1, cols=width)
    table.style = "Table Grid"
    header = table.rows[0]
    for cell, text in zip(header.cells, columns, strict=False):
        cell.paragraphs[0].add_run(text).bold = True
    tr_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=False):
            cell.paragraphs[0].add_run(str(text))
    return table


def _field(paragraph: DocxParagraph, instruction: str, result: str) -> None:
    """A complex field in one paragraph: begin, instruction, separate, cached result, end."""
    _field_begin(paragraph, instruction)
    paragraph.add_run(result)
    _field_end(paragraph)


def _field_begin(paragraph: DocxParagraph, instruction: str) -> None:
    _field_char(paragraph, "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    _field_char(paragraph, "separate")


def _field_end(paragraph: DocxParagraph) -> None:
    _field_char(paragraph, "end")


def _field_char(paragraph: DocxParagraph, kind: str) -> None:
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(element)


def _internal_link(paragraph: DocxParagraph, text: str, anchor: str) -> None:
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    run = paragraph.add_run(text)
    run.font.color.rgb = _LINK_COLOR
    link.append(run._r)
    paragraph._p.append(link)


def _external_link(paragraph: DocxParagraph, text: str, url: str) -> None:
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, True))
    run = paragraph.add_run(text)
    run.font.color.rgb = _LINK_COLOR
    run.font.underline = True
    link.append(run._r)
    paragraph._p.append(link)


def _update_fields_on_open(doc: docx.document.Document) -> None:
    """Ask Word to refresh the TOC and page fields when the file opens."""
    settings = doc.settings.element
    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    settings.insert_element_before(element, *_AFTER_UPDATE_FIELDS)
