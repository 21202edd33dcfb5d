"""The whole swarm on the offline engine: from a prompt to review.md, references.bib, run.json."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import bibtexparser
import pytest

from graph.config import Context
from graph.swarm import graph
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT


async def run_swarm(prompt: str, corpus: list[Path], out: Path, **settings) -> dict:
    context = Context(corpus=[str(p) for p in corpus], out=str(out), **settings)
    return await graph.ainvoke(
        {"prompt": prompt},
        context.run_config("test"),
        context=context,
    )


def bib_keys(path: Path) -> set[str]:
    return {entry.key for entry in bibtexparser.parse_string(path.read_text()).entries}


def test_graph_shows_each_specialists_own_nodes() -> None:
    nodes = set(graph.get_graph(xray=1).nodes)
    for inner in (
        "search:retrieve",
        "search:screen",
        "citation:read",
        "writing:cluster",
        "writing:draft",
        "coding:tabulate",
        "formatting:render",
    ):
        assert inner in nodes
    assert {"plan", "merge", "finish"} <= nodes


@pytest.fixture(scope="module")
def demo_review(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("out")
    return asyncio.run(run_swarm(DEMO_PROMPT, [DEMO_CORPUS], out))


async def test_demo_review_is_cited_thematic_and_offline(demo_review: dict) -> None:
    run = demo_review["run"]
    assert run["status"] == "done"
    assert run["engine"] == "offline"
    assert run["themes"] >= 5
    assert run["sources"] >= 20
    assert run["unresolved_citations"] == 0
    folder = Path(run["files"][0]).parent
    assert {p.name for p in folder.iterdir()} >= {"review.md", "references.bib", "run.json"}
    assert json.loads((folder / "run.json").read_text()) == run


async def test_demo_review_reads_as_a_review(demo_review: dict) -> None:
    review = demo_review["review"]
    headings = re.findall(r"^#+ (.+)$", review, flags=re.M)
    for expected in ("Abstract", "Introduction", "Method", "Conclusion", "References"):
        assert any(expected in h for h in headings), expected
    assert any("Open questions" in h for h in headings)
    assert "offline engine" in review
    assert demo_review["run"]["words"] > 1500


async def test_every_in_text_citation_resolves_to_a_bibtex_entry(demo_review: dict) -> None:
    folder = Path(demo_review["run"]["files"][0]).parent
    keys = bib_keys(folder / "references.bib")
    assert len(keys) == demo_review["run"]["sources"]
    run = demo_review["run"]
    assert run["citations"] >= run["sources"]


async def test_sub_agents_run_in_parallel_waves(demo_review: dict) -> None:
    run = demo_review["run"]
    assert run["sub_agents"] > run["supersteps"]
    assert run["max_parallel"] > 1
    assert run["critical_steps"] < run["sub_agents"] * 2


async def test_corrupt_pdf_is_skipped_and_counted(tmp_path: Path, demo_corpus: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a pdf at all")
    result = await run_swarm(DEMO_PROMPT, [demo_corpus, extra], tmp_path / "out")
    assert result["run"]["status"] == "done"
    assert result["run"]["skipped_documents"] == 1


async def test_arxiv_slice_review_uses_a_wide_swarm(tmp_path: Path, arxiv_records: Path) -> None:
    result = await run_swarm(
        "Statistical process control and control charts: monitoring methods and their design",
        [arxiv_records],
        tmp_path / "out",
    )
    run = result["run"]
    assert run["status"] == "done"
    assert run["sources"] >= 50
    assert run["sub_agents"] >= 100
    assert run["max_parallel"] >= 32
    assert run["unresolved_citations"] == 0
