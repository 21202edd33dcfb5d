"""Durable runs: a killed run resumes without redoing finished work; failures and budgets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from graph.config import Context
from graph.engines.base import NotesRequest, SourceNotes
from graph.engines.offline import OfflineEngine
from graph.persistence import persistence
from graph.resources import use_engine
from graph.state import KINDS
from graph.swarm import builder, graph
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT, REPO, swarm_cli
from tests.fakes.openai_server import FakeOpenAIServer

NOTES_REQUEST = "Task: take reading notes on one source"


def swarm(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def notes_requests(server: FakeOpenAIServer) -> list[str]:
    """The source key of every reading-notes request the model server received."""
    keys = []
    for request in server.completions:
        text = request.text("user")
        if NOTES_REQUEST in text:
            keys.append(re.search(r'key="([^"]+)"', text).group(1))
    return keys


async def finished_reads(db: str, thread: str) -> tuple[dict[str, str], int]:
    """Citation tasks whose results the checkpoint holds (task id -> the source key it read),
    and how many citation tasks the board has."""
    async with persistence(db) as stored:
        compiled = builder.compile(checkpointer=stored.checkpointer)
        snapshot = await compiled.aget_state({"configurable": {"thread_id": thread}})
    values = snapshot.values or {}
    done = dict(values.get("results", {}))
    for task in snapshot.tasks:
        if task.result:
            done.update(task.result.get("results", {}))
    tasks = values.get("tasks", {})
    finished = {
        tid: tasks[tid]["payload"]["items"][0]["brief"]["key"]
        for tid, result in done.items()
        if tid.startswith("read-") and result["status"] == "done"
    }
    return finished, sum(1 for tid in tasks if tid.startswith("read-"))


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_resume_after_kill_skips_finished_agents(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = str(tmp_path / "runs.sqlite")
    if database == "postgres":
        db = request.getfixturevalue("postgres_url")
    with FakeOpenAIServer(latency=0.2) as server:
        env = {
            **os.environ,
            "SWARM_MODEL": "fake-model",
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "test-key",
        }
        common = [
            DEMO_PROMPT,
            "--corpus",
            str(DEMO_CORPUS),
            "--db",
            db,
            "--max-agents",
            "4",
            "--format",
            "md,bib",
            "--quiet",
        ]
        reference = swarm(
            ["run", *common, "--thread", f"whole-{database}", "--out", str(tmp_path / "whole")], env
        )
        assert reference.wait(timeout=300) == 0, reference.stderr.read()
        before = len(notes_requests(server))

        killed = swarm(
            ["run", *common, "--thread", f"killed-{database}", "--out", str(tmp_path / "killed")],
            env,
        )
        deadline = time.monotonic() + 120
        while len(notes_requests(server)) - before < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        finished, reads = asyncio.run(finished_reads(db, f"killed-{database}"))
        assert finished, "no citation task had finished before the kill"
        assert len(finished) < reads, "the kill came after the citation wave"

        resumed = swarm(["resume", f"killed-{database}", "--db", db, "--quiet"], env)
        assert resumed.wait(timeout=300) == 0, resumed.stderr.read()

        calls = Counter(notes_requests(server)[before:])
    for key in finished.values():
        assert calls[key] == 1, f"{key} was read again after the resume"
    whole = next((tmp_path / "whole").iterdir())
    again = next((tmp_path / "killed").iterdir())
    assert (again / "review.md").read_text() == (whole / "review.md").read_text()
    assert (again / "references.bib").read_text() == (whole / "references.bib").read_text()


async def test_the_run_saves_each_sub_agents_result_and_nothing_of_its_own(
    tmp_path: Path,
) -> None:
    context = Context(corpus=[str(DEMO_CORPUS)], out=str(tmp_path / "out"), formats=["md"])
    config = context.run_config("results")
    db = tmp_path / "runs.sqlite"
    async with persistence(str(db)) as stored:
        compiled = builder.compile(checkpointer=stored.checkpointer)
        out = await compiled.ainvoke(
            {"prompt": DEMO_PROMPT}, config, context=context, durability="sync"
        )
        history = [s async for s in compiled.aget_state_history(config)]
    assert out["run"]["status"] == "done"
    with sqlite3.connect(db) as conn:
        for table in ("checkpoints", "writes"):
            spaces = {ns for (ns,) in conn.execute(f"SELECT DISTINCT checkpoint_ns FROM {table}")}
            assert spaces == {""}, table
    saved_results = {
        tid
        for s in history
        for task in s.tasks
        if task.name in KINDS
        for tid in task.result["results"]
    }
    assert len(saved_results) == out["run"]["sub_agents"]


async def test_writes_of_tasks_that_finish_together_are_committed_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with persistence(str(tmp_path / "runs.sqlite")) as stored:
        saver = stored.checkpointer
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        config = await saver.aput(config, empty_checkpoint(), {}, {})
        commits = 0
        commit = saver.conn.commit

        async def counted() -> None:
            nonlocal commits
            commits += 1
            await commit()

        monkeypatch.setattr(saver.conn, "commit", counted)
        await asyncio.gather(
            *(
                saver.aput_writes(config, [("results", {f"t{i}": i})], f"task-{i}")
                for i in range(200)
            )
        )
        saved = await saver.aget_tuple(config)
        assert commits <= 2
        assert {task: value for task, _, value in saved.pending_writes} == {
            f"task-{i}": {f"t{i}": i} for i in range(200)
        }

        executemany = saver.conn.executemany

        async def broken(*args: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(saver.conn, "executemany", broken)
        failed = await asyncio.gather(
            *(saver.aput_writes(config, [("results", {"lost": i})], f"lost-{i}") for i in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(e, sqlite3.OperationalError) for e in failed)
        monkeypatch.setattr(saver.conn, "executemany", executemany)
        await saver.aput_writes(config, [("results", {"after": 1})], "after")
        writes = (await saver.aget_tuple(config)).pending_writes
        assert len(writes) == 201 and not any(task.startswith("lost") for task, _, _ in writes)


class UnreliableEngine(OfflineEngine):
    """Raises on some sources' notes and hangs on others."""

    async def extract_notes(self, request: NotesRequest) -> SourceNotes:
        if request.source.key[0] in "gh":
            raise ValueError("cannot parse this source")
        if request.source.key[0] == "x":
            await asyncio.sleep(3600)
        return await super().extract_notes(request)


