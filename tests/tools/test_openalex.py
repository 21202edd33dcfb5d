"""OpenAlex works search against a local server that speaks its JSON API."""

from __future__ import annotations

import pytest

from tests.fakes.scholarly_server import FakeScholarlyServer, Work
from tools import openalex
from tools.http import HttpPolicy, ProviderError


async def test_search_returns_works_as_sources_with_relevance_scores(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    hits = await openalex.search("query rewriting retrieval augmented", 4, policy)

    sources = {source.title: source for source, _ in hits}
    rewrite = sources["Query Rewriting for Retrieval-Augmented Large Language Models"]
    assert rewrite.identity == "doi:10.18653/v1/2023.emnlp-main.322"
    assert rewrite.authors == ["Xinbei Ma", "Yeyun Gong", "Pengcheng He"]
    assert rewrite.year == 2023 and rewrite.venue == "Proceedings of EMNLP 2023"
    assert rewrite.abstract.startswith("A rewrite-retrieve-read pipeline trains")
    assert rewrite.provider == "openalex" and rewrite.origin.startswith("https://openalex.org/W")
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and len(hits) == 4


async def test_a_preprint_named_by_its_arxiv_doi_keeps_the_arxiv_identity(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    hits = await openalex.search("corrective retrieval evaluator", 10, policy)

    crag = next(s for s, _ in hits if s.title == "Corrective Retrieval Augmented Generation")
    assert crag.identity == "arxiv:2401.15884"
    assert crag.doi is None and crag.venue is None  # "arXiv (Cornell University)" is no venue
    ralm = next(s for s, _ in hits if s.title == "In-Context Retrieval-Augmented Language Models")
    assert ralm.identity == "doi:10.1162/tacl_a_00605" and ralm.arxiv_id == "2302.00083"


async def test_the_request_is_polite_and_uses_the_key_when_set(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWARM_MAILTO", "team@example.org")
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-key")

    await openalex.search("dense: retrieval, BM25", 7, policy)

    request = scholarly.requests["openalex"][-1]
    assert request.path == "/openalex/works"
    assert request.query == {
        "search": "dense retrieval BM25",
        "per_page": "7",
        "mailto": "team@example.org",
        "api_key": "oa-key",
    }
    assert "mailto:team@example.org" in request.headers["User-Agent"]


async def test_rate_limited_search_is_retried_after_retry_after(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("openalex", 2, status=429, retry_after="1")

    assert await openalex.search("retrieval augmented generation", 5, policy)
    times = [r.at for r in scholarly.requests["openalex"]]
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in zip(times, times[1:], strict=False))


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("malformed", "openalex: the response is not JSON"),
        ("empty", "openalex: the response is empty"),
        ("unavailable", "openalex: HTTP 503"),
    ],
)
async def test_broken_answers_raise_a_clear_error(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, mode: str, message: str
) -> None:
    scholarly.mode["openalex"] = mode

    with pytest.raises(ProviderError, match=message):
        await openalex.search("retrieval", 5, policy)


async def test_second_search_is_served_from_the_disk_cache(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    first = await openalex.search("dense passage retrieval", 5, policy)
    second = await openalex.search("dense passage retrieval", 5, policy)

    assert first == second and first
    assert len(scholarly.requests["openalex"]) == 1


def test_an_inverted_index_reads_back_in_order() -> None:
    assert openalex.abstract({"world": [1, 3], "hello": [0, 2]}) == "hello world hello world"
    assert openalex.abstract(None) == ""


async def test_a_deep_search_pages_on_with_the_cursor(
    monkeypatch: pytest.MonkeyPatch, policy: HttpPolicy
) -> None:
    works = tuple(
        Work(
            title=f"Design of experiments study {n}",
            authors=("Ann Lee",),
            year=2010 + n % 10,
            abstract="Optimal design of experiments for regression.",
            doi=f"10.5555/doe.{n}",
        )
        for n in range(450)
    )
    with FakeScholarlyServer(works) as server:
        monkeypatch.setenv("OPENALEX_API_URL", server.url("openalex"))
        hits = await openalex.search("design of experiments", 420, policy)
        cursors = [r.query.get("cursor") for r in server.requests["openalex"]]

    assert cursors == ["*", "200", "400"]
    assert len(hits) == 420 == len({s.identity for s, _ in hits})
