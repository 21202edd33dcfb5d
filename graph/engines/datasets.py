"""Datasets, offline: a table request read out of the prompt, and rows filled from sources.

`dataset_spec` reads "a table of RAG papers with columns title, year (integer), venue
and method, unique by title" into a `DatasetSpec`; a prompt that asks for no table gives
None. `fill_rows` fills one row per source: bibliographic columns from the source's
metadata, columns such as method, finding, keywords or datasets from its reading notes
and text, any other column from the source's sentence that names it. A cell the source
does not answer stays empty: nothing is made up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

from exporters.dataset import Column, infer_type
from exporters.references import link
from graph.engines.base import DatasetSpec, Row, Rows, RowSource, RowsRequest, SourceNotes
from graph.engines.reading import read
from graph.engines.text import clean_latex, content_stems, split_sentences, title_case

_TABLE = r"(?:data ?set|table|spreadsheet|csv|list|catalog(?:ue)?|inventory|database)"
_ASKS = re.compile(
    rf"\b{_TABLE}\s+(?:of|on|about|covering|listing)\b|\b(?:columns?|fields)\s*[:(]|"
    r"\bwith\s+(?:the\s+)?(?:columns?|fields)\b|\bone\s+row\s+per\b",
    re.I,
)
_SUBJECT = re.compile(
    rf"\b{_TABLE}\s+(?:of|on|about|covering|listing)\s+(?P<subject>.+?)"
    r"(?=\s*(?:[,;:.(]|\bwith\b|\bhaving\b|\bwhere\b|\bunique\b|\bkeyed\b|\bone row\b|$))",
    re.I,
)
_COLUMNS = re.compile(
    r"\b(?:with|having|and)?\s*(?:the\s+)?(?:following\s+)?(?:columns?|fields)\s*"
    r"(?::|\bfor\b|\bnamed\b)?\s*(?P<columns>.+?)"
    r"(?=\s*(?:[;.]\s|[;.]$|\bunique\b|\bkeyed\b|\bone row\b|\bdeduplicated\b|$))",
    re.I,
)
_KEY = re.compile(
    r"\b(?:unique|deduplicated|de-duplicated|deduped|keyed|identified)\s+(?:by|on)\s+"
    r"(?:the\s+)?(?:column\s+)?(?P<key>[\w -]+?)(?:\s+column)?"
    r"(?=\s*(?:[,;:.)]|\band\b|\bwith\b|$))|"
    r"\bkey(?:\s+column)?\s*(?:is|:|=)\s*(?:the\s+)?(?P<key2>[\w -]+?)(?=\s*(?:[,;.)]|$))",
    re.I,
)
_COUNT = re.compile(
    r"\b(?:top\s+|first\s+|at most\s+|up to\s+)?(?P<count>\d[\d,]*)\s+(?:[\w-]+\s+){0,4}?"
    r"(?:rows|papers|entries|records|items|sources|works|articles|studies|publications)\b",
    re.I,
)
_TYPED = re.compile(
    r"^(?P<name>.+?)\s*(?:\((?P<paren>[^)]*)\)|:\s*(?P<colon>\w+)|\s+as\s+(?P<as>\w+))$"
)
_TYPE_WORDS = {
    "text": "text",
    "string": "text",
    "str": "text",
    "integer": "integer",
    "int": "integer",
    "count": "integer",
    "number": "number",
    "numeric": "number",
    "float": "number",
    "decimal": "number",
    "year": "year",
    "date": "date",
    "url": "url",
    "link": "url",
    "boolean": "boolean",
    "bool": "boolean",
    "yes/no": "boolean",
    "list": "list",
}
DEFAULT_COLUMNS = ("title", "authors", "year", "venue", "doi", "url")
KEY_PREFERENCE = ("title", "doi", "arxiv id", "url", "id", "name")
ROW_NOUNS = frozenset(
    "papers paper articles article studies study works work publications publication "
    "sources source entries entry records record items item rows row".split()
)


_REVIEW = re.compile(
    r"\b(?:review|survey|overview|report|synthesis|state[- ]of[- ]the[- ]art)\b"
    r"(?!\s+(?:papers?|articles?|studies|works?)\b)",
    re.I,
)
"""A written deliverable; "survey papers" names what rows are, not what to write."""


def asks_for_dataset(prompt: str) -> bool:
    """Whether the prompt asks for a table of rows rather than a written review: it names a
    table before it names any review ("a review of RAG with a table of methods" is a review)."""
    table = _ASKS.search(prompt)
    review = _REVIEW.search(prompt)
    return bool(table) and (review is None or table.start() < review.start())


def dataset_spec(prompt: str) -> DatasetSpec | None:
    """The table the prompt asks for (subject, typed columns, key column, row count), or None."""
    text = " ".join(clean_latex(prompt).split())
    if not asks_for_dataset(text):
        return None
    subject = _SUBJECT.search(text)
    columns = _columns(text) or [Column(name=n, type=infer_type(n)) for n in DEFAULT_COLUMNS]
    count = _COUNT.search(text)
    return DatasetSpec(
        subject=re.sub(r"^\d[\d,]*\s+", "", subject.group("subject").strip()) if subject else "",
        columns=columns,
        key=_key(text, columns),
        rows=int(count.group("count").replace(",", "")) if count else 0,
    )


def _columns(text: str) -> list[Column]:
    match = _COLUMNS.search(text)
    if not match:
        return []
    listed = re.sub(r"^\(|\)$", "", match.group("columns").strip())
    columns: list[Column] = []
    seen: set[str] = set()
    for item in re.split(r",\s*(?:and\s+)?|\s+and\s+|;\s*", listed):
        item = item.strip().strip("\"'`").strip()
        if not item:
            continue
        name, kind = item, ""
        if typed := _TYPED.match(item):
            name = typed.group("name")
            kind = (typed.group("paren") or typed.group("colon") or typed.group("as") or "").lower()
        name = name.strip().strip("\"'`").strip()
        if not name or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        columns.append(Column(name=name, type=_TYPE_WORDS.get(kind.strip()) or infer_type(name)))
    return columns


def _key(text: str, columns: list[Column]) -> str:
    names = {c.name.casefold(): c.name for c in columns}
    match = _KEY.search(text)
    if match:
        wanted = (match.group("key") or match.group("key2") or "").strip().casefold()
        for name in (wanted, wanted.removesuffix("s")):
            if name in names:
                return names[name]
    for name in KEY_PREFERENCE:
        if name in names:
            return names[name]
    return columns[0].name


def dataset_title(spec: DatasetSpec, topic: str) -> str:
    return f"{title_case(spec.subject or topic)}: A Dataset"


# Filling rows


def _name(column: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", column.casefold()))


Filler = Callable[[RowSource, "Reading"], object]


class Reading:
    """A source's text, sentences and reading notes, each worked out once and only when a
    column needs it."""

    def __init__(self, subject: str, source: RowSource) -> None:
        self.subject = subject
        self.source = source

    @cached_property
    def text(self) -> str:
        return clean_latex(self.source.text or f"{self.source.title}. {self.source.abstract}")

    @cached_property
    def notes(self) -> SourceNotes:
        return read(self.subject, self.source.title, self.text)

    @cached_property
    def sentences(self) -> list[str]:
        return split_sentences(self.text)


def _summary(source: RowSource, reading: Reading) -> str | None:
    """The source's most central sentence, else its first."""
    return (reading.notes.key_sentences or reading.sentences or [None])[0]


