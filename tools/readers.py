"""Read one document file (PDF, DOCX, HTML, Markdown, plain text) into a Source and its text.

Metadata comes from the file's own fields first (PDF info, DOCX core properties,
HTML `citation_*` meta tags, Markdown front matter), then from the text itself:
the first line as title, a DOI or arXiv id on the first page, the first year there.
A file that cannot be read raises `UnreadableDocument`, which the corpus counts
and reports instead of failing the whole load.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx
import yaml
from bs4 import BeautifulSoup
from pypdf import PdfReader

from tools.fields import clean_text, parse_year, split_authors
from tools.source import Source, normalize_arxiv_id, normalize_doi

DOCUMENT_SUFFIXES = frozenset({".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"})

_TITLE_CHARS = 300
_ABSTRACT_CHARS = 600
_SECTION_CHARS = 2000
_HEAD_CHARS = 3000
_ARXIV_MARK = re.compile(r"arxiv(?:\.org/abs/|\s*:)\s*(\S+)", re.IGNORECASE)
_ABSTRACT_HEADING = re.compile(r"^\W*abstract\b[\s.:\u2014-]*", re.IGNORECASE | re.MULTILINE)
_SECTION_END = re.compile(
    r"\n\s*(?:#+\s*)?(?:\d\.?\s+|I\.\s+)?(?:introduction|keywords|key words|index terms)\b",
    re.IGNORECASE,
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_JUNK_TITLE = re.compile(r"^(?:untitled|microsoft word - .*|.*\.(?:docx?|pdf|tex|dvi|ps|indd))$")
_HIDDEN_HTML = ("script", "style", "noscript", "template", "svg", "head")
_TEMPLATE_AUTHOR = "python-docx"  # python-docx's blank template: its core properties are not data


class UnreadableDocument(Exception):
    """A file that cannot be read as a source: corrupt, encrypted, empty or of an unknown type."""

    def __init__(self, path: str | Path, reason: str) -> None:
        reason = " ".join(reason.split())  # parser messages span lines; a warning is one
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def read_document(path: str | Path) -> tuple[Source, str]:
    """The Source and full text of one document file; `origin` is the file path."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableDocument(path, f"unsupported file type {path.suffix or '(none)'}")
    try:
        source, text = reader(path)
    except UnreadableDocument:
        raise
    except Exception as exc:  # each parser fails its own way on a corrupt file
        raise UnreadableDocument(path, f"{type(exc).__name__}: {exc}") from exc
    if not text.strip():
        hint = " (a scanned PDF needs OCR first)" if path.suffix.lower() == ".pdf" else ""
        raise UnreadableDocument(path, f"no text found{hint}")
    return source, text


def read_pdf(path: Path) -> tuple[Source, str]:
    """Text of all pages; title and author from the PDF info, DOI and arXiv id from page one."""
    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise UnreadableDocument(path, "the PDF is encrypted: save an unencrypted copy")
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    text = "\n\n".join(page for page in pages if page)
    info = reader.metadata
    head = pages[0] if pages else ""
    subject = _str(info.subject) if info else ""
    arxiv_id = _arxiv_in(head)
    title = (_metadata_title(info.title) if info else "") or _first_line(text) or path.stem
    return _source(
        path,
        text,
        title=title,
        authors=split_authors(info.author) if info else [],
        year=_arxiv_year(arxiv_id)
        or parse_year(head[:_HEAD_CHARS])
        or parse_year(_str(info.get("/CreationDate") if info else "").removeprefix("D:")[:4]),
        doi=normalize_doi(subject) or normalize_doi(head),
        arxiv_id=arxiv_id,
    )


