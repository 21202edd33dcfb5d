"""How a specialist is built: a compiled subgraph of steps that ends in one TaskResult.

Each specialist receives one task (from a Send), runs its steps in order, and
writes back only `results[task_id]`. A step that raises ends the task as failed
with its error on the board; the run goes on without it. The swarm runs each
specialist through `sub_agent`: the run saves a task's result, not its steps.
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
from langgraph._internal._constants import CONFIG_KEY_DURABILITY
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
    kind: Kind, step: Step, then: str, *, first: bool
) -> Callable[[SpecialistState, Runtime[Context]], Awaitable[Command[str]]]:
    """`step` in an agent slot, retried when the error is transient, then on to `then`.

    The first step announces the task; the last one, or one that fails, writes the task's
    result and ends it. Steps route themselves: a route on an edge, or a node of its own
    for the announcement and the result, would cost every sub-agent more steps."""

    async def run(state: SpecialistState, runtime: Runtime[Context]) -> Command[str]:
        context = runtime.context
        task = state["task"]
        if first:
            runtime.stream_writer(
                {"event": "task_started", "task": task["id"], "kind": kind, "skill": task["skill"]}
            )
        attempt = 0
        while True:
            try:
                with metered() as usage:
                    async with agent_slots(runtime):
                        work = await asyncio.wait_for(step(state, runtime), context.task_timeout)
                update: dict[str, Any] = {"work": work, "steps": 1, "usage": usage.model_dump()}
                if then == END:
                    update["results"] = _result(kind, state, update, runtime)
                return Command(update=update, goto=then)
            except GraphBubbleUp:
                raise
            except Exception as exc:  # recorded on the board as the task's failure
                if isinstance(exc, TimeoutError):
                    exc = TimeoutError(f"step took longer than {context.task_timeout:g} s")
                if is_transient(exc) and attempt < context.retries:
                    await asyncio.sleep(backoff(attempt))
                    attempt += 1
                    continue
                log.warning("task %s failed in %s: %s", task["id"], step.__name__, exc)
                update = {"error": f"{type(exc).__name__}: {exc}", "steps": 1 + attempt}
                update["results"] = _result(kind, state, update, runtime)
                return Command(update=update, goto=END)

    run.__name__ = step.__name__
    return run


def _result(
    kind: Kind, state: SpecialistState, update: dict[str, Any], runtime: Runtime[Context]
) -> dict[str, TaskResult]:
    """The task's result from its state and its last step's update, announced on the stream."""
    task = state["task"]
    error = update.get("error")
    usage = add_usage(state.get("usage"), update.get("usage"))
    result: TaskResult = {
        "task_id": task["id"],
        "kind": kind,
        "status": "failed" if error else "done",
        "steps": state.get("steps", 0) + update["steps"],
        "output": merge_by_key(state.get("work"), update.get("work")).get("output", {}),
        "usage": usage,
    }
    if error:
        result["error"] = error
    runtime.stream_writer(
        {
            "event": "task_failed" if error else "task_finished",
            "task": task["id"],
            "kind": kind,
            "skill": task["skill"],
            "steps": result["steps"],
            "tokens": int(usage.get("input", 0) + usage.get("output", 0)),
            **({"error": error} if error else {}),
        }
    )
    return {task["id"]: result}


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

    async def route_skill(state: SpecialistState) -> str:  # a plain function runs in a thread
        return firsts[state["task"]["skill"]]

    builder.add_conditional_edges(START, route_skill, list(firsts.values()))
    for steps in routes.values():
        names = [step.__name__ for step in steps]
        for n, (step, then) in enumerate(zip(steps, [*names[1:], END], strict=True)):
            node = _guarded(kind, step, then, first=n == 0)
            builder.add_node(step.__name__, node, destinations=tuple(dict.fromkeys([then, END])))
    return builder.compile(name=kind)


_RUN_SAVING = (CONFIG_KEY_CHECKPOINTER, CONFIG_KEY_DURABILITY)


def sub_agent(
    specialist: CompiledStateGraph[SpecialistState, Context, SpecialistInput, SpecialistOutput],
) -> Callable[[SpecialistInput, RunnableConfig], Awaitable[SpecialistOutput]]:
    """The specialist as a node of the swarm: the run saves a sub-agent's result, not its steps.

    The result is the write of the swarm's task that ran the sub-agent, saved by the
    run's checkpointer the moment the sub-agent finishes: a resume does not run it
    again, and one cut off mid-way starts over. LangGraph would lend the sub-agent the
    run's checkpointer too, to read its state as it starts and save it at each step
    (or once at its end), each time through the run's one database connection, and
    nothing ever reads that state back. So the sub-agent runs without one. The steps
    still show in the graph: `get_graph(xray=1)` finds `specialist` in this closure.
    """

    async def run(task: SpecialistInput, config: RunnableConfig) -> SpecialistOutput:
        # The run's durability goes too: LangGraph 1.2 warns of a durability given to a
        # graph without a checkpointer, and under "sync" waits for a checkpoint it never saves.
        unsaved = {k: v for k, v in config[CONF].items() if k not in _RUN_SAVING}
        return await specialist.ainvoke(task, {**config, CONF: unsaved})

    return run
