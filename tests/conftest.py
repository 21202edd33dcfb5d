"""Shared fixtures: the demo corpus, the shared arXiv records, an isolated cache and database."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_CORPUS = REPO / "examples" / "corpus"
ARXIV = REPO.parent / "shared" / "data" / "arxiv" / "abstracts.jsonl"
DEMO_PROMPT = (
    "Retrieval-augmented generation for large language models: "
    "methods, evaluation and open problems"
)


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads a real model's settings or writes into the user's home."""
    patch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    patch.setenv("SWARM_CACHE_DIR", str(home / "cache"))
    patch.setenv("SWARM_DB", str(home / "runs.sqlite"))
    for name in ("SWARM_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "TAVILY_API_KEY"):
        patch.delenv(name, raising=False)
    yield
    patch.undo()


@pytest.fixture
def demo_corpus() -> Path:
    return DEMO_CORPUS


@pytest.fixture
def arxiv_records() -> Path:
    if not ARXIV.exists():
        pytest.skip("../shared/data/arxiv/abstracts.jsonl is not present")
    return ARXIV
