"""How a specialist is built: a compiled subgraph of steps that ends in one TaskResult.

Each specialist receives one task (from a Send), runs its steps in order, and
writes back only `results[task_id]`. A step that raises ends the task as failed
with its error on the board; the run goes on without it. The swarm runs each
specialist through `sub_agent`, which checkpoints a task's result, not its every step.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import random
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from langchain_core.runnables import RunnableConfig
from langgraph.constants import CONF, CONFIG_KEY_CHECKPOINTER
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command
from typing_extensions import TypedDict  # pydantic reads it on 3.11 (the server's schemas)

from graph.config import Context
from graph.engines.base import metered
from graph.state import Kind, Task, TaskResult, merge_by_key

log = logging.getLogger(__name__)


class SpecialistInput(TypedDict):
    task: Task


class SpecialistOutput(TypedDict):
    results: dict[str, TaskResult]


class SpecialistState(TypedDict):
    task: Task
    work: Annotated[dict[str, Any], merge_by_key]
    steps: Annotated[int, operator.add]
    error: str
    usage: Annotated[dict[str, float], add_usage]
    results: dict[str, TaskResult]


def add_usage(left: dict[str, float] | None, right: dict[str, float] | None) -> dict[str, float]:
    left, right = left or {}, right or {}
    return {k: left.get(k, 0) + right.get(k, 0) for k in {*left, *right}}


Step = Callable[[SpecialistState, Runtime[Context]], Awaitable[dict[str, Any]]]


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: timeouts, lost connections, rate limits and server errors.

    A bad request (HTTP 400), a refused key or a bug is not: retrying cannot fix it."""
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    if isinstance(status, int):
        return status == 429 or status >= 500
    name = type(exc).__name__
    return name in {
        "APIConnectionError",
        "APITimeoutError",
        "RateLimitError",
        "ConnectTimeout",
        "ReadTimeout",
        "ConnectError",
        "RemoteProtocolError",
    }


def backoff(attempt: int, initial: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: a random wait up to initial * 2**attempt."""
    return random.uniform(0, min(cap, initial * 2**attempt))


_slots: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str | None, asyncio.Semaphore]] = (
    WeakKeyDictionary()
)


def agent_slots(runtime: Runtime[Context]) -> asyncio.Semaphore:
    """The run's `max_agents` slots, shared by every sub-agent step of the run.

    LangGraph's own `max_concurrency` would also queue the saving of finished tasks
    behind the running ones, so a crash would lose a whole wave; this limit gates
    only the agents' work."""
    info = runtime.execution_info
    per_loop = _slots.setdefault(asyncio.get_running_loop(), {})
    thread = info.thread_id if info else None
    if thread not in per_loop:
        per_loop[thread] = asyncio.Semaphore(runtime.context.max_agents)
    return per_loop[thread]


def _guarded(
    step: Step, then: Callable[[SpecialistState], str]
) -> Callable[[SpecialistState, Runtime[Context]], Awaitable[Command[str]]]:
    """`step` in an agent slot, retried when the error is transient; then on to `then(state)`,
    or to report if it failed. The step routes itself: a route on an edge would read a
    copy of the whole state after every step."""

    async def run(state: SpecialistState, runtime: Runtime[Context]) -> Command[str]:
        context = runtime.context
        attempt = 0
        while True:
            try:
                with metered() as usage:
                    async with agent_slots(runtime):
                        work = await asyncio.wait_for(step(state, runtime), context.task_timeout)
                update = {"work": work, "steps": 1, "usage": usage.model_dump()}
                return Command(update=update, goto=then(state))
            except GraphBubbleUp:
                raise
            except Exception as exc:  # recorded on the board as the task's failure
                if isinstance(exc, TimeoutError):
                    exc = TimeoutError(f"step took longer than {context.task_timeout:g} s")
                if is_transient(exc) and attempt < context.retries:
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
                    continue
                log.warning("task %s failed in %s: %s", state["task"]["id"], step.__name__, exc)
                error = f"{type(exc).__name__}: {exc}"
                return Command(update={"error": error, "steps": 1 + attempt}, goto="report")

    run.__name__ = step.__name__
    return run


def _report(kind: Kind) -> Step:
    async def report(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
        task = state["task"]
        result: TaskResult = {
            "task_id": task["id"],
            "kind": kind,
            "status": "failed" if state.get("error") else "done",
            "steps": state.get("steps", 0) + 1,
            "output": state.get("work", {}).get("output", {}),
            "usage": state.get("usage") or {},
        }
        if state.get("error"):
            result["error"] = state["error"]
        runtime.stream_writer(
            {
                "event": f"task_{result['status'] if result['status'] == 'failed' else 'finished'}",
                "task": task["id"],
                "kind": kind,
                "skill": task["skill"],
                "steps": result["steps"],
                "tokens": int(result["usage"].get("input", 0) + result["usage"].get("output", 0)),
                **({"error": result["error"]} if "error" in result else {}),
            }
        )
        return {"results": {task["id"]: result}}

    return report


def _announce(kind: Kind) -> Step:
    async def start(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
        task = state["task"]
        runtime.stream_writer(
            {"event": "task_started", "task": task["id"], "kind": kind, "skill": task["skill"]}
        )
        return {}

    return start


def build_specialist(
    kind: Kind, routes: dict[str, list[Step]]
) -> CompiledStateGraph[SpecialistState, Context, SpecialistInput, SpecialistOutput]:
    """A subgraph for one specialist: `routes` maps each skill to its steps, run in order.

    Every step's node shows in the graph (Studio, `get_graph(xray=1)`) under its name.
    """
    builder = StateGraph(
        SpecialistState,
        context_schema=Context,
        input_schema=SpecialistInput,
        output_schema=SpecialistOutput,
    )
    firsts = {skill: steps[0].__name__ for skill, steps in routes.items()}

    def route_skill(state: SpecialistState) -> str:
        return firsts[state["task"]["skill"]]

    start = _guarded(_announce(kind), route_skill)
    builder.add_node("start", start, destinations=(*firsts.values(), "report"))
    builder.add_node("report", _report(kind))
    builder.add_edge(START, "start")
    for steps in routes.values():
        names = [step.__name__ for step in steps]
        for step, then in zip(steps, [*names[1:], "report"], strict=True):
            destinations = tuple(dict.fromkeys([then, "report"]))
            builder.add_node(step.__name__, _guarded(step, _to(then)), destinations=destinations)
    builder.add_edge("report", END)
    return builder.compile(name=kind)


def _to(node: str) -> Callable[[SpecialistState], str]:
    def route(state: SpecialistState) -> str:
        return node

    return route


def sub_agent(
    specialist: CompiledStateGraph[SpecialistState, Context, SpecialistInput, SpecialistOutput],
) -> Callable[[SpecialistInput, RunnableConfig], Awaitable[SpecialistOutput]]:
    """The specialist as a node of the swarm: a sub-agent checkpoints its result, not each step.

    Run as a plain subgraph node, a durable run would save a checkpoint at every step of
    every sub-agent (a 300-agent wave: some 1,200 saves through one connection). The
    task's result is still saved the moment it finishes, which is what a resume needs:
    finished sub-agents do not run again, one cut off mid-way starts over. The steps
    still show in the graph: `get_graph(xray=1)` finds `specialist` in this closure.
    """

    async def run(task: SpecialistInput, config: RunnableConfig) -> SpecialistOutput:
        # With no checkpointer to save to, LangGraph warns that `durability` has no effect.
        saved = config[CONF].get(CONFIG_KEY_CHECKPOINTER) is not None
        return await specialist.ainvoke(task, config, durability="exit" if saved else None)

    return run
