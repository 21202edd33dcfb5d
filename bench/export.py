"""Export a long review (100+ PDF pages) in every format and compare with bare baselines.

Each baseline writes the same text with the same library and nothing else: plain
paragraphs or rows, no styles, captions, links, contents or citation formatting.
The ratio (project / baseline) is the price of a finished document.

Paragraphs and references come from the real arXiv records in
`<repo>/../shared/data/arxiv/abstracts.jsonl` when that file exists, else from
synthetic text. Run: `python bench/export.py [--sections 50] [--per-section 7]`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import openpyxl
import pypdf
from pptx import Presentation
from pptx.util import Inches
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph as PdfParagraph
from reportlab.platypus import SimpleDocTemplate

from exporters import FILENAMES, FORMATS
from exporters.document import (
    Chart,
    Cite,
    Document,
    Paragraph,
    Reference,
    Section,
    Table,
    Text,
    plain_text,
)
from exporters.pdf import SERIF, register_fonts

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv" / "abstracts.jsonl"


def load_records(count: int) -> tuple[list[dict], str]:
    """`count` records, real when the shared arXiv file is there, else synthetic."""
    if DATA.is_file():
        with DATA.open(encoding="utf-8") as lines:
            records = [json.loads(line) for line in lines]
        records = [r for r in records if len(r.get("abstract", "").split()) > 60]
        random.Random(1).shuffle(records)
        return records[:count], f"{DATA} (real arXiv records)"
    rng = random.Random(1)
    words = "retrieval model data evidence method result design sample control test".split()
    records = [
        {
            "id": f"{2000 + i}.{i:05d}",
            "title": " ".join(rng.choices(words, k=9)).capitalize(),
            "authors": [f"Author{i} Family{i}", f"Second{i} Other{i}"],
            "year": 2000 + i % 25,
            "abstract": ". ".join(" ".join(rng.choices(words, k=16)).capitalize() for _ in range(7))
            + ".",
            "categories": [f"cat.{i % 12}"],
            "doi": None,
        }
        for i in range(count)
    ]
    return records, "synthetic text (shared data not found)"


def build(records: list[dict], sections: int, per_section: int) -> Document:
    """A review: one cited paragraph per abstract, a table and a chart every tenth section."""
    refs = [
        Reference(
            key="r" + re.sub(r"\W", "_", r["id"]),
            title=r["title"],
            authors=r["authors"],
            year=r.get("year"),
            doi=(r.get("doi") or "").split()[0] if r.get("doi") else None,
            arxiv_id=r["id"],
        )
        for r in records
    ]
    body = []
    for s in range(sections):
        chunk = list(zip(records, refs, strict=True))[s * per_section : (s + 1) * per_section]
        blocks: list = []
        for record, ref in chunk:
            first, _, rest = record["abstract"].partition(". ")
            runs = [Text(text=first + " "), Cite(keys=[ref.key]), Text(text=". " + rest)]
            blocks.append(Paragraph(runs=runs))
        if s % 10 == 0:
            rows = [[ref.title[:90], ref.key, str(ref.year or "")] for _, ref in chunk]
            blocks.append(Table(caption="Evidence", columns=["Title", "Key", "Year"], rows=rows))
            years = sorted({str(ref.year) for _, ref in chunk})
            counts = [float(sum(str(ref.year) == y for _, ref in chunk)) for y in years]
            blocks.append(Chart(caption="Sources per year", categories=years, series={"n": counts}))
        category = chunk[0][0]["categories"][0] if chunk else "misc"
        body.append(Section(title=f"Theme {s + 1}: {category}", blocks=blocks))
    return Document(title="Benchmark review", sections=body, references=refs)


def _texts(document: Document) -> list[tuple[str, list[str]]]:
    """(section title, paragraph texts) with citations as bare keys."""
    return [
        (section.title, [plain_text(b.runs) for b in section.blocks if isinstance(b, Paragraph)])
        for section in document.sections
    ]


def bare_markdown(document: Document, path: Path) -> None:
    parts = [document.title]
    for title, paragraphs in _texts(document):
        parts += [title, *paragraphs]
    parts += [f"{r.title}. {', '.join(r.authors)}. {r.year}." for r in document.references]
    path.write_text("\n\n".join(parts), encoding="utf-8")


def bare_bibtex(document: Document, path: Path) -> None:
    entries = [
        f"@misc{{{r.key},\n  author = {{{' and '.join(r.authors)}}},\n  title = {{{r.title}}},"
        f"\n  year = {{{r.year}}}\n}}"
        for r in document.references
    ]
    path.write_text("\n\n".join(entries), encoding="utf-8")


def bare_word(document: Document, path: Path) -> None:
    doc = docx.Document()
    for title, paragraphs in _texts(document):
        doc.add_paragraph(title)
        for text in paragraphs:
            doc.add_paragraph(text)
    for ref in document.references:
        doc.add_paragraph(f"{ref.title}. {', '.join(ref.authors)}. {ref.year}.")
    doc.save(str(path))


def bare_pdf(document: Document, path: Path) -> None:
    register_fonts()  # the same embedded TrueType font, so the ratio is not about fonts
    style = ParagraphStyle("plain", fontName=SERIF, fontSize=10.5, leading=15)
    story = []
    for title, paragraphs in _texts(document):
        story += [PdfParagraph(escape(text), style) for text in [title, *paragraphs]]
    story += [
        PdfParagraph(escape(f"{r.title}. {', '.join(r.authors)}."), style)
        for r in document.references
    ]
    SimpleDocTemplate(str(path)).build(story)


def bare_slides(document: Document, path: Path) -> None:
    prs = Presentation()
    for title, paragraphs in _texts(document):
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        box = slide.shapes.add_textbox(Inches(0.5), Inches(0.5), Inches(9), Inches(6))
        box.text_frame.text = "\n".join([title, *(p.split(". ")[0] for p in paragraphs)])
    for start in range(0, len(document.references), 10):
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        box = slide.shapes.add_textbox(Inches(0.5), Inches(0.5), Inches(9), Inches(6))
        box.text_frame.text = "\n".join(r.title for r in document.references[start : start + 10])
    prs.save(str(path))


def bare_workbook(document: Document, path: Path) -> None:
    book = openpyxl.Workbook()
    sources = book.active
    for ref in document.references:
        sources.append([ref.key, ref.title, "; ".join(ref.authors), ref.year])
    evidence = book.create_sheet("Evidence")
    for title, paragraphs in _texts(document):
        for text in paragraphs:
            for sentence in text.split(". "):
                evidence.append([sentence, title])
    book.save(str(path))


BASELINES: dict[str, Callable[[Document, Path], None]] = {
    "md": bare_markdown,
    "bib": bare_bibtex,
    "docx": bare_word,
    "pdf": bare_pdf,
    "pptx": bare_slides,
    "xlsx": bare_workbook,
}


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=50)
    parser.add_argument("--per-section", type=int, default=7)
    args = parser.parse_args()
    records, origin = load_records(args.sections * args.per_section)
    document = build(records, args.sections, args.per_section)
    print(f"data: {origin}")
    print(f"document: {len(document.sections)} sections, {len(document.references)} references")
    with tempfile.TemporaryDirectory() as folder:
        out, bare = Path(folder), Path(folder) / "bare"
        bare.mkdir()
        FORMATS["pdf"](document, out / "warmup.pdf")  # fonts and imports, outside the timings
        print(f"{'format':<7}{'project s':>11}{'baseline s':>12}{'ratio':>8}")
        for name, writer in FORMATS.items():
            target = out / FILENAMES[name]
            project = timed(lambda w=writer, t=target: w(document, t))
            baseline = timed(lambda n=name: BASELINES[n](document, bare / FILENAMES[n]))
            print(f"{name:<7}{project:>11.2f}{baseline:>12.2f}{project / baseline:>8.1f}")
        pages = len(pypdf.PdfReader(out / "review.pdf").pages)
        bare_pages = len(pypdf.PdfReader(bare / "review.pdf").pages)
        print(f"pdf pages: {pages} (baseline {bare_pages})")


if __name__ == "__main__":
    main()
