"""The coordinator: plans the task board, dispatches ready tasks with Send, merges results.

Every superstep it Sends every ready task to its specialist, all in parallel;
after the wave it merges what came back (dedupes sources by identity, assigns
stable citation keys, records the outline and drafts) and adds the tasks that
have become possible: citation agents for new sources, more search where a theme
is thin, one writing agent per line of work, the frame, a citation agent checking
each drafted part's claims, the formats.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import zlib
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from exporters import FILENAMES
from exporters.dataset import Column, merge_duplicate
from exporters.dataset_files import DATASET_FILES
from exporters.document import Cite, Document, Paragraph, plain_text
from graph import board
from graph.config import Context
from graph.engines.base import (
    DraftParagraph,
    Group,
    NotedSource,
    Plan,
    PlanRequest,
    RunFacts,
    SectionDraft,
    SectionRequest,
    SectionSummary,
    Sentence,
    SourceBrief,
    Theme,
    metered,
)
from graph.errors import SwarmError
from graph.resources import corpus_for, engine_for
from graph.review import conflict_sentences, dedupe
from graph.specialists.coding import MAX_PROBLEMS, PROVENANCE
from graph.specialists.search import brief_fields
from graph.specialists.writing import GROUP_SIZE
from graph.state import SourceEntry, SwarmState, Task, TaskResult
from tools.corpus import Corpus
from tools.slug import slug
from tools.source import Source, base_key

PROBE_SIZE = 40
MIN_SHARD_ROWS = 10
"""Fewest rows one row-filling agent gets: a table is split over up to `max_agents` agents."""
ROW_STEPS = 3  # gather texts, fill, check
SEARCH_DEPTH = 40
THEME_SEARCH_DEPTH = 15
CITATION_BATCH = 1
THIN_THEME = 3
MAX_QUERIES = 24
REPRESENTATIVES = 3  # best-scored sources of a theme that the framing parts see
RESEARCH_SHARE = 0.75
READ_STEPS = 1  # read
VERIFY_COUNTS = (
    "claims_checked",
    "claims_supported",
    "citations_replaced",
    "citations_removed",
    "sentences_removed",
    "sentences_marked",
)


async def plan(state: SwarmState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Scope the prompt into facets and one search task per query."""
    prompt = (state.get("prompt") or "").strip()
    if not prompt:
        raise SwarmError('empty prompt: say what the review is about, e.g. swarm run "RAG methods"')
    context = runtime.context
    corpus = await corpus_for(context)
    probe = [
        SourceBrief(key=s.identity, **brief_fields(s)) for s, _ in corpus.search(prompt, PROBE_SIZE)
    ]
    with metered() as usage:
        planned = await engine_for(context).plan(
            PlanRequest(prompt=prompt, probe=probe, max_queries=MAX_QUERIES)
        )
    queries = list(dict.fromkeys([prompt, *(q.strip() for q in planned.queries if q.strip())]))
    dataset = table_of(planned, context)
    depth = dataset["rows"] if dataset else SEARCH_DEPTH
    tasks = {
        f"search-{n:03d}": board.task(
            f"search-{n:03d}",
            "search",
            "query",
            {"query": q, "topic": planned.topic or prompt, "k": depth},
        )
        for n, q in enumerate(queries[:MAX_QUERIES])
    }
    runtime.stream_writer({"event": "planned", "queries": len(tasks), "title": planned.title})
    return {
        "plan_review": "pending" if context.review_plan and not dataset else "",
        "plan": planned.model_dump(exclude={"dataset"}) | {"queries": queries[:MAX_QUERIES]},
        "dataset": dataset,
        "started": time.time(),
        "out_dir": str(Path(context.out) / slug(prompt, "dataset" if dataset else "review")),
        "tasks": tasks,
        "counters": {
            "tokens_input": usage.input,
            "tokens_output": usage.output,
            "cost": usage.cost,
            "searched": len(corpus),
            "skipped_documents": len(corpus.stats.skipped),
        },
    }


def table_of(planned: Plan, context: Context) -> dict[str, Any]:
    """The dataset the plan asks for, ready for the board ({} for a review): its columns with
    a provenance column last, its key column, and how many rows to fill at most."""
    spec = planned.dataset
    if spec is None:
        return {}
    if not spec.columns:
        raise SwarmError(
            "the requested table names no columns: list them, e.g. 'with columns title, year'"
        )
    names = {c.name.casefold(): c.name for c in spec.columns}
    key = names.get(spec.key.casefold(), spec.columns[0].name)
    columns = list(spec.columns)
    if PROVENANCE.casefold() not in names:
        columns.append(
            Column(
                name=PROVENANCE, type="text", description="the source the row's values come from"
            )
        )
    return {
        "title": planned.title,
        "subject": spec.subject or planned.topic,
        "columns": [c.model_dump() for c in columns],
        "key": key,
        "rows": min(spec.rows or context.max_rows, context.max_rows),
    }


