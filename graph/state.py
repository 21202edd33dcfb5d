"""The swarm's state: a task board, the results of its tasks, and what the coordinator merged.

Specialists write only `results`, keyed by task id; the coordinator alone turns
results into sources, an outline, drafts and the document. Every collection
merges by key, so a task replayed after a crash overwrites its own entry and
never duplicates anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from typing import Annotated, Any, Literal, NotRequired

from langgraph.channels import DeltaChannel
from typing_extensions import TypedDict  # pydantic reads it on 3.11 (the server's schemas)

Kind = Literal["search", "citation", "writing", "coding", "formatting"]
KINDS: tuple[Kind, ...] = ("search", "citation", "writing", "coding", "formatting")


class Task(TypedDict):
    """One node of the task board: a unit of work for one specialist."""

    id: str
    kind: Kind
    skill: str
    deps: list[str]
    payload: dict[str, Any]


class TaskResult(TypedDict):
    task_id: str
    kind: Kind
    status: Literal["done", "failed"]
    steps: int
    output: dict[str, Any]
    usage: NotRequired[dict[str, float]]
    error: NotRequired[str]


class SourceEntry(TypedDict):
    """A retrieved source: metadata, how it was found, and once read, its notes."""

    identity: str
    key: str
    source: dict[str, Any]
    score: float
    queries: list[str]
    kept: bool
    notes: NotRequired[dict[str, Any]]
    theme_hint: NotRequired[str]


def merge_by_key(left: dict | None, right: dict | None) -> dict:
    """Union of two dicts; the right side wins for a key present in both."""
    return {**(left or {}), **(right or {})}


def merge_sources(
    left: dict[str, SourceEntry] | None, right: dict[str, SourceEntry] | None
) -> dict[str, SourceEntry]:
    """Merge sources by identity: the best score, all queries, notes once read, key kept."""
    merged = dict(left or {})
    for identity, entry in (right or {}).items():
        old = merged.get(identity)
        if old is None:
            merged[identity] = entry
            continue
        combined: SourceEntry = {
            **old,
            **entry,
            "key": old["key"] or entry["key"],
            "score": max(old["score"], entry["score"]),
            "queries": sorted(set(old["queries"]) | set(entry["queries"])),
            "kept": old["kept"] or entry["kept"],
        }
        if "notes" in old and "notes" not in entry:
            combined["notes"] = old["notes"]
        merged[identity] = combined
    return merged


SNAPSHOT_EVERY = 5000


def _folding(merge: Callable[[Any, Any], Any]) -> DeltaChannel:
    """A channel that checkpoints only each step's writes, folded with `merge` on load.

    A plain dict channel would store the whole, growing collection at every step."""

    def fold(state: Any, writes: Sequence[Any]) -> Any:
        return reduce(merge, writes, state)

    fold.__name__ = f"fold_{merge.__name__}"
    # Full snapshots every 100 updates made the database grow as steps**1.75; this rare
    # snapshot keeps it linear in the content (LangGraph also snapshots every 5,000 steps).
    return DeltaChannel(fold, snapshot_frequency=SNAPSHOT_EVERY)


ByKey = _folding(merge_by_key)
BySource = _folding(merge_sources)


class SwarmInput(TypedDict):
    prompt: str


class SwarmOutput(TypedDict):
    review: str
    files: list[str]
    run: dict[str, Any]


class SwarmState(TypedDict):
    prompt: str
    started: float
    out_dir: str
    plan: dict[str, Any]
    tasks: Annotated[dict[str, Task], ByKey]
    results: Annotated[dict[str, TaskResult], ByKey]
    merged: Annotated[dict[str, bool], ByKey]
    sources: Annotated[dict[str, SourceEntry], BySource]
    outline: dict[str, Any]
    drafts: Annotated[dict[str, dict[str, Any]], ByKey]
    tables: Annotated[dict[str, dict[str, Any]], ByKey]
    document: dict[str, Any]
    dataset: dict[str, Any]
    rows: Annotated[dict[str, dict[str, Any]], ByKey]
    counters: Annotated[dict[str, float], ByKey]
    waves: Annotated[dict[str, dict[str, int]], ByKey]
    budget: str
    plan_review: str
    review: str
    files: list[str]
    run: dict[str, Any]
