from __future__ import annotations

import time
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest
from pptx import Presentation

import exporters
from exporters import FILENAMES, FORMATS, export
from exporters.document import Cite, Document, Figure, Paragraph, Section
from graph.errors import SwarmError
from tests.exporters.conftest import REFERENCES, build_large_document, section_titles
from tests.exporters.test_slides import assert_every_placeholder_fits


def test_registry_names_every_format_and_its_file() -> None:
    assert list(FORMATS) == ["md", "bib", "docx", "pdf", "pptx", "xlsx"]
    assert FILENAMES == {
        "md": "review.md",
        "bib": "references.bib",
        "docx": "review.docx",
        "pdf": "review.pdf",
        "pptx": "review.pptx",
        "xlsx": "review.xlsx",
    }
    assert FORMATS["md"] is exporters.markdown.write_markdown


def test_export_writes_each_format_under_the_folder(document: Document, tmp_path: Path) -> None:
    paths = export(document, tmp_path, ["pdf", "md", "md", "xlsx"])
    assert paths == [tmp_path / "review.pdf", tmp_path / "review.md", tmp_path / "review.xlsx"]
    assert all(path.stat().st_size > 0 for path in paths)


def test_unknown_format_is_refused_before_anything_is_written(
    document: Document, tmp_path: Path
) -> None:
    with pytest.raises(SwarmError) as error:
        export(document, tmp_path / "out", ["md", "odt"])
    assert str(error.value) == ("unknown format 'odt': choose from md, bib, docx, pdf, pptx, xlsx")
    assert not (tmp_path / "out").exists()


def test_unknown_style_is_refused(document: Document, tmp_path: Path) -> None:
    document.style = "chicago"
    with pytest.raises(SwarmError, match="choose one of apa, ieee"):
        export(document, tmp_path, ["md"])


@pytest.mark.parametrize("path", ["../outside.png", "/etc/passwd", "figures/../../x.png"])
def test_figure_outside_the_folder_is_refused(tmp_path: Path, path: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    document = Document(
        title="t", sections=[Section(title="s", blocks=[Figure(caption="c", path=path)])]
    )
    with pytest.raises(SwarmError, match="outside the export folder"):
        export(document, folder, ["docx"])
    assert not (folder / "review.docx").exists()


def test_missing_figure_is_refused(tmp_path: Path) -> None:
    document = Document(
        title="t", sections=[Section(title="s", blocks=[Figure(caption="c", path="no.png")])]
    )
    with pytest.raises(SwarmError, match="'no.png' not found"):
        export(document, tmp_path, ["pdf"])


def test_a_hundred_page_document_exports_in_every_format(tmp_path: Path) -> None:
    document = build_large_document(tmp_path)
    timings = {}
    for name in FORMATS:
        start = time.perf_counter()
        export(document, tmp_path, [name])
        timings[name] = round(time.perf_counter() - start, 2)
    print(f"large export seconds: {timings}")

    titles = section_titles(document)
    assert len(pypdf.PdfReader(tmp_path / "review.pdf").pages) >= 100
    headings = [
        p.text
        for p in docx.Document(str(tmp_path / "review.docx")).paragraphs
        if p.style.name.startswith("Heading")
    ]
    assert headings == [*titles, "References"]
    prs = Presentation(str(tmp_path / "review.pptx"))
    assert_every_placeholder_fits(prs)
    book = openpyxl.load_workbook(tmp_path / "review.xlsx", read_only=True)
    assert book["Sources"].max_row == len(document.references) + 1
    markdown = (tmp_path / "review.md").read_text(encoding="utf-8")
    assert markdown.count("\n## Theme ") == 60
    assert (tmp_path / "references.bib").read_text(encoding="utf-8").count("\n@") == 149


def test_each_writer_creates_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet"
    document = Document(
        title="t",
        sections=[Section(title="s", blocks=[Paragraph(runs=[Cite(keys=[REFERENCES[0].key])])])],
        references=REFERENCES[:1],
    )
    for name, writer in FORMATS.items():
        assert writer(document, folder / FILENAMES[name]).is_file()
