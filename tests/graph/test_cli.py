"""The `swarm` command: bad input fails fast with one line; the main job writes the review."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from graph.cli import GC_THRESHOLDS, main, run_async
from graph.errors import SwarmError
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT, swarm_cli


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "   ", "--corpus", str(DEMO_CORPUS)], "empty prompt"),
        (["run", "RAG", "--corpus", "/nonexistent/papers"], "does not exist"),
        (["run", "RAG"], "no sources"),
        (["run", "RAG", "--corpus", str(DEMO_CORPUS), "--format", "md,odt"], "unknown format"),
        (["run", "RAG", "--corpus", str(DEMO_CORPUS), "--style", "mla"], "unknown style"),
    ],
)
def test_bad_input_fails_with_one_line_before_any_agent(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = run_cli([*argv, "--out", str(tmp_path / "out")], capsys)
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]
    assert not any((tmp_path / "out").glob("*/run.json"))


def test_empty_corpus_folder_fails_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "papers"
    empty.mkdir()
    code, err = run_cli(["run", "RAG", "--corpus", str(empty), "--out", str(tmp_path)], capsys)
    assert code != 0
    assert "no sources found" in err and len(err.strip().splitlines()) == 1


def test_unwritable_output_folder_fails_before_any_agent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, err = run_cli(
        ["run", "RAG", "--corpus", str(DEMO_CORPUS), "--out", str(blocker / "out")], capsys
    )
    assert code != 0
    assert "cannot write to the output folder" in err and len(err.strip().splitlines()) == 1
    assert blocker.read_text() == "not a folder"


def test_swarm_command_writes_the_demo_review(tmp_path: Path) -> None:
    """The README's main job, as a newcomer runs it: a subprocess of the installed command."""
    env = {**os.environ, "SWARM_DB": str(tmp_path / "runs.sqlite")}
    done = swarm_cli(
        "run",
        DEMO_PROMPT,
        "--corpus",
        str(DEMO_CORPUS),
        "--out",
        str(tmp_path / "out"),
        "--thread",
        "demo-1",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    folder = next((tmp_path / "out").iterdir())
    run = json.loads((folder / "run.json").read_text())
    assert run["thread_id"] == "demo-1"
    assert {Path(f).name for f in run["files"]} >= {"review.md", "references.bib", "run.json"}
    assert str(folder / "review.md") in done.stdout.splitlines()


def test_corpus_build_snapshots_live_sources_into_a_records_file(tmp_path: Path) -> None:
    from tests.fakes.scholarly_server import FakeScholarlyServer

    with FakeScholarlyServer() as server:
        env = {**os.environ, **server.environ(), "SWARM_CACHE_DIR": str(tmp_path / "cache")}
        done = swarm_cli(
            "corpus",
            "build",
            "retrieval augmented generation",
            "--from",
            "arxiv,openalex",
            "--out",
            str(tmp_path / "snap"),
            "--limit",
            "10",
            env=env,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == tmp_path / "snap" and path.suffix == ".jsonl"
    assert len(path.read_text().splitlines()) >= 2


def test_live_view_counts_agents_steps_and_tokens() -> None:
    from rich.console import Console

    from graph.cli import Progress

    progress = Progress("t-1")
    progress.event({"event": "task_started", "kind": "citation"})
    progress.event({"event": "task_started", "kind": "citation"})
    progress.event({"event": "task_finished", "kind": "citation", "steps": 4, "tokens": 1200})
    progress.event({"event": "task_failed", "kind": "citation", "steps": 2, "tokens": 30})
    console = Console(record=True, width=200)
    console.print(progress.render())
    text = console.export_text()
    assert "1 agents done" in text and "6 steps" in text and "1,230 tokens" in text
    row = next(line for line in text.splitlines() if line.startswith("citation"))
    assert row.split()[1:] == ["0", "1", "1"]


def test_commands_collect_cyclic_garbage_less_often_and_restore_the_collector() -> None:
    async def thresholds() -> tuple[int, int, int]:
        return gc.get_threshold()

    before = gc.get_threshold()
    assert run_async(thresholds()) == GC_THRESHOLDS != before
    assert gc.get_threshold() == before

    async def fails() -> None:
        raise SwarmError("stop")

    with pytest.raises(SwarmError):
        run_async(fails())
    assert gc.get_threshold() == before
