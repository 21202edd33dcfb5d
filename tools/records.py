"""Read a records file (JSON Lines, CSV, BibTeX, CSL-JSON) into many Sources and their texts.

A records file is what a user exports from Zotero, a reference manager or an arXiv
query: bibliographic metadata with abstracts, one work per record. Each record's
text is its title and abstract; its origin is `path#id` (or `path#line`). A
malformed record is skipped and reported in `Records.skipped`; a file that cannot
be read at all raises `UnreadableDocument`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import bibtexparser
from bibtexparser.middlewares.names import split_multiple_persons_names

from tools.fields import clean_text, parse_year, split_authors
from tools.readers import UnreadableDocument, decode_text
from tools.source import Source, normalize_arxiv_id, normalize_doi

RECORDS_SUFFIXES = frozenset({".jsonl", ".csv", ".bib", ".json"})

# Field names as they appear in JSON Lines and CSV headers (lower case, `_`/`-` as spaces),
# including Zotero's CSV export ("Publication Year", "Publication Title", "Abstract Note").
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "authors": ("authors", "author", "creators"),
    "year": ("year", "publication year", "date", "issued", "published"),
    "venue": (
        "venue",
        "journal",
        "publication",
        "publication title",
        "container title",
        "booktitle",
        "proceedings title",
        "conference name",
    ),
    "doi": ("doi",),
    "arxiv": ("arxiv", "arxiv id", "eprint"),
    "url": ("url", "link"),
    "abstract": ("abstract", "abstract note", "summary"),
    "id": ("id", "key", "citation key"),
}


class Records(NamedTuple):
    """What one records file held: the works read, and each skipped record's locator and reason."""

    entries: list[tuple[Source, str]]
    skipped: dict[str, str]


class _Malformed(ValueError):
    """One record that cannot become a Source."""


def read_records(path: str | Path) -> Records:
    """Every record of a `.jsonl`, `.csv`, `.bib` or CSL-JSON `.json` file."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableDocument(path, f"unsupported records type {path.suffix or '(none)'}")
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        raise UnreadableDocument(path, f"{type(exc).__name__}: {exc}") from exc
    records = Records([], {})
    for locator, fields in reader(path, text):
        origin = f"{path}#{locator}"
        try:
            if isinstance(fields, str):
                raise _Malformed(fields)
            records.entries.append(_entry(fields, origin))
        except ValueError as exc:  # _Malformed, or a field pydantic rejects
            records.skipped[origin] = " ".join(str(exc).split())
    return records


_Record = tuple[str, Mapping[str, Any] | str]
"""A record's locator in its file, and its canonical fields or why it is malformed."""


def _json_lines(path: Path, text: str) -> Iterator[_Record]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield str(number), f"invalid JSON: {exc}"
            continue
        if not isinstance(item, dict):
            yield str(number), "not a JSON object"
            continue
        fields = _by_alias(item)
        yield _locator(fields, number), fields


def _csv(path: Path, text: str) -> Iterator[_Record]:
    rows = csv.DictReader(io.StringIO(text, newline=""))
    for row in rows:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        fields = _by_alias({key: value for key, value in row.items() if key is not None})
        yield _locator(fields, rows.line_num), fields


def _bibtex(path: Path, text: str) -> Iterator[_Record]:
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        error = getattr(block, "error", None)
        reason = getattr(error, "abort_reason", None) or str(error or "") or "unparseable block"
        yield str(block.start_line + 1), f"invalid BibTeX: {reason}"
    for entry in library.entries:
        fields = {key.lower(): str(field.value) for key, field in entry.fields_dict.items()}
        archive = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").lower()
        authors = split_multiple_persons_names(_untilde(fields.get("author", "")))
        yield (
            entry.key,
            {
                "title": _untilde(fields.get("title")),
                "authors": [name for name in authors if name.strip()],
                "year": fields.get("year") or fields.get("date"),
                "venue": _untilde(
                    fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle")
                ),
                "doi": fields.get("doi"),
                "arxiv": fields.get("eprint") if archive == "arxiv" else None,
                "url": fields.get("url"),
                "abstract": _untilde(fields.get("abstract")),
            },
        )


