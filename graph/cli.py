"""`swarm`: run a literature review from a prompt, with a live view of the swarm at work."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import uuid
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table

from exporters import FORMATS
from exporters.references import STYLES
from graph.config import ENGINES, Context
from graph.errors import SwarmError
from graph.persistence import checkpointer
from graph.resources import corpus_for_sync, engine_for
from graph.state import KINDS

console = Console(stderr=True, soft_wrap=True)


def parse_formats(value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise SwarmError(
            f"unknown format {', '.join(unknown) or repr(value)}: use any of {', '.join(FORMATS)}"
        )
    return formats


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="swarm", description="One prompt in, a cited literature review out."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="write a literature review from a prompt")
    run.add_argument("prompt", help="what the review is about")
    run.add_argument(
        "--corpus",
        action="append",
        default=[],
        metavar="PATH",
        help="folder of documents or a records file (repeatable)",
    )
    run.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
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
        "--max-sources",
        type=int,
        default=200,
        metavar="N",
        help="most sources kept after screening (default: 200)",
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
        default="md,bib",
        metavar="LIST",
        help=f"files to write, comma-separated: {','.join(FORMATS)}",
    )
    run.add_argument("--style", default="apa", help=f"reference style: {', '.join(STYLES)}")
    run.add_argument("--thread", default=None, metavar="ID", help="name of the run")
    run.add_argument("--db", default=None, metavar="PATH", help="run database (SQLite file)")
    run.add_argument("--quiet", action="store_true", help="no live progress view")
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
    if args.style.lower() not in STYLES:
        raise SwarmError(f"unknown style {args.style!r}: use one of {', '.join(STYLES)}")
    context = Context(
        corpus=args.corpus,
        out=args.out,
        max_agents=args.max_agents,
        max_steps=args.max_steps,
        max_sources=args.max_sources,
        max_themes=args.max_themes,
        formats=parse_formats(args.format),
        style=args.style.lower(),
        engine=args.engine,
    )
    check_output_folder(context.out)
    corpus = corpus_for_sync(context)
    engine_for(context)
    if skipped := len(corpus.stats.skipped):
        console.print(f"[yellow]warning:[/] skipped {skipped} unreadable document(s); see run.json")
    return context


class Progress:
    """The live view: tasks running and done per specialist, waves, elapsed time."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.started = time.monotonic()
        self.running: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.steps = 0
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
            case "task_failed":
                self.running[kind] -= 1
                self.failed[kind] += 1
                self.steps += data.get("steps", 0)

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
            f"  ·  {elapsed:,.0f}s",
        )
        return Group(head, table)


async def run_review(args: argparse.Namespace) -> int:
    context = context_from(args)
    thread_id = args.thread or f"run-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    from graph.swarm import builder

    progress = Progress(thread_id)
    final: dict[str, Any] = {}
    console.print(f"thread {thread_id}")
    async with checkpointer(args.db) as saver:
        graph = builder.compile(checkpointer=saver, name="swarm")
        stream = graph.astream(
            {"prompt": args.prompt},
            context.run_config(thread_id),
            context=context,
            stream_mode=["custom", "updates", "values"],
            subgraphs=True,
            durability="sync",
        )
        live_view = not args.quiet and console.is_terminal
        with (
            Live(progress.render(), console=console, refresh_per_second=4, transient=True)
            if live_view
            else nullcontext() as live
        ):
            async for namespace, mode, chunk in stream:
                if mode == "custom":
                    progress.event(chunk)
                elif mode == "updates" and not namespace and "merge" in chunk:
                    progress.waves += 1
                    if not console.is_terminal and not args.quiet:
                        console.print(
                            f"wave {progress.waves}: {sum(progress.done.values())} agents done, "
                            f"{sum(progress.failed.values())} failed, "
                            f"{time.monotonic() - progress.started:,.0f}s"
                        )
                elif mode == "values" and not namespace:
                    final = chunk
                if live is not None:
                    live.update(progress.render())
    return report(final)


def report(final: dict[str, Any]) -> int:
    run = final.get("run") or {}
    if run.get("status") != "done":
        console.print(
            "[red]error:[/] no source in the corpus matched the prompt; "
            "rephrase the prompt or add sources with --corpus"
        )
        return 1
    if run.get("failed_tasks"):
        console.print(
            f"[yellow]warning:[/] {run['failed_tasks']} sub-agent task(s) failed; "
            "see failures in run.json"
        )
    console.print(
        f"[green]done[/] {run['title']}: {run['themes']} themes, {run['sources']} sources cited, "
        f"{run['words']:,} words, {run['sub_agents']} sub-agents "
        f"(max {run['max_parallel']} at once), {run['wall_seconds']:.0f}s, engine {run['engine']}"
    )
    for path in run.get("files", []):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        args = parse_args(argv)
        if args.command == "run":
            return asyncio.run(run_review(args))
    except SwarmError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
