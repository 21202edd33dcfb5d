from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from graph.errors import SwarmError
from tests.tools.sample_files import write_pdf
from tools.corpus import Corpus, default_cache_dir, load_corpus

ARXIV = Path(__file__).resolve().parents[2].parent / "shared/data/arxiv/abstracts.jsonl"


def test_folder_is_read_recursively_by_extension(papers: Path, tmp_path: Path) -> None:
    corpus = Corpus.load([papers], cache_dir=tmp_path / "cache")

    assert len(corpus) == 5
    assert corpus.stats.files_seen == 5
    assert corpus.stats.documents == 5
    assert corpus.stats.skipped == {}
    assert {source.title for source in corpus.documents} == {
        "Retrieval-Augmented Generation for Knowledge-Intensive NLP",
        "Sequential Bayesian Design",
        "Shewhart Charts Revisited",
        "A Survey of Degradation Models",
        "Photon pairs in a synthetic record",
    }
    assert "Retrieval helps generation" in corpus.text("arxiv:2005.11401")
    assert corpus.get("doi:10.1000/charts.7").venue == "Journal of Quality"


def test_single_files_can_be_given_alongside_folders(papers: Path, tmp_path: Path) -> None:
    corpus = Corpus.load(str(papers / "survey.md"), cache_dir=tmp_path / "cache")

    assert [source.identity for source in corpus.documents] == ["doi:10.1000/deg.1"]


