"""The document as GitHub-flavoured Markdown: one `#` title, sections from `##` down."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from exporters.document import (
    Block,
    Bullets,
    Chart,
    Document,
    Figure,
    Paragraph,
    Quote,
    Run,
    Table,
    Text,
)
from exporters.references import Bibliography, Part

_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def write_markdown(document: Document, path: Path) -> Path:
    """Write `document` to `path` as Markdown and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_render(document), encoding="utf-8")
    return path


def _render(document: Document) -> str:
    bib = Bibliography.of(document)
    writer = _Writer(bib)
    out: list[str] = [f"# {_escape(document.title)}"]
    if document.subtitle:
        out.append(f"*{_escape(document.subtitle)}*")
    if document.metadata:
        out.append(
            " · ".join(f"**{_escape(k)}:** {_escape(v)}" for k, v in document.metadata.items())
        )
    if document.abstract:
        out.append("## Abstract")
        out.extend(writer.block(block) for block in document.abstract)

    slugs = _Slugs()
    sections = [
        (depth, section.title, slugs.make(section.title)) for depth, section in document.walk()
    ]
    references_slug = slugs.make("References")
    out.append("## Contents")
    toc = [f"{'  ' * (depth - 1)}- [{_escape(title)}](#{slug})" for depth, title, slug in sections]
    toc.append(f"- [References](#{references_slug})")
    out.append("\n".join(toc))

    for depth, section in document.walk():
        out.append(f"{'#' * min(depth + 1, 6)} {_escape(section.title)}")
        out.extend(writer.block(block) for block in section.blocks)

    out.append("## References")
    for ref in bib.references:
        label = bib.label(ref.key)
        entry = f'<a id="ref-{_anchor(ref.key)}"></a>' + (f"{label} " if label else "")
        out.append(entry + "".join(_part(part) for part in bib.entry(ref)))
    return "\n\n".join(out) + "\n"


class _Writer:
    """Blocks to Markdown, numbering tables and figures as they come."""

    def __init__(self, bib: Bibliography) -> None:
        self.bib = bib
        self.tables = 0
        self.figures = 0

    def runs(self, runs: list[Run]) -> str:
        return "".join(
            _escape(run.text if isinstance(run, Text) else self.bib.cite(run.keys, run.narrative))
            for run in runs
        )

    def block(self, block: Block) -> str:
        if isinstance(block, Paragraph):
            return _protect_line_start(self.runs(block.runs))
        if isinstance(block, Bullets):
            return "\n".join(f"- {self.runs(item)}" for item in block.items)
        if isinstance(block, Quote):
            return "\n".join(f"> {line}" for line in self.runs(block.runs).splitlines() or [""])
        if isinstance(block, Table):
            self.tables += 1
            caption = f"**Table {self.tables}.** {_escape(block.caption)}"
            return caption + "\n\n" + _table(block.columns, block.rows)
        if isinstance(block, Chart):
            self.figures += 1
            caption = f"**Figure {self.figures}.** {_escape(block.caption)}"
            columns = [block.x_label or "Category", *block.series]
            rows = [
                [category, *(_number(values, i) for values in block.series.values())]
                for i, category in enumerate(block.categories)
            ]
            return caption + "\n\n" + _table(columns, rows)
        assert isinstance(block, Figure)
        self.figures += 1
        caption = _escape(block.caption)
        target = quote(Path(block.path).as_posix())
        return f"![{caption}]({target})\n\n*Figure {self.figures}.* {caption}"


def _number(values: list[float], index: int) -> str:
    if index >= len(values):
        return ""
    value = values[index]
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _table(columns: list[str], rows: list[list[str]]) -> str:
    width = max([len(columns), *(len(row) for row in rows)])

    def line(cells: list[str]) -> str:
        cells = [*cells, *[""] * (width - len(cells))]
        return "| " + " | ".join(_cell(cell) for cell in cells) + " |"

    return "\n".join([line(columns), "|" + "---|" * width, *(line(row) for row in rows)])


def _cell(text: str) -> str:
    return _escape(" ".join(str(text).split())).replace("|", "\\|")


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _protect_line_start(text: str) -> str:
    """A paragraph that starts like a heading, list or quote stays a paragraph."""
    return re.sub(r"^(\s*)([#>+\-=]|\d+[.)])", r"\1\\\2", text)


def _part(part: Part) -> str:
    if part.url:
        return f"<{part.url}>"
    text = _escape(part.text)
    if part.italic and text.strip():
        return f"*{text.strip()}*" + (" " if text.endswith(" ") else "")
    return text


def _anchor(key: str) -> str:
    return re.sub(r"[^\w-]", "-", key)


class _Slugs:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes, -1 on repeats."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def make(self, title: str) -> str:
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        count = self.seen.get(slug, 0)
        self.seen[slug] = count + 1
        return f"{slug}-{count}" if count else slug
