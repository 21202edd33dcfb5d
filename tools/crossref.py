"""Crossref metadata for DOIs (`api.crossref.org/works/{doi}`): venue, year and authors.

Search results often lack what a reference needs (a preprint's journal, a web
page's authors); a DOI's Crossref record fills those gaps. Keyless; `SWARM_MAILTO`
joins the polite pool. `CROSSREF_API_URL` points lookups elsewhere (tests).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import httpx

from tools.fields import clean_text, parse_year
from tools.hits import fill_gaps, preprint_doi
from tools.http import HttpPolicy, ProviderError, contact_email, endpoint, fetch
from tools.source import Source, normalize_doi

API_URL = "https://api.crossref.org"
ENV = "CROSSREF_API_URL"

_TAG = re.compile(r"<[^>]*>")


def api_url() -> str:
    return endpoint(ENV, API_URL)


def needs_enrichment(source: Source) -> bool:
    """A source with a DOI whose venue, year or authors are missing."""
    return bool(normalize_doi(source.doi)) and not (source.venue and source.year and source.authors)


async def lookup(doi: str, policy: HttpPolicy | None = None) -> Source | None:
    """The Crossref record of `doi`; None when Crossref does not know it."""
    found = normalize_doi(doi)
    if found is None:
        return None
    params = {"mailto": mailto} if (mailto := contact_email()) else None
    url = f"{api_url()}/works/{quote(found, safe='/:;()')}"
    return await fetch(
        "crossref", url, parse_response, params=params, policy=policy, accept=(200, 404)
    )


async def enrich(source: Source, policy: HttpPolicy | None = None) -> Source:
    """`source` with its missing venue, year and authors filled from Crossref, identity kept."""
    if not needs_enrichment(source):
        return source
    record = await lookup(source.doi or "", policy)
    if record is None:
        return source
    gaps = record.model_copy(update={"abstract": "", "url": None})
    return fill_gaps(source, gaps)


def parse_response(response: httpx.Response) -> Source | None:
    if response.status_code == 404:
        return None
    if not response.content.strip():
        raise ProviderError("crossref", "the response is empty")
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise ProviderError("crossref", f"the response is not JSON ({exc})") from None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        raise ProviderError("crossref", "the response has no work record")
    source = work_source(message)
    if source is None:
        raise ProviderError("crossref", "the work record has no title")
    return source


def work_source(work: dict[str, Any]) -> Source | None:
    """A Crossref work record (`message`) as a Source; None when it has no title."""
    title = clean_text(_first(work.get("title")))
    if not title:
        return None
    authors = []
    for person in work.get("author") or []:
        if not isinstance(person, dict):
            continue
        family, given = clean_text(person.get("family")), clean_text(person.get("given"))
        name = f"{family}, {given}" if family and given else family or given
        if name := name or clean_text(person.get("name")):
            authors.append(name)
    year = None
    for field in ("issued", "published-print", "published-online", "created"):
        parts = (work.get(field) or {}).get("date-parts") or [[None]]
        if year := parse_year(parts[0][0] if parts and parts[0] else None):
            break
    source = Source(
        title=title,
        authors=authors,
        year=year,
        venue=clean_text(_first(work.get("container-title"))) or None,
        doi=normalize_doi(work.get("DOI")),
        url=work.get("URL"),
        abstract=clean_text(_strip_tags(work.get("abstract") or "")),
        origin=f"{api_url()}/works/{work.get('DOI', '')}",
        provider="crossref",
    )
    return preprint_doi(source)


def _first(value: object) -> object:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _strip_tags(text: str) -> str:
    """Crossref abstracts are JATS XML (`<jats:p>...</jats:p>`): keep the words."""
    return _TAG.sub(" ", text)
