"""The reference list as BibTeX: one entry per reference, keyed by `Reference.key`.

Values are UTF-8 (biber and bibtexu read it) with LaTeX's special characters
escaped; `$...$` math in titles passes through, and capitals inside words
(acronyms such as NLP or GPT-3) are braced so styles do not lowercase them.
"""

from __future__ import annotations

import re
from pathlib import Path

from exporters.document import Document, Reference
from exporters.references import Bibliography, parse_name, venue_kind

_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip
_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
_MATH = re.compile(r"(\$[^$\n]+\$)")
_KEY_UNSAFE = re.compile(r"[\s,{}()\"#%'=\\~]")


def write_bibtex(document: Document, path: Path) -> Path:
    """Write the document's references to `path` as a .bib file and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [bibtex_entry(ref) for ref in Bibliography.of(document).references]
    path.write_text("\n\n".join(entries) + ("\n" if entries else ""), encoding="utf-8")
    return path


def bibtex_entry(ref: Reference) -> str:
    """One `@type{key, field = {value}, ...}` entry."""
    kind = venue_kind(ref)
    entry_type = {"journal": "article", "conference": "inproceedings"}.get(kind, "misc")
    fields: list[tuple[str, str]] = []
    if ref.authors:
        fields.append(("author", " and ".join(_name(author) for author in ref.authors)))
    fields.append(("title", _title(ref.title)))
    if ref.venue and kind == "journal":
        fields.append(("journal", escape(ref.venue)))
    elif ref.venue and kind == "conference":
        fields.append(("booktitle", escape(ref.venue)))
    elif ref.venue:
        fields.append(("howpublished", escape(ref.venue)))
    if ref.year:
        fields.append(("year", str(ref.year)))
    if ref.doi:
        doi = re.sub(r"^(https?://)?(dx\.)?doi\.org/|^doi:\s*", "", ref.doi.strip(), flags=re.I)
        fields.append(("doi", _verbatim(doi)))
    if ref.arxiv_id:
        fields += [("eprint", _verbatim(ref.arxiv_id)), ("archivePrefix", "arXiv")]
    if ref.url:
        fields.append(("url", _verbatim(ref.url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{_KEY_UNSAFE.sub('_', ref.key)},\n{body}\n}}"


def escape(text: str) -> str:
    """Plain text as a BibTeX value: LaTeX specials escaped, braces balanced."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group()], " ".join(text.split()))


def _title(title: str) -> str:
    out = []
    for piece in _MATH.split(" ".join(title.split())):
        if _MATH.fullmatch(piece) and _balanced(piece):
            out.append(piece)
        else:
            out.append(re.sub(r"\S+", _protect_word, piece))
    return "".join(out)


def _protect_word(match: re.Match[str]) -> str:
    word = match.group()
    escaped = escape(word)
    return f"{{{escaped}}}" if any(c.isupper() for c in word[1:]) else escaped


def _name(author: str) -> str:
    name = parse_name(author)
    family = escape(name.family)
    if not name.given and " " in name.family:
        return f"{{{family}}}"  # an organisation: one name, never split at "and"
    parts = [family, escape(name.suffix), escape(name.given)]
    return ", ".join(part for part in parts if part)


def _verbatim(text: str) -> str:
    """URLs and identifiers stay as they are; only braces, which would end the value, change."""
    return text.strip().replace("{", "%7B").replace("}", "%7D")


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
