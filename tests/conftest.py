"""Shared fixtures: the demo corpus, the shared arXiv records, an isolated cache and database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
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
    """No test reads a real model's settings, writes into the user's home or reaches the web.

    The live sources point at a closed local port: a test that forgets its fake server
    gets a refused connection, never a real API.
    """
    patch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    patch.setenv("SWARM_CACHE_DIR", str(home / "cache"))
    patch.setenv("SWARM_DB", str(home / "runs.sqlite"))
    for name in ("SWARM_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "TAVILY_API_KEY"):
        patch.delenv(name, raising=False)
    for name in ("SWARM_MAILTO", "OPENALEX_API_KEY"):
        patch.delenv(name, raising=False)
    for name in ("ARXIV_API_URL", "OPENALEX_API_URL", "CROSSREF_API_URL", "TAVILY_BASE_URL"):
        patch.setenv(name, "http://127.0.0.1:9/offline")
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


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real PostgreSQL server on 127.0.0.1 and a free port, for this test session only.

    `.ci/run` installs PostgreSQL; elsewhere the tests that need it skip when it is absent.
    """
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = tmp_path_factory.mktemp("postgres")
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        root.chmod(0o755)
        for parent in root.parents:
            if parent == Path(tempfile.gettempdir()):
                break
            parent.chmod(parent.stat().st_mode | 0o711)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        [
            *as_user,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "swarm",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run(
        [
            *as_user,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    yield f"postgresql://swarm@127.0.0.1:{port}/postgres"
    subprocess.run(
        [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
        capture_output=True,
    )


def swarm_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`swarm ARGS` as a user runs it: a process of its own, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
