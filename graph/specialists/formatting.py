"""The formatting specialist: assemble the merged review into a Document, then render files.

Assembly puts the drafts in the order of the review (abstract, introduction,
method, one section per theme with its lines of work and open questions,
conclusion, evidence table) and keeps only references the text cites. Each
export task renders one format, so formats render in parallel; a dataset's files
render the same way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from exporters import export
from exporters.dataset import Dataset
from exporters.dataset_files import write_dataset
from exporters.document import (
    Block,
    Bullets,
    Chart,
    Cite,
    Document,
    Figure,
    Paragraph,
    Reference,
    Run,
    Section,
    Table,
    Text,
)
from exporters.references import Bibliography
from graph.config import Context
from graph.engines.base import NARRATIVE, SectionDraft, Sentence
from graph.specialists.subgraph import SpecialistState, build_specialist


def sentence_runs(sentence: Sentence) -> list[Run]:
    """`@key found that x (cite).`: narrative `@key` markers become author names in the text;
    the keys not named there go in one parenthetical citation before the final stop."""
    text = sentence.text.strip()
    cited = set(sentence.citations)
    runs: list[Run] = []
    named: set[str] = set()
    position = 0
    for match in NARRATIVE.finditer(text):
        if match.group(1) not in cited:
            continue
        runs.append(Text(text=text[position : match.start()]))
        runs.append(Cite(keys=[match.group(1)], narrative=True))
        named.add(match.group(1))
        position = match.end()
    rest = text[position:]
    others = [k for k in sentence.citations if k not in named]
    if not others:
        runs.append(Text(text=rest + " "))
    else:
        ends = rest[-1:] in (".", "!", "?")
        stop = rest[-1] if ends else "."
        body = rest[:-1].rstrip() if ends else rest
        runs += [Text(text=body + " "), Cite(keys=others), Text(text=stop + " ")]
    return [r for r in runs if not isinstance(r, Text) or r.text]


def draft_blocks(draft: SectionDraft, with_bullets: bool = True) -> list[Block]:
    blocks: list[Block] = []
    for paragraph in draft.paragraphs:
        runs = [run for sentence in paragraph.sentences for run in sentence_runs(sentence)]
        if runs and isinstance(runs[-1], Text):
            runs[-1] = Text(text=runs[-1].text.rstrip())
        blocks.append(Paragraph(runs=runs))
    if with_bullets and draft.bullets:
        blocks.append(Bullets(items=[_bullet(b) for b in draft.bullets]))
    return blocks


def _bullet(sentence: Sentence) -> list[Run]:
    runs = sentence_runs(sentence)
    runs[-1] = Text(text=runs[-1].text.rstrip())
    return runs


def theme_section(theme: dict[str, Any], parts: list[dict[str, Any]]) -> Section:
    """One theme: its scope, a subsection per line of work, and its open questions."""
    overview = [SectionDraft.model_validate(p["draft"]) for p in parts if p["part"] == "overview"]
    section = Section(title=theme["title"])
    for draft in overview:
        section.blocks.extend(draft_blocks(draft, with_bullets=False))
    for number, group in enumerate(theme["groups"]):
        chunks = sorted(
            (p for p in parts if p["part"] == "group" and p["group"] == number),
            key=lambda p: p["chunk"],
        )
        blocks = [b for p in chunks for b in draft_blocks(SectionDraft.model_validate(p["draft"]))]
        if blocks:
            label = group["label"]
            if label.casefold() == theme["title"].casefold():
                label = "Main lines of work"
            section.subsections.append(Section(title=label, blocks=blocks))
    questions = [b for draft in overview for b in draft.bullets]
    if questions:
        section.subsections.append(
            Section(title="Open questions", blocks=[Bullets(items=[_bullet(q) for q in questions])])
        )
    return section


def evidence_table(sources: list[dict[str, Any]], bibliography: Bibliography) -> Table:
    """One row per cited source, labelled as the text cites it (`Xu et al. (2024a)`)."""
    rows = []
    for entry in sources:
        if entry["key"] not in bibliography:
            continue
        source, notes = entry["source"], entry.get("notes", {})
        rows.append(
            [
                bibliography.cite([entry["key"]], narrative=True),
                str(source["year"] or "n.d."),
                notes.get("method", "")[:300],
                notes.get("finding", "")[:300],
            ]
        )
    return Table(
        caption="Evidence table: what each cited source did and found",
        columns=["Source", "Year", "Method or setting", "Finding"],
        rows=rows,
    )


def assemble_document(payload: dict[str, Any]) -> Document:
    frames = {name: SectionDraft.model_validate(d) for name, d in payload["frames"].items()}
    tables = payload["tables"]
    figures = tables.get("figures", {})
    method = Section(title="Method", blocks=draft_blocks(frames["method"]))
    if "per_year" in tables:
        method.blocks.append(Chart.model_validate(tables["per_year"]))
    if "per_theme" in tables:
        method.blocks.append(Table.model_validate(tables["per_theme"]))
    method.blocks.extend(Figure.model_validate(f) for f in figures.get("method", []))
    sections = [Section(title="Introduction", blocks=draft_blocks(frames["introduction"])), method]
    for theme in payload["outline"]["themes"]:
        parts = [p for p in payload["parts"] if p["theme"] == theme["id"]]
        sections.append(theme_section(theme, parts))
    conclusion = Section(title="Conclusion", blocks=draft_blocks(frames["conclusion"]))
    conclusion.blocks.extend(Figure.model_validate(f) for f in figures.get("conclusion", []))
    sections.append(conclusion)
    document = Document(
        title=payload["title"],
        subtitle=payload["subtitle"],
        abstract=draft_blocks(frames["abstract"]),
        sections=sections,
        style=payload["style"],
        metadata=payload["metadata"],
    )
    cited = set(document.cited_keys())
    document.references = [
        Reference(key=entry["key"], **_reference_fields(entry["source"]))
        for entry in payload["sources"]
        if entry["key"] in cited
    ]
    evidence = evidence_table(payload["sources"], Bibliography.of(document))
    document.sections.append(Section(title="Appendix: Evidence table", blocks=[evidence]))
    return document


def _reference_fields(source: dict[str, Any]) -> dict[str, Any]:
    fields = ("title", "authors", "year", "venue", "doi", "arxiv_id", "url")
    return {name: source.get(name) for name in fields if source.get(name) is not None}


async def assemble(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    document = assemble_document(state["task"]["payload"])
    return {"output": {"document": document.model_dump()}}


async def render(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    document = Document.model_validate(payload["document"])
    fmt = payload["format"]
    written = await asyncio.to_thread(export, document, Path(payload["out_dir"]), [fmt])
    return {"output": {"format": fmt, "file": str(written[0])}}


async def render_dataset(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    dataset = Dataset.model_validate(payload["dataset"])
    fmt = payload["format"]
    written = await asyncio.to_thread(write_dataset, dataset, Path(payload["out_dir"]), [fmt])
    return {"output": {"format": fmt, "file": str(written[0])}}


graph = build_specialist(
    "formatting",
    {"assemble": [assemble], "export": [render], "dataset": [render_dataset]},
)
