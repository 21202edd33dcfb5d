"""`swarm`: run a literature review from a prompt, with a live view of the swarm at work."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Coroutine
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table

from exporters import FORMATS, check_formats, export
from exporters.dataset import Dataset
from exporters.dataset_files import DATASET_FILES, write_dataset
from exporters.document import Document
from exporters.references import STYLES, check_style
from graph.config import ENGINES, ON_UNSUPPORTED, Context
from graph.errors import SwarmError
from graph.persistence import RUNS, Persistence, persistence
from graph.resources import corpus_for_sync, engine_for
from graph.state import KINDS
from graph.swarm import builder
from tools.snapshot import snapshot

console = Console(stderr=True, soft_wrap=True)


def parse_formats(value: str) -> list[str]:
    return check_formats(f.strip().lower() for f in value.split(",") if f.strip())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="swarm", description="One prompt in, a cited literature review out."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--db",
        default=None,
        metavar="PATH|URL",
        help="run database: a SQLite file or postgresql://... (default: SWARM_DATABASE_URL, "
        "else a file in the user data folder)",
    )
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", action="store_true", help="no live progress view")

    run = commands.add_parser(
        "run", parents=[database, quiet], help="write a literature review from a prompt"
    )
    run.add_argument("prompt", help="what the review is about")
    run.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="PATH",
        help="folder of documents or a records file (repeatable)",
    )
    run.add_argument(
        "--sources",
        default="",
        metavar="LIST",
        help="where to search, comma-separated: corpus, tavily, arxiv, openalex",
    )
    run.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    run.add_argument("--thread", default=None, metavar="ID", help="name of the run")
    run.add_argument(
        "--max-agents",
        type=int,
        default=32,
        metavar="N",
        help="sub-agents running at once (default: 32)",
    )
    run.add_argument(
        "--max-steps", type=int, default=4000, metavar="N", help="step budget (default: 4000)"
    )
    run.add_argument(
        "--max-tokens",
        type=int,
        default=0,
        metavar="N",
        help="token budget of model calls (default: none)",
    )
    run.add_argument(
        "--max-cost",
        type=float,
        default=0.0,
        metavar="USD",
        help="cost budget in dollars (default: none)",
    )
    run.add_argument(
        "--max-time",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wall-time budget (default: none)",
    )
    run.add_argument(
        "--rps",
        type=float,
        default=0.0,
        metavar="N",
        help="most model calls per second for the whole run (default: no limit)",
    )
    run.add_argument(
        "--task-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="time one sub-agent step may take before it is retried (default: 600)",
    )
    run.add_argument(
        "--max-sources",
        type=int,
        default=200,
        metavar="N",
        help="most sources kept after screening (default: 200)",
    )
    run.add_argument(
        "--max-rows",
        type=int,
        default=50_000,
        metavar="N",
        help="most rows of a dataset, when the prompt asks for a table (default: 50000)",
    )
    run.add_argument(
        "--max-themes", type=int, default=8, metavar="N", help="most thematic sections (default: 8)"
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto: a model when SWARM_MODEL is set, else offline",
    )
    run.add_argument(
        "--format",
        default=",".join(FORMATS),
        metavar="LIST",
        help=f"files to write, comma-separated (default: {','.join(FORMATS)})",
    )
    run.add_argument("--style", default="apa", help=f"reference style: {', '.join(STYLES)}")
    run.add_argument(
        "--on-unsupported",
        choices=ON_UNSUPPORTED,
        default="drop",
        help="a sentence no source supports: drop it, or mark it [unsupported] (default: drop)",
    )

    resume = commands.add_parser(
        "resume", parents=[database, quiet], help="continue a stopped run where it stopped"
    )
    resume.add_argument("thread", metavar="THREAD_ID")

    commands.add_parser("runs", parents=[database], help="list runs with their status")

    show = commands.add_parser("show", parents=[database], help="a run's summary and task board")
    show.add_argument("thread", metavar="THREAD_ID")

    export = commands.add_parser(
        "export", parents=[database], help="write a finished run's files again, no agent runs"
    )
    export.add_argument("thread", metavar="THREAD_ID")
    export.add_argument(
        "--format",
        default=",".join(FORMATS),
        metavar="LIST",
        help=f"comma-separated: {','.join(FORMATS)} (a dataset: dataset.xlsx and .csv)",
    )
    export.add_argument("--style", default=None, help=f"reference style: {', '.join(STYLES)}")
    export.add_argument(
        "--out", default=None, metavar="DIR", help="folder for the files (default: the run's own)"
    )
    corpus = commands.add_parser("corpus", help="snapshot live sources for offline runs")
    corpus_commands = corpus.add_subparsers(dest="corpus_command", required=True)
    build = corpus_commands.add_parser(
        "build", help="search live sources and write a records file (JSON Lines)"
    )
    build.add_argument("query", help="what to collect")
    build.add_argument(
        "--from",
        dest="providers",
        default="arxiv,openalex",
        metavar="LIST",
        help="comma-separated: arxiv, openalex, tavily, crossref (enrichment)",
    )
    build.add_argument("--out", default="corpus", metavar="DIR", help="folder for the file")
    build.add_argument(
        "--limit",
        type=int,
        default=100,
        metavar="N",
        help="most works from each source (default: 100)",
    )
    return parser.parse_args(argv)


def check_output_folder(out: str) -> Path:
    """Fail now, not after hours of work, when the output folder cannot be written."""
    folder = Path(out).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".swarm-write-test-{uuid.uuid4().hex}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise SwarmError(
            f"cannot write to the output folder {folder}: {exc.strerror or exc}; "
            "choose another with --out"
        ) from exc
    return folder


def context_from(args: argparse.Namespace) -> Context:
    if not args.prompt.strip():
        raise SwarmError('empty prompt: say what the review is about, e.g. swarm run "RAG methods"')
    return Context(
        corpus=args.corpus,
        sources=args.sources,
        out=args.out,
        max_agents=args.max_agents,
        max_steps=args.max_steps,
        max_tokens=args.max_tokens,
        max_cost=args.max_cost,
        max_time=args.max_time,
        rps=args.rps,
        task_timeout=args.task_timeout,
        max_sources=args.max_sources,
        max_rows=args.max_rows,
        max_themes=args.max_themes,
        formats=parse_formats(args.format),
        style=check_style(args.style.lower()),
        engine=args.engine,
        on_unsupported=args.on_unsupported,
    )


def check_ready(context: Context) -> None:
    """Everything a run needs, checked before any agent runs: output folder, sources, engine."""
    check_output_folder(context.out)
    corpus = corpus_for_sync(context)
    engine_for(context)
    if skipped := len(corpus.stats.skipped):
        console.print(f"[yellow]warning:[/] skipped {skipped} unreadable document(s); see run.json")


class Progress:
    """The live view: tasks running and done per specialist, waves, elapsed time."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.started = time.monotonic()
        self.running: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.steps = 0
        self.tokens = 0
        self.waves = 0
        self.title = ""

    def event(self, data: dict[str, Any]) -> None:
        kind = data.get("kind", "")
        match data.get("event"):
            case "planned":
                self.title = data.get("title", "")
            case "task_started":
                self.running[kind] += 1
            case "task_finished":
                self.running[kind] -= 1
                self.done[kind] += 1
                self.steps += data.get("steps", 0)
                self.tokens += data.get("tokens", 0)
            case "task_failed":
                self.running[kind] -= 1
                self.failed[kind] += 1
                self.steps += data.get("steps", 0)
                self.tokens += data.get("tokens", 0)

    def summary(self) -> str:
        return (
            f"{sum(self.done.values())} agents done, {sum(self.failed.values())} failed, "
            f"{self.waves} waves, {time.monotonic() - self.started:,.0f}s"
        )

    def render(self) -> Group:
        table = Table(box=None, pad_edge=False)
        for column in ("specialist", "running", "done", "failed"):
            table.add_column(column, justify="left" if column == "specialist" else "right")
        for kind in KINDS:
            table.add_row(
                kind, str(self.running[kind]), str(self.done[kind]), str(self.failed[kind])
            )
        elapsed = time.monotonic() - self.started
        head = Spinner(
            "dots",
            text=f"{self.title or 'planning'}  ·  thread {self.thread_id}  ·  wave {self.waves}"
            f"  ·  {sum(self.done.values())} agents done  ·  {self.steps} steps"
            f"  ·  {self.tokens:,} tokens"
            f"  ·  {elapsed:,.0f}s",
        )
        return Group(head, table)


