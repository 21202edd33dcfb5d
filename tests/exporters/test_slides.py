from __future__ import annotations

from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Inches

from exporters.document import Cite, Document, Paragraph, Reference, Section, Table, Text
from exporters.references import Bibliography
from exporters.sentences import sentences
from exporters.slides import capacity, fits, lines_needed, write_slides
from tests.exporters.conftest import NARRATIVE, REFERENCES, UNICODE_SAMPLES, section_titles

CONT = " (cont.)"


def _deck(document: Document, tmp_path: Path) -> Presentation:
    return Presentation(str(write_slides(document, tmp_path / "review.pptx")))


def _titles(prs: Presentation) -> list[str]:
    return [slide.shapes.title.text for slide in prs.slides if slide.shapes.title is not None]


def assert_every_placeholder_fits(prs: Presentation) -> None:
    for number, slide in enumerate(prs.slides, start=1):
        for shape in slide.placeholders:
            if shape.has_text_frame:
                assert fits(shape), f"slide {number}: {shape.text_frame.text[:60]!r} overflows"


@pytest.mark.parametrize("style", ["apa", "ieee"])
def test_slides_follow_the_sections_and_never_overflow(
    document: Document, tmp_path: Path, style: str
) -> None:
    document.style = style
    prs = _deck(document, tmp_path)
    titles = [t.removesuffix(CONT) for t in _titles(prs)]
    assert titles[0] == document.title
    assert titles[1] == "Agenda"
    body = [t for t in dict.fromkeys(titles[2:]) if not t.startswith(("Table ", "Figure "))]
    assert body == [*section_titles(document), "References"]
    assert_every_placeholder_fits(prs)

    agenda = prs.slides[1].placeholders[1].text_frame.text.split("\n")
    assert agenda == [s.title for s in document.sections] + ["References"]

    references = [
        p.text
        for slide in prs.slides
        if slide.shapes.title.text.startswith("References")
        for p in slide.placeholders[1].text_frame.paragraphs
    ]
    bib = Bibliography.of(document)
    assert references == [bib.entry_text(ref) for ref in bib.references]


def test_slide_key_points_are_first_sentences_with_short_citations(
    document: Document, tmp_path: Path
) -> None:
    prs = _deck(document, tmp_path)
    text = "\n".join(
        shape.text_frame.text
        for slide in prs.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    bib = Bibliography.of(document)
    for block in document.all_blocks()[1:]:
        if isinstance(block, Paragraph):
            first = sentences(block.runs)[0]
            cites = [
                bib.short_cite(run.keys, run.narrative)
                for run in first
                if not isinstance(run, Text)
            ]
            start = "".join(run.text for run in first if isinstance(run, Text))[:30]
            assert start in text
            assert all(cite in text for cite in cites)
    assert "(Guu & Lee, 2020; +2)" in text  # three works in one citation, shortened
    for narrative in NARRATIVE["apa"]:
        assert narrative in text
    for sample in UNICODE_SAMPLES:
        assert sample in text
    notes = prs.slides[2].notes_slide.notes_text_frame.text
    assert "It also makes answers traceable to sources." in notes


def test_a_long_key_point_keeps_its_narrative_citation_and_shortens_the_rest(
    tmp_path: Path,
) -> None:
    long = "retrieval improves recall on open-domain questions across many benchmarks " * 4
    runs = [
        Cite(keys=["lewis2020retrieval"], narrative=True),
        Text(text=f" showed that {long.strip()} "),
        Cite(keys=["guu2020realm", "karpukhin2020dense", "izacard2021leveraging"]),
        Text(text="."),
    ]
    references: list[Reference] = REFERENCES[:4]
    document = Document(
        title="t",
        sections=[Section(title="Findings", blocks=[Paragraph(runs=runs)])],
        references=references,
    )
    prs = _deck(document, tmp_path)
    slide = next(s for s in prs.slides if s.shapes.title.text == "Findings")
    point = slide.placeholders[1].text_frame.text
    assert point.startswith("Lewis et al. (2020) showed that retrieval improves")
    assert point.endswith("… (Guu & Lee, 2020; +2)")


def test_slides_have_native_chart_table_and_picture(document: Document, tmp_path: Path) -> None:
    prs = _deck(document, tmp_path)
    shapes = [shape for slide in prs.slides for shape in slide.shapes]
    (chart,) = [s.chart for s in shapes if s.has_chart]
    assert list(chart.plots[0].categories) == ["2020", "2021", "2022", "2023"]
    assert [(s.name, list(s.values)) for s in chart.series] == [
        ("Dense", [3, 4, 6, 8]),
        ("Sparse", [2, 2, 1, 1]),
    ]
    (table,) = [s.table for s in shapes if s.has_table]
    assert [c.text for c in table.rows[0].cells] == ["Study", "Method", "Finding"]
    assert len(table.rows) == 5
    pictures = [s for s in shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1


def test_long_sections_and_tables_continue_on_further_slides(tmp_path: Path) -> None:
    sentence = "Dense retrieval improves recall on open-domain questions across benchmarks. "
    long = Section(
        title="A very long section title that keeps going to test how titles shrink to fit",
        blocks=[Paragraph(runs=[Text(text=f"Point {i}. " + sentence * 3)]) for i in range(40)],
    )
    table = Table(
        caption="Many rows",
        columns=["Claim", "Source"],
        rows=[[sentence * (1 + i % 3), f"key{i}"] for i in range(45)],
    )
    document = Document(title="Long", sections=[long, Section(title="Data", blocks=[table])])
    prs = _deck(document, tmp_path)
    titles = _titles(prs)
    assert sum(t.startswith("A very long section") for t in titles) > 2
    assert sum(t.endswith(CONT) for t in titles) >= 3
    assert_every_placeholder_fits(prs)
    tables = [s.table for slide in prs.slides for s in slide.shapes if s.has_table]
    assert len(tables) > 1
    assert sum(len(t.rows) - 1 for t in tables) == 45
    assert all(t.rows[0].cells[0].text == "Claim" for t in tables)
    bottom = prs.slide_height
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_table:
                assert shape.top + sum(row.height for row in shape.table.rows) <= bottom


def test_capacity_estimate_scales_with_box_and_font() -> None:
    small, large = capacity(Inches(4), Inches(2), 18), capacity(Inches(8), Inches(4), 18)
    assert large.lines >= 2 * small.lines and large.chars_per_line >= 2 * small.chars_per_line - 1
    assert capacity(Inches(8), Inches(4), 36).lines < large.lines
    assert lines_needed(["a" * 10], small) < lines_needed(["a" * 10 + " word" * 40], small)
    assert lines_needed(["检索增强生成" * 10], small) > lines_needed(["abcdef" * 10], small)
