"""Exporters: one document model (`document.py`), one renderer per file format.

`export(document, folder, formats)` checks its input before writing anything, then
writes each format to its fixed file name under `folder`. Renderers block; async
callers run `export` (or a single writer) through `asyncio.to_thread`. `FORMATS`
imports the renderers on first use, so importing `exporters.document` stays cheap.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable
from pathlib import Path

from exporters.document import Document, Figure
from exporters.references import check_style
from graph.errors import SwarmError

Writer = Callable[[Document, Path], Path]

_WRITERS = {
    "md": ("exporters.markdown", "write_markdown"),
    "bib": ("exporters.bibtex", "write_bibtex"),
    "docx": ("exporters.word", "write_word"),
    "pdf": ("exporters.pdf", "write_pdf"),
    "pptx": ("exporters.slides", "write_slides"),
    "xlsx": ("exporters.workbook", "write_workbook"),
}

FORMATS: dict[str, Writer]  # format name -> writer, loaded by __getattr__ below

FILENAMES: dict[str, str] = {
    "md": "review.md",
    "bib": "references.bib",
    "docx": "review.docx",
    "pdf": "review.pdf",
    "pptx": "review.pptx",
    "xlsx": "review.xlsx",
}


def check_formats(
    formats: Iterable[str], known: Iterable[str] = _WRITERS, what: str = "format"
) -> list[str]:
    """The formats, each once, in order; a SwarmError naming the `known` ones for any other."""
    known = list(known)
    wanted = list(dict.fromkeys(formats))
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise SwarmError(
            f"unknown {what} {', '.join(map(repr, unknown)) or 'list (empty)'}: "
            f"choose from {', '.join(known)}"
        )
    return wanted


def export(document: Document, folder: Path, formats: Iterable[str]) -> list[Path]:
    """Write `document` in each of `formats` under `folder`; return the files in that order."""
    wanted = check_formats(formats)
    check_style(document.style)
    folder = Path(folder)
    _check_figures(document, folder)
    folder.mkdir(parents=True, exist_ok=True)
    writers = _formats()
    return [writers[name](document, folder / FILENAMES[name]) for name in wanted]


def _check_figures(document: Document, folder: Path) -> None:
    """Every figure is an existing file inside `folder`: renderers read them relative to it."""
    root = folder.resolve()
    for block in document.all_blocks():
        if not isinstance(block, Figure):
            continue
        file = (root / block.path).resolve()
        if Path(block.path).is_absolute() or not file.is_relative_to(root):
            raise SwarmError(
                f"figure {block.path!r} lies outside the export folder {folder}: "
                "give its path relative to that folder"
            )
        if not file.is_file():
            raise SwarmError(f"figure {block.path!r} not found in {folder}: write it there first")


@functools.cache
def _formats() -> dict[str, Writer]:
    return {
        name: getattr(importlib.import_module(module), function)
        for name, (module, function) in _WRITERS.items()
    }


def __getattr__(name: str) -> object:
    if name == "FORMATS":
        return _formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