def new_thread_id() -> str:
    return f"run-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


async def execute(
    stored: Persistence,
    context: Context,
    thread_id: str,
    graph_input: dict[str, Any] | None,
    quiet: bool,
) -> dict[str, Any]:
    """Stream one run (new or resumed) with the live view; keep its record up to date."""
    progress = Progress(thread_id)
    final: dict[str, Any] = {}
    graph = builder.compile(checkpointer=stored.checkpointer, store=stored.store, name="swarm")
    stream = graph.astream(
        graph_input,
        context.run_config(thread_id),
        context=context,
        stream_mode=["custom", "updates", "values"],
        subgraphs=True,
        durability="sync",
    )
    live_view = not quiet and console.is_terminal
    try:
        with (
            Live(progress.render(), console=console, refresh_per_second=4, transient=True)
            if live_view
            else nullcontext()
        ) as live:
            async for namespace, mode, chunk in stream:
                if mode == "custom":
                    progress.event(chunk)
                elif mode == "updates" and not namespace and "merge" in chunk:
                    progress.waves += 1
                    await stored.record(thread_id, status="running", progress=progress.summary())
                    if not live_view and not quiet:
                        console.print(f"wave {progress.waves}: {progress.summary()}")
                elif mode == "values" and not namespace:
                    final = chunk
                if live is not None:
                    live.update(progress.render())
    except asyncio.CancelledError:
        await stored.record(thread_id, status="interrupted", progress=progress.summary())
        raise
    except Exception:
        await stored.record(thread_id, status="crashed", progress=progress.summary())
        raise
    run = final.get("run") or {}
    await stored.record(
        thread_id,
        status=run.get("status", "unfinished"),
        progress=progress.summary(),
        files=run.get("files", []),
    )
    return final


