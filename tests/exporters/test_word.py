from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from exporters.document import Cite, Document
from exporters.references import Bibliography
from exporters.word import write_word
from tests.exporters.conftest import NARRATIVE, UNICODE_SAMPLES, section_titles


def _open(document: Document, tmp_path: Path) -> docx.document.Document:
    return docx.Document(str(write_word(document, tmp_path / "review.docx")))


@pytest.mark.parametrize("style", ["apa", "ieee"])
def test_word_has_heading_styles_citations_and_references(
    document: Document, tmp_path: Path, style: str
) -> None:
    document.style = style
    doc = _open(document, tmp_path)
    paragraphs = doc.paragraphs
    headings = [
        (int(p.style.name.split()[-1]), p.text)
        for p in paragraphs
        if p.style.name.startswith("Heading")
    ]
    assert headings == [(depth, s.title) for depth, s in document.walk()] + [(1, "References")]

    start = next(
        i
        for i, p in enumerate(paragraphs)
        if p.text == "References" and p.style.name == "Heading 1"
    )
    entries = [p for p in paragraphs[start + 1 :] if p.text.strip()]
    bib = Bibliography.of(document)
    assert [p.text.replace("\t", " ") for p in entries] == [
        bib.entry_text(ref) for ref in bib.references
    ]
    assert entries[0].paragraph_format.first_line_indent < 0  # hanging indent

    text = "\n".join(p.text for p in paragraphs)
    for block in document.all_blocks():
        for run in getattr(block, "runs", []):
            if isinstance(run, Cite):
                assert bib.cite(run.keys, run.narrative) in text
    for narrative in NARRATIVE[style]:
        assert narrative in text
    for sample in UNICODE_SAMPLES:
        assert sample in text


def test_word_citations_link_to_bookmarked_reference_entries(
    document: Document, tmp_path: Path
) -> None:
    body = _open(document, tmp_path).element.body
    bookmarks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    anchors = [h.get(qn("w:anchor")) for h in body.iter(qn("w:hyperlink")) if h.get(qn("w:anchor"))]
    assert len(bookmarks) == len(document.references)
    assert anchors and set(anchors) <= bookmarks


def test_word_has_toc_field_page_numbers_and_updates_fields(
    document: Document, tmp_path: Path
) -> None:
    doc = _open(document, tmp_path)
    instructions = [t.text.strip() for t in doc.element.body.iter(qn("w:instrText"))]
    assert 'TOC \\o "1-3" \\h \\z \\u' in instructions
    start = next(i for i, p in enumerate(doc.paragraphs) if p.text == "Contents")
    listed = [p.text for p in doc.paragraphs[start + 1 : start + 10]]
    assert listed == [*section_titles(document), "References"]  # shown until Word updates it
    footer = doc.sections[0].footer._element
    assert any(t.text.strip() == "PAGE" for t in footer.iter(qn("w:instrText")))
    update = doc.settings.element.find(qn("w:updateFields"))
    assert update is not None and update.get(qn("w:val")) == "true"
    assert doc.paragraphs[0].style.name == "Title"
    assert doc.core_properties.title == document.title


def test_word_tables_charts_and_figures_have_captions(document: Document, tmp_path: Path) -> None:
    doc = _open(document, tmp_path)
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "Table 1. Evidence table: studies, methods and findings",
        "Figure 1. Studies per year and retriever type",
        "Figure 2. Retrieval papers per year",
    ]
    (table,) = doc.tables
    assert [c.text for c in table.rows[0].cells] == ["Study", "Method", "Finding"]
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [c.text for c in table.rows[4].cells] == [
        "wang2023survey",
        "综述",
        "检索增强生成 survey, α β γ",
    ]
    assert len(doc.inline_shapes) == 2
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert bullets[1] == "Dense passage retrieval (Karpukhin et al., 2020)"
    assert any(p.style.name == "Quote" for p in doc.paragraphs)


def test_word_narrative_citation_links_its_names_and_year_to_the_entry(
    document: Document, tmp_path: Path
) -> None:
    doc = _open(document, tmp_path)
    (paragraph,) = [p for p in doc.paragraphs if p.text.startswith("Lewis et al. (2020) coined")]
    links = [
        ("".join(t.text for t in h.iter(qn("w:t"))), h.get(qn("w:anchor")))
        for h in paragraph._p.iter(qn("w:hyperlink"))
    ]
    keys = [ref.key for ref in Bibliography.of(document).references]
    bookmark = f"ref_{keys.index('lewis2020retrieval') + 1}"
    assert links == [("Lewis et al.", bookmark), ("2020", bookmark)]
