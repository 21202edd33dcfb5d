"""Web search through Tavily (tavily-python's AsyncTavilyClient), results as Sources.

Needs `TAVILY_API_KEY`; `TAVILY_BASE_URL` points the client elsewhere (a local
server in tests). The client is handed an HTTP client of our policy, so Tavily
searches are rate limited, retried and cached like every other provider's; a page's
snippet is its abstract, and a page on arXiv or doi.org keeps that identity.
"""

from __future__ import annotations

import os
import re

import httpx
from tavily import AsyncTavilyClient
from tavily.errors import (
    BadRequestError,
    ForbiddenError,
    InvalidAPIKeyError,
    UsageLimitExceededError,
)
from tavily.errors import TimeoutError as TavilyTimeout

from tools.fields import clean_text, parse_year
from tools.hits import Hit
from tools.http import HttpPolicy, ProviderError, bad_status, endpoint, http_client, no_answer
from tools.source import Source, normalize_arxiv_id, normalize_doi

API_URL = "https://api.tavily.com"
ENV = "TAVILY_BASE_URL"
KEY = "TAVILY_API_KEY"
MAX_RESULTS = 20

_ARXIV_TITLE = re.compile(r"^\[\d{4}\.\d{4,5}(v\d+)?\]\s*")
_REFUSED = (BadRequestError, ForbiddenError, InvalidAPIKeyError, UsageLimitExceededError)


def api_url() -> str:
    return endpoint(ENV, API_URL)


def api_key() -> str:
    return os.environ.get(KEY, "").strip()


async def search(query: str, limit: int = 10, policy: HttpPolicy | None = None) -> list[Hit]:
    """The best `limit` web pages for `query` (at most 20), best first, with Tavily's scores."""
    key = api_key()
    if not key:
        raise ProviderError("tavily", f"{KEY} is not set")
    if not query.strip() or limit <= 0:
        return []
    policy = policy or HttpPolicy()
    async with http_client(policy, base_url=api_url()) as client:
        tavily = AsyncTavilyClient(api_key=key, api_base_url=api_url(), client=client)
        try:
            answer = await tavily.search(
                query, max_results=min(limit, MAX_RESULTS), timeout=policy.timeout
            )
        except httpx.HTTPStatusError as exc:
            raise ProviderError("tavily", bad_status(exc.response)) from exc
        except httpx.HTTPError as exc:
            raise ProviderError("tavily", no_answer(exc)) from exc
        except TavilyTimeout as exc:
            raise ProviderError("tavily", "api.tavily.com did not answer in time") from exc
        except _REFUSED as exc:
            reason = str(exc) or type(exc).__name__
            raise ProviderError("tavily", f"the API refused the search: {reason}") from exc
        except ValueError as exc:  # the body of a 200 is not JSON
            raise ProviderError("tavily", f"the response is not JSON ({exc})") from exc
    return parse_answer(answer)[:limit]


def parse_answer(answer: object) -> list[Hit]:
    """The results of a Tavily search answer; ProviderError when it is not one."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise ProviderError("tavily", "the response has no list of results")
    hits: list[Hit] = []
    for rank, result in enumerate(results):
        if not isinstance(result, dict) or (source := page_source(result)) is None:
            continue
        score = result.get("score")
        hits.append((source, float(score) if isinstance(score, int | float) else 1 / (1 + rank)))
    return hits


def page_source(result: dict[str, object]) -> Source | None:
    """One Tavily result as a Source; None without a URL or a title."""
    url = str(result.get("url") or "").strip()
    title = _ARXIV_TITLE.sub("", clean_text(result.get("title")))
    if not url or not title:
        return None
    return Source(
        title=title,
        year=parse_year(result.get("published_date")),
        doi=normalize_doi(url) if "doi.org/" in url else None,
        arxiv_id=normalize_arxiv_id(url) if "arxiv.org/" in url else None,
        url=url,
        abstract=clean_text(result.get("content")),
        origin=url,
        provider="tavily",
    )