def _csl_json(path: Path, text: str) -> Iterator[_Record]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableDocument(path, f"invalid JSON: {exc}") from exc
    if isinstance(items, dict) and isinstance(items.get("items"), list):
        items = items["items"]
    if not isinstance(items, list):
        raise UnreadableDocument(path, "not a CSL-JSON array of items")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield str(number), "not a JSON object"
            continue
        number_field = str(item.get("number") or "")
        yield (
            str(item.get("id") or number),
            {
                "title": item.get("title"),
                "authors": [_csl_name(name) for name in item.get("author") or []],
                "year": _csl_year(item.get("issued")),
                "venue": item.get("container-title"),
                "doi": item.get("DOI"),
                "arxiv": number_field if "arxiv" in number_field.lower() else None,
                "url": item.get("URL"),
                "abstract": item.get("abstract"),
            },
        )


_READERS: dict[str, Callable[[Path, str], Iterator[_Record]]] = {
    ".jsonl": _json_lines,
    ".csv": _csv,
    ".bib": _bibtex,
    ".json": _csl_json,
}


def _entry(fields: Mapping[str, Any], origin: str) -> tuple[Source, str]:
    """A Source from canonical fields (title, authors, year, venue, doi, arxiv, url, abstract)."""
    title = _text(fields.get("title"))
    if not title:
        raise _Malformed("no title")
    arxiv = normalize_arxiv_id(_text(fields.get("arxiv")))
    if arxiv is None and (record_id := fields.get("id")) is not None:
        arxiv = normalize_arxiv_id(_text(record_id))
    abstract = _text(fields.get("abstract"))
    source = Source(
        title=title,
        authors=_authors(fields.get("authors")),
        year=parse_year(fields.get("year")),
        venue=_text(fields.get("venue")) or None,
        doi=normalize_doi(_text(fields.get("doi"))),
        arxiv_id=arxiv,
        url=_text(fields.get("url")) or None,
        abstract=abstract,
        origin=origin,
    )
    return source, f"{title}\n\n{abstract}" if abstract else title


def _by_alias(item: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical field names for a JSON object or CSV row, matched case-insensitively."""
    named = {
        str(key).strip().lower().replace("_", " ").replace("-", " "): v for key, v in item.items()
    }
    found: dict[str, Any] = {}
    for field, aliases in _ALIASES.items():
        found[field] = next((named[alias] for alias in aliases if named.get(alias)), None)
    return found


def _locator(fields: Mapping[str, Any], number: int) -> str:
    record_id = fields.get("id")
    return str(record_id).strip() if record_id not in (None, "") else str(number)


def _authors(value: object) -> list[str]:
    if isinstance(value, list):
        names = [_csl_name(item) if isinstance(item, dict) else str(item) for item in value]
        return split_authors(names)
    return split_authors(value)


def _csl_name(name: object) -> str:
    """`{"family": "Lewis", "given": "Patrick"}` -> `Lewis, Patrick`; `literal` as is."""
    if not isinstance(name, dict):
        return str(name)
    if literal := name.get("literal") or name.get("name"):
        return str(literal)
    family = " ".join(
        str(part) for part in (name.get("non-dropping-particle"), name.get("family")) if part
    )
    given = str(name.get("given") or "")
    return f"{family}, {given}" if family and given else family or given


def _csl_year(issued: object) -> object:
    """The year of a CSL date: `{"date-parts": [[2020, 5]]}`, `{"raw": "2020"}` or a string."""
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            return parts[0][0]
        return issued.get("raw") or issued.get("literal")
    return issued


def _untilde(value: str | None) -> str | None:
    """BibTeX's `~` is a non-breaking space in text fields (not in URLs)."""
    return value.replace("~", " ") if value else value


def _text(value: object) -> str:
    if isinstance(value, list):
        value = " ".join(str(item) for item in value)
    return clean_text(value)
