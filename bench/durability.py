"""Durability at scale: a 300-way fan-out, per-step overhead, checkpoint size, as ratios.

(a) The real swarm graph, checkpointed to SQLite with `durability="sync"`, on an
    engine that waits `--latency` seconds in every call, against the critical-path
    bound: the sum over supersteps of the slowest task's model waits (its calls in
    sequence; calls it makes at once count once) times the latency. A first run
    without latency records every answer; the timed run replays them, so what it
    spends over the bound is the graph's own: checkpoints, tools and scheduling.
(b) Sub-agent steps through the specialist machinery (`build_specialist`) against
    a bare LangGraph subgraph of the same shape, both with the same checkpointer.
(c) The checkpoint database of a state that grows by 1 KiB a step, kept in a by-key
    `DeltaChannel` (as `graph.state` keeps its collections) against a plain
    `Annotated[list, operator.add]` channel.

The corpus is the shared arXiv records (`<repo>/../shared/data/arxiv/abstracts.jsonl`)
when present, else synthetic records. Run from the repository root:
`python -m bench.durability [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import operator
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel

from graph import board
from graph.cli import run_async
from graph.config import Context
from graph.engines.base import (
    ClaimRequest,
    CodeDraft,
    CodeRequest,
    FrameRequest,
    NotesRequest,
    Outline,
    OutlineRequest,
    Plan,
    PlanRequest,
    Screening,
    ScreenRequest,
    SectionDraft,
    SectionRequest,
    SourceNotes,
    Verdict,
)
from graph.engines.offline import OfflineEngine
from graph.persistence import persistence
from graph.resources import use_engine
from graph.specialists.subgraph import SpecialistState, build_specialist
from graph.state import ByKey
from graph.swarm import builder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv" / "abstracts.jsonl"
PROMPT = "A survey of methods and findings across the physical and mathematical sciences"
FACETS = (
    "statistical inference",
    "machine learning",
    "neural networks",
    "quantum systems",
    "dark matter",
    "galaxy clusters",
    "graph theory",
    "random matrices",
    "phase transitions",
    "superconductivity",
    "black holes",
    "Bayesian models",
    "convex optimization",
    "stochastic processes",
    "number theory",
    "fluid turbulence",
    "gene expression",
    "neutrino physics",
    "string theory",
    "magnetic materials",
    "time series",
    "signal processing",
    "algebraic geometry",
    "complex networks",
)
"""Broad facets the simulated planner adds, so one wave of reading can hold 300 agents."""


def ratio(measured: float, baseline: float) -> float:
    return measured / baseline if baseline else float("inf")


def megabytes(path: Path) -> float:
    """The SQLite database with its write-ahead log, in MB."""
    files = [path, path.with_name(path.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def corpus_file(folder: Path) -> tuple[Path, str]:
    """The shared arXiv records, else ~400 synthetic records about the facets."""
    if DATA.is_file():
        return DATA, f"{DATA} (real arXiv records)"
    rng = random.Random(1)
    filler = "model data evidence method result design sample measure effect bound".split()
    path = folder / "records.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(400):
            facet = FACETS[i % len(FACETS)]
            sentences = [
                f"We study {facet} with a new {rng.choice(filler)}.",
                *(" ".join(rng.choices(filler, k=12)).capitalize() + "." for _ in range(4)),
                f"Results on {facet} improve on earlier {rng.choice(filler)} work.",
            ]
            record = {
                "id": f"2101.{i:05d}",
                "title": f"{facet.capitalize()}: {' '.join(rng.choices(filler, k=5))}",
                "authors": [f"Author{i} Family{i % 97}"],
                "year": 2000 + i % 25,
                "abstract": " ".join(sentences),
                "categories": [f"cat.{i % 12}"],
                "doi": None,
            }
            out.write(json.dumps(record) + "\n")
    return path, "synthetic records (shared data not found)"


# (a) fan-out against the critical-path bound


class SimulatedModel(OfflineEngine):
    """The offline engine behind a model's latency: every call waits `latency` seconds.

    Its planner adds broad facets and its screener keeps every hit, so the reading
    wave is as wide as `max_sources`. A request answered before (in `answers`) gets
    the recorded answer, so a timed run waits as a model's caller would instead of
    spending the offline engine's CPU time. Each call's start is recorded under its
    sub-agent: the first segment of the caller's checkpoint namespace, `kind:task_id`.
    """

    def __init__(self, latency: float, answers: dict[tuple[str, str], BaseModel]) -> None:
        self.latency = latency
        self.answers = answers
        self.calls: dict[str, list[float]] = {}
        self.replayed = 0

    async def answer(self, name: str, request: Any) -> Any:
        namespace = get_config()["configurable"].get("checkpoint_ns", "")
        self.calls.setdefault(namespace.split("|")[0], []).append(time.monotonic())
        await asyncio.sleep(self.latency)
        key = (name, request.model_dump_json())
        if key in self.answers:
            self.replayed += 1
            return self.answers[key].model_copy(deep=True)
        result = await getattr(OfflineEngine, name)(self, request)
        if name == "plan":
            queries = [*result.queries, *FACETS][: request.max_queries]
            result = result.model_copy(update={"queries": queries})
        elif name == "screen":
            result = Screening(keep=[c.key for c in request.candidates])
        self.answers[key] = result.model_copy(deep=True)
        return result

    async def plan(self, request: PlanRequest) -> Plan:
        return await self.answer("plan", request)

    async def screen(self, request: ScreenRequest) -> Screening:
        return await self.answer("screen", request)

    async def extract_notes(self, request: NotesRequest) -> SourceNotes:
        return await self.answer("extract_notes", request)

    async def outline(self, request: OutlineRequest) -> Outline:
        return await self.answer("outline", request)

    async def write_section(self, request: SectionRequest) -> SectionDraft:
        return await self.answer("write_section", request)

    async def write_frame(self, request: FrameRequest) -> SectionDraft:
        return await self.answer("write_frame", request)

    async def verify_claim(self, request: ClaimRequest) -> Verdict:
        return await self.answer("verify_claim", request)

    async def write_code(self, request: CodeRequest) -> CodeDraft:
        return await self.answer("write_code", request)


def waits(starts: list[float], latency: float) -> int:
    """How many latencies a task waited in sequence: calls that start while an earlier
    one is still waiting (made at once, with `asyncio.gather`) share its wait."""
    count, free = 0, float("-inf")
    for start in sorted(starts):
        if start >= free:
            count, free = count + 1, start + latency
    return count


class Superstep(TypedDict):
    step: int
    nodes: str
    tasks: int
    calls: int
    waits: int
    seconds: float


async def swarm_run(
    engine: SimulatedModel, context: Context, db: Path
) -> tuple[float, dict[str, Any], list[Superstep]]:
    """One swarm run on `engine`: wall seconds, run.json, and each superstep's widest
    task (engine calls, and waits in sequence) and duration (between its checkpoints)."""
    use_engine(engine)
    try:
        async with persistence(str(db)) as stored:
            compiled = builder.compile(checkpointer=stored.checkpointer, store=stored.store)
            config = context.run_config("fan-out")
            start = time.perf_counter()
            out = await compiled.ainvoke(
                {"prompt": PROMPT}, config, context=context, durability="sync"
            )
            wall = time.perf_counter() - start
            history = [snapshot async for snapshot in compiled.aget_state_history(config)]
    finally:
        use_engine(None)
    history.sort(key=lambda s: s.metadata["step"])
    stamps = {s.metadata["step"]: datetime.fromisoformat(s.created_at) for s in history}
    step_of = {task.id: s.metadata["step"] + 1 for s in history for task in s.tasks}
    calls: dict[int, list[tuple[int, int]]] = {}
    for namespace, starts in engine.calls.items():
        step = step_of[namespace.partition(":")[2]]
        calls.setdefault(step, []).append((len(starts), waits(starts, engine.latency)))
    steps: list[Superstep] = []
    for snapshot in history[:-1]:
        step = snapshot.metadata["step"] + 1
        names = Counter(task.name for task in snapshot.tasks)
        steps.append(
            {
                "step": step,
                "nodes": ", ".join(f"{n}×{c}" if c > 1 else n for n, c in names.items()),
                "tasks": len(snapshot.tasks),
                "calls": sum(n for n, _ in calls.get(step, [])),
                "waits": max((w for _, w in calls.get(step, [])), default=0),
                "seconds": (stamps[step] - stamps[step - 1]).total_seconds(),
            }
        )
    return wall, out["run"], steps


async def fan_out(agents: int, latency: float, folder: Path) -> tuple[float, float]:
    """Warm up (index the corpus, record the answers), then time a run with latency."""
    corpus, origin = corpus_file(folder)
    context = Context(
        corpus=[str(corpus)],
        out=str(folder / "out"),
        cache_dir=str(folder / "cache"),
        max_sources=agents,
        max_agents=agents,
        formats=["md"],
    )
    print(f"(a) fan-out: {origin}; max_sources = max_agents = {agents}, {latency:g} s a call")
    answers: dict[tuple[str, str], BaseModel] = {}
    warm = SimulatedModel(0.0, answers)
    compute, _, _ = await swarm_run(warm, context, folder / "warm.sqlite")
    engine = SimulatedModel(latency, answers)
    wall, run, steps = await swarm_run(engine, context, folder / "fan-out.sqlite")
    bound = latency * sum(s["waits"] for s in steps)
    print(
        f"    warm-up run without latency (offline engine computing): {compute:.1f} s; "
        f"timed run: {sum(s['calls'] for s in steps)} calls, {engine.replayed} replayed"
    )
    print(
        f"    run.json: sub_agents {run['sub_agents']}, max_parallel {run['max_parallel']}, "
        f"supersteps {run['supersteps']}, critical_steps {run['critical_steps']}, "
        f"status {run['status']}"
    )
    if run["max_parallel"] < agents:
        print(f"    note: the widest wave held {run['max_parallel']} agents, not {agents}")
    excess = wall - bound
    print(
        f"    over the bound: {excess:.1f} s for {run['steps']} graph steps "
        f"({excess / run['steps'] * 1e3:.1f} ms a step: checkpoints, tools, CPU)"
    )
    print(
        f"    {'step':>4} {'tasks':>5} {'calls':>5} {'waits':>5} {'bound s':>8} {'actual s':>9}"
        "  nodes (waits: model calls in sequence on the step's slowest task)"
    )
    for s in steps:
        if s["seconds"] >= 0.05 or s["calls"]:
            print(
                f"    {s['step']:>4} {s['tasks']:>5} {s['calls']:>5} {s['waits']:>5}"
                f" {s['waits'] * latency:>8.1f} {s['seconds']:>9.2f}  {s['nodes'][:40]}"
            )
    return wall, bound


# (b) per-step overhead


class FanState(TypedDict):
    tasks: list[dict[str, Any]]
    results: Annotated[dict[str, Any], ByKey]


class BareState(TypedDict):
    task: dict[str, Any]
    steps: Annotated[int, operator.add]
    results: dict[str, Any]


def fan(agent: Any) -> StateGraph:
    """START -> one Send per task to `agent` -> END."""

    def send(state: FanState) -> list[Send]:
        return [Send("agent", {"task": t}) for t in state["tasks"]]

    graph = StateGraph(FanState, context_schema=Context)
    graph.add_node("agent", agent)
    graph.add_conditional_edges(START, send, ["agent"])
    graph.add_edge("agent", END)
    return graph


def trivial_specialist(steps: int) -> Any:
    """A specialist whose `steps` steps do nothing: start, the steps, report."""

    def tick(n: int) -> Callable[[SpecialistState, Runtime[Context]], Awaitable[dict]]:
        async def step(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
            return {}

        step.__name__ = f"tick{n}"
        return step

    return build_specialist("search", {"tick": [tick(n) for n in range(steps)]})


def bare_subgraph(steps: int) -> Any:
    """The same shape in bare LangGraph: a chain of steps + 2 trivial async nodes."""

    async def step(state: BareState) -> dict[str, Any]:
        return {"steps": 1}

    async def report(state: BareState) -> dict[str, Any]:
        task = state["task"]
        return {"results": {task["id"]: {"task_id": task["id"], "steps": state["steps"] + 1}}}

    graph = StateGraph(BareState)
    names = [f"step{n}" for n in range(steps + 1)]
    for name in names:
        graph.add_node(name, step)
    graph.add_node("report", report)
    for here, then in zip([START, *names], [*names, "report"], strict=True):
        graph.add_edge(here, then)
    graph.add_edge("report", END)
    return graph.compile()


async def timed_fan(agent: Any, agents: int, db: Path | None) -> float:
    """Seconds to run `agents` sub-agents, checkpointed to SQLite at `db` (else in memory)."""
    tasks = [board.task(f"t{i:04d}", "search", "tick", {}) for i in range(agents)]
    context = Context(max_agents=agents)
    async with (
        AsyncSqliteSaver.from_conn_string(str(db)) if db else nullcontext(InMemorySaver()) as saver
    ):
        compiled = fan(agent).compile(checkpointer=saver)
        start = time.perf_counter()
        out = await compiled.ainvoke(
            {"tasks": tasks}, context.run_config("steps"), context=context, durability="sync"
        )
        seconds = time.perf_counter() - start
    assert len(out["results"]) == agents
    return seconds


async def per_step(agents: int, steps: int, folder: Path, rounds: int = 2) -> tuple[float, float]:
    """Seconds per sub-agent step, the best of `rounds` runs taken in turn: the specialist
    machinery and bare LangGraph (SQLite timings vary from run to run)."""
    total = agents * (steps + 2)
    print(
        f"(b) per-step: {agents} sub-agents × {steps + 2} steps = {total} steps, SQLite, sync, "
        f"best of {rounds}"
    )
    await timed_fan(bare_subgraph(steps), 8, folder / "warm-steps.sqlite")
    ours: list[float] = []
    bare: list[float] = []
    for n in range(rounds):
        ours.append(await timed_fan(trivial_specialist(steps), agents, folder / f"ours-{n}.sqlite"))
        bare.append(await timed_fan(bare_subgraph(steps), agents, folder / f"bare-{n}.sqlite"))
    memory = await timed_fan(bare_subgraph(steps), agents, None)
    print(
        f"    specialist {', '.join(f'{t:.2f}' for t in ours)} s; "
        f"bare {', '.join(f'{t:.2f}' for t in bare)} s; "
        f"bare with an in-memory checkpointer {memory / total * 1e3:.2f} ms a step"
    )
    return min(ours) / total, min(bare) / total


# (c) checkpoint size


class DeltaLog(TypedDict):
    n: int
    items: Annotated[dict[str, str], ByKey]


class ListLog(TypedDict):
    n: int
    items: Annotated[list[str], operator.add]


def growing(schema: type, steps: int, by_key: bool) -> StateGraph:
    """A loop that adds one 1 KiB entry to `items` per step, `steps` times."""
    rng = random.Random(1)

    async def grow(state: dict[str, Any]) -> dict[str, Any]:
        n = state.get("n", 0)
        entry = f"{n:06d}" + "".join(rng.choices("abcdefghij klmnopqrst", k=1018))
        return {"n": n + 1, "items": {f"{n:06d}": entry} if by_key else [entry]}

    def again(state: dict[str, Any]) -> str:
        return "grow" if state["n"] < steps else END

    graph = StateGraph(schema)
    graph.add_node("grow", grow)
    graph.add_edge(START, "grow")
    graph.add_conditional_edges("grow", again, ["grow", END])
    return graph


async def checkpoint_size(schema: type, steps: int, db: Path) -> tuple[float, float]:
    """Database MB and seconds after `steps` steps."""
    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        compiled = growing(schema, steps, schema is DeltaLog).compile(checkpointer=saver)
        start = time.perf_counter()
        out = await compiled.ainvoke(
            {"n": 0},
            {"configurable": {"thread_id": "size"}, "recursion_limit": steps + 10},
            durability="sync",
        )
        seconds = time.perf_counter() - start
    assert len(out["items"]) == steps
    return megabytes(db), seconds


async def sizes(
    counts: list[int], list_steps: int, folder: Path
) -> list[tuple[int, float, float, bool]]:
    """Per step count: DeltaChannel MB, list-channel MB, and whether that was extrapolated.

    A list channel stores the whole list at every step, so its database grows with the
    square of the steps; above `list_steps` it is fitted (a*n^2 + b*n) from two runs."""
    print(f"(c) checkpoint size: 1 KiB a step, SQLite, sync; list channel measured to {list_steps}")
    measured: dict[int, float] = {}
    for n in sorted({min(list_steps, c) for c in counts} | {list_steps // 2}):
        mb, seconds = await checkpoint_size(ListLog, n, folder / f"list-{n}.sqlite")
        measured[n] = mb
        print(f"    list channel, {n:>5} steps: {mb:9.1f} MB in {seconds:5.1f} s")
    (n1, m1), (n2, m2) = sorted(measured.items())[-2:]
    a = (m2 / n2 - m1 / n1) / (n2 - n1)
    b = m1 / n1 - a * n1
    rows = []
    for n in counts:
        mb, seconds = await checkpoint_size(DeltaLog, n, folder / f"delta-{n}.sqlite")
        print(
            f"    by-key delta, {n:>5} steps: {mb:9.1f} MB in {seconds:5.1f} s "
            f"({mb / (n * 1.024e-3):.1f}× its {n * 1.024e-3:.1f} MB of content)"
        )
        fitted = n not in measured
        rows.append((n, mb, measured.get(n, a * n * n + b * n), fitted))
    (n1, m1), (n2, m2) = [(n, mb) for n, mb, _, _ in rows[-2:]]
    print(
        f"    by-key delta grows as steps^{math.log(m2 / m1) / math.log(n2 / n1):.2f} (linear: 1)"
    )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about a minute")
    parser.add_argument("--agents", type=int, help="fan-out width (default 300; quick 100)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per engine call")
    parser.add_argument(
        "--list-steps",
        type=int,
        help="largest list-channel run actually measured; beyond it the size is fitted "
        "(default 1000; quick 250)",
    )
    args = parser.parse_args()
    agents = args.agents or (100 if args.quick else 300)
    counts = [250, 1000] if args.quick else [1000, 4000]
    list_steps = args.list_steps or (250 if args.quick else 1000)
    step_agents, step_len = (50, 4) if args.quick else (150, 4)

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        wall, bound = await fan_out(agents, args.latency, folder)
        ours, bare = await per_step(step_agents, step_len, folder)
        rows = await sizes(counts, list_steps, folder)

    print()
    print(f"{'measure':<44}{'ours':>12}{'baseline':>12}{'ratio':>8}  target")
    print(
        f"{f'{agents}-way fan-out: wall / critical path':<44}{wall:>10.2f} s{bound:>10.2f} s"
        f"{ratio(wall, bound):>8.3f}  <= 1.10"
    )
    print(
        f"{'per step: specialist / bare LangGraph':<44}{ours * 1e3:>9.2f} ms{bare * 1e3:>9.2f} ms"
        f"{ratio(ours, bare):>8.2f}"
    )
    for n, delta, plain, fitted in rows:
        label = f"checkpoint DB, {n:,} steps: delta / list{' (fit)' if fitted else ''}"
        print(f"{label:<44}{delta:>9.1f} MB{plain:>9.1f} MB{ratio(delta, plain):>8.3f}")


if __name__ == "__main__":
    run_async(main())  # the event loop `swarm` runs on