async def dispatch(state: SwarmState) -> list[Send] | str:
    """Send every ready task to its specialist; when none is left, finish.

    Async, as every route here: LangGraph runs a plain function in a worker thread."""
    ready = board.ready(state.get("tasks", {}), state.get("results", {}))
    if ready:
        return [Send(t["kind"], {"task": t}) for t in ready]
    if state.get("outline") and state.get("plan_review") == "pending":
        return "review_plan"
    return "finish"


async def review_plan(state: SwarmState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pause with the plan (title, queries, themes); go on with what the person approved.

    Resume with `Command(resume=...)`: `{"approved": true}`, or the plan with `themes`
    edited: themes left out are dropped, a theme's new `title` is used."""
    themes = state["outline"]["themes"]
    answer = interrupt(
        {
            "plan": {
                "title": state["plan"]["title"],
                "queries": state["plan"]["queries"],
                "themes": [
                    {
                        "id": t["id"],
                        "title": t["title"],
                        "summary": t.get("summary", ""),
                        "sources": len(t["keys"]),
                    }
                    for t in themes
                ],
            },
            "resume_with": "{'approved': true} or the plan with its themes edited",
        }
    )
    edited = answer.get("plan", answer) if isinstance(answer, dict) else {"themes": answer}
    if edited.get("approved") or "themes" not in edited:
        return {"plan_review": "approved"}
    chosen: dict[str, dict[str, Any]] = {}
    for item in edited["themes"]:
        wanted = item if isinstance(item, dict) else {"id": str(item)}
        match = next(
            (
                t
                for t in themes
                if wanted.get("id") in (t["id"], t["title"]) or wanted.get("title") == t["title"]
            ),
            None,
        )
        if match is None:
            raise SwarmError(f"the edited plan names an unknown theme {wanted!r}")
        chosen[match["id"]] = {**match, "title": wanted.get("title") or match["title"]}
    if not chosen:
        raise SwarmError("the edited plan keeps no theme: keep at least one")
    kept = [chosen[t["id"]] for t in themes if t["id"] in chosen]
    return {"outline": {**state["outline"], "themes": kept}, "plan_review": "edited"}


class Merge:
    """One merge pass over a wave's results: a working copy of the state, then the update."""

    def __init__(self, state: SwarmState, context: Context, corpus: Corpus) -> None:
        self.state = state
        self.context = context
        self.corpus = corpus
        self.topic = state["plan"]["topic"] or state["prompt"]
        self.tasks: dict[str, Task] = dict(state.get("tasks", {}))
        self.results: dict[str, TaskResult] = state.get("results", {})
        self.sources: dict[str, SourceEntry] = dict(state.get("sources", {}))
        self.outline: dict[str, Any] = dict(state.get("outline") or {})
        self.drafts: dict[str, dict[str, Any]] = dict(state.get("drafts", {}))
        self.tables: dict[str, dict[str, Any]] = dict(state.get("tables", {}))
        self.counters: dict[str, int] = dict(state.get("counters", {}))
        self.document: dict[str, Any] = state.get("document") or {}
        self.dataset: dict[str, Any] = state.get("dataset") or {}
        self.rows: dict[str, dict[str, Any]] = dict(state.get("rows", {}))
        self.budget: str = state.get("budget") or ""
        self.new_tasks: dict[str, Task] = {}
        self._briefs: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def add(self, task: Task) -> None:
        if task["id"] not in self.tasks:
            self.tasks[task["id"]] = task
            self.new_tasks[task["id"]] = task

    def count(self, name: str, amount: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + amount

    # results -> merged state

    def absorb(self, result: TaskResult) -> None:
        task = self.tasks[result["task_id"]]
        usage = result.get("usage") or {}
        self.count("tokens_input", int(usage.get("input", 0)))
        self.count("tokens_output", int(usage.get("output", 0)))
        self.count("cost", usage.get("cost", 0.0))
        self.count("steps", result["steps"])
        if result["status"] == "failed":
            self.count("failed_tasks")
            return
        output = result["output"]
        match task["skill"]:
            case "query":
                self.absorb_hits(output)
            case "read":
                for identity, notes in output["notes"].items():
                    self.sources[identity] = {**self.sources[identity], "notes": notes}
            case "outline":
                self.outline = output["outline"]
            case "section" | "frame" | "method":
                self.drafts[task["id"]] = {**task["payload"]["place"], "draft": output["draft"]}
                self.count("dropped_citations", output.get("dropped", 0))
            case "verify":
                payload = task["payload"]
                self.drafts[payload["draft_id"]] = {**payload["place"], "draft": output["draft"]}
                for name in VERIFY_COUNTS:
                    self.count(name, output.get(name, 0))
            case "tables":
                self.tables.update(output["tables"])
            case "rows":
                self.absorb_rows(output)
            case "assemble":
                self.document = output["document"]
            case "export":
                pass

    def absorb_hits(self, output: dict[str, Any]) -> None:
        for hit in output["hits"]:
            entry: SourceEntry = {
                "identity": hit["identity"],
                "key": "",
                "source": hit["source"],
                "score": hit["score"],
                "queries": [output["query"]],
                "kept": hit["kept"],
            }
            old = self.sources.get(hit["identity"])
            if old:
                entry = {
                    **old,
                    "score": max(old["score"], hit["score"]),
                    "queries": sorted(set(old["queries"]) | {output["query"]}),
                    "kept": old["kept"] or hit["kept"],
                }
            if output.get("theme"):
                entry["theme_hint"] = output["theme"]
            self.sources[hit["identity"]] = entry

    def absorb_rows(self, output: dict[str, Any]) -> None:
        """Rows by key, whatever shard they came from: of two rows with one key the better
        ranked stays, its empty cells filled from the other (`merge_duplicate`)."""
        for row in output["rows"]:
            entry = {"rank": row["rank"], "cells": row["cells"]}
            old = self.rows.get(row["key"])
            if old is not None:
                self.count("duplicates_dropped")
                first, later = (old, entry) if old["rank"] <= entry["rank"] else (entry, old)
                entry = {
                    "rank": first["rank"],
                    "cells": merge_duplicate(first["cells"], later["cells"]),
                }
            self.rows[row["key"]] = entry
        for name in ("rows_without_key", "type_errors"):
            self.count(name, output.get(name, 0))

    # board rules: what becomes possible after this wave

    def assign_keys(self) -> list[str]:
        """Keep the best screened sources up to the budget and give each a stable key."""
        keyed = [e for e in self.sources.values() if e["key"]]
        room = self.context.max_sources - len(keyed)
        fresh = sorted(
            (e for e in self.sources.values() if e["kept"] and not e["key"]),
            key=lambda e: (-e["score"], e["identity"]),
        )[: max(room, 0)]
        taken = {e["key"] for e in keyed}
        assigned = []
        for entry in sorted(fresh, key=lambda e: e["identity"]):
            key = base = base_key(Source.model_validate(entry["source"]))
            suffix = ord("a")
            while key in taken:
                key = f"{base}{chr(suffix)}"
                suffix += 1
            taken.add(key)
            self.sources[entry["identity"]] = {**entry, "key": key}
            assigned.append(entry["identity"])
        return assigned

    def steps_left(self) -> float:
        """Research steps left: a quarter of the step budget is kept for writing."""
        used = self.counters.get("steps", 0) + 2 * len(self.state.get("waves", {})) + 1
        return self.context.max_steps * RESEARCH_SHARE - used

    def spent_budget(self) -> str:
        """The budget that ran out ("" while all last): research stops, writing goes on.

        Steps are the sub-agents' steps plus the coordinator's; a quarter of the step
        budget is kept for writing and formatting."""
        if self.budget:
            return self.budget
        context, counters = self.context, self.counters
        tokens = counters.get("tokens_input", 0) + counters.get("tokens_output", 0)
        elapsed = time.time() - self.state.get("started", time.time())
        for name, over in (
            ("steps", self.steps_left() <= 0),
            ("tokens", bool(context.max_tokens) and tokens >= context.max_tokens),
            ("cost", bool(context.max_cost) and counters.get("cost", 0) >= context.max_cost),
            ("time", bool(context.max_time) and elapsed >= context.max_time),
        ):
            if over:
                self.budget = name
                break
        return self.budget

    def plan_reading(self) -> None:
        """After a round of search: key the new sources and read them in batches."""
        if not board.finished(self.tasks, self.results, kind="search"):
            return
        if self.spent_budget():
            self.assign_keys()
            return
        fresh = self.assign_keys()
        affordable = int(self.steps_left() // READ_STEPS)
        if affordable < len(fresh):
            self.budget = "steps"
            best = sorted(fresh, key=lambda i: -self.sources[i]["score"])[:affordable]
            fresh = [i for i in fresh if i in best]
        for start in range(0, len(fresh), CITATION_BATCH):
            batch = fresh[start : start + CITATION_BATCH]
            number = sum(1 for t in self.tasks.values() if t["kind"] == "citation")
            items = [
                {
                    "identity": i,
                    "brief": {"key": self.sources[i]["key"], **self._brief(i)},
                    "theme": self.sources[i].get("theme_hint"),
                }
                for i in batch
            ]
            self.add(
                board.task(
                    f"read-{number:04d}", "citation", "read", {"topic": self.topic, "items": items}
                )
            )

    def _brief(self, identity: str) -> dict[str, Any]:
        """The source's brief, worked out once a pass for each version of its metadata."""
        source = self.sources[identity]["source"]
        known = self._briefs.get(identity)
        if known is None or known[0] is not source:
            known = self._briefs[identity] = (source, brief_fields(Source.model_validate(source)))
        return known[1]

    def noted(self, identities: list[str] | None = None) -> list[NotedSource]:
        chosen = identities or [i for i, e in self.sources.items() if e["key"] and "notes" in e]
        return [
            NotedSource(
                key=self.sources[i]["key"], notes=self.sources[i]["notes"], **self._brief(i)
            )
            for i in sorted(chosen, key=lambda i: self.sources[i]["key"])
            if "notes" in self.sources[i]
        ]

    def plan_outline(self) -> None:
        if board.of(self.tasks, skill="outline"):
            return
        for kind in ("search", "citation"):
            if not board.finished(self.tasks, self.results, kind=kind):
                return
        sources = self.noted()
        if not sources and self.budget:
            sources = [
                NotedSource(key=e["key"], **self._brief(i))
                for i, e in sorted(self.sources.items())
                if e["key"]
            ]
        if not sources:
            return
        self.add(
            board.task(
                "outline",
                "writing",
                "outline",
                {
                    "topic": self.topic,
                    "sources": [s.model_dump() for s in sources],
                    "max_themes": self.context.max_themes,
                },
            )
        )

    def plan_sections(self) -> None:
        """Write each theme once its sources are in; a thin theme first gets more search."""
        if self.state.get("plan_review") == "pending":
            return
        for theme in self.outline.get("themes", []):
            tid = theme["id"]
            if any(t["id"].startswith(f"section-{tid}-") for t in self.tasks.values()):
                continue
            expansion = [t for t in self.tasks.values() if t["payload"].get("theme") == tid]
            if len(theme["keys"]) < THIN_THEME and not expansion and not self.spent_budget():
                query = " ".join([theme["title"], *theme.get("keywords", [])[:4]])
                self.add(
                    board.task(
                        f"search-{tid}",
                        "search",
                        "query",
                        {
                            "query": query,
                            "topic": self.topic,
                            "k": THEME_SEARCH_DEPTH,
                            "theme": tid,
                        },
                    )
                )
                continue
            if expansion and not self._expansion_done(tid):
                continue
            self._absorb_expansion(theme)
            self._add_section_tasks(theme)

    def _expansion_done(self, tid: str) -> bool:
        searched = [t for t in self.tasks.values() if t["payload"].get("theme") == tid]
        if any(t["id"] not in self.results for t in searched):
            return False
        reads = [
            t
            for t in self.tasks.values()
            if t["skill"] == "read" and any(i.get("theme") == tid for i in t["payload"]["items"])
        ]
        return all(t["id"] in self.results for t in reads)

    def _absorb_expansion(self, theme: dict[str, Any]) -> None:
        placed = {k for t in self.outline["themes"] for k in t["keys"]}
        extra = [
            e["key"]
            for e in self.sources.values()
            if e.get("theme_hint") == theme["id"]
            and e["key"]
            and "notes" in e
            and e["key"] not in placed
        ]
        if extra:
            theme["keys"] = [*theme["keys"], *extra]
            theme["groups"] = [*theme["groups"], {"label": "Further work", "keys": extra}]

    def _add_section_tasks(self, theme: dict[str, Any]) -> None:
        tid = theme["id"]
        by_key = {e["key"]: i for i, e in self.sources.items() if e["key"]}
        model = Theme.model_validate(theme)

        def request(part: str, group: Group | None, keys: list[str]) -> dict[str, Any]:
            return SectionRequest(
                topic=self.topic,
                theme=model,
                part=part,
                group=group,
                sources=self.noted([by_key[k] for k in keys if k in by_key]),
            ).model_dump()

        self.add(
            board.task(
                f"section-{tid}-overview",
                "writing",
                "section",
                {
                    "request": request("overview", None, theme["keys"]),
                    "place": {"theme": tid, "part": "overview", "group": -1, "chunk": 0},
                },
            )
        )
        for g, group in enumerate(theme["groups"]):
            for c, start in enumerate(range(0, len(group["keys"]), GROUP_SIZE)):
                keys = group["keys"][start : start + GROUP_SIZE]
                part = Group(label=group["label"], keys=keys)
                self.add(
                    board.task(
                        f"section-{tid}-g{g}-{c}",
                        "writing",
                        "section",
                        {
                            "request": request("group", part, keys),
                            "place": {"theme": tid, "part": "group", "group": g, "chunk": c},
                        },
                    )
                )

    def _themes_written(self) -> bool:
        themes = self.outline.get("themes", [])
        return bool(themes) and all(
            any(t["id"].startswith(f"section-{th['id']}-") for t in self.tasks.values())
            for th in themes
        )

    def plan_tables(self) -> None:
        """The bibliography's tables and figures, in the run's longest wave.

        Its agent spends its time in the sandbox rather than waiting on a model, and a wave
        lasts as long as its slowest agent: beside the one-call section writers it would
        hold their wave, beside the citation checkers (many calls each) it holds nothing."""
        if board.of(self.tasks, skill="tables") or not self._themes_written():
            return
        if self.context.verify and not self._drafted():
            return
        theme_of = {k: t["id"] for t in self.outline["themes"] for k in t["keys"]}
        rows = [
            {
                "key": e["key"],
                "year": e["source"].get("year"),
                "theme": theme_of[e["key"]],
                "venue": e["source"].get("venue"),
            }
            for e in self.sources.values()
            if e["key"] in theme_of
        ]
        themes = [{"id": t["id"], "title": t["title"]} for t in self.outline["themes"]]
        payload = {"sources": rows, "themes": themes, "out_dir": self.state["out_dir"]}
        self.add(board.task("tables", "coding", "tables", payload))

    def facts(self) -> RunFacts:
        found = list(self.sources.values())
        years = [e["source"]["year"] for e in found if e["key"] and e["source"].get("year")]
        return RunFacts(
            sources_searched=self.counters.get("searched", 0),
            sources_found=len(found),
            sources_screened=sum(1 for e in found if e["kept"]),
            sources_kept=sum(1 for e in found if e["key"]),
            queries=self.state["plan"]["queries"],
            years=(min(years), max(years)) if years else None,
            engine=engine_for(self.context).name,
        )

    def plan_frame(self) -> None:
        if board.of(self.tasks, skill="frame") or not self._themes_written():
            return
        if not board.finished(self.tasks, self.results, skill="section"):
            return
        facts = self.facts()
        best: dict[str, float] = {}
        for entry in self.sources.values():
            if entry["key"]:
                best[entry["key"]] = max(best.get(entry["key"], entry["score"]), entry["score"])
        summaries = [
            SectionSummary(
                title=t["title"],
                summary=t.get("summary", ""),
                keys=sorted(t["keys"], key=lambda k: -best.get(k, 0))[:REPRESENTATIVES],
            )
            for t in self.outline["themes"]
        ]
        for kind in ("introduction", "conclusion", "abstract"):
            request = {
                "kind": kind,
                "topic": self.topic,
                "title": self.state["plan"]["title"],
                "sections": [s.model_dump() for s in summaries],
                "facts": facts.model_dump(),
            }
            self.add(
                board.task(
                    f"frame-{kind}",
                    "writing",
                    "frame",
                    {"request": request, "place": {"frame": kind}},
                )
            )
        method_facts = facts.model_dump() | {"themes": len(self.outline["themes"])}
        self.add(
            board.task(
                "frame-method",
                "writing",
                "method",
                {"facts": method_facts, "place": {"frame": "method"}},
            )
        )

    def _drafted(self) -> bool:
        """Every part of the review is written: sections, frame and method."""
        return all(
            board.finished(self.tasks, self.results, skill=skill)
            for skill in ("section", "frame", "method")
        )

    def plan_verification(self) -> None:
        """Once every part is written: note disagreeing sources in each theme's overview,
        merge repeated sentences, then one citation agent per drafted part checks the
        part's citations (the citations a merge added included)."""
        if not self.context.verify or board.of(self.tasks, skill="verify"):
            return
        if not self._drafted():
            return
        by_key = {e["key"]: i for i, e in self.sources.items() if e["key"]}
        themes = {t["id"]: t for t in self.outline.get("themes", [])}
        self._note_conflicts(list(themes.values()), by_key)
        self._dedupe()
        for draft_id, entry in sorted(self.drafts.items()):
            draft = SectionDraft.model_validate(entry["draft"])
            cited = [k for s in draft_sentences(draft) for k in s.citations]
            if not cited:
                continue
            if "theme" in entry:
                pool = themes[entry["theme"]]["keys"] if entry["theme"] in themes else []
            else:
                request = self.tasks[draft_id]["payload"].get("request", {})
                pool = [k for section in request.get("sections", []) for k in section["keys"]]
            keys = [k for k in dict.fromkeys([*cited, *pool]) if k in by_key]
            self.add(
                board.task(
                    f"verify-{draft_id}",
                    "citation",
                    "verify",
                    {
                        "draft_id": draft_id,
                        "place": {k: v for k, v in entry.items() if k != "draft"},
                        "draft": entry["draft"],
                        "sources": {k: self._checked(by_key[k], k) for k in keys},
                    },
                )
            )

    def _checked(self, identity: str, key: str) -> dict[str, Any]:
        """A source as its checker gets it: the checker reads a corpus document's own text,
        so the brief leaves out the abstract, which that text holds."""
        brief = {"key": key, **self._brief(identity)}
        if identity in self.corpus:
            brief["abstract"] = ""
        return {"identity": identity, "brief": brief}

    def _note_conflicts(self, themes: list[dict[str, Any]], by_key: dict[str, str]) -> None:
        """Add a sentence citing both sources to a theme's overview where two disagree."""
        for theme in themes:
            draft_id = f"section-{theme['id']}-overview"
            entry = self.drafts.get(draft_id)
            if entry is None:
                continue
            noted = self.noted([by_key[k] for k in theme["keys"] if k in by_key])
            sentences = conflict_sentences(noted)
            if not sentences:
                continue
            draft = SectionDraft.model_validate(entry["draft"])
            draft.paragraphs.append(DraftParagraph(sentences=sentences))
            self.drafts[draft_id] = {**entry, "draft": draft.model_dump()}
            self.count("conflicts_noted", len(sentences))

    def _dedupe(self) -> None:
        """Merge near-duplicate sentences across the parts, in the review's reading order."""
        frames = {d["frame"]: i for i, d in self.drafts.items() if "frame" in d}
        order = [frames[k] for k in ("introduction", "method") if k in frames]
        for theme in self.outline.get("themes", []):
            parts = [(i, d) for i, d in self.drafts.items() if d.get("theme") == theme["id"]]
            parts.sort(key=lambda p: (p[1]["part"] != "overview", p[1]["group"], p[1]["chunk"]))
            order += [i for i, _ in parts]
        order += [frames[k] for k in ("conclusion",) if k in frames]
        drafts = [SectionDraft.model_validate(self.drafts[i]["draft"]) for i in order]
        removed = dedupe(drafts)
        self.count("duplicates_removed", removed)
        if removed:
            for draft_id, draft in zip(order, drafts, strict=True):
                self.drafts[draft_id] = {**self.drafts[draft_id], "draft": draft.model_dump()}

    def plan_assembly(self, runtime: Runtime[Context]) -> None:
        if board.of(self.tasks, skill="assemble"):
            return
        if not (
            board.finished(self.tasks, self.results, kind="writing", skill="frame")
            and board.finished(self.tasks, self.results, skill="method")
            and board.finished(self.tasks, self.results, kind="coding")
        ):
            return
        if board.of(self.tasks, skill="verify") and not board.finished(
            self.tasks, self.results, skill="verify"
        ):
            return
        frames = {d["frame"]: d["draft"] for d in self.drafts.values() if "frame" in d}
        for kind in ("introduction", "conclusion", "abstract", "method"):
            frames.setdefault(kind, {"title": kind.capitalize(), "paragraphs": []})
        parts = [d for d in self.drafts.values() if "theme" in d]
        engine = engine_for(self.context).name
        sources = sorted((e for e in self.sources.values() if e["key"]), key=lambda e: e["key"])
        payload = {
            "title": self.state["plan"]["title"],
            "subtitle": f"A literature review written by the {engine} engine of Agent Swarm",
            "style": self.context.style,
            "metadata": {
                "prompt": self.state["prompt"],
                "engine": engine,
                "date": time.strftime("%Y-%m-%d"),
            },
            "frames": frames,
            "parts": parts,
            "outline": self.outline,
            "tables": self.tables,
            "sources": [
                {"key": e["key"], "source": e["source"], "notes": e.get("notes", {})}
                for e in sources
            ],
        }
        self.add(board.task("assemble", "formatting", "assemble", payload))

    def plan_rows(self) -> None:
        """After search: the matching sources, best first, split into shards by a stable hash
        of their identity, one row-filling agent per shard, as many agents as may run at once
        (fewer when the step budget is short: a shard costs steps, not a row)."""
        if board.of(self.tasks, skill="rows"):
            return
        if not board.finished(self.tasks, self.results, kind="search"):
            return
        matching = sorted(
            (e for e in self.sources.values() if e["kept"]),
            key=lambda e: (-e["score"], e["identity"]),
        )[: self.dataset["rows"]]
        wanted = min(self.context.max_agents, math.ceil(len(matching) / MIN_SHARD_ROWS))
        shards = max(1, min(wanted, int(self.steps_left() // ROW_STEPS)))
        buckets: list[list[dict[str, Any]]] = [[] for _ in range(shards)]
        for rank, entry in enumerate(matching):
            item = {"identity": entry["identity"], "rank": rank, "source": entry["source"]}
            buckets[zlib.crc32(entry["identity"].encode()) % shards].append(item)
        spec = {k: self.dataset[k] for k in ("subject", "columns", "key")}
        for number, items in enumerate(buckets):
            if items:
                task_id = f"rows-{number:04d}"
                self.add(board.task(task_id, "coding", "rows", {**spec, "items": items}))

    def plan_dataset_exports(self) -> None:
        """Once every shard is in: the merged rows, best-ranked first, to each dataset file."""
        if board.of(self.tasks, skill="dataset") or not self.rows:
            return
        if not board.finished(self.tasks, self.results, skill="rows"):
            return
        rows = sorted(self.rows.values(), key=lambda r: r["rank"])
        counters = self.counters
        dataset = {
            "title": self.dataset["title"],
            "columns": self.dataset["columns"],
            "key": self.dataset["key"],
            "rows": [r["cells"] for r in rows],
            "notes": {
                "prompt": self.state["prompt"],
                "rows": len(rows),
                "duplicates dropped": int(counters.get("duplicates_dropped", 0)),
                "rows without a key dropped": int(counters.get("rows_without_key", 0)),
                "cells failing their type check (left empty)": int(counters.get("type_errors", 0)),
                "engine": engine_for(self.context).name,
                "date": time.strftime("%Y-%m-%d"),
            },
        }
        for fmt in DATASET_FILES:
            payload = {"dataset": dataset, "format": fmt, "out_dir": self.state["out_dir"]}
            self.add(board.task(f"export-{fmt}", "formatting", "dataset", payload))

    def plan_exports(self) -> None:
        if not self.document or board.of(self.tasks, skill="export"):
            return
        for fmt in self.context.formats:
            self.add(
                board.task(
                    f"export-{fmt}",
                    "formatting",
                    "export",
                    {
                        "document": self.document,
                        "format": fmt,
                        "out_dir": self.state["out_dir"],
                    },
                )
            )


async def merge(state: SwarmState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Fold the wave's results into the state and add the tasks that became possible."""
    done = state.get("merged", {})
    new = [r for tid, r in sorted(state.get("results", {}).items()) if tid not in done]
    work = Merge(state, runtime.context, await corpus_for(runtime.context))
    for result in new:
        work.absorb(result)
    if work.dataset:
        work.plan_rows()
        work.plan_dataset_exports()
    else:
        work.plan_reading()
        work.plan_outline()
        work.plan_sections()
        work.plan_tables()
        work.plan_frame()
        work.plan_verification()
        work.plan_assembly(runtime)
        work.plan_exports()
    wave = str(len(state.get("waves", {})))
    update: dict[str, Any] = {
        "merged": {r["task_id"]: True for r in new},
        "waves": {wave: {"size": len(new), "steps": max(r["steps"] for r in new)}} if new else {},
        "tasks": work.new_tasks,
        "sources": changed(state.get("sources", {}), work.sources),
        "drafts": changed(state.get("drafts", {}), work.drafts),
        "tables": changed(state.get("tables", {}), work.tables),
        "rows": changed(state.get("rows", {}), work.rows),
        "counters": changed(state.get("counters", {}), work.counters),
    }
    if work.budget and not state.get("budget"):
        update["budget"] = work.budget
    if work.outline != (state.get("outline") or {}):
        update["outline"] = work.outline
    if work.document and not state.get("document"):
        update["document"] = work.document
    return update


def draft_sentences(draft: SectionDraft) -> list[Sentence]:
    """Every sentence of a draft: its paragraphs' and its bullets'."""
    return [s for p in draft.paragraphs for s in p.sentences] + list(draft.bullets)


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The entries of `after` that are new or replaced: all a by-key channel needs to store."""
    return {k: v for k, v in after.items() if k not in before or before[k] is not v}


async def finish(state: SwarmState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Write run.json beside the review and return the review, its files and the summary."""
    out_dir = Path(state["out_dir"])
    results = state.get("results", {})
    files = sorted(
        r["output"]["file"]
        for r in results.values()
        if r["status"] == "done" and "file" in r["output"]
    )
    document = Document.model_validate(state["document"]) if state.get("document") else None
    run = run_summary(state, runtime.context, document, files + [str(out_dir / "run.json")])
    info = runtime.execution_info
    run["thread_id"] = (info.thread_id if info else None) or ""
    review = await asyncio.to_thread(write_run, out_dir, run)
    return {"review": review, "files": run["files"], "run": run}


def write_run(out_dir: Path, run: dict[str, Any]) -> str:
    """Write run.json into `out_dir` and return the Markdown review beside it ("" if none).

    Blocking file work: `finish` runs it in a thread, off the server's event loop."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    review_path = out_dir / FILENAMES["md"]
    return review_path.read_text() if review_path.exists() else ""


def run_summary(
    state: SwarmState, context: Context, document: Document | None, files: list[str]
) -> dict[str, Any]:
    results = state.get("results", {})
    waves = list(state.get("waves", {}).values())
    counters = state.get("counters", {})
    cited = document.cited_keys() if document else []
    references = {r.key for r in document.references} if document else set()
    citations = 0
    words = 0
    if document:
        for block in document.all_blocks():
            runs = getattr(block, "runs", None) or [
                run for item in getattr(block, "items", []) for run in item
            ]
            citations += sum(len(r.keys) for r in runs if isinstance(r, Cite))
            if isinstance(block, Paragraph) or runs:
                words += len(plain_text(runs, cite=lambda keys: "").split())
    failed = [
        {"task": tid, "error": r.get("error", "")}
        for tid, r in sorted(results.items())
        if r["status"] == "failed"
    ]
    themes = len(state.get("outline", {}).get("themes", []))
    dataset = state.get("dataset") or {}
    rows = len(state.get("rows", {}))
    status = "no_relevant_sources"
    if document or rows:
        status = "budget_exhausted" if state.get("budget") else "done"
    return {
        "thread_id": "",
        "deliverable": "dataset" if dataset else "review",
        "status": status,
        "budget": state.get("budget") or None,
        "engine": engine_for(context).name,
        "prompt": state["prompt"],
        "title": state["plan"].get("title", ""),
        "sub_agents": len(results),
        "max_parallel": max((w["size"] for w in waves), default=0),
        "supersteps": 2 + 2 * len(waves),
        "critical_steps": 2 + sum(1 + w["steps"] for w in waves),
        "sources_searched": counters.get("searched", 0),
        "sources_found": len(state.get("sources", {})),
        "sources_kept": sum(
            1 for e in state.get("sources", {}).values() if (e["kept"] if dataset else e["key"])
        ),
        "sources": len(cited),
        "citations": citations,
        "unresolved_citations": sum(1 for k in cited if k not in references),
        "dropped_citations": counters.get("dropped_citations", 0),
        **{name: int(counters.get(name, 0)) for name in VERIFY_COUNTS},
        "duplicates_removed": int(counters.get("duplicates_removed", 0)),
        "conflicts_noted": int(counters.get("conflicts_noted", 0)),
        **(
            {
                "rows": rows,
                "columns": [c["name"] for c in dataset["columns"]],
                "key": dataset["key"],
                "duplicates_dropped": int(counters.get("duplicates_dropped", 0)),
                "rows_without_key": int(counters.get("rows_without_key", 0)),
                "type_errors": int(counters.get("type_errors", 0)),
                "type_problems": [
                    problem
                    for tid, r in sorted(results.items())
                    if tid.startswith("rows-")
                    for problem in r["output"].get("problems", [])
                ][:MAX_PROBLEMS],
            }
            if dataset
            else {}
        ),
        "themes": themes,
        "sections": len(document.sections) if document else 0,
        "words": words,
        "steps": int(counters.get("steps", 0)) + 2 * len(waves) + 2,
        "tokens": {
            "input": int(counters.get("tokens_input", 0)),
            "output": int(counters.get("tokens_output", 0)),
        },
        "cost": round(counters.get("cost", 0.0), 6),
        "failed_tasks": len(failed),
        "failures": failed,
        "skipped_documents": counters.get("skipped_documents", 0),
        "wall_seconds": round(time.time() - state.get("started", time.time()), 2),
        "files": files,
    }
