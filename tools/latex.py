"""LaTeX markup in bibliographic fields (`Bal\\'azs`, `{\\"o}`, `$\\alpha$`) to Unicode text.

pylatexenc's cost grows with the length of what it parses, so only the LaTeX islands
of a string (a macro with its arguments, a brace group, a math span) go through it;
plain text around them is kept as is, which also keeps `%`, `&` and `$5` literal.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text
from pylatexenc.latexwalker import LatexWalker, get_default_latex_context_db

log = logging.getLogger(__name__)
# pylatexenc logs a warning per malformed macro in real-world fields (`\frac` without
# arguments); the text is still rendered, so the warnings tell a user nothing.
logging.getLogger("pylatexenc").setLevel(logging.ERROR)

_CONVERTER = LatexNodes2Text()
_PARSER_CONTEXT = get_default_latex_context_db()  # built once: pylatexenc rebuilds it per call
_ACCENTS = set("'\"`^~=.")
_MATH_HINTS = set("\\{^_")
_PERCENT = re.compile(r"(?<!\\)%")


def latex_to_text(value: str) -> str:
    """Render the LaTeX in `value` as Unicode; without `\\`, `{` or `}` it is returned as is."""
    if not any(ch in value for ch in "\\{}"):
        return value
    return "".join(_render(chunk) if is_latex else chunk for is_latex, chunk in _islands(value))


@lru_cache(maxsize=8192)
def _render(island: str) -> str:
    """One island to text; an island pylatexenc cannot parse stays raw rather than failing."""
    walker = LatexWalker(_PERCENT.sub(r"\\%", island), latex_context=_PARSER_CONTEXT)
    try:
        return _CONVERTER.nodelist_to_text(walker.get_latex_nodes()[0])
    except Exception as exc:  # pylatexenc raises assorted internal errors on odd input
        log.debug("kept LaTeX %r as is: %s", island, exc)
        return island


def _islands(text: str) -> Iterator[tuple[bool, str]]:
    """Split `text` into (is_latex, chunk) pieces that join back to `text`."""
    start = index = 0
    while index < len(text):
        end = _island_end(text, index) if text[index] in "$\\{" else None
        if end is None:
            index += 1
            continue
        if start < index:
            yield False, text[start:index]
        yield True, text[index:end]
        start = index = end
    if start < len(text):
        yield False, text[start:]


def _island_end(text: str, start: int) -> int | None:
    """Where the island opening at `start` ends, or None when nothing LaTeX opens there."""
    char = text[start]
    if char == "{":
        return _group_end(text, start, "{", "}")
    if char == "$":
        return _math_end(text, start)
    following = text[start + 1 : start + 2]
    if following in ("(", "["):
        closing = text.find("\\" + (")" if following == "(" else "]"), start + 2)
        return closing + 2 if closing >= 0 else None
    if following.isalpha():
        end = start + 1
        while end < len(text) and text[end].isalpha():
            end += 1
        if text[end : end + 1] == "*":
            end += 1
        return _arguments_end(text, end)
    if following in _ACCENTS:
        return _accent_end(text, start + 2)
    return start + 2 if following else None


def _accent_end(text: str, end: int) -> int:
    """An accent takes one letter, a brace group or a macro (`\\'a`, `\\"{o}`, `\\'\\i`)."""
    following = text[end : end + 1]
    if following == "{":
        return _group_end(text, end, "{", "}") or end
    if following == "\\" and text[end + 1 : end + 2].isalpha():
        end += 1
        while end < len(text) and text[end].isalpha():
            end += 1
        return end
    return end + 1 if following.isalpha() else end


def _arguments_end(text: str, end: int) -> int:
    """A macro's arguments are the brace and bracket groups right after its name."""
    while text[end : end + 1] in ("{", "["):
        opening = text[end]
        group_end = _group_end(text, end, opening, "}" if opening == "{" else "]")
        if group_end is None:
            break
        end = group_end
    return end


def _group_end(text: str, start: int, opening: str, closing: str) -> int | None:
    """The index after the group's balanced closing character; None when it never closes."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def _math_end(text: str, start: int) -> int | None:
    """`$...$` or `$$...$$` holding TeX (a backslash, brace, `^` or `_`); `$5 and $10` is money."""
    delimiter = "$$" if text.startswith("$$", start) else "$"
    index = start + len(delimiter)
    while (found := text.find(delimiter, index)) >= 0:
        if text[found - 1] != "\\":
            body = text[start + len(delimiter) : found]
            return found + len(delimiter) if _MATH_HINTS & set(body) else None
        index = found + 1
    return None
