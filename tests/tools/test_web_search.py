"""Tavily web search through tavily-python against a local server that speaks its API."""

from __future__ import annotations

import pytest

from tests.fakes.scholarly_server import TAVILY_KEY, FakeScholarlyServer
from tools import web_search
from tools.http import HttpPolicy, ProviderError


async def test_search_returns_pages_as_sources_with_their_identities(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    hits = await web_search.search("query rewriting retrieval augmented", 5, policy)

    pages = {source.title: (source, score) for source, score in hits}
    crag, score = pages["Corrective Retrieval Augmented Generation"]  # "[2401.15884] " dropped
    assert crag.identity == "arxiv:2401.15884" and 0 < score <= 1
    assert crag.abstract.startswith("Corrective retrieval augmented generation adds")
    rewrite, _ = pages["Query Rewriting for Retrieval-Augmented Large Language Models"]
    assert rewrite.identity == "doi:10.18653/v1/2023.emnlp-main.322"
    assert all(s.provider == "tavily" for s, _ in hits)


async def test_the_request_carries_the_key_and_the_limit(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    await web_search.search("dense retrieval", 50, policy)

    request = scholarly.requests["tavily"][-1]
    assert request.method == "POST" and request.path == "/tavily/search"
    assert request.headers["Authorization"] == f"Bearer {TAVILY_KEY}"
    assert request.json()["query"] == "dense retrieval"
    assert request.json()["max_results"] == 20


async def test_a_missing_or_refused_key_is_a_clear_error(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAVILY_API_KEY")
    with pytest.raises(ProviderError, match="tavily: TAVILY_API_KEY is not set"):
        await web_search.search("rag", 5, policy)

    monkeypatch.setenv("TAVILY_API_KEY", "tvly-wrong")
    with pytest.raises(ProviderError, match="tavily: the API refused the search: Unauthorized"):
        await web_search.search("rag", 5, policy)


async def test_rate_limited_search_is_retried_after_retry_after(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("tavily", 1, status=429, retry_after="1")

    assert await web_search.search("retrieval augmented generation", 5, policy)
    first, second = scholarly.requests["tavily"]
    assert second.at - first.at >= 0.95


async def test_rate_limit_beyond_the_retries_is_reported(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("tavily", 10, status=429, retry_after="0")

    with pytest.raises(ProviderError, match="tavily: the API refused the search"):
        await web_search.search("retrieval", 5, policy)
    assert len(scholarly.requests["tavily"]) == policy.retries + 1


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("malformed", "tavily: the response is not JSON"),
        ("empty", "tavily: the response is not JSON"),
        ("unavailable", "tavily: HTTP 503"),
    ],
)
async def test_broken_answers_raise_a_clear_error(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, mode: str, message: str
) -> None:
    scholarly.mode["tavily"] = mode

    with pytest.raises(ProviderError, match=message):
        await web_search.search("retrieval", 5, policy)


async def test_second_search_is_served_from_the_disk_cache(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    first = await web_search.search("dense passage retrieval", 5, policy)
    second = await web_search.search("dense passage retrieval", 5, policy)

    assert first == second and first
    assert len(scholarly.requests["tavily"]) == 1
