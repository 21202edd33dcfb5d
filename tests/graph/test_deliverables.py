"""A demo run's deliverables, reopened in independent readers and checked against its Document."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from pptx import Presentation

from exporters.document import Document
from exporters.references import Bibliography
from graph.config import Context
from graph.swarm import builder
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT, swarm_cli


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Document, Path]:
    out = tmp_path_factory.mktemp("out")

    async def run() -> tuple[Document, Path]:
        graph = builder.compile(checkpointer=InMemorySaver())
        context = Context(corpus=[str(DEMO_CORPUS)], out=str(out))
        config = context.run_config("deliverables")
        result = await graph.ainvoke({"prompt": DEMO_PROMPT}, config, context=context)
        state = (await graph.aget_state(config)).values
        return Document.model_validate(state["document"]), Path(result["files"][0]).parent

    return asyncio.run(run())


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def in_order(titles: list[str], text: str) -> bool:
    position = 0
    for title in titles:
        found = text.find(title, position)
        if found < 0:
            return False
        position = found + len(title)
    return True


def citations(document: Document) -> list[str]:
    """Every in-text citation as the document's style renders it."""
    bibliography = Bibliography.of(document)
    rendered = []
    for block in document.all_blocks():
        runs = getattr(block, "runs", None) or [
            r for item in getattr(block, "items", []) for r in item
        ]
        rendered += [
            bibliography.cite(run.keys, narrative=run.narrative)
            for run in runs
            if run.kind == "cite"
        ]
    return rendered


def test_run_writes_every_format_beside_the_markdown(delivered: tuple[Document, Path]) -> None:
    _, folder = delivered
    names = {p.name for p in folder.iterdir()}
    assert {
        "review.md",
        "references.bib",
        "review.docx",
        "review.pdf",
        "review.pptx",
        "review.xlsx",
        "run.json",
    } <= names


def test_word_has_the_sections_references_and_citations(delivered) -> None:
    document, folder = delivered
    word = docx.Document(str(folder / "review.docx"))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    titles = [s.title for s in document.sections]
    assert [h for h in headings if h in titles] == titles
    text = squash("\n".join(p.text for p in word.paragraphs))
    for cite in citations(document):
        assert squash(cite) in text
    texts = [p.text for p in word.paragraphs]
    after = word.paragraphs[len(texts) - texts[::-1].index("References") :]
    assert len([p for p in after if p.text.strip()]) == len(document.references)


def test_pdf_has_the_sections_in_order_and_every_citation(delivered) -> None:
    document, folder = delivered
    reader = pypdf.PdfReader(str(folder / "review.pdf"))
    text = squash(" ".join(page.extract_text() for page in reader.pages))
    body = text[text.find("Introduction", text.find("Introduction") + 1) :]
    assert in_order([squash(s.title) for s in document.sections[1:]], body)
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert [s.title for s in document.sections] == [
        t for t in outline if t in {s.title for s in document.sections}
    ]
    for cite in citations(document):
        assert squash(cite) in text


def test_slides_cover_every_section_and_chart_the_years(delivered) -> None:
    document, folder = delivered
    deck = Presentation(str(folder / "review.pptx"))
    slide_titles = [s.shapes.title.text for s in deck.slides if s.shapes.title is not None]
    for section in document.sections:
        if any(b.kind in ("paragraph", "bullets") for b in section.blocks) or section.subsections:
            assert any(t.startswith(section.title[:40]) for t in slide_titles), section.title
        else:
            captions = [b.caption for b in section.blocks]
            assert any(c[:30] in t for c in captions for t in slide_titles), section.title
    assert any(shape.has_chart for slide in deck.slides for shape in slide.shapes)


def test_workbook_lists_every_reference(delivered) -> None:
    document, folder = delivered
    book = openpyxl.load_workbook(str(folder / "review.xlsx"), read_only=True)
    sources = list(book["Sources"].iter_rows(values_only=True))
    assert len(sources) - 1 == len(document.references)
    keys = {row[0] for row in sources[1:]}
    assert keys == {r.key for r in document.references}
    assert len(list(book["Sections"].iter_rows(values_only=True))) > len(document.sections)


def test_bad_format_or_style_fails_before_any_agent(tmp_path: Path) -> None:
    for flag, value, listed in (
        ("--format", "docx,odt", "md, bib, docx, pdf, pptx, xlsx"),
        ("--style", "mla", "apa, ieee"),
    ):
        done = swarm_cli(
            "run",
            DEMO_PROMPT,
            "--corpus",
            str(DEMO_CORPUS),
            "--out",
            str(tmp_path),
            flag,
            value,
            timeout=120,
        )
        assert done.returncode != 0
        assert len(done.stderr.strip().splitlines()) == 1 and listed in done.stderr
        assert not list(tmp_path.iterdir())