_FIELDS: dict[str, Filler] = {
    "title": lambda s, r: s.title,
    "authors": lambda s, r: s.authors,
    "first author": lambda s, r: s.authors[0] if s.authors else None,
    "year": lambda s, r: s.year,
    "venue": lambda s, r: s.venue,
    "doi": lambda s, r: s.doi,
    "arxiv": lambda s, r: s.arxiv_id,
    "url": lambda s, r: link(s),
    "abstract": lambda s, r: s.abstract or None,
    "summary": _summary,
    "keywords": lambda s, r: r.notes.keywords,
    "method": lambda s, r: r.notes.method or None,
    "finding": lambda s, r: r.notes.finding or None,
    "datasets": lambda s, r: named_datasets(r.sentences, s.title) or None,
}
_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("paper", "paper title", "article", "article title", "name", "work"),
    "authors": ("author", "author names", "authors list", "creators", "writers"),
    "first author": ("lead author", "main author"),
    "year": (
        "publication year",
        "published year",
        "year published",
        "date",
        "published",
        "publication date",
        "pub year",
    ),
    "venue": (
        "journal",
        "conference",
        "published in",
        "publication venue",
        "source title",
        "proceedings",
        "publisher",
        "outlet",
    ),
    "doi": ("digital object identifier", "doi number"),
    "arxiv": ("arxiv id", "arxiv identifier", "eprint", "arxiv number"),
    "url": ("link", "pdf", "pdf url", "homepage", "web page", "source url"),
    "abstract": ("abstract text",),
    "summary": ("tldr", "description", "synopsis", "overview", "one line summary"),
    "keywords": ("key terms", "topics", "tags", "terms"),
    "method": (
        "methods",
        "approach",
        "technique",
        "methodology",
        "model",
        "architecture",
        "proposed method",
        "method used",
    ),
    "finding": (
        "findings",
        "result",
        "results",
        "main result",
        "main finding",
        "contribution",
        "contributions",
        "key finding",
        "conclusion",
        "takeaway",
    ),
    "datasets": (
        "dataset",
        "data set",
        "data sets",
        "benchmark",
        "benchmarks",
        "datasets used",
        "evaluation data",
        "corpus",
        "corpora",
    ),
}
_BY_NAME = {alias: field for field, aliases in _ALIASES.items() for alias in (field, *aliases)}


