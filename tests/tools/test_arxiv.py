"""arXiv search against a local server that speaks the Atom export API."""

from __future__ import annotations

import pytest

from tests.fakes.scholarly_server import FakeScholarlyServer, Work
from tools import arxiv
from tools.http import HttpPolicy, ProviderError


async def test_search_returns_papers_as_sources_best_first(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    hits = await arxiv.search("corrective retrieval augmented generation", 5, policy)

    sources = [source for source, _ in hits]
    assert sources[0].title == "Corrective Retrieval Augmented Generation"
    crag = sources[0]
    assert crag.identity == "arxiv:2401.15884"
    assert crag.authors[0] == "Shi-Qi Yan" and crag.year == 2024
    assert crag.url == "https://arxiv.org/abs/2401.15884" and crag.provider == "arxiv"
    assert crag.abstract.startswith("Corrective retrieval augmented generation adds")
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] == 1.0
    assert all(s.arxiv_id for s in sources)
    ralm = next(s for s in sources if s.arxiv_id == "2302.00083")
    assert ralm.doi == "10.1162/tacl_a_00605"
    assert ralm.venue == "Transactions of the ACL 11 (2023)"


async def test_query_words_are_searched_in_all_fields_and_never_read_as_operators(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    await arxiv.search('dense AND (passage) "retrieval" ti:ANDNOT', 3, policy)

    asked = scholarly.requests["arxiv"][-1].query
    assert asked["search_query"] == "all:(dense passage retrieval ti)"
    assert asked["max_results"] == "3" and asked["sortBy"] == "relevance"
    assert arxiv.search_query("the of and") == ""


async def test_rate_limited_search_is_retried_after_retry_after(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("arxiv", 1, status=429, retry_after="1")

    hits = await arxiv.search("retrieval augmented generation", 5, policy)

    assert hits
    first, second = scholarly.requests["arxiv"]
    assert second.at - first.at >= 0.95


async def test_server_errors_are_retried_then_reported(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.mode["arxiv"] = "unavailable"

    with pytest.raises(ProviderError, match=r"^arxiv: HTTP 503 from 127\.0\.0\.1: "):
        await arxiv.search("retrieval", 5, policy)
    assert len(scholarly.requests["arxiv"]) == policy.retries + 1


@pytest.mark.parametrize(
    ("mode", "message"),
    [("malformed", "not Atom XML"), ("empty", "the response is empty")],
)
async def test_malformed_or_empty_answers_raise_a_clear_error_and_are_not_cached(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, mode: str, message: str
) -> None:
    scholarly.mode["arxiv"] = mode

    for _ in range(2):
        with pytest.raises(ProviderError, match=message):
            await arxiv.search("retrieval", 5, policy)
    assert len(scholarly.requests["arxiv"]) == 2

    scholarly.mode["arxiv"] = "ok"
    assert await arxiv.search("retrieval", 5, policy)


async def test_no_results_is_an_empty_answer_not_an_error(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.mode["arxiv"] = "no_results"

    assert await arxiv.search("retrieval", 5, policy) == []


def test_an_error_entry_is_reported_as_the_apis_refusal() -> None:
    feed = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        b"<id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>"
        b"<title>Error</title><summary>incorrect id format for 1234.12345</summary>"
        b"</entry></feed>"
    )

    with pytest.raises(ProviderError, match="refused the query: incorrect id format"):
        arxiv.parse_feed(feed)


async def test_second_search_is_served_from_the_disk_cache(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    first = await arxiv.search("dense passage retrieval", 5, policy)
    second = await arxiv.search(
        "dense passage retrieval", 5, HttpPolicy(cache_dir=policy.cache_dir)
    )

    assert first == second
    assert len(scholarly.requests["arxiv"]) == 1
    assert list(policy.cache_dir.rglob("*.json"))


async def test_an_api_that_does_not_answer_in_time_is_reported(
    scholarly: FakeScholarlyServer, tmp_path
) -> None:
    scholarly.latency = 0.5
    policy = HttpPolicy(timeout=0.1, retries=1, backoff=0.01, cache_dir=tmp_path)

    with pytest.raises(ProviderError, match="arxiv: 127.0.0.1 did not answer in time"):
        await arxiv.search("retrieval", 5, policy)
    assert len(scholarly.requests["arxiv"]) == 2


def chart_papers(count: int) -> tuple[Work, ...]:
    return tuple(
        Work(
            title=f"Control chart design {n}",
            authors=("Ann Lee",),
            year=2000 + n % 25,
            abstract="A control chart for monitoring a process.",
            arxiv_id=f"2101.{n:05d}",
        )
        for n in range(count)
    )


async def test_a_deep_search_pages_through_the_results(
    monkeypatch: pytest.MonkeyPatch, policy: HttpPolicy
) -> None:
    with FakeScholarlyServer(chart_papers(250)) as server:
        monkeypatch.setenv("ARXIV_API_URL", server.url("arxiv"))
        hits = await arxiv.search("control chart", 230, policy)
        asked = [(r.query["start"], r.query["max_results"]) for r in server.requests["arxiv"]]
        everything = await arxiv.search("control chart", 1000, policy)

    assert asked == [("0", "100"), ("100", "100"), ("200", "30")]
    assert len(hits) == 230 == len({s.identity for s, _ in hits})
    assert [s.title for s, _ in hits[:2]] == ["Control chart design 0", "Control chart design 1"]
    assert len(everything) == 250  # a short page is the last one
