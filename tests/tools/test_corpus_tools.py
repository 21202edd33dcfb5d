from __future__ import annotations

from pathlib import Path

import pytest

from tools.corpus import Corpus
from tools.corpus_tools import corpus_tools, snippet


@pytest.fixture
def tools(papers: Path, tmp_path: Path) -> dict:
    corpus = Corpus.load([papers], cache_dir=tmp_path / "cache")
    return {tool.name: tool for tool in corpus_tools(corpus)}


def test_corpus_search_returns_citable_results(tools: dict) -> None:
    [hit] = tools["corpus_search"].invoke({"query": "Shewhart charts", "k": 1})

    assert hit == {
        "identity": "doi:10.1000/charts.7",
        "title": "Shewhart Charts Revisited",
        "authors": ["Chen, Bo", "Roberts, Sam"],
        "year": 2019,
        "venue": "Journal of Quality",
        "snippet": hit["snippet"],
        "score": hit["score"],
    }
    assert "Shewhart" in hit["snippet"]
    assert hit["score"] > 0


async def test_read_document_truncates_long_text(tmp_path: Path) -> None:
    long_note = tmp_path / "long.txt"
    long_note.write_text("Long note\n\n" + "words " * 1000, encoding="utf-8")
    corpus = Corpus.load([long_note], cache_dir=tmp_path / "cache")
    read_document = corpus_tools(corpus)[1]

    text = await read_document.ainvoke({"identity": "title:long note|n.d.", "max_chars": 500})

    assert text.startswith("Long note\n\nwords words")
    assert text.endswith("[truncated: 500 of 6010 characters shown]")


def test_read_document_of_an_unknown_identity_tells_the_agent_what_to_do(tools: dict) -> None:
    answer = tools["read_document"].invoke({"identity": "doi:10.1/none"})

    assert answer.startswith("no document 'doi:10.1/none' in the corpus")


def test_snippet_picks_the_passage_with_the_most_query_terms() -> None:
    text = "Intro sentence. Wind turbines fail. Control charts detect shifts. Outro."

    assert snippet(text, {"control", "chart"}).startswith("Control charts detect shifts.")
    assert snippet("word " * 200, {"absent"}, width=50).endswith(" …")
