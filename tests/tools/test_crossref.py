"""Crossref enrichment against a local server that speaks its works API."""

from __future__ import annotations

import pytest

from tests.fakes.scholarly_server import FakeScholarlyServer
from tools import crossref
from tools.http import HttpPolicy, ProviderError
from tools.source import Source

PREPRINT = Source(
    title="In-Context Retrieval-Augmented Language Models",
    doi="https://doi.org/10.1162/TACL_A_00605",
    arxiv_id="2302.00083",
    abstract="Retrieved documents are prepended to the input.",
    provider="tavily",
)


async def test_enrich_fills_venue_year_and_authors_and_keeps_identity(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    enriched = await crossref.enrich(PREPRINT, policy)

    assert enriched.venue == "Transactions of the Association for Computational Linguistics"
    assert enriched.year == 2023
    assert enriched.authors == ["Ram, Ori", "Levine, Yoav", "Dalmedigos, Itay"]
    assert enriched.identity == PREPRINT.identity == "doi:10.1162/tacl_a_00605"
    assert enriched.abstract == PREPRINT.abstract and enriched.provider == "tavily"
    assert scholarly.requests["crossref"][-1].path == "/crossref/works/10.1162/tacl_a_00605"


async def test_lookup_reads_a_work_record(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    record = await crossref.lookup("10.18653/v1/2020.emnlp-main.550", policy)

    assert record is not None
    assert record.title == "Dense Passage Retrieval for Open-Domain Question Answering"
    assert record.abstract.startswith("Dense passage retrieval learns")
    assert "<" not in record.abstract


async def test_unknown_doi_or_complete_source_is_left_as_it_is(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    unknown = Source(title="Unknown", doi="10.9999/nothing.here")
    complete = PREPRINT.model_copy(update={"venue": "TACL", "year": 2023, "authors": ["Ram"]})

    assert await crossref.enrich(unknown, policy) == unknown
    assert await crossref.enrich(complete, policy) == complete
    assert len(scholarly.requests["crossref"]) == 1  # the complete source was not looked up


async def test_rate_limited_lookup_is_retried_after_retry_after(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("crossref", 1, status=429, retry_after="1")

    enriched = await crossref.enrich(PREPRINT, policy)

    assert enriched.year == 2023
    first, second = scholarly.requests["crossref"]
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("malformed", "crossref: the response is not JSON"),
        ("empty", "crossref: the response is empty"),
        ("unavailable", "crossref: HTTP 503"),
    ],
)
async def test_broken_answers_raise_a_clear_error(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, mode: str, message: str
) -> None:
    scholarly.mode["crossref"] = mode

    with pytest.raises(ProviderError, match=message):
        await crossref.enrich(PREPRINT, policy)


async def test_second_lookup_is_served_from_the_disk_cache(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    await crossref.enrich(PREPRINT, policy)
    await crossref.enrich(PREPRINT, policy)

    assert len(scholarly.requests["crossref"]) == 1
