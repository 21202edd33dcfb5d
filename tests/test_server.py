"""The swarm behind `langgraph dev`: what Studio and the langgraph-sdk client see, over real HTTP.

One server for the module, started the way a user starts it, from a scratch folder (the
server keeps its `.langgraph_api` there) with the repository's langgraph.json, its graph
path made absolute. No network: the CLI's analytics, version check and LangSmith tracing
are switched off, and the demo corpus is the only source.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

from graph.config import Context
from graph.state import KINDS
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT, REPO

STARTUP_TIMEOUT = 60.0
OFFLINE = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
}
ACCOUNT_KEYS = (
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGGRAPH_CLOUD_LICENSE_KEY",
    "LANGSMITH_ENDPOINT",
    "LANGCHAIN_ENDPOINT",
)


@dataclass(frozen=True)
class Server:
    url: str
    port: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config_for(folder: Path) -> Path:
    """The repository's langgraph.json with its graph files made absolute.

    `langgraph dev` resolves them against its working folder; this is the config it
    reads from the repository root, made usable from `folder`."""
    config = json.loads((REPO / "langgraph.json").read_text())
    for graph_id, spec in config["graphs"].items():
        path, variable = spec.rsplit(":", 1)
        assert (REPO / path).is_file(), f"langgraph.json: {graph_id} -> {path} is missing"
        config["graphs"][graph_id] = f"{(REPO / path).resolve()}:{variable}"
    target = folder / "langgraph.json"
    target.write_text(json.dumps(config))
    return target


def wait_until_ready(process: subprocess.Popen[bytes], log: Path) -> str:
    """The URL the server prints, once it answers GET /ok."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if url is None:
            found = re.search(r"API: \S*?(http://[\w.:\[\]]+)", log.read_text(errors="replace"))
            url = found and found.group(1)
        if url:
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:]
    raise AssertionError(f"langgraph dev did not come up (exit {process.poll()}):\n{tail}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("langgraph-dev")
    config = config_for(folder)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ACCOUNT_KEYS}
    env.update(OFFLINE, HOME=str(folder))
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "langgraph_cli", "dev", "--no-browser", "--no-reload"]
            + ["--port", str(port), "--config", str(config)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = wait_until_ready(process, log)
        yield Server(url=url, port=int(url.rsplit(":", 1)[1]))
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server's whole process group: gently, then for good."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)
                words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
                packed = b"".join(words)
                family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
                found.add(socket.inet_ntop(family, packed))
    return found


def outward_address() -> str | None:
    """This machine's address towards other hosts, if it has one (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_server_listens_on_loopback_only(server: Server) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux's /proc/net/tcp")
    assert server.url.startswith("http://127.0.0.1:")
    assert listening_addresses(server.port) == {"127.0.0.1"}
    if address := outward_address():
        with pytest.raises(OSError):
            socket.create_connection((address, server.port), timeout=2).close()


async def test_assistant_serves_the_swarm_with_its_specialists_inside(server: Server) -> None:
    client = get_client(url=server.url)
    (assistant,) = await client.assistants.search(graph_id="swarm")
    drawing = await client.assistants.get_graph(assistant["assistant_id"], xray=True)
    nodes = {node["id"] for node in drawing["nodes"]}
    assert {"plan", "merge", "review_plan", "finish"} <= nodes
    assert all(any(node.startswith(f"{kind}:") for node in nodes) for kind in KINDS)
    steps = {
        "search:retrieve",
        "citation:read",
        "writing:draft",
        "formatting:render",
        "coding:fill",
    }
    assert steps <= nodes


async def test_run_settings_are_configurable_with_their_descriptions(server: Server) -> None:
    client = get_client(url=server.url)
    (assistant,) = await client.assistants.search(graph_id="swarm")
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    properties = schemas["context_schema"]["properties"]
    for setting in dataclasses.fields(Context):
        assert properties[setting.name]["description"] == setting.metadata["description"]
    assert schemas["input_schema"]["required"] == ["prompt"]
    assert {"review", "files", "run"} <= set(schemas["output_schema"]["properties"])


async def test_run_streams_specialist_progress_and_ends_with_the_review(
    server: Server, tmp_path: Path
) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    context = {"corpus": [str(DEMO_CORPUS)], "out": str(tmp_path), "formats": ["md", "bib"]}
    progress: list[tuple[str, dict]] = []
    final: dict = {}
    async for part in client.runs.stream(
        thread["thread_id"],
        "swarm",
        input={"prompt": DEMO_PROMPT},
        context=context,
        stream_mode=["custom", "values"],
        stream_subgraphs=True,
    ):
        assert part.event != "error", part.data
        if part.event.startswith("custom"):
            progress.append((part.event, part.data))
        elif part.event == "values":
            final = part.data

    assert ("custom", "planned") in {(where, event["event"]) for where, event in progress}
    started = {e["task"]: e["kind"] for where, e in progress if e["event"] == "task_started"}
    finished = {e["task"] for where, e in progress if e["event"] == "task_finished"}
    assert set(started.values()) == set(KINDS)
    assert finished == set(started)
    assert all(where.startswith(f"custom|{e['kind']}:") for where, e in progress if "kind" in e)

    assert final["review"].startswith("# ")
    assert {Path(f).name for f in final["files"]} == {"review.md", "references.bib", "run.json"}
    assert all(Path(f).is_relative_to(tmp_path) and Path(f).is_file() for f in final["files"])
    assert final["run"]["sub_agents"] == len(started)

    history = await client.threads.get_history(thread["thread_id"], limit=1000)
    steps = [checkpoint["metadata"]["step"] for checkpoint in history]
    assert steps == list(range(steps[0], -2, -1))
    assert len({checkpoint["checkpoint_id"] for checkpoint in history}) == len(history)
    assert history[0]["next"] == []
    assert history[0]["values"]["review"] == final["review"]


async def test_review_plan_pauses_and_the_run_follows_the_edited_plan(
    server: Server, tmp_path: Path
) -> None:
    client = get_client(url=server.url)
    thread = await client.threads.create()
    context = {
        "corpus": [str(DEMO_CORPUS)],
        "out": str(tmp_path),
        "formats": ["md"],
        "review_plan": True,
    }
    async for part in client.runs.stream(
        thread["thread_id"], "swarm", input={"prompt": DEMO_PROMPT}, context=context
    ):
        assert part.event != "error", part.data
    paused = await client.threads.get_state(thread["thread_id"])
    assert paused["next"] == ["review_plan"]
    (pause,) = paused["interrupts"]
    themes = pause["value"]["plan"]["themes"]
    assert len(themes) >= 3
    assert "review" not in paused["values"]

    dropped, kept = themes[0], themes[1:]
    final: dict = {}
    async for part in client.runs.stream(
        thread["thread_id"],
        "swarm",
        command={"resume": {"themes": kept}},
        context=context,
        stream_mode="values",
    ):
        assert part.event != "error", part.data
        final = part.data

    sections = [line[3:] for line in final["review"].splitlines() if line.startswith("## ")]
    assert dropped["title"] not in sections
    assert {theme["title"] for theme in kept} <= set(sections)
    assert final["run"]["themes"] == len(kept)