def read_docx(path: Path) -> tuple[Source, str]:
    """Paragraphs and table cells; title, author and date from the core properties."""
    document = docx.Document(str(path))
    lines = [paragraph.text.strip() for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    text = "\n".join(line for line in lines if line.strip())
    props = document.core_properties
    template = props.author == _TEMPLATE_AUTHOR
    title = _metadata_title(props.title) or _first_line(text) or path.stem
    head = text[:_HEAD_CHARS]
    arxiv_id = _arxiv_in(head)
    return _source(
        path,
        text,
        title=title,
        authors=[] if template else split_authors(props.author),
        year=_arxiv_year(arxiv_id)
        or parse_year(head)
        or (None if template else _year_of(props.created)),
        doi=normalize_doi(props.identifier) or normalize_doi(head),
        arxiv_id=arxiv_id,
    )


def read_html(path: Path) -> tuple[Source, str]:
    """Visible text; metadata from `citation_*`, Dublin Core and Open Graph meta tags."""
    soup = BeautifulSoup(path.read_bytes(), "lxml")
    meta = _meta_tags(soup)
    canonical = soup.find("link", rel="canonical")
    canonical_url = str(canonical.get("href") or "") if canonical else ""
    page_title = soup.title.get_text() if soup.title else ""
    for tag in soup(_HIDDEN_HTML):
        tag.decompose()
    text = _nonblank_lines(soup.get_text("\n"))
    head = text[:_HEAD_CHARS]

    def first(*names: str) -> str:
        return next((values[0] for name in names if (values := meta.get(name))), "")

    arxiv_id = normalize_arxiv_id(first("citation_arxiv_id")) or _arxiv_in(head)
    title = (
        clean_text(first("citation_title", "dc.title", "og:title"))
        or clean_text(page_title)
        or _first_line(text)
        or path.stem
    )
    authors = meta.get("citation_author") or split_authors(first("author", "dc.creator"))
    year = parse_year(
        first(
            "citation_publication_date",
            "citation_date",
            "citation_online_date",
            "citation_year",
            "dc.date",
            "article:published_time",
        )
    )
    return _source(
        path,
        text,
        title=title,
        authors=[name for author in authors if (name := clean_text(author))],
        year=year or _arxiv_year(arxiv_id) or parse_year(head),
        venue=clean_text(first("citation_journal_title", "citation_conference_title")) or None,
        doi=normalize_doi(first("citation_doi", "dc.identifier")) or normalize_doi(head),
        arxiv_id=arxiv_id,
        url=canonical_url or first("citation_abstract_html_url", "og:url") or None,
        abstract=clean_text(first("citation_abstract", "dc.description", "description")),
    )


def read_text(path: Path) -> tuple[Source, str]:
    """Markdown or plain text, with optional YAML front matter between `---` lines.

    Front matter keys: title, authors (a list or `A; B`), year, venue, doi, arxiv,
    url, abstract. The body is the text.
    """
    raw = decode_text(path.read_bytes())
    front: Mapping[str, Any] = {}
    body = raw
    if match := _FRONT_MATTER.match(raw):
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise UnreadableDocument(path, f"invalid YAML front matter: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise UnreadableDocument(path, "front matter is not a YAML mapping of keys")
        front = {str(key).lower(): value for key, value in (loaded or {}).items()}
        body = raw[match.end() :]
    text = body.strip()
    head = text[:_HEAD_CHARS]
    arxiv_id = normalize_arxiv_id(_str(front.get("arxiv"))) or _arxiv_in(head)
    title = clean_text(front.get("title")) or _first_line(text) or path.stem
    return _source(
        path,
        text,
        title=title,
        authors=split_authors(front.get("authors") or front.get("author")),
        year=parse_year(front.get("year") or front.get("date"))
        or _arxiv_year(arxiv_id)
        or parse_year(head),
        venue=clean_text(front.get("venue")) or None,
        doi=normalize_doi(_str(front.get("doi"))) or normalize_doi(head),
        arxiv_id=arxiv_id,
        url=_str(front.get("url")) or None,
        abstract=clean_text(front.get("abstract")),
    )


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), else Windows-1252: the usual legacy encoding of notes and CSVs."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_READERS: dict[str, Callable[[Path], tuple[Source, str]]] = {
    ".pdf": read_pdf,
    ".docx": read_docx,
    ".html": read_html,
    ".htm": read_html,
    ".md": read_text,
    ".markdown": read_text,
    ".txt": read_text,
}


def _source(
    path: Path, text: str, *, title: str, abstract: str = "", **fields: Any
) -> tuple[Source, str]:
    """The Source of a whole-file document; without an abstract, the text's opening stands in."""
    title = title[:_TITLE_CHARS].strip()
    source = Source(
        title=title,
        abstract=abstract or _abstract(text, title),
        origin=str(path),
        **fields,
    )
    return source, text


def _abstract(text: str, title: str) -> str:
    """The text under an `Abstract` heading near the top, else the first ~600 characters."""
    head = text[: _HEAD_CHARS * 2]
    if match := _ABSTRACT_HEADING.search(head):
        section = text[match.end() : match.end() + _SECTION_CHARS]
        if end := _SECTION_END.search(section):
            section = section[: end.start()]
        return _cut(" ".join(section.split()), _SECTION_CHARS)
    body = text.strip()
    first, _, rest = body.partition("\n")
    if clean_text(first.lstrip("# ")) == title:
        body = rest
    return _cut(" ".join(body.split()), _ABSTRACT_CHARS)


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending on a word boundary."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def _first_line(text: str) -> str:
    """The first line that reads like a title: not blank, not an arXiv stamp, has a word."""
    for line in text.splitlines():
        line = clean_text(line.strip().lstrip("#").strip())
        if line and not _ARXIV_MARK.search(line) and re.search(r"[^\W\d_]{3}", line):
            return line[:_TITLE_CHARS]
    return ""


def _metadata_title(value: object) -> str:
    """A title from file metadata, unless it is a placeholder like `Microsoft Word - draft.doc`."""
    title = clean_text(value)
    if len(title) < 3 or _JUNK_TITLE.match(title.lower()):
        return ""
    return title


def _arxiv_in(text: str) -> str | None:
    """An arXiv id written as `arXiv:2005.11401` or `arxiv.org/abs/...` in the text."""
    match = _ARXIV_MARK.search(text)
    return normalize_arxiv_id(match.group(1)) if match else None


def _arxiv_year(arxiv_id: str | None) -> int | None:
    """arXiv ids start with the submission year: `2005.11401` and `hep-ph/0703001`."""
    if not arxiv_id:
        return None
    digits = arxiv_id.rsplit("/", 1)[-1][:2]
    if not digits.isdigit():
        return None
    year = 2000 + int(digits)
    return year - 100 if year > date.today().year else year


def _year_of(moment: datetime | date | None) -> int | None:
    return moment.year if moment else None


def _meta_tags(soup: BeautifulSoup) -> dict[str, list[str]]:
    """`<meta name|property=... content=...>` values by lower-cased name, in page order."""
    tags: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        name = tag.get("name") or tag.get("property")
        content = tag.get("content")
        if name and content and content.strip():
            tags.setdefault(str(name).strip().lower(), []).append(str(content).strip())
    return tags


def _nonblank_lines(text: str) -> str:
    return "\n".join(line for raw in text.splitlines() if (line := " ".join(raw.split())))


def _str(value: object) -> str:
    return "" if value is None else str(value)
