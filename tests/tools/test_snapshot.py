"""Snapshots of live sources as records files that the corpus reads back offline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from graph.errors import SwarmError
from tests.fakes.scholarly_server import FakeScholarlyServer
from tools.corpus import Corpus
from tools.http import HttpPolicy
from tools.snapshot import build_corpus, snapshot


def test_build_corpus_writes_records_the_corpus_reads(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, tmp_path: Path
) -> None:
    path = build_corpus(
        "retrieval augmented generation", ["arxiv", "openalex"], tmp_path / "snap", 10, policy
    )

    assert path == tmp_path / "snap" / "retrieval-augmented-generation.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {"id", "title", "authors", "year", "venue", "doi", "arxiv", "url", "abstract"} <= set(
        records[0]
    )
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert "2401.15884" in ids  # found by both providers, written once
    assert "doi:10.18653/v1/2023.emnlp-main.322" in ids  # OpenAlex only
    corpus = Corpus.load(path, tmp_path / "index")
    assert len(corpus) == len(records)
    assert "arxiv:2401.15884" in corpus
    assert "lightweight retrieval evaluator" in corpus.text("arxiv:2401.15884")
    assert corpus.search("corrective retrieval evaluator", 1)[0][0].arxiv_id == "2401.15884"


async def test_crossref_fills_the_gaps_of_records_with_a_doi(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, tmp_path: Path
) -> None:
    scholarly.mode["openalex"] = "unavailable"

    path = await snapshot("dense passage retrieval", ["arxiv", "crossref"], tmp_path, 10, policy)

    records = {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}
    dpr = records["2004.04906"]  # arXiv knows its DOI, not its venue
    assert dpr["venue"] == "Proceedings of EMNLP 2020"
    assert dpr["authors"][0] == "Vladimir Karpukhin"  # arXiv's names are kept
    assert records["2401.15884"]["venue"] is None  # no DOI: nothing to look up
    assert [r.path for r in scholarly.requests["crossref"]] == [
        "/crossref/works/10.18653/v1/2020.emnlp-main.550"  # the others lack nothing
    ]


async def test_a_failing_provider_is_named_and_the_snapshot_goes_on(
    scholarly: FakeScholarlyServer,
    policy: HttpPolicy,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scholarly.mode["openalex"] = "malformed"

    with caplog.at_level(logging.WARNING):
        path = await snapshot("dense passage retrieval", ["arxiv", "openalex"], tmp_path, 5, policy)

    assert path.read_text().strip()
    assert "openalex failed: the response is not JSON" in caplog.text


async def test_nothing_found_anywhere_is_one_clear_error(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, tmp_path: Path
) -> None:
    scholarly.mode["arxiv"] = "unavailable"
    scholarly.mode["openalex"] = "no_results"

    with pytest.raises(SwarmError, match=r"no records found for 'rag' in arxiv, openalex \(arxiv"):
        await snapshot("rag", ["arxiv", "openalex"], tmp_path, 5, policy)
    assert not list(tmp_path.glob("*.jsonl"))


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["arxiv", "scholar"], "unknown source 'scholar' for --from"),
        (["crossref"], "--from names nothing to search"),
        (["tavily"], "TAVILY_API_KEY is not set"),
    ],
)
async def test_bad_provider_lists_are_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, names: list[str], message: str
) -> None:
    monkeypatch.delenv("TAVILY_API_KEY", raising=False)

    with pytest.raises(SwarmError, match=message):
        await snapshot("rag", names, tmp_path, 5)
