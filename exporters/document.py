"""The one document model every renderer reads: Document -> Sections -> Blocks, plus References.

Renderers (`markdown.py`, `bibtex.py`, `word.py`, ...) take a `Document` and a path
and nothing else; they never reach back into the graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

CleanText = Annotated[str, AfterValidator(lambda text: _UNWRITABLE.sub("", text))]
"""Text every file format can hold: control characters (tab and newline aside) and lone
surrogates, which XML, PDF and UTF-8 writers reject, are dropped on the way in."""


class Text(BaseModel):
    kind: Literal["text"] = "text"
    text: CleanText


class Cite(BaseModel):
    """An in-text citation of one or more references, by key.

    Parenthetical by default, as Pandoc's `[@key]`: "(Lewis et al., 2020)". A `narrative`
    one names the authors in the running text, as Pandoc's `@key`: "Lewis et al. (2020)".
    """

    kind: Literal["cite"] = "cite"
    keys: list[str]
    narrative: bool = False


Run = Annotated[Text | Cite, Field(discriminator="kind")]


class Paragraph(BaseModel):
    kind: Literal["paragraph"] = "paragraph"
    runs: list[Run]


class Bullets(BaseModel):
    kind: Literal["bullets"] = "bullets"
    items: list[list[Run]]


class Quote(BaseModel):
    kind: Literal["quote"] = "quote"
    runs: list[Run]


class Table(BaseModel):
    kind: Literal["table"] = "table"
    caption: CleanText
    columns: list[CleanText]
    rows: list[list[CleanText]]


class Chart(BaseModel):
    """Data for a chart; renderers draw it natively or as an image."""

    kind: Literal["chart"] = "chart"
    caption: CleanText
    chart_type: Literal["bar", "line"] = "bar"
    categories: list[CleanText]
    series: dict[CleanText, list[float]]
    x_label: CleanText = ""
    y_label: CleanText = ""


class Figure(BaseModel):
    """An image file (PNG or SVG) with a caption; `path` is relative to the document's folder."""

    kind: Literal["figure"] = "figure"
    caption: CleanText
    path: str


Block = Annotated[Paragraph | Bullets | Quote | Table | Chart | Figure, Field(discriminator="kind")]


class Section(BaseModel):
    title: CleanText
    blocks: list[Block] = Field(default_factory=list)
    subsections: list[Section] = Field(default_factory=list)


class Reference(BaseModel):
    key: str
    title: CleanText
    authors: list[CleanText] = Field(default_factory=list)
    year: int | None = None
    venue: CleanText | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    url: str | None = None


class Document(BaseModel):
    title: CleanText
    subtitle: CleanText = ""
    abstract: list[Block] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    style: str = Field("apa", description="reference style: apa or ieee")
    metadata: dict[CleanText, CleanText] = Field(
        default_factory=dict, description="engine, date, prompt, thread id, ..."
    )

    def cited_keys(self) -> list[str]:
        """Every key cited in the text, in order of first citation."""
        seen: dict[str, None] = {}
        for block in self.all_blocks():
            for runs in _runs_of(block):
                for run in runs:
                    if isinstance(run, Cite):
                        seen.update(dict.fromkeys(run.keys))
        return list(seen)

    def walk(self) -> Iterator[tuple[int, Section]]:
        """Every section with its depth (1 for top level), depth first in reading order."""

        def walk(section: Section, depth: int) -> Iterator[tuple[int, Section]]:
            yield depth, section
            for sub in section.subsections:
                yield from walk(sub, depth + 1)

        for section in self.sections:
            yield from walk(section, 1)

    def all_blocks(self) -> list[Block]:
        """The abstract's blocks then every section's, depth first."""
        blocks: list[Block] = list(self.abstract)

        def walk(section: Section) -> None:
            blocks.extend(section.blocks)
            for sub in section.subsections:
                walk(sub)

        for section in self.sections:
            walk(section)
        return blocks


def _runs_of(block: Block) -> list[list[Run]]:
    if isinstance(block, Paragraph | Quote):
        return [block.runs]
    if isinstance(block, Bullets):
        return block.items
    return []


def plain_text(runs: list[Run], cite: Callable[[list[str]], str] | None = None) -> str:
    """The runs as text; `cite(keys)` renders citations (default `[key; key]`, or `key; key`
    for a narrative one, which stands in the sentence)."""
    parts = []
    for run in runs:
        if isinstance(run, Text):
            parts.append(run.text)
        elif cite:
            parts.append(cite(run.keys))
        else:
            keys = "; ".join(run.keys)
            parts.append(keys if run.narrative else f"[{keys}]")
    return "".join(parts)