def test_corrupt_pdf_is_skipped_and_counted(
    papers: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = papers / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not really a PDF\n")

    with caplog.at_level(logging.WARNING, logger="tools.corpus"):
        corpus = Corpus.load([papers], cache_dir=tmp_path / "cache")

    assert len(corpus) == 5
    assert corpus.stats.files_seen == 6
    assert list(corpus.stats.skipped) == [str(broken.resolve())]
    assert any(str(broken.resolve()) in record.getMessage() for record in caplog.records)


def test_malformed_records_are_skipped_with_a_counted_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text('{"title": "Kept", "year": 2001}\n{broken\n', encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="tools.corpus"):
        corpus = Corpus.load([records], cache_dir=tmp_path / "cache")

    assert len(corpus) == 1
    assert list(corpus.stats.skipped) == [f"{records.resolve()}#2"]
    assert any("#2" in record.getMessage() for record in caplog.records)


def test_duplicates_across_formats_merge_into_one_document(tmp_path: Path) -> None:
    folder = tmp_path / "dupes"
    folder.mkdir()
    pdf = write_pdf(
        folder / "attention.pdf",
        [["Attention Is All You Need", "arXiv:1706.03762v7", "Full text about transformers."]],
    )
    (folder / "refs.bib").write_text(
        "@inproceedings{vaswani2017, title = {Attention Is All You Need},\n"
        "  author = {Vaswani, Ashish and Shazeer, Noam}, year = 2017,\n"
        "  booktitle = {NeurIPS}, eprint = {1706.03762}, archivePrefix = {arXiv},\n"
        "  abstract = {The dominant sequence transduction models.}}\n",
        encoding="utf-8",
    )
    (folder / "arxiv.jsonl").write_text(
        json.dumps({"id": "1706.03762", "title": "Attention is all you need", "year": 2017}) + "\n",
        encoding="utf-8",
    )

    corpus = Corpus.load([folder], cache_dir=tmp_path / "cache")

    [source] = corpus.documents
    assert source.identity == "arxiv:1706.03762"
    assert source.authors == ["Vaswani, Ashish", "Shazeer, Noam"]
    assert source.venue == "NeurIPS"
    assert source.abstract == "The dominant sequence transduction models."
    assert source.origin == str(pdf.resolve())
    assert "Full text about transformers." in corpus.text(source.identity)
    assert corpus.stats.merged == 2
    assert corpus.stats.documents == 1


def test_cache_is_reused_when_nothing_changed(papers: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    first = Corpus.load([papers], cache_dir=cache)
    second = Corpus.load([papers], cache_dir=cache)

    assert not first.cached
    assert second.cached
    assert second.fingerprint == first.fingerprint
    assert [s.identity for s in second.documents] == [s.identity for s in first.documents]
    assert second.stats == first.stats
    assert second.search("control charts", 3) == first.search("control charts", 3)
    assert [path.name for path in cache.iterdir()] == [first.fingerprint]


@pytest.mark.parametrize("change", ["modify", "add", "remove"])
def test_cache_is_rebuilt_when_a_file_changes(papers: Path, tmp_path: Path, change: str) -> None:
    cache = tmp_path / "cache"
    before = Corpus.load([papers], cache_dir=cache)
    survey = papers / "survey.md"
    if change == "modify":
        survey.write_text("---\ntitle: Wind Turbine Monitoring\n---\nBody.\n", encoding="utf-8")
        os.utime(survey, ns=(survey.stat().st_atime_ns, survey.stat().st_mtime_ns + 10**9))
    elif change == "add":
        (papers / "nested" / "new.txt").write_text("Wind Turbine Monitoring\n", encoding="utf-8")
    else:
        survey.unlink()

    after = Corpus.load([papers], cache_dir=cache)

    assert not after.cached
    assert after.fingerprint != before.fingerprint
    assert (cache / after.fingerprint).is_dir()
    titles = {source.title for source in after.documents}
    assert ("Wind Turbine Monitoring" in titles) == (change != "remove")
    assert ("A Survey of Degradation Models" in titles) == (change == "add")


def test_damaged_cache_is_rebuilt(papers: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Corpus.load([papers], cache_dir=cache)
    (cache / first.fingerprint / "texts.json").unlink()

    again = Corpus.load([papers], cache_dir=cache)
    third = Corpus.load([papers], cache_dir=cache)

    assert not again.cached
    assert len(again) == len(first)
    assert third.cached


def test_cache_is_written_whole_without_leftovers(papers: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    corpus = Corpus.load([papers], cache_dir=cache)

    assert sorted(path.name for path in cache.iterdir()) == [corpus.fingerprint]
    written = sorted(path.name for path in (cache / corpus.fingerprint).iterdir())
    assert written == ["index", "sources.json", "stats.json", "texts.json"]


def test_default_cache_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SWARM_CACHE_DIR", str(tmp_path / "swarm"))
    assert default_cache_dir() == tmp_path / "swarm"
    monkeypatch.delenv("SWARM_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "agent-swarm"


def test_load_corpus_shares_one_corpus_per_fingerprint(papers: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    first = load_corpus([papers], cache)
    same = load_corpus([str(papers)], cache)
    (papers / "more.md").write_text("# Another note\n", encoding="utf-8")
    changed = load_corpus([papers], cache)

    assert same is first
    assert changed is not first
    assert len(changed) == len(first) + 1


def test_missing_path_raises_a_swarm_error(tmp_path: Path) -> None:
    with pytest.raises(SwarmError, match=r"corpus path .*nowhere does not exist"):
        Corpus.load([tmp_path / "nowhere"], cache_dir=tmp_path / "cache")


def test_folder_without_sources_raises_a_swarm_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "photo.jpg").write_bytes(b"")

    with pytest.raises(SwarmError, match=r"no sources found in .*empty: add PDF"):
        Corpus.load([empty], cache_dir=tmp_path / "cache")


def test_folder_of_unreadable_files_raises_a_swarm_error(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "broken.pdf").write_bytes(b"not a pdf")

    with pytest.raises(SwarmError, match=r"no sources found .*\(1 could not be read"):
        Corpus.load([folder], cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_unsupported_file_raises_a_swarm_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.rtf"
    path.write_text("{\\rtf1}", encoding="utf-8")

    with pytest.raises(SwarmError, match="unsupported type"):
        Corpus.load([path], cache_dir=tmp_path / "cache")


def test_search_returns_positive_scores_best_first(papers: Path, tmp_path: Path) -> None:
    corpus = Corpus.load([papers], cache_dir=tmp_path / "cache")

    hits = corpus.search("control chart", k=10)

    assert hits[0][0].title == "Shewhart Charts Revisited"
    assert all(score > 0 for _, score in hits)
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    assert corpus.search("the of and", k=10) == []
    assert corpus.search("zeppelin", k=10) == []


def test_unknown_identity_raises_key_error(papers: Path, tmp_path: Path) -> None:
    corpus = Corpus.load([papers], cache_dir=tmp_path / "cache")

    assert "doi:10.1/none" not in corpus
    with pytest.raises(KeyError, match="no document"):
        corpus.text("doi:10.1/none")


@pytest.mark.skipif(not ARXIV.is_file(), reason="shared arXiv abstracts not present")
def test_arxiv_abstracts_load_and_rank_control_chart_papers_first(tmp_path: Path) -> None:
    corpus = Corpus.load([ARXIV], cache_dir=tmp_path / "cache")

    assert 5_000 <= len(corpus) <= 6_000
    assert corpus.stats.skipped == {}
    hits = corpus.search("control chart", k=10)
    assert len(hits) == 10
    assert all("chart" in source.title.lower() for source, _ in hits[:5])
    assert not any("\\'" in name for source in corpus.documents for name in source.authors)
    assert Corpus.load([ARXIV], cache_dir=tmp_path / "cache").cached