async def test_failing_and_hanging_agents_are_recorded_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    use_engine(UnreliableEngine())
    try:
        context = Context(
            corpus=[str(DEMO_CORPUS)], out=str(tmp_path), task_timeout=2, retries=1, formats=["md"]
        )
        result = await graph.ainvoke({"prompt": DEMO_PROMPT}, context=context)
    finally:
        use_engine(None)
    run = result["run"]
    assert run["status"] == "done"
    failed = {f["task"]: f["error"] for f in run["failures"]}
    assert run["failed_tasks"] == len(failed) >= 3
    assert any("ValueError" in e for e in failed.values())
    assert any("longer than 2 s" in e for e in failed.values())
    on_disk = json.loads((Path(run["files"][0]).parent / "run.json").read_text())
    assert on_disk["failed_tasks"] == run["failed_tasks"]


def test_small_step_budget_ends_gracefully_with_files(tmp_path: Path) -> None:
    done = swarm_cli(
        "run",
        DEMO_PROMPT,
        "--corpus",
        str(DEMO_CORPUS),
        "--out",
        str(tmp_path / "out"),
        "--db",
        str(tmp_path / "runs.sqlite"),
        "--max-steps",
        "50",
        "--format",
        "md,bib",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert "budget ran out" in done.stderr
    folder = next((tmp_path / "out").iterdir())
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "budget_exhausted" and run["budget"] == "steps"
    assert (folder / "review.md").stat().st_size > 0
    assert run["sub_agents"] < 60  # the whole demo review takes some 90 sub-agents


class FlakyModel(FakeOpenAIServer):
    """Garbles its notes on sources whose key starts with g or h; never answers on x."""

    def __init__(self) -> None:
        super().__init__()
        self._switch = threading.Lock()

    def complete(self, body: dict, number: int) -> tuple[int, dict]:
        text = str(body["messages"][-1].get("content"))
        key = re.search(r'key="([^"]+)"', text) if NOTES_REQUEST in text else None
        if key and key.group(1)[0] == "x":
            time.sleep(6)
        with self._switch:
            self.mode = "malformed" if key and key.group(1)[0] in "gh" else "schema"
            return super().complete(body, number)


def test_failed_agents_end_the_command_with_a_warning_not_an_error(tmp_path: Path) -> None:
    with FlakyModel() as server:
        env = {
            **os.environ,
            "SWARM_MODEL": "fake-model",
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "test-key",
        }
        done = swarm(
            [
                "run",
                DEMO_PROMPT,
                "--corpus",
                str(DEMO_CORPUS),
                "--db",
                str(tmp_path / "db"),
                "--out",
                str(tmp_path / "out"),
                "--format",
                "md",
                "--task-timeout",
                "2",
                "--quiet",
            ],
            env,
        )
        code = done.wait(timeout=300)
    assert code == 0, done.stderr.read()
    assert "warning:" in done.stderr.read()
    run = json.loads(next((tmp_path / "out").glob("*/run.json")).read_text())
    errors = " ".join(f["error"] for f in run["failures"])
    assert run["status"] == "done" and run["failed_tasks"] >= 2
    assert "AnswerError" in errors and "longer than 2 s" in errors
