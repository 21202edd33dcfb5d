"""Which sources a run searches, how their hits merge, and whole runs on live sources.

The live providers are local fake servers that speak the real APIs (tests/fakes).
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
import pytest

from graph import board, resources
from graph.cli import main
from graph.config import Context
from graph.engines.base import ClaimRequest, Verdict
from graph.engines.offline import OfflineEngine
from graph.errors import SwarmError
from graph.resources import corpus_for, enriches, sources_for, use_engine
from graph.specialists.search import SearchFailed, search_sources
from graph.specialists.search import graph as search_agent
from graph.swarm import graph
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT
from tests.fakes.scholarly_server import WORKS, FakeScholarlyServer
from tools.corpus import load_corpus


@pytest.fixture
def scholarly(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeScholarlyServer]:
    with FakeScholarlyServer() as server:
        for name, value in server.environ().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("TAVILY_API_KEY")
        yield server


def context(tmp_path: Path, **settings) -> Context:
    settings.setdefault("formats", ["md", "bib"])
    return Context(out=str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"), **settings)


async def review(settings: Context) -> dict:
    return await graph.ainvoke(
        {"prompt": DEMO_PROMPT}, {"max_concurrency": 16, "recursion_limit": 2000}, context=settings
    )


def cited_arxiv_ids(result: dict) -> set[str]:
    """The arXiv ids of the works the review's references list."""
    folder = Path(result["run"]["files"][0]).parent
    entries = bibtexparser.parse_string((folder / "references.bib").read_text()).entries
    return {e.fields_dict["eprint"].value for e in entries if "eprint" in e.fields_dict}


CORPUS_IDS = {s.arxiv_id for s in load_corpus(DEMO_CORPUS).documents if s.arxiv_id}
FAKE_IDS = {w.arxiv_id for w in WORKS if w.arxiv_id}


# choosing sources


def test_explicit_sources_win_then_the_corpus_then_the_keyless_apis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = [str(DEMO_CORPUS)]
    assert sources_for(Context(corpus=corpus, sources=["arxiv", "Corpus", "arxiv"])) == [
        "arxiv",
        "corpus",
    ]
    assert sources_for(Context(corpus=corpus)) == ["corpus"]
    assert sources_for(Context()) == ["arxiv", "openalex"]
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-key")
    assert sources_for(Context()) == ["arxiv", "openalex", "tavily"]
    assert not enriches(Context(corpus=corpus))
    assert enriches(Context(corpus=corpus, sources=["corpus", "crossref"]))
    assert enriches(Context())


async def test_a_run_finds_its_corpus_files_once_whatever_its_agents_ask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found: list[object] = []
    monkeypatch.setattr(
        resources, "load_corpus", lambda *args: found.append(args) or load_corpus(*args)
    )
    run = Context(corpus=[str(DEMO_CORPUS)], cache_dir=str(tmp_path))
    first = await corpus_for(run)
    assert all([await corpus_for(run) is first for _ in range(50)])
    assert len(found) == 1
    await corpus_for(Context(corpus=[str(DEMO_CORPUS)], cache_dir=str(tmp_path)))
    assert len(found) == 2


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sources": ["arxiv", "scholar"]}, "unknown source 'scholar'"),
        ({"sources": ["corpus"]}, "no --corpus was given"),
        ({"sources": ["tavily"]}, "TAVILY_API_KEY is not set"),
        ({"sources": ["crossref"]}, "nothing to search"),
    ],
)
def test_impossible_source_choices_are_refused_in_one_line(settings: dict, message: str) -> None:
    with pytest.raises(SwarmError, match=message):
        sources_for(Context(**settings))


# merging hits


