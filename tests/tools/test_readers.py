from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.sample_files import write_docx, write_pdf
from tools.readers import UnreadableDocument, read_document


def test_pdf_gives_text_of_all_pages_and_ids_from_the_first_page(papers: Path) -> None:
    source, text = read_document(papers / "rag.pdf")

    assert source.title == "Retrieval-Augmented Generation for Knowledge-Intensive NLP"
    assert source.authors == ["Patrick Lewis", "Ethan Perez"]
    assert source.arxiv_id == "2005.11401"
    assert source.year == 2020
    assert source.identity == "arxiv:2005.11401"
    assert source.abstract == "Large pre-trained language models store factual knowledge."
    assert source.origin == str(papers / "rag.pdf")
    assert "Retrieval helps generation" in text


def test_pdf_metadata_title_wins_over_first_line(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "a.pdf",
        [["Some running header", "doi: 10.5555/ABC.123.", "Published 2018"]],
        title="The Real Title",
        author="Ann Lee, Bo Chen",
    )

    source, _ = read_document(path)

    assert source.title == "The Real Title"
    assert source.authors == ["Ann Lee", "Bo Chen"]
    assert source.doi == "10.5555/abc.123"
    assert source.year == 2018


def test_pdf_without_text_is_unreadable(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [[]])

    with pytest.raises(UnreadableDocument, match="no text found"):
        read_document(path)


def test_corrupt_pdf_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\nthis is not really a PDF\n")

    with pytest.raises(UnreadableDocument) as raised:
        read_document(path)

    assert raised.value.path == str(path)


def test_docx_reads_core_properties_and_paragraphs(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "d.docx",
        ["Heading line", "Body about design of experiments."],
        title="Design Notes",
        author="Lee, Ann; Chen, Bo",
        year=2016,
    )

    source, text = read_document(path)

    assert source.title == "Design Notes"
    assert source.authors == ["Lee, Ann", "Chen, Bo"]
    assert source.year == 2016
    assert text == "Heading line\nBody about design of experiments."


def test_docx_with_template_properties_falls_back_to_first_line(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "plain.docx", ["Untitled draft on charts", "More text."])

    source, _ = read_document(path)

    assert source.title == "Untitled draft on charts"
    assert source.authors == []
    assert source.year is None


def test_html_reads_citation_meta_tags_and_visible_text(papers: Path) -> None:
    source, text = read_document(papers / "page.html")

    assert source.title == "Shewhart Charts Revisited"
    assert source.authors == ["Chen, Bo", "Roberts, Sam"]
    assert source.doi == "10.1000/charts.7"
    assert source.year == 2019
    assert source.venue == "Journal of Quality"
    assert "Control charts monitor a process." in text
    assert "do not index" not in text
    assert "Page title" not in text


def test_html_without_meta_uses_title_tag_and_canonical_url(write) -> None:
    path = write(
        "p.htm",
        '<html><head><title> A  Blog Post </title><link rel="canonical" '
        'href="https://www.example.org/post/"></head><body><p>Text from 2015.</p></body></html>',
    )

    source, _ = read_document(path)

    assert source.title == "A Blog Post"
    assert source.url == "https://www.example.org/post/"
    assert source.identity == "url:example.org/post"
    assert source.year == 2015


def test_markdown_front_matter_gives_metadata(papers: Path) -> None:
    source, text = read_document(papers / "survey.md")

    assert source.title == "A Survey of Degradation Models"
    assert source.authors == ["Kim, Ji", "Park, Min"]
    assert source.year == 2021
    assert source.venue == "Reliability Engineering"
    assert source.identity == "doi:10.1000/deg.1"
    assert text.startswith("# A Survey of Degradation Models")
    assert source.abstract == "We review gamma and Wiener degradation processes."


def test_markdown_front_matter_takes_author_lists_and_abstract(write) -> None:
    path = write(
        "n.markdown",
        "---\ntitle: Notes\nauthors:\n  - Ann Lee\n  - Bo Chen\narxiv: arXiv:1706.03762v7\n"
        "abstract: Attention is all you need.\n---\nBody.\n",
    )

    source, text = read_document(path)

    assert source.authors == ["Ann Lee", "Bo Chen"]
    assert source.arxiv_id == "1706.03762"
    assert source.abstract == "Attention is all you need."
    assert text == "Body."


def test_plain_text_without_front_matter_uses_first_line_and_opening(write) -> None:
    body = "Monitoring wind turbines\n\n" + "word " * 400
    path = write("t.txt", body)

    source, _ = read_document(path)

    assert source.title == "Monitoring wind turbines"
    assert source.abstract.startswith("word word")
    assert len(source.abstract) <= 610


def test_invalid_front_matter_is_unreadable(write) -> None:
    path = write("bad.md", "---\ntitle: [unclosed\n---\nBody\n")

    with pytest.raises(UnreadableDocument, match="front matter"):
        read_document(path)


def test_legacy_encoded_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 society and its charts".encode("cp1252"))

    source, _ = read_document(path)

    assert source.title == "Café society and its charts"
