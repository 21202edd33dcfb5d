"""A source: one document or record the swarm can cite, with one identity and one key.

Identity decides when two retrieved items are the same work: DOI, else arXiv id,
else normalised URL, else normalised title plus year. Parallel agents that find
the same work produce the same identity, so their results merge into one entry.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"(?<![\w.])(\d{4}\.\d{4,5})(v\d+)?(?![\w])")
_ARXIV_OLD = re.compile(r"\b([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\b")
_STOP_KEY_WORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards"}


class Source(BaseModel):
    """Bibliographic metadata of one citable work; full text is read on demand."""

    title: str
    authors: list[str] = Field(default_factory=list)
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    url: str | None = None
    abstract: str = ""
    origin: str = Field("", description="where the text lives: a file path or a records locator")
    provider: str = Field("corpus", description="corpus, tavily, arxiv, openalex, crossref")

    @property
    def identity(self) -> str:
        return source_identity(self.doi, self.arxiv_id, self.url, self.title, self.year)


def normalize_doi(value: str | None) -> str | None:
    """`https://doi.org/10.1000/ABC.` -> `10.1000/abc`; None when it holds no DOI."""
    if not value:
        return None
    match = _DOI.search(value.strip())
    if not match:
        return None
    return match.group(1).rstrip(".,;)]}").lower()


def normalize_arxiv_id(value: str | None) -> str | None:
    """`arXiv:2005.11401v4` -> `2005.11401`; old style `hep-ph/0703001` kept as is."""
    if not value:
        return None
    text = value.strip()
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def normalize_url(value: str | None) -> str | None:
    """Scheme, `www.`, query noise, fragment and trailing slash do not change a page."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if not parts.netloc:
        return None
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def normalize_title(value: str) -> str:
    """Case, accents, LaTeX braces and punctuation do not change a title."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^0-9a-zA-Z]+", " ", text).lower()
    return " ".join(text.split())


def source_identity(
    doi: str | None,
    arxiv_id: str | None,
    url: str | None,
    title: str,
    year: int | None,
) -> str:
    """The one identity of a work: `doi:...`, `arxiv:...`, `url:...` or `title:...|year`."""
    if found := normalize_doi(doi):
        return f"doi:{found}"
    if found := normalize_arxiv_id(arxiv_id):
        return f"arxiv:{found}"
    if found := normalize_url(url):
        if "arxiv.org/abs/" in found and (arxiv := normalize_arxiv_id(found)):
            return f"arxiv:{arxiv}"
        if "doi.org/" in found and (doi_in_url := normalize_doi(found)):
            return f"doi:{doi_in_url}"
        return f"url:{found}"
    return f"title:{normalize_title(title)}|{year or 'n.d.'}"


def surname(author: str) -> str:
    """`Lewis, Patrick` and `Patrick Lewis` both give `Lewis`."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    return parts[-1] if parts else ""


def base_key(source: Source) -> str:
    """A readable citation key, `lewis2020retrieval`; collisions are resolved by the caller."""
    name = normalize_title(surname(source.authors[0])) if source.authors else ""
    name = name.replace(" ", "") or "anon"
    words = [w for w in normalize_title(source.title).split() if w not in _STOP_KEY_WORDS]
    word = words[0] if words else "untitled"
    return f"{name}{source.year or 'nd'}{word}"
