"""The task board: a DAG of tasks whose status is read from their results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graph.state import Kind, Task, TaskResult


def task(
    task_id: str, kind: Kind, skill: str, payload: dict[str, Any], deps: Iterable[str] = ()
) -> Task:
    return {"id": task_id, "kind": kind, "skill": skill, "deps": list(deps), "payload": payload}


def status(task_id: str, results: Mapping[str, TaskResult]) -> str:
    """pending, done or failed."""
    result = results.get(task_id)
    return result["status"] if result else "pending"


def ready(tasks: Mapping[str, Task], results: Mapping[str, TaskResult]) -> list[Task]:
    """Pending tasks whose dependencies have all finished (done or failed), in board order."""
    return [
        t for t in tasks.values() if t["id"] not in results and all(d in results for d in t["deps"])
    ]


def finished(tasks: Mapping[str, Task], results: Mapping[str, TaskResult], **match: str) -> bool:
    """True when at least one task matches `kind=..., skill=...` and all of them have results."""
    chosen = [t for t in tasks.values() if all(t.get(k) == v for k, v in match.items())]
    return bool(chosen) and all(t["id"] in results for t in chosen)


def of(tasks: Mapping[str, Task], **match: str) -> list[Task]:
    return [t for t in tasks.values() if all(t.get(k) == v for k, v in match.items())]
