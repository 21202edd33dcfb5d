"""A `Dataset` as files: an Excel workbook and a CSV, one renderer each, plus `write_dataset`.

Source text is data, never a formula. In the workbook a text cell that starts with "=", "+",
"-" or "@" (or reads like an error code, "#N/A") is stored as a string with Excel's quote
prefix, so the value is unchanged and editing it in Excel keeps it text. A CSV has no cell
types, so, as OWASP advises against CSV injection, such a text cell (also one starting with a
tab or carriage return) is written with a leading apostrophe: "=1+1" becomes "'=1+1". Numbers,
years, dates and yes/no cells are never prefixed, so a negative number stays a number.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from exporters import check_formats
from exporters.dataset import Dataset

DATASET_FILES: dict[str, str] = {"xlsx": "dataset.xlsx", "csv": "dataset.csv"}

MAX_COLUMN_WIDTH = 60
WIDTH_SAMPLE_ROWS = 500
_MAX_CELL = 32_767
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_FORMULA_START = ("=", "+", "-", "@")
_CSV_FORMULA_START = (*_FORMULA_START, "\t", "\r")
_DATE_FORMATS = {10: "yyyy-mm-dd", 7: "yyyy-mm", 4: "yyyy"}

Writer = Callable[[Dataset, Path], Path]


def check_dataset_formats(formats: Iterable[str]) -> list[str]:
    """The formats, each once, in order; a SwarmError naming the valid ones for any other."""
    return check_formats(formats, DATASET_FILES, "dataset format")


def write_dataset(dataset: Dataset, folder: Path, formats: Iterable[str]) -> list[Path]:
    """Write `dataset` in each of `formats` under `folder`; return the files in that order."""
    wanted = check_dataset_formats(formats)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [_WRITERS[name](dataset, folder / DATASET_FILES[name]) for name in wanted]


def write_dataset_xlsx(dataset: Dataset, path: Path) -> Path:
    """Write the rows to sheet "Data" and the columns and notes to "Columns"; return the path.

    The workbook streams (write-only), so memory stays flat however many rows there are.
    Cells keep native types: numbers, booleans, dates (a month or a year alone is shown as
    "yyyy-mm" or "yyyy"), lists joined with "; ".
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    workbook.properties.title = _clean(dataset.title)[:255]
    data = workbook.create_sheet("Data")
    filled = _write_data(data, dataset)
    columns = workbook.create_sheet("Columns")
    _write_columns(columns, dataset, filled)
    workbook.save(str(path))
    return path


def write_dataset_csv(dataset: Dataset, path: Path) -> Path:
    """Write the rows as UTF-8 CSV (no BOM, "\\n" line ends) under a header of column names.

    Lists are joined with "; ", empty cells are empty, dates are ISO strings, booleans are
    "true"/"false"; text that could start a formula gets a leading apostrophe (module doc).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [column.name for column in dataset.columns]
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow([_csv_text(name) for name in names])
        writer.writerows([_csv_value(row.get(name)) for name in names] for row in dataset.rows)
    return path


def _write_data(ws: WriteOnlyWorksheet, dataset: Dataset) -> list[int]:
    """Stream the header and rows into `ws`; return how many cells each column has filled."""
    columns = dataset.columns
    last = get_column_letter(len(columns))
    for letter, width in zip(_letters(len(columns)), _widths(dataset), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = extent = f"A1:{last}{len(dataset.rows) + 1}"
    ws.calculate_dimension = lambda: extent  # a streamed sheet writes its size only if told
    ws.append([_header(ws, column.name) for column in columns])
    filled = [0] * len(columns)
    cells = [(index, column.name, column.type == "date") for index, column in enumerate(columns)]
    for row in dataset.rows:
        values: list[Any] = []
        for index, name, is_date in cells:
            value = row.get(name)
            if value is None or value == "" or value == []:
                values.append(None)
                continue
            filled[index] += 1
            values.append(_xlsx_date(ws, value) if is_date else _xlsx_value(ws, value))
        ws.append(values)
    return filled


def _write_columns(ws: WriteOnlyWorksheet, dataset: Dataset, filled: list[int]) -> None:
    """The column list (name, type, description, filled cells), then the dataset's notes."""
    for letter, width in zip("ABCD", (24, 10, MAX_COLUMN_WIDTH, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.append([_header(ws, name) for name in ("Column", "Type", "Description", "Filled")])
    for column, count in zip(dataset.columns, filled, strict=True):
        name, description = _xlsx_text(ws, column.name), _xlsx_text(ws, column.description)
        ws.append([name, column.type, description, count])
    ws.append([])
    ws.append([_header(ws, "Note"), _header(ws, "Value")])
    notes: dict[str, Any] = {
        "title": dataset.title,
        "key column": dataset.key,
        "rows": len(dataset.rows),
        **dataset.notes,
    }
    for name, value in notes.items():
        ws.append([_xlsx_text(ws, str(name)), _xlsx_value(ws, _note(value))])


def _header(ws: WriteOnlyWorksheet, name: str) -> Cell:
    cell = _xlsx_text(ws, name)
    if not isinstance(cell, Cell):
        cell = WriteOnlyCell(ws, value=cell)
    cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    cell.alignment = Alignment(vertical="center")
    return cell


def _xlsx_value(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A checked value as a native cell value; text goes through `_xlsx_text`."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    return _xlsx_text(ws, str(value))


def _xlsx_text(ws: WriteOnlyWorksheet, text: str) -> str | Cell | None:
    """`text` without characters XML forbids, cut to Excel's cell limit, never a formula."""
    text = _clean(text)
    if not text:
        return None
    if text.startswith(_FORMULA_START) or text in ERROR_CODES:
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"  # openpyxl reads a leading "=" as a formula, "#N/A" as an error
        cell.quotePrefix = True  # and Excel keeps the cell text when someone edits it
        return cell
    return text


def _xlsx_date(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """An ISO date string as a date cell; a month or a year alone is its first day, so shown."""
    text = value if isinstance(value, str) else ""
    number_format = _DATE_FORMATS.get(len(text))
    try:
        day = date.fromisoformat((text + "-01-01")[:10]) if number_format else None
    except ValueError:
        day = None
    if day is None:
        return _xlsx_value(ws, value)
    if len(text) == 10:
        return day  # openpyxl gives a date the "yyyy-mm-dd" format itself
    cell = WriteOnlyCell(ws, value=day)
    cell.number_format = number_format
    return cell


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:_MAX_CELL]


def _note(value: Any) -> Any:
    """A note's value as one cell: lists joined, mappings as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set):
        return "; ".join(map(str, value))
    return json.dumps(value, ensure_ascii=False, default=str)


def _letters(count: int) -> list[str]:
    return [get_column_letter(index) for index in range(1, count + 1)]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _widths(dataset: Dataset) -> list[float]:
    """Widths from the header and the first `WIDTH_SAMPLE_ROWS` rows, capped."""
    sample = dataset.rows[:WIDTH_SAMPLE_ROWS]
    widths = []
    for column in dataset.columns:
        longest = max(
            [
                _display_width(column.name) + 3,  # room for the filter button
                *(_display_width(_csv_value(row.get(column.name))) for row in sample),
            ]
        )
        widths.append(min(max(longest + 2, 8), MAX_COLUMN_WIDTH))
    return widths


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return _csv_text("; ".join(map(str, value)))
    return _csv_text(str(value))


def _csv_text(text: str) -> str:
    return "'" + text if text.startswith(_CSV_FORMULA_START) else text


_WRITERS: dict[str, Writer] = {"xlsx": write_dataset_xlsx, "csv": write_dataset_csv}