async def test_corpus_and_arxiv_hits_merge_by_identity(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    settings = context(tmp_path, corpus=[str(DEMO_CORPUS)], sources=["corpus", "arxiv"])

    found = await search_sources(settings, "retrieval augmented generation knowledge", 40)

    by_identity = {s.identity: (s, score) for s, score in found.hits}
    assert len(by_identity) == len(found.hits)
    rag, _ = by_identity["arxiv:2005.11401"]  # in the corpus and on arXiv: the corpus document
    assert rag.provider == "corpus" and rag.origin.endswith("lewis2020-rag.md")
    crag, _ = by_identity["arxiv:2401.15884"]  # only on arXiv
    assert crag.provider == "arxiv"
    assert all(0 < score <= 1 for _, score in found.hits)  # both backends on one scale
    assert found.failed == {}


async def test_a_failing_provider_is_named_and_the_others_answer(
    scholarly: FakeScholarlyServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scholarly.mode["openalex"] = "malformed"
    settings = context(tmp_path, corpus=[str(DEMO_CORPUS)], sources=["corpus", "arxiv", "openalex"])

    with caplog.at_level(logging.WARNING):
        found = await search_sources(settings, "dense passage retrieval", 20)

    assert list(found.failed) == ["openalex"]
    assert found.failed["openalex"].startswith("the response is not JSON")
    assert "openalex search failed for 'dense passage retrieval'" in caplog.text
    assert {s.provider for s, _ in found.hits} == {"corpus", "arxiv"}


async def test_a_search_whose_every_source_fails_fails_with_their_reasons(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    scholarly.mode["arxiv"] = "unavailable"
    scholarly.mode["openalex"] = "empty"
    settings = context(tmp_path, retries=0)

    with pytest.raises(SearchFailed, match=r"arxiv: HTTP 503 .*; openalex: the response is empty"):
        await search_sources(settings, "retrieval", 10)
    assert len(scholarly.requests["arxiv"]) == 1  # --retries 0: asked once


async def test_search_agent_fills_gaps_of_kept_sources_from_crossref(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    query = "dense passage retrieval"
    task = board.task("search-000", "search", "query", {"query": query, "topic": query, "k": 10})

    result = await search_agent.ainvoke(
        {"task": task}, context=context(tmp_path, sources=["arxiv"])
    )

    output = result["results"]["search-000"]["output"]
    dpr = next(h for h in output["hits"] if h["identity"] == "doi:10.18653/v1/2020.emnlp-main.550")
    assert dpr["kept"] and dpr["source"]["venue"] == "Proceedings of EMNLP 2020"  # from Crossref
    assert dpr["source"]["provider"] == "arxiv"
    assert [r.path for r in scholarly.requests["crossref"]] == [
        "/crossref/works/10.18653/v1/2020.emnlp-main.550"
    ]


# whole runs


class ClaimsSeen(OfflineEngine):
    """The offline engine, keeping every claim check it is asked for."""

    def __init__(self) -> None:
        self.claims: list[ClaimRequest] = []

    async def verify_claim(self, request: ClaimRequest) -> Verdict:
        self.claims.append(request)
        return await super().verify_claim(request)


async def test_run_over_corpus_and_arxiv_cites_both_kinds(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    engine = ClaimsSeen()
    use_engine(engine)
    try:
        result = await review(
            context(tmp_path, corpus=[str(DEMO_CORPUS)], sources=["corpus", "arxiv"])
        )
    finally:
        use_engine(None)

    # A corpus document is checked against its own text; a live source, against its
    # abstract: the checker's task carries an abstract only where there is no text.
    live = {c.source.key for c in engine.claims if c.source.abstract}
    read = {c.source.key for c in engine.claims if not c.source.abstract}
    assert live and read
    for claim in engine.claims:
        if claim.source.abstract:
            assert claim.text == f"{claim.source.title}\n\n{claim.source.abstract}"
        else:
            assert claim.text.strip()
    run = result["run"]
    assert run["status"] == "done" and run["failed_tasks"] == 0
    assert run["unresolved_citations"] == 0
    cited = cited_arxiv_ids(result)
    assert cited & CORPUS_IDS and cited - CORPUS_IDS  # both kinds
    assert cited - CORPUS_IDS <= FAKE_IDS


async def test_run_without_a_corpus_reviews_the_live_sources(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    result = await review(context(tmp_path))

    run = result["run"]
    assert run["status"] == "done" and run["failed_tasks"] == 0
    cited = cited_arxiv_ids(result)
    assert cited and cited <= FAKE_IDS
    assert scholarly.requests["arxiv"] and scholarly.requests["openalex"]
    assert run["sources"] >= len(cited)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_without_network_corpus_or_key_the_run_fails_fast_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("ARXIV_API_URL", "OPENALEX_API_URL"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port()}/api")

    started = time.monotonic()
    with pytest.raises(SwarmError) as raised:
        await review(context(tmp_path))

    assert time.monotonic() - started < 3
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("no sources: no --corpus given and arXiv and OpenAlex cannot be")
    assert "pass --corpus" in message


def test_swarm_run_without_sources_says_how_to_give_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("ARXIV_API_URL", "OPENALEX_API_URL"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port()}/api")

    code = main(["run", "RAG", "--out", str(tmp_path), "--quiet"])

    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1
    assert re.search(r"error: no sources: .* pass --corpus", lines[0])
