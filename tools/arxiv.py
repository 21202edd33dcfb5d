"""arXiv search through its Atom API (`export.arxiv.org/api/query`), results as Sources.

Keyless; arXiv asks for at most one request every three seconds, which the HTTP
policy's per-host rate limit keeps. A query's words are searched in all fields,
any of them matching, best first by arXiv's relevance ranking. `ARXIV_API_URL`
points the search elsewhere (a mirror, or a local server in tests).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import httpx

from tools.fields import clean_text, parse_year
from tools.hits import Hit, rank_scored
from tools.http import HttpPolicy, ProviderError, endpoint, fetch
from tools.source import Source, normalize_arxiv_id, normalize_doi

API_URL = "https://export.arxiv.org/api/query"
ENV = "ARXIV_API_URL"
MAX_RESULTS = 100
"""Results asked for in one request."""
MAX_DEPTH = 30_000
"""The most results arXiv's API serves for one query, over all pages."""

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_WORD = re.compile(r"[^\W_][\w.\-]*")
_OPERATORS = {"and", "or", "andnot", "not"}
_STOPWORDS = {"a", "an", "the", "of", "for", "in", "on", "to", "with", "by", "from", "as", "at"}


def api_url() -> str:
    return endpoint(ENV, API_URL)


def search_query(query: str) -> str:
    """arXiv's query syntax for plain words: `all:(w1 w2 ...)`, any word matching.

    Words are lower-cased, so none of them is read as an operator (AND, OR, ANDNOT);
    quotes, brackets and field prefixes in the query are dropped.
    """
    words = [w.lower().strip(".-") for w in _WORD.findall(query)]
    kept = [w for w in words if w and w not in _OPERATORS and w not in _STOPWORDS]
    return f"all:({' '.join(dict.fromkeys(kept))})" if kept else ""


async def search(query: str, limit: int = 20, policy: HttpPolicy | None = None) -> list[Hit]:
    """The best `limit` arXiv papers for `query`, best first, scored by rank.

    A deep search (a dataset's) pages through the results, `MAX_RESULTS` at a time, up to
    the `MAX_DEPTH` arXiv serves for one query; the policy spaces the requests."""
    terms = search_query(query)
    limit = min(limit, MAX_DEPTH)
    if not terms or limit <= 0:
        return []
    sources: list[Source] = []
    while len(sources) < limit:
        size = min(limit - len(sources), MAX_RESULTS)
        params = {
            "search_query": terms,
            "start": len(sources),
            "max_results": size,
            "sortBy": "relevance",
            "sortOrder": "descending",
        }
        page = await fetch("arxiv", api_url(), parse_response, params=params, policy=policy)
        sources += page
        if len(page) < size:
            break
    return rank_scored(sources[:limit])


def parse_response(response: httpx.Response) -> list[Source]:
    return parse_feed(response.content)


def parse_feed(content: bytes) -> list[Source]:
    """Every entry of an arXiv Atom feed as a Source; ProviderError when it is not one."""
    if not content.strip():
        raise ProviderError("arxiv", "the response is empty")
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise ProviderError("arxiv", f"the response is not Atom XML ({exc})") from None
    if root.tag != f"{_ATOM}feed":
        raise ProviderError("arxiv", f"the response is not an Atom feed (root <{root.tag}>)")
    sources = []
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = _text(entry, f"{_ATOM}id")
        if "/api/errors" in entry_id:  # arXiv reports a bad query as a one-entry feed
            message = _text(entry, f"{_ATOM}summary") or _text(entry, f"{_ATOM}title")
            raise ProviderError("arxiv", f"the API refused the query: {message}")
        if (source := _source(entry, entry_id)) is not None:
            sources.append(source)
    return sources


def _source(entry: ElementTree.Element, entry_id: str) -> Source | None:
    title = clean_text(_text(entry, f"{_ATOM}title"))
    arxiv_id = normalize_arxiv_id(entry_id)
    if not title or arxiv_id is None:
        return None
    authors = [
        name
        for author in entry.findall(f"{_ATOM}author")
        if (name := clean_text(_text(author, f"{_ATOM}name")))
    ]
    return Source(
        title=title,
        authors=authors,
        year=parse_year(_text(entry, f"{_ATOM}published")),
        venue=clean_text(_text(entry, f"{_ARXIV}journal_ref")) or None,
        doi=normalize_doi(_text(entry, f"{_ARXIV}doi")),
        arxiv_id=arxiv_id,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        abstract=clean_text(_text(entry, f"{_ATOM}summary")),
        origin=f"https://arxiv.org/abs/{arxiv_id}",
        provider="arxiv",
    )


def _text(element: ElementTree.Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""
