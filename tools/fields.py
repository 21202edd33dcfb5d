"""Raw bibliographic field values (author strings, dates, LaTeX-laden text) made clean.

Document readers and records files hand over strings in many shapes; these functions
give every format the same idea of a clean line of text, an author list and a year.
"""

from __future__ import annotations

import re
from datetime import date

from tools.latex import latex_to_text

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_AND = re.compile(r"\s*,?\s+and\s+|\s+&\s+", re.IGNORECASE)


def clean_text(value: object) -> str:
    """One clean line: LaTeX rendered as Unicode, whitespace collapsed; None gives ''."""
    if value is None:
        return ""
    return " ".join(latex_to_text(str(value)).split())


def parse_year(value: object) -> int | None:
    """The first plausible year (19xx or 20xx, not past next year) in a number or date string."""
    if value is None or isinstance(value, bool):
        return None
    latest = date.today().year + 1
    for match in _YEAR.finditer(str(value)):
        if (year := int(match.group(1))) <= latest:
            return year
    return None


def split_authors(value: object) -> list[str]:
    """Clean author names from a list or from `A; B`, `A and B` or `Ann Lee, Bo Chen`.

    `Lewis, Patrick` stays one name: a comma separates names only when every piece
    around it has at least two words.
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        parts = [str(item) for item in value]
    else:
        text = str(value)
        parts = text.split(";") if ";" in text else _AND.split(text)
        parts = [name for part in parts for name in _split_commas(part)]
    return [name for part in parts if (name := clean_text(part))]


def _split_commas(part: str) -> list[str]:
    pieces = [piece.strip() for piece in part.split(",")]
    if len(pieces) > 1 and all(len(piece.split()) >= 2 for piece in pieces):
        return pieces
    return [part]
