"""The review's data as an Excel workbook (openpyxl): sources, evidence, sections, tables.

Sources: one row per reference with how often and where it is cited. Evidence: one
row per (sentence, cited key), the claim without its parenthetical citations (a narrative
one, "Lewis et al. (2020) showed", is part of the sentence and stays). Sections: words and
citations per section. Every Table and Chart block gets its own sheet. Above
`WRITE_ONLY_ROWS` rows the workbook streams (write-only mode), so memory stays flat.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from exporters.document import (
    Bullets,
    Chart,
    Cite,
    Document,
    Figure,
    Paragraph,
    Quote,
    Run,
    Table,
    Text,
)
from exporters.references import Bibliography, link
from exporters.sentences import sentences

WRITE_ONLY_ROWS = 5_000
MAX_COLUMN_WIDTH = 60
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_LINK_FONT = Font(color="0563C1", underline="single")
_SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_MAX_CELL = 32_767


@dataclass
class _Sheet:
    name: str
    columns: list[str]
    rows: list[list[object]]
    link_column: int | None = None
    chart: Chart | None = None


def write_workbook(document: Document, path: Path) -> Path:
    """Write the document's sources, evidence and tables to `path` as .xlsx and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = _sheets(document)
    write_only = sum(len(sheet.rows) for sheet in sheets) > WRITE_ONLY_ROWS
    workbook = Workbook(write_only=write_only)
    if not write_only:
        workbook.remove(workbook.active)
    for sheet in sheets:
        _write(workbook, sheet)
    workbook.save(str(path))
    return path


def _claim(runs: list[Run], bib: Bibliography) -> str:
    text = "".join(
        run.text if isinstance(run, Text) else bib.cite(run.keys, narrative=True)
        for run in runs
        if isinstance(run, Text) or run.narrative
    )
    text = " ".join(text.split())
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def _sheets(document: Document) -> list[_Sheet]:
    bib = Bibliography.of(document)
    cites: Counter[str] = Counter()
    citing: dict[str, dict[str, None]] = {}
    evidence: list[list[object]] = []
    sections: list[list[object]] = []
    extra: list[_Sheet] = []
    tables = figures = 0

    located = [("Abstract", 0, document.abstract)]
    located += [(s.title, depth, s.blocks) for depth, s in document.walk()]
    for title, depth, blocks in located:
        words = citations = 0
        for block in blocks:
            if isinstance(block, Table):
                tables += 1
                count = max([len(block.columns), *(len(row) for row in block.rows)])
                columns = [
                    *block.columns,
                    *(f"Column {i + 1}" for i in range(len(block.columns), count)),
                ]
                extra.append(_Sheet(f"Table {tables}", columns, [list(r) for r in block.rows]))
            elif isinstance(block, Chart):
                figures += 1
                rows = [
                    [category, *(v[i] if i < len(v) else None for v in block.series.values())]
                    for i, category in enumerate(block.categories)
                ]
                columns = [block.x_label or "Category", *block.series]
                extra.append(_Sheet(f"Figure {figures} data", columns, rows, chart=block))
            elif isinstance(block, Figure):
                figures += 1
            for runs in _texts(block):
                words += sum(len(run.text.split()) for run in runs if isinstance(run, Text))
                for sentence in sentences(runs):
                    keys = [k for run in sentence if isinstance(run, Cite) for k in run.keys]
                    citations += len(keys)
                    claim = _claim(sentence, bib) if keys else ""
                    for key in dict.fromkeys(keys):
                        evidence.append([claim, key, title])
                        cites[key] += 1
                        citing.setdefault(key, {})[title] = None
        if depth:
            sections.append([title, depth, words, citations])

    sources = [
        [
            ref.key,
            ref.title,
            "; ".join(ref.authors),
            ref.year,
            ref.venue,
            link(ref),
            "; ".join(citing.get(ref.key, {})),
            cites[ref.key],
        ]
        for ref in bib.references
    ]
    return [
        _Sheet(
            "Sources",
            ["Key", "Title", "Authors", "Year", "Venue", "DOI or URL", "Cited in", "Relevance"],
            sources,
            link_column=5,
        ),
        _Sheet("Evidence", ["Claim", "Source key", "Section"], evidence),
        _Sheet("Sections", ["Section", "Level", "Words", "Citations"], sections),
        *extra,
    ]


def _texts(block: object) -> list[list[Run]]:
    if isinstance(block, Paragraph | Quote):
        return [block.runs]
    if isinstance(block, Bullets):
        return block.items
    return []


def _write(workbook: Workbook, sheet: _Sheet) -> None:
    ws = workbook.create_sheet(_sheet_name(workbook, sheet.name))
    width = len(sheet.columns)
    for column, size in enumerate(_widths(sheet), start=1):
        ws.column_dimensions[get_column_letter(column)].width = size
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = extent = f"A1:{get_column_letter(width)}{len(sheet.rows) + 1}"
    if isinstance(ws, WriteOnlyWorksheet):  # a streamed sheet writes its size only if told
        ws.calculate_dimension = lambda: extent
    header = []
    for column, name in enumerate(sheet.columns, start=1):
        cell = Cell(ws, row=1, column=column, value=_value(name))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    ws.append(header)
    for row_index, row in enumerate(sheet.rows, start=2):
        cells: list[object] = []
        for index, value in enumerate(map(_value, row)):
            if isinstance(value, str) and value.startswith("="):
                cell = Cell(ws, row=row_index, column=index + 1, value=value)
                cell.data_type = "s"  # text that looks like a formula stays text
                cells.append(cell)
            elif index == sheet.link_column and isinstance(value, str) and value:
                cell = Cell(ws, row=row_index, column=index + 1, value=value)
                cell.hyperlink, cell.font = value, _LINK_FONT  # needs the cell's coordinate set
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)
    if sheet.chart is not None:
        _chart(ws, sheet.chart, len(sheet.rows), width)


def _chart(ws: Worksheet | WriteOnlyWorksheet, chart: Chart, rows: int, columns: int) -> None:
    native = BarChart() if chart.chart_type == "bar" else LineChart()
    native.title = chart.caption
    native.x_axis.title = chart.x_label or None
    native.y_axis.title = chart.y_label or None
    data = Reference(ws, min_col=2, max_col=columns, min_row=1, max_row=rows + 1)
    native.add_data(data, titles_from_data=True)
    native.set_categories(Reference(ws, min_col=1, min_row=2, max_row=rows + 1))
    ws.add_chart(native, f"{get_column_letter(columns + 2)}2")


def _value(value: object) -> object:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL]
    return value


def _display_width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _widths(sheet: _Sheet) -> list[float]:
    """Column widths from the longest value (CJK counts double), capped at `MAX_COLUMN_WIDTH`."""
    widths = []
    for column, name in enumerate(sheet.columns):
        longest = max(
            [
                _display_width(name) + 3,
                *(_display_width(r[column]) for r in sheet.rows if column < len(r)),
            ]
        )
        widths.append(min(max(longest + 2, 8), MAX_COLUMN_WIDTH))
    return widths


def _sheet_name(workbook: Workbook, wanted: str) -> str:
    base = _SHEET_NAME_UNSAFE.sub(" ", wanted).strip()[:31] or "Sheet"
    name, n = base, 1
    while name in workbook.sheetnames:
        n += 1
        name = f"{base[: 31 - len(str(n)) - 1]} {n}"
    return name
