"""OpenAlex works search (`api.openalex.org/works?search=...`), results as Sources.

OpenAlex answers without a key for a small daily allowance; `OPENALEX_API_KEY` (free
from openalex.org) raises it, and `SWARM_MAILTO` joins the polite pool. Abstracts
arrive as an inverted index (word -> positions) and are put back in order.
`OPENALEX_API_URL` points the search elsewhere (a local server in tests).
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

import httpx

from tools.fields import clean_text
from tools.hits import Hit, preprint_doi, rank_scored
from tools.http import HttpPolicy, ProviderError, contact_email, endpoint, fetch
from tools.source import Source, normalize_arxiv_id, normalize_doi

API_URL = "https://api.openalex.org"
ENV = "OPENALEX_API_URL"
MAX_PER_PAGE = 200


def api_url() -> str:
    return endpoint(ENV, API_URL)


async def search(query: str, limit: int = 20, policy: HttpPolicy | None = None) -> list[Hit]:
    """The best `limit` works for `query`, best first, with OpenAlex's relevance scores."""
    query = " ".join(query.replace(",", " ").replace(":", " ").split())
    if not query or limit <= 0:
        return []
    params: dict[str, Any] = {"search": query, "per_page": min(limit, MAX_PER_PAGE)}
    if mailto := contact_email():
        params["mailto"] = mailto
    if key := os.environ.get("OPENALEX_API_KEY", "").strip():
        params["api_key"] = key
    if limit > MAX_PER_PAGE:
        params["cursor"] = "*"  # a deep search (a dataset's) pages on with OpenAlex's cursor
    hits: list[Hit] = []
    while len(hits) < limit:
        page = await fetch(
            "openalex", f"{api_url()}/works", parse_response, params=params, policy=policy
        )
        hits += page.hits
        if not page.next_cursor or not page.hits or "cursor" not in params:
            break
        params = {**params, "cursor": page.next_cursor}
    return hits[:limit]


class Page(NamedTuple):
    """One page of works, and the cursor of the next page (None on the last)."""

    hits: list[Hit]
    next_cursor: str | None


def parse_response(response: httpx.Response) -> Page:
    """The works of one page of results; ProviderError when the page is not one."""
    if not response.content.strip():
        raise ProviderError("openalex", "the response is empty")
    try:
        page = json.loads(response.content)
    except ValueError as exc:
        raise ProviderError("openalex", f"the response is not JSON ({exc})") from None
    results = page.get("results") if isinstance(page, dict) else None
    if not isinstance(results, list):
        raise ProviderError("openalex", "the response has no list of results")
    sources: list[Source] = []
    scores: list[float | None] = []
    for work in results:
        if isinstance(work, dict) and (source := work_source(work)) is not None:
            sources.append(source)
            score = work.get("relevance_score")
            scores.append(float(score) if isinstance(score, int | float) else None)
    meta = page.get("meta")
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    cursor = cursor if isinstance(cursor, str) and cursor else None
    if sources and all(score is not None for score in scores):
        hits = [(source, score or 0.0) for source, score in zip(sources, scores, strict=True)]
        return Page(hits, cursor)
    return Page(rank_scored(sources), cursor)


def work_source(work: dict[str, Any]) -> Source | None:
    """One OpenAlex work as a Source; None when it has no title."""
    title = clean_text(work.get("title") or work.get("display_name"))
    if not title:
        return None
    location = work.get("primary_location") or {}
    landing = location.get("landing_page_url") or ""
    arxiv_id = _arxiv_id(work)
    venue = clean_text((location.get("source") or {}).get("display_name")) or None
    if venue and "arxiv" in venue.lower():
        venue = None  # "arXiv (Cornell University)" is where a preprint lives, not a venue
    doi = normalize_doi(work.get("doi"))
    year = work.get("publication_year")
    source = Source(
        title=title,
        authors=[
            name
            for authorship in work.get("authorships") or []
            if (name := clean_text((authorship.get("author") or {}).get("display_name")))
        ],
        year=year if isinstance(year, int) else None,
        venue=venue,
        doi=doi,
        arxiv_id=arxiv_id,
        url=f"https://doi.org/{doi}" if doi else landing or work.get("id"),
        abstract=abstract(work.get("abstract_inverted_index")),
        origin=str(work.get("id") or ""),
        provider="openalex",
    )
    return preprint_doi(source)


def abstract(inverted: object) -> str:
    """The text of an inverted index `{"word": [positions]}`."""
    if not isinstance(inverted, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in inverted.items():
        for position in positions if isinstance(positions, list) else []:
            if isinstance(position, int):
                placed[position] = str(word)
    return clean_text(" ".join(placed[p] for p in sorted(placed)))


def _arxiv_id(work: dict[str, Any]) -> str | None:
    for location in work.get("locations") or [work.get("primary_location") or {}]:
        url = (location or {}).get("landing_page_url") or ""
        if "arxiv.org/abs/" in url and (found := normalize_arxiv_id(url)):
            return found
    return None
