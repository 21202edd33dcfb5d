from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from exporters.document import Cite, Document, Paragraph, Section, Text
from exporters.pdf import CJK_FONT, write_pdf
from exporters.references import Bibliography
from tests.exporters.conftest import NARRATIVE, REFERENCES, UNICODE_SAMPLES, section_titles


def _flat(text: str) -> str:
    return " ".join(text.split())


def _outline(reader: pypdf.PdfReader, items: list, depth: int = 1) -> list[tuple[int, str, int]]:
    out = []
    for item in items:
        if isinstance(item, list):
            out += _outline(reader, item, depth + 1)
        else:
            out.append((depth, item.title, reader.get_destination_page_number(item) + 1))
    return out


def _fonts(reader: pypdf.PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.mark.parametrize("style", ["apa", "ieee"])
def test_pdf_text_has_sections_in_order_citations_and_unicode(
    document: Document, tmp_path: Path, style: str
) -> None:
    document.style = style
    reader = pypdf.PdfReader(write_pdf(document, tmp_path / "review.pdf"))
    pages = [_flat(page.extract_text()) for page in reader.pages]
    body = " ".join(pages[2:])
    position = 0
    for title in [*section_titles(document), "References"]:
        position = body.index(_flat(title), position)
    bib = Bibliography.of(document)
    for block in document.all_blocks():
        for run in getattr(block, "runs", []):
            if isinstance(run, Cite):
                assert bib.cite(run.keys, run.narrative) in " ".join(pages)
    for narrative in NARRATIVE[style]:
        assert narrative in body
    references = body[body.rindex("References") :]
    for ref in bib.references:
        assert _flat(bib.entry_text(ref))[:40] in references
    for sample in UNICODE_SAMPLES:
        assert sample in body
    assert any(name.endswith("DejaVuSerif") for name in _fonts(reader))
    assert f"/{CJK_FONT}" in _fonts(reader)


def test_pdf_outline_follows_the_sections_and_the_contents_page_numbers(
    document: Document, tmp_path: Path
) -> None:
    reader = pypdf.PdfReader(write_pdf(document, tmp_path / "review.pdf"))
    outline = _outline(reader, reader.outline)
    expected = [(1, "Abstract"), (1, "Contents")]
    expected += [(depth, s.title) for depth, s in document.walk()] + [(1, "References")]
    assert [(depth, title) for depth, title, _ in outline] == expected

    contents = _flat(reader.pages[1].extract_text(extraction_mode="layout"))
    for _, title, page in outline[2:]:
        match = re.search(re.escape(_flat(title)) + r"[ .]*(\d+)", contents)
        assert match and int(match.group(1)) == page, title
    assert reader.metadata.title == document.title


def test_pdf_citations_link_to_their_reference_entries(document: Document, tmp_path: Path) -> None:
    reader = pypdf.PdfReader(write_pdf(document, tmp_path / "review.pdf"))
    first_reference_page = dict((t, p) for _, t, p in _outline(reader, reader.outline))[
        "References"
    ]
    pages = {page.indirect_reference.idnum: n + 1 for n, page in enumerate(reader.pages)}
    targets = set()
    for page in reader.pages[2:]:
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation["/Subtype"] == "/Link" and "/Dest" in annotation:
                destination = annotation["/Dest"]
                targets.add((pages[destination[0].idnum], round(float(destination[3]))))
    assert len(targets) == len(document.cited_keys())  # one anchor per cited reference
    assert all(page >= first_reference_page for page, _ in targets)


def test_pdf_narrative_citation_links_to_its_reference_entry(tmp_path: Path) -> None:
    runs = [Cite(keys=[REFERENCES[0].key], narrative=True), Text(text=" coined the term.")]
    document = Document(
        title="t",
        sections=[Section(title="s", blocks=[Paragraph(runs=runs)])],
        references=REFERENCES[:1],
    )
    reader = pypdf.PdfReader(write_pdf(document, tmp_path / "review.pdf"))
    text = _flat(" ".join(page.extract_text() for page in reader.pages[2:]))
    assert "Lewis et al. (2020) coined the term." in text
    links = [
        annotation.get_object()
        for page in reader.pages[2:]
        for annotation in page.get("/Annots", [])
        if "/Dest" in annotation.get_object()
    ]
    assert len(links) == 2  # the names and the year, as Pandoc links them
    assert len({(link["/Dest"][0].idnum, float(link["/Dest"][3])) for link in links}) == 1
