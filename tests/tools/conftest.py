"""Fixtures: a folder of small real documents and records, a text-file writer, fake web APIs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.scholarly_server import FakeScholarlyServer
from tests.tools.sample_files import write_docx, write_pdf
from tools.http import HttpPolicy


@pytest.fixture
def papers(tmp_path: Path) -> Path:
    """A folder with one document of each kind and a JSON Lines records file."""
    folder = tmp_path / "papers"
    (folder / "nested").mkdir(parents=True)
    write_pdf(
        folder / "rag.pdf",
        [
            [
                "Retrieval-Augmented Generation for Knowledge-Intensive NLP",
                "arXiv:2005.11401v4 [cs.CL] 12 Apr 2021",
                "Abstract",
                "Large pre-trained language models store factual knowledge.",
            ],
            ["1 Introduction", "Retrieval helps generation on open domain questions."],
        ],
        author="Patrick Lewis; Ethan Perez",
    )
    write_docx(
        folder / "nested" / "notes.docx",
        ["Bayesian optimisation of experiments", "We design sequential experiments."],
        title="Sequential Bayesian Design",
        author="Ann Lee",
    )
    (folder / "page.html").write_text(
        "<html><head><title>Page title</title>"
        '<meta name="citation_title" content="Shewhart Charts Revisited">'
        '<meta name="citation_author" content="Chen, Bo">'
        '<meta name="citation_author" content="Roberts, Sam">'
        '<meta name="citation_doi" content="10.1000/charts.7">'
        '<meta name="citation_publication_date" content="2019/03/01">'
        '<meta name="citation_journal_title" content="Journal of Quality">'
        "<script>var hidden = 'do not index';</script></head>"
        "<body><h1>Shewhart Charts Revisited</h1><p>Control charts monitor a process.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    (folder / "survey.md").write_text(
        "---\ntitle: A Survey of Degradation Models\nauthors: Kim, Ji; Park, Min\nyear: 2021\n"
        "venue: Reliability Engineering\ndoi: https://doi.org/10.1000/DEG.1\n---\n"
        "# A Survey of Degradation Models\n\nWe review gamma and Wiener degradation processes.\n",
        encoding="utf-8",
    )
    (folder / "records.jsonl").write_text(
        json.dumps(
            {
                "id": "2101.00001",
                "title": "Photon pairs in a synthetic record",
                "authors": ["C. Bal\\'azs"],
                "year": 2007,
                "abstract": "A calculation of $\\gamma\\gamma$ pairs.",
                "categories": ["hep-ph"],
                "doi": None,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    (folder / ".hidden.md").write_text("# Not a source\n", encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG")
    return folder


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write text to a file named `name` under tmp_path and return its path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


@pytest.fixture
def scholarly(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeScholarlyServer]:
    """Local arXiv, OpenAlex, Crossref and Tavily APIs, with the environment pointing at them."""
    with FakeScholarlyServer() as server:
        for name, value in server.environ().items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def policy(tmp_path: Path) -> HttpPolicy:
    """The HTTP policy with a cache of this test's own and quick backoff."""
    return HttpPolicy(backoff=0.01, max_backoff=0.05, cache_dir=tmp_path / "http-cache")