async def run_review(args: argparse.Namespace) -> int:
    context = context_from(args)
    check_ready(context)
    thread_id = args.thread = args.thread or new_thread_id()
    async with persistence(args.db) as stored:
        if await stored.store.aget(RUNS, thread_id):
            raise SwarmError(
                f"a run named {thread_id!r} exists: continue it with `swarm resume {thread_id}` "
                "or choose another --thread"
            )
        await stored.record(
            thread_id, prompt=args.prompt, context=asdict(context), status="starting"
        )
        console.print(f"thread {thread_id}")
        final = await execute(stored, context, thread_id, {"prompt": args.prompt}, args.quiet)
    return report(final)


async def resume_run(args: argparse.Namespace) -> int:
    async with persistence(args.db) as stored:
        record = await stored.run(args.thread)
        if record.get("status") in ("done", "budget_exhausted"):
            console.print(f"run {args.thread} has finished ({record['status']}); its files:")
            for path in record.get("files", []):
                print(path)
            return 0
        context = Context(**record["context"])
        check_ready(context)
        graph = builder.compile(checkpointer=stored.checkpointer, name="swarm")
        saved = await graph.aget_state(context.run_config(args.thread))
        graph_input = None if saved.values else {"prompt": record["prompt"]}
        console.print(f"resuming thread {args.thread}")
        final = await execute(stored, context, args.thread, graph_input, args.quiet)
    return report(final)


async def list_runs(args: argparse.Namespace) -> int:
    async with persistence(args.db) as stored:
        records = await stored.runs()
    table = Table("thread", "status", "progress", "started", "updated", "prompt", box=None)
    for r in records:
        table.add_row(
            r["thread_id"],
            r.get("status", ""),
            r.get("progress", ""),
            _when(r.get("started")),
            _when(r.get("updated")),
            (r.get("prompt") or "")[:60],
        )
    Console(soft_wrap=True).print(table)
    return 0


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else ""


async def show_run(args: argparse.Namespace) -> int:
    async with persistence(args.db) as stored:
        record = await stored.run(args.thread)
        graph = builder.compile(checkpointer=stored.checkpointer, name="swarm")
        saved = await graph.aget_state({"configurable": {"thread_id": args.thread}})
    out = Console(soft_wrap=True)
    values = saved.values or {}
    out.print(f"[bold]{args.thread}[/]  {record.get('status', '')}  {record.get('prompt', '')}")
    out.print(
        f"started {_when(record.get('started'))}, last update {_when(record.get('updated'))}; "
        f"{record.get('progress', '')}"
    )
    tasks, results = values.get("tasks", {}), values.get("results", {})
    board_table = Table("specialist", "skill", "done", "failed", "pending", box=None)
    rows: dict[tuple[str, str], Counter[str]] = {}
    for task in tasks.values():
        status = results[task["id"]]["status"] if task["id"] in results else "pending"
        rows.setdefault((task["kind"], task["skill"]), Counter())[status] += 1
    for (kind, skill), counts in rows.items():
        board_table.add_row(kind, skill, *(str(counts[s]) for s in ("done", "failed", "pending")))
    out.print(board_table)
    for task_id, result in sorted(results.items()):
        if result["status"] == "failed":
            out.print(f"[red]failed[/] {task_id}: {result.get('error', '')}")
    for path in record.get("files", []):
        print(path)
    return 0


