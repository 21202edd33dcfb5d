from __future__ import annotations

import csv
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import ValidationError

from exporters.dataset import (
    Column,
    ColumnType,
    Dataset,
    check_row,
    check_value,
    infer_type,
    key_of,
    merge_duplicate,
    unique_rows,
)
from exporters.dataset_files import (
    DATASET_FILES,
    write_dataset,
    write_dataset_csv,
    write_dataset_xlsx,
)
from graph.errors import SwarmError

COLUMNS = [
    Column(name="title", description="Paper title"),
    Column(name="authors", type="list"),
    Column(name="year", type="year"),
    Column(name="published", type="date"),
    Column(name="doi", type="url"),
    Column(name="citations", type="integer"),
    Column(name="f1", type="number"),
    Column(name="open source", type="boolean"),
]


def _column(column_type: ColumnType) -> Column:
    return Column(name="value", type=column_type)


def _dataset(rows: list[dict[str, Any]], **notes: Any) -> Dataset:
    return Dataset(title="RAG papers", columns=COLUMNS, key="doi", rows=rows, notes=notes)


def _papers(count: int, duplicate_share: float = 0.0) -> list[dict[str, Any]]:
    """`count` raw rows as agents write them; about `duplicate_share` repeat an earlier DOI."""
    rng = random.Random(7)
    rows = []
    for i in range(count):
        n = rng.randrange(i) if i and rng.random() < duplicate_share else i
        doi = f"10.1000/rag.{n}"
        rows.append(
            {
                "title": f"Retrieval study {n}: α β, Balázs & 检索增强生成",
                "authors": f"Author {n}; Other {n}",
                "year": str(2000 + n % 25),
                "published": f"{2000 + n % 25}-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                "doi": doi.upper() if n != i else doi,  # a repeat writes the DOI differently
                "citations": f"{n * 7:,}",
                "f1": f"{n % 100}.5%",
                "open source": "yes" if n % 2 else "no",
            }
        )
    return rows


@pytest.mark.parametrize(
    ("column_type", "raw", "expected"),
    [
        ("integer", "1,234", 1234),
        ("integer", "1 234", 1234),
        ("integer", 12.0, 12),
        ("year", "March 2021", 2021),
        ("year", 1999, 1999),
        ("number", "85.3%", 85.3),
        ("number", "0.5", 0.5),
        ("number", "1,234.5", 1234.5),
        ("date", "2021-03-12", "2021-03-12"),
        ("date", "2021-03", "2021-03"),
        ("date", "2021", "2021"),
        ("date", "12 March 2021", "2021-03-12"),
        ("date", "March 2021", "2021-03"),
        ("date", "March 12, 2021", "2021-03-12"),
        ("date", date(2021, 3, 12), "2021-03-12"),
        ("url", "https://example.org/paper", "https://example.org/paper"),
        ("url", "doi:10.1000/xyz", "https://doi.org/10.1000/xyz"),
        ("url", "10.1000/xyz", "https://doi.org/10.1000/xyz"),
        ("url", "arxiv:2101.00001", "https://arxiv.org/abs/2101.00001"),
        ("boolean", "Yes", True),
        ("boolean", "n", False),
        ("boolean", 1, True),
        ("list", "a; b, c;; ", ["a", "b, c"]),
        ("list", "a, b", ["a", "b"]),
        ("list", [" a ", "", "b"], ["a", "b"]),
        ("text", "  two \n words ", "two words"),
        ("text", 42, "42"),
    ],
)
def test_check_value_coerces_good_values_to_the_column_type(
    column_type: ColumnType, raw: Any, expected: Any
) -> None:
    assert check_value(raw, _column(column_type)) == (expected, None)


@pytest.mark.parametrize(
    ("column_type", "raw"),
    [
        ("integer", "many"),
        ("integer", 12.5),
        ("integer", True),
        ("year", "999"),
        ("year", "2019-2021"),
        ("number", "n/a"),
        ("date", "2021-02-30"),
        ("date", "03/04/2021"),
        ("date", "someday"),
        ("url", "ftp://example.org/x"),
        ("url", "see the paper"),
        ("url", "https://"),
        ("boolean", "maybe"),
    ],
)
def test_check_value_reports_a_one_line_problem_for_bad_values(
    column_type: ColumnType, raw: Any
) -> None:
    value, problem = check_value(raw, _column(column_type))
    assert value is None
    assert problem and "\n" not in problem


@pytest.mark.parametrize("column_type", ["text", "integer", "date", "url", "list", "boolean"])
@pytest.mark.parametrize("raw", [None, "", "   ", []])
def test_empty_values_are_empty_not_problems(column_type: ColumnType, raw: Any) -> None:
    assert check_value(raw, _column(column_type)) == (None, None)


