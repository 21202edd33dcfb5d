from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl

from exporters.document import Cite, Document, Table
from exporters.references import Bibliography
from exporters.workbook import MAX_COLUMN_WIDTH, WRITE_ONLY_ROWS, write_workbook
from tests.exporters.conftest import UNICODE_SAMPLES, build_large_document, section_titles


def _cites(document: Document) -> list[Cite]:
    runs = []
    for block in document.all_blocks():
        runs += getattr(block, "runs", [])
        runs += [run for item in getattr(block, "items", []) for run in item]
    return [run for run in runs if isinstance(run, Cite)]


def _rows(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def assert_styled(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
    assert sheet.freeze_panes == "A2"
    assert (
        sheet.auto_filter.ref
        == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    )
    header = sheet["A1"]
    assert header.font.bold and header.fill.fgColor.rgb.endswith("1F4E79")
    widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
    assert all(8 <= width <= MAX_COLUMN_WIDTH for width in widths)


def test_workbook_sources_evidence_and_sections_match_the_document(
    document: Document, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(write_workbook(document, tmp_path / "review.xlsx"))
    assert book.sheetnames == ["Sources", "Evidence", "Sections", "Table 1", "Figure 1 data"]
    for sheet in book:
        assert_styled(sheet)

    sources = _rows(book["Sources"])
    bib = Bibliography.of(document)
    assert [row[0] for row in sources] == [ref.key for ref in bib.references]
    counts = Counter(key for cite in _cites(document) for key in set(cite.keys))
    assert {row[0]: row[7] for row in sources} == {
        ref.key: counts[ref.key] for ref in bib.references
    }
    balazs = next(row for row in sources if row[0] == "balazs2007calculation")
    assert balazs[3:6] == (2007, "Physical Review D", "https://doi.org/10.1103/PhysRevD.76.013009")
    assert book["Sources"]["F2"].hyperlink.target.startswith("https://")
    guu = next(row for row in sources if row[0] == "guu2020realm")
    assert guu[6] == "Introduction; Conclusion"

    evidence = _rows(book["Evidence"])
    assert len(evidence) == sum(len(set(cite.keys)) for cite in _cites(document))
    assert (
        "Language models store knowledge in their parameters, which is hard to update.",
        "guu2020realm",
        "Introduction",
    ) in evidence
    parenthetical = {bib.cite(cite.keys) for cite in _cites(document) if not cite.narrative}
    claims = {claim for claim, _, _ in evidence}
    assert not any(cite in claim for cite in parenthetical for claim in claims)
    narrative = "Lewis et al. (2020) coined the term retrieval-augmented generation."
    assert (narrative, "lewis2020retrieval", "Background") in evidence
    compared = [(claim, key) for claim, key, _ in evidence if "compared costs" in claim]
    assert compared == [
        (
            "Smith (2021a, 2021b) compared costs and sparse retrieval in one year, while "
            "Izacard and Grave (2021) and Karpukhin et al. (2020) scaled retrievers and readers.",
            key,
        )
        for key in [
            "smith2021costs",
            "smith2021sparse",
            "karpukhin2020dense",
            "izacard2021leveraging",
        ]
    ]

    sections = _rows(book["Sections"])
    assert [row[0] for row in sections] == section_titles(document)
    assert [row[1] for row in sections] == [depth for depth, _ in document.walk()]
    table = next(b for b in document.all_blocks() if isinstance(b, Table))
    assert [list(row) for row in _rows(book["Table 1"])] == table.rows
    assert book["Figure 1 data"]._charts  # a native chart beside its data

    text = " ".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row
    )
    for sample in UNICODE_SAMPLES:
        assert sample in text


def test_text_that_looks_like_a_formula_stays_text(document: Document, tmp_path: Path) -> None:
    document.references[0].title = "=SUM(A1:A9) is not a title"
    book = openpyxl.load_workbook(write_workbook(document, tmp_path / "review.xlsx"))
    titles = [row[1] for row in _rows(book["Sources"])]
    assert "=SUM(A1:A9) is not a title" in titles
    assert all(cell.data_type == "s" for cell in book["Sources"]["B"][1:])


def test_many_rows_stream_in_write_only_mode_with_the_same_styling(tmp_path: Path) -> None:
    document = build_large_document(tmp_path)
    book = openpyxl.load_workbook(write_workbook(document, tmp_path / "review.xlsx"))
    assert sum(sheet.max_row - 1 for sheet in book) > WRITE_ONLY_ROWS
    for sheet in book:
        assert_styled(sheet)
    assert book["Evidence"].max_row - 1 == sum(len(set(c.keys)) for c in _cites(document))