async def export_run(args: argparse.Namespace) -> int:
    async with persistence(args.db) as stored:
        await stored.run(args.thread)
        graph = builder.compile(checkpointer=stored.checkpointer, name="swarm")
        saved = await graph.aget_state({"configurable": {"thread_id": args.thread}})
    values = saved.values or {}
    if values.get("dataset"):
        return await export_dataset(args, values)
    formats = parse_formats(args.format)
    if not values.get("document"):
        raise SwarmError(
            f"run {args.thread} has no document yet: "
            f"finish it first with `swarm resume {args.thread}`"
        )
    document = Document.model_validate(values["document"])
    if args.style:
        document.style = check_style(args.style.lower())
    folder = check_output_folder(args.out) if args.out else Path(values["out_dir"])
    for path in await asyncio.to_thread(export, document, folder, formats):
        print(path)
    return 0


async def export_dataset(args: argparse.Namespace, values: dict[str, Any]) -> int:
    """A dataset run's files again, from the rows its last export was given."""
    exports = [t for t in values.get("tasks", {}).values() if t["skill"] == "dataset"]
    if not exports:
        raise SwarmError(
            f"run {args.thread} has no rows yet: finish it first with `swarm resume {args.thread}`"
        )
    dataset = Dataset.model_validate(exports[0]["payload"]["dataset"])
    folder = check_output_folder(args.out) if args.out else Path(values["out_dir"])
    for path in await asyncio.to_thread(write_dataset, dataset, folder, DATASET_FILES):
        print(path)
    return 0


def report(final: dict[str, Any]) -> int:
    run = final.get("run") or {}
    if run.get("status") not in ("done", "budget_exhausted"):
        console.print(
            "[red]error:[/] no source matched the prompt; "
            "rephrase the prompt or add sources with --corpus"
        )
        return 1
    if run.get("status") == "budget_exhausted":
        console.print(
            f"[yellow]warning:[/] the {run['budget']} budget ran out: research stopped early and "
            f"the {run.get('deliverable', 'review')} was made from what was found"
        )
    if run.get("failed_tasks"):
        console.print(
            f"[yellow]warning:[/] {run['failed_tasks']} sub-agent task(s) failed; "
            "see failures in run.json"
        )
    if run.get("deliverable") == "dataset":
        made = (
            f"{run['rows']:,} rows unique by {run['key']}, {len(run['columns'])} columns, "
            f"{run['duplicates_dropped']:,} duplicates dropped, "
            f"{run['type_errors']:,} cells failing their type left empty"
        )
    else:
        made = f"{run['themes']} themes, {run['sources']} sources cited, {run['words']:,} words"
    console.print(
        f"[green]done[/] {run['title']}: {made}, {run['sub_agents']} sub-agents "
        f"(max {run['max_parallel']} at once), {run['wall_seconds']:.0f}s, engine {run['engine']}"
    )
    for path in run.get("files", []):
        print(path)
    return 0


async def build_corpus(args: argparse.Namespace) -> int:
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    folder = check_output_folder(args.out)
    print(await snapshot(args.query, providers, folder, args.limit))
    return 0


COMMANDS = {
    "corpus": build_corpus,
    "run": run_review,
    "resume": resume_run,
    "runs": list_runs,
    "show": show_run,
    "export": export_run,
}


GC_THRESHOLDS = (100_000, 50, 100)
"""The cyclic collector's thresholds while a command runs (Python's default: 700, 10, 10).

Each sub-agent's LangGraph loop allocates thousands of short-lived objects. At the
defaults a run of 300 agents spent about 1.2 s of its 14 s in collections, up to
0.25 s at a time, and every agent waits out each one. Memory freed by reference
counting, which is nearly all of it, is freed as before; only cycles wait longer."""


T = TypeVar("T")


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on uvloop where it is installed (its event loop schedules hundreds of
    sub-agents with less overhead), else on asyncio's own, collecting cyclic garbage
    less often (`GC_THRESHOLDS`); the thresholds before are restored after."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        try:
            import uvloop
        except ImportError:
            return asyncio.run(work)
        return uvloop.run(work)
    finally:
        gc.set_threshold(*before)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = None
    try:
        args = parse_args(argv)
        return run_async(COMMANDS[args.command](args))
    except SwarmError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        thread = getattr(args, "thread", None)
        if thread:
            console.print(f"interrupted; continue with: swarm resume {thread}")
        else:
            console.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