def test_text_is_capped() -> None:
    value, problem = check_value("x" * 40_000, _column("text"))
    assert problem is None and len(value) == 32_000


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("year", "year"),
        ("published year", "year"),
        ("publication date", "date"),
        ("last updated", "date"),
        ("url", "url"),
        ("pdf link", "url"),
        ("doi", "text"),
        ("citations", "integer"),
        ("number of authors", "integer"),
        ("n_params", "integer"),
        ("f1 score", "number"),
        ("accuracy (%)", "number"),
        ("authors", "list"),
        ("keywords", "list"),
        ("is_open_source", "boolean"),
        ("has code", "boolean"),
        ("title", "text"),
        ("method", "text"),
    ],
)
def test_infer_type_from_the_column_name(name: str, expected: ColumnType) -> None:
    assert infer_type(name) == expected


def test_check_row_checks_every_column_and_names_the_problems() -> None:
    row, problems = check_row(
        {"title": " RAG ", "Year": "2020", "citations": "lots", "extra": "dropped"}, COLUMNS
    )
    assert list(row) == [column.name for column in COLUMNS]
    assert row["title"] == "RAG" and row["year"] == 2020 and row["citations"] is None
    assert row["authors"] is None and "extra" not in row
    assert problems == ["citations: 'lots' is not a whole number"]


def test_dataset_refuses_an_unknown_key_or_repeated_column_names() -> None:
    with pytest.raises(ValidationError, match="key 'id' is not a column"):
        Dataset(title="t", columns=COLUMNS, key="id", rows=[])
    with pytest.raises(ValidationError, match="differ only in case"):
        Dataset(
            title="t", columns=[Column(name="Title"), Column(name="title")], key="title", rows=[]
        )
    assert _dataset([]).key_column.type == "url"


def test_key_of_normalizes_text_urls_and_numbers() -> None:
    text, url = _column("text"), _column("url")
    assert key_of("RAG:  Retrieval-Augmented  Generation", text) == key_of(
        "rag retrieval augmented generation!", text
    )
    assert key_of("Balázs", text) != key_of("Balazs", text)  # accents are kept
    assert key_of("https://WWW.Example.org/paper/#intro", url) == key_of(
        "http://example.org/paper", url
    )
    assert key_of("10.1000/ABC", url) == key_of("https://dx.doi.org/10.1000/abc", url)
    assert key_of("10.1000/ABC", text) == key_of("https://doi.org/10.1000/abc", text)
    assert key_of("arxiv:2101.00001v2", url) == key_of("https://arxiv.org/pdf/2101.00001.pdf", url)
    assert key_of("2,021", _column("integer")) == key_of(2021.0, _column("year")) == "2021"
    assert key_of("  ", text) == key_of(None, url) == ""


def test_unique_rows_keeps_the_first_and_fills_its_gaps_from_later_duplicates() -> None:
    doi = Column(name="doi", type="url")
    rows = [
        {"doi": "10.1000/a", "title": "First", "year": None},
        {"doi": None, "title": "No key"},
        {"doi": "https://doi.org/10.1000/A", "title": "Second", "year": 2020},
        {"doi": "10.1000/b", "title": "Other", "year": 2021},
        {"doi": "", "title": "Blank key"},
    ]
    unique, duplicates, keyless = unique_rows(rows, doi)
    assert unique == [
        {"doi": "10.1000/a", "title": "First", "year": 2020},
        {"doi": "10.1000/b", "title": "Other", "year": 2021},
    ]
    assert (duplicates, keyless) == (1, 2)
    assert rows[0]["year"] is None  # the input is not changed


def test_merge_duplicate_fills_only_the_empty_cells_of_the_first() -> None:
    first = {"title": "First", "year": None, "authors": [], "venue": ""}
    later = {"title": "Later", "year": 2020, "authors": ["A"], "venue": None, "pages": 9}
    merged = merge_duplicate(first, later)
    assert merged == {"title": "First", "year": 2020, "authors": ["A"], "venue": "", "pages": 9}
    assert merged is not first and first["year"] is None