def fill_rows(request: RowsRequest) -> Rows:
    """One row per source, every cell taken from that source (empty when it has no answer)."""
    rows = []
    for source in request.sources:
        reading = Reading(request.subject, source)
        values = {}
        for column in request.columns:
            value = _cell(column, source, reading)
            if value not in (None, "", []):
                values[column.name] = value
        rows.append(Row(key=source.key, values=values))
    return Rows(rows=rows)


def _cell(column: Column, source: RowSource, reading: Reading) -> object:
    field = _BY_NAME.get(_name(column.name))
    if field is not None:
        value = _FIELDS[field](source, reading)
        if field == "year" and column.type == "date" and value:
            return str(value)
        return value
    return _mentioned(column, reading)


_NUMBER = r"(\d+(?:[.,]\d+)?)\s*(%|percent)?"


def _mentioned(column: Column, reading: Reading) -> object:
    """For a column the metadata cannot answer: the source's sentence that names it, or, for a
    numeric column, the number written next to its name there."""
    stems = set(content_stems(column.name))
    if not stems:
        return None
    best, overlap = None, 0
    for sentence in reading.sentences:
        shared = len(stems & set(content_stems(sentence)))
        if shared > overlap:
            best, overlap = sentence, shared
    if best is None:
        return None
    if column.type in ("integer", "number", "year"):
        words = "|".join(re.escape(w) for w in re.findall(r"\w+", column.name.casefold()))
        near = re.search(
            rf"(?:\b(?:{words})\w*\b[^.;\d]{{0,40}}?{_NUMBER})|(?:{_NUMBER}[^.;\d]{{0,25}}?\b(?:{words}))",
            best,
            re.I,
        )
        if not near:
            return None
        number = near.group(1) or near.group(3)
        return number.replace(",", "")
    if column.type == "boolean":
        return None
    return best


_NAMED = re.compile(
    r"\b((?:[A-Z][\w-]*[A-Z0-9][\w-]*|[A-Z][a-z]+(?:[ -][A-Z][\w-]*)+))"
    r"(?:\s+(?:data ?set|benchmark|corpus|dataset)s?)?\b"
)
_DATA_WORDS = re.compile(
    r"\b(?:data ?sets?|benchmarks?|corpus|corpora|evaluated on|tested on)\b", re.I
)
_NOT_NAMES = frozenset("We Our The This These In On For And Results Experiments".split())


def named_datasets(sentences: list[str], title: str = "") -> list[str]:
    """Names of datasets and benchmarks in the sentences that speak of data: words such as
    HotpotQA, MS MARCO or Natural Questions, in order, each once; a name in the source's own
    title is its method, not its data."""
    own = set(re.findall(r"[\w-]+", title))
    found: dict[str, None] = {}
    for sentence in sentences:
        if not _DATA_WORDS.search(sentence):
            continue
        for match in _NAMED.finditer(sentence):
            name = match.group(1).strip(" -")
            if name.split()[0] in _NOT_NAMES or len(name) < 3 or name in own:
                continue
            found.setdefault(name, None)
    return list(found)[:8]


def row_subject(spec: DatasetSpec, topic: str) -> str:
    """The subject as a search topic: what rows describe, without the row noun ("papers")."""
    kept = [w for w in (spec.subject or topic).split() if w.casefold() not in ROW_NOUNS]
    return " ".join(kept) or topic
