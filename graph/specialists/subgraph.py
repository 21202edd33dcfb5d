"""How a specialist is built: a compiled subgraph of steps that ends in one TaskResult.

Each specialist receives one task (from a Send), runs its steps in order, and
writes back only `results[task_id]`. A step that raises ends the task as failed
with its error on the board; the run goes on without it.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

from langgraph.errors import GraphBubbleUp
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graph.config import Context
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
    results: dict[str, TaskResult]


Step = Callable[[SpecialistState, Runtime[Context]], Awaitable[dict[str, Any]]]


def _guarded(step: Step) -> Step:
    async def run(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
        try:
            work = await step(state, runtime)
        except GraphBubbleUp:
            raise
        except Exception as exc:  # recorded on the board as the task's failure
            log.warning("task %s failed in %s: %s", state["task"]["id"], step.__name__, exc)
            return {"error": f"{type(exc).__name__}: {exc}", "steps": 1}
        return {"work": work, "steps": 1}

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
    builder.add_node("start", _guarded(_announce(kind)))
    builder.add_node("report", _report(kind))
    builder.add_edge(START, "start")
    firsts: dict[str, str] = {}
    for skill, steps in routes.items():
        names = [step.__name__ for step in steps]
        firsts[skill] = names[0]
        for step, name in zip(steps, names, strict=True):
            builder.add_node(name, _guarded(step))
        for here, then in zip(names, [*names[1:], "report"], strict=True):
            builder.add_conditional_edges(here, _continue_to(then), [then, "report"])

    def route_skill(state: SpecialistState) -> str:
        if state.get("error"):
            return "report"
        return firsts[state["task"]["skill"]]

    builder.add_conditional_edges("start", route_skill, [*firsts.values(), "report"])
    builder.add_edge("report", END)
    return builder.compile(name=kind)


def _continue_to(then: str) -> Callable[[SpecialistState], str]:
    def route(state: SpecialistState) -> str:
        return "report" if state.get("error") else then

    return route