def test_xlsx_has_a_header_native_types_and_a_columns_sheet(tmp_path: Path) -> None:
    raw = [
        {
            "title": "=cmd|' /C calc'!A0",
            "authors": "Lewis; Perez",
            "year": "2020",
            "published": "2020-05-22",
            "doi": "10.48550/arXiv.2005.11401",
            "citations": "1,234",
            "f1": "44.5%",
            "open source": "yes",
        },
        {"title": "@SUM(A1)", "published": "2021-03", "doi": "10.1000/b", "open source": "no"},
        {"title": "#N/A", "published": "2019", "doi": "10.1000/c"},
    ]
    rows = [check_row(row, COLUMNS)[0] for row in raw]
    path = write_dataset_xlsx(_dataset(rows, dropped=3), tmp_path / "out" / "data.xlsx")

    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["Data", "Columns"]
    data = [list(row) for row in book["Data"].iter_rows()]
    assert [cell.value for cell in data[0]] == [column.name for column in COLUMNS]
    first = {column.name: cell.value for column, cell in zip(COLUMNS, data[1], strict=False)}
    assert first["year"] == 2020 and first["citations"] == 1234 and first["f1"] == 44.5
    assert first["published"] == datetime(2020, 5, 22)
    assert first["open source"] is True and first["authors"] == "Lewis; Perez"
    assert first["doi"] == "https://doi.org/10.48550/arXiv.2005.11401"
    assert data[2][3].value == datetime(2021, 3, 1) and data[2][3].number_format == "yyyy-mm"
    assert data[3][3].value == datetime(2019, 1, 1) and data[3][3].number_format == "yyyy"
    texts = [row[0] for row in data[1:]]
    assert [cell.value for cell in texts] == ["=cmd|' /C calc'!A0", "@SUM(A1)", "#N/A"]
    assert all(cell.data_type == "s" for cell in texts)
    assert not [c for row in data for c in row if isinstance(c.value, str) and c.data_type == "f"]

    columns = [row for row in book["Columns"].iter_rows(values_only=True)]
    assert columns[0] == ("Column", "Type", "Description", "Filled")
    assert columns[1] == ("title", "text", "Paper title", 3)
    assert columns[5][:2] == ("doi", "url") and columns[5][3] == 3
    assert columns[6][3] == 1
    notes = {row[0]: row[1] for row in columns[len(COLUMNS) + 3 :]}
    assert notes == {"title": "RAG papers", "key column": "doi", "rows": 3, "dropped": 3}
    book.close()

    sheet = openpyxl.load_workbook(path)["Data"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet["A2"].quotePrefix and sheet["A2"].data_type == "s"
    assert sheet.auto_filter.ref == "A1:H4"


def test_xlsx_drops_characters_xml_forbids(tmp_path: Path) -> None:
    rows = [{"title": "bell\x07 and nul\x00 text", "doi": "https://example.org/x"}]
    path = write_dataset_xlsx(_dataset(rows), tmp_path / "data.xlsx")
    sheet = openpyxl.load_workbook(path, read_only=True)["Data"]
    assert next(sheet.iter_rows(min_row=2, values_only=True))[0] == "bell and nul text"


def test_csv_reads_back_as_the_rows_with_formulas_defused(tmp_path: Path) -> None:
    raw = _papers(50) + [{"title": "=1+1", "doi": "10.1000/x", "authors": ["-a", "b"], "f1": -2.5}]
    rows = [check_row(row, COLUMNS)[0] for row in raw]
    path = write_dataset_csv(_dataset(rows), tmp_path / "data.csv")

    content = path.read_bytes()
    assert not content.startswith(b"\xef\xbb\xbf") and b"\r\n" not in content
    with path.open(encoding="utf-8", newline="") as file:
        read = list(csv.DictReader(file))
    assert [list(row) for row in read[:1]] == [[column.name for column in COLUMNS]]

    def as_csv(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        return "; ".join(value) if isinstance(value, list) else str(value)

    assert read[:-1] == [{name: as_csv(value) for name, value in row.items()} for row in rows[:-1]]
    assert read[-1]["title"] == "'=1+1" and read[-1]["authors"] == "'-a; b"
    assert read[-1]["f1"] == "-2.5"  # a number is never prefixed


def test_twenty_thousand_rows_with_duplicate_keys_export_unique_by_key(tmp_path: Path) -> None:
    raw = _papers(20_000, duplicate_share=0.1)
    checked = [check_row(row, COLUMNS) for row in raw]
    assert not [problems for _, problems in checked if problems]
    doi = Column(name="doi", type="url")
    rows, duplicates, keyless = unique_rows([row for row, _ in checked], doi)
    distinct = {key_of(row["doi"], doi) for row in raw}
    assert len(rows) == len(distinct) and duplicates == 20_000 - len(distinct) > 1_500
    assert keyless == 0

    xlsx, csv_path = write_dataset(_dataset(rows), tmp_path / "deliverable", ["xlsx", "csv"])
    assert (xlsx.name, csv_path.name) == (DATASET_FILES["xlsx"], DATASET_FILES["csv"])

    sheet = openpyxl.load_workbook(xlsx, read_only=True)["Data"]
    in_xlsx = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    with csv_path.open(encoding="utf-8", newline="") as file:
        in_csv = [row["doi"] for row in csv.DictReader(file)]
    for keys in (in_xlsx, in_csv):
        assert len(keys) == len(distinct)
        assert len({key_of(key, doi) for key in keys}) == len(distinct)


@pytest.mark.parametrize("formats", [["csv", "json"], []])
def test_bad_formats_are_refused_before_any_file_is_written(
    tmp_path: Path, formats: list[str]
) -> None:
    folder = tmp_path / "deliverable"
    with pytest.raises(SwarmError, match="choose from xlsx, csv"):
        write_dataset(_dataset([]), folder, formats)
    assert not folder.exists()
