"""The coding specialist: analyses of the bibliography, as tables and as figures drawn by code.

Its tables skill first computes the bibliometric tables every review carries (sources
per year and per theme) as document blocks. Then it analyses: the engine writes a
script that draws figures from the bibliography, the sandbox runs it, and a failure
goes back to the engine with its traceback, at most three times. The figures are
saved under the review's folder and travel as Figure blocks, each with the section it
belongs in.

The write-run-retry loop lives in one step so that the figures' bytes go straight to
disk and never into the checkpointed state.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime

from exporters.dataset import Column, check_row, key_of
from exporters.document import Chart, Figure, Table
from exporters.references import link
from graph.config import Context
from graph.engines.base import CodeDraft, CodeRequest, Engine, FigureSpec, RowSource, RowsRequest
from graph.resources import corpus_for, engine_for
from graph.specialists.citation import source_text
from graph.specialists.subgraph import SpecialistState, build_specialist
from tools.sandbox import SandboxResult, run_python
from tools.source import Source

log = logging.getLogger(__name__)

DATA_FILE = "bibliography.csv"
FIGURES_FOLDER = "figures"
MAX_RETRIES = 3
SANDBOX_TIMEOUT = 60.0
TIME_SHARE = 0.8
"""Of the step's time limit (`task_timeout`), the share the attempts may use: an analysis
that runs out of time ends with the tables rather than failing the task."""
MIN_RUN_SECONDS = 1.0
SANDBOX_MEMORY_MB = 1024
COLUMNS = {
    "key": "the source's citation key",
    "year": "its year of publication (empty when unknown)",
    "theme": "the title of the review's thematic section it belongs to",
    "venue": "the journal or conference it appeared in (empty when unknown)",
}
_PNG = b"\x89PNG\r\n\x1a\n"
PROVENANCE = "source"
"""The column a dataset's coordinator adds last: where each row's values come from."""
MAX_PROBLEMS = 20


def per_year(sources: list[dict[str, Any]]) -> Chart:
    counts = Counter(s["year"] for s in sources if s.get("year"))
    years = list(range(min(counts), max(counts) + 1)) if counts else []
    return Chart(
        caption="Sources reviewed per year of publication",
        chart_type="bar",
        categories=[str(y) for y in years],
        series={"sources": [float(counts.get(y, 0)) for y in years]},
        x_label="year",
        y_label="sources",
    )


def per_theme(sources: list[dict[str, Any]], themes: list[dict[str, Any]]) -> Table:
    rows = []
    for theme in themes:
        members = [s for s in sources if s["theme"] == theme["id"]]
        years = sorted(s["year"] for s in members if s.get("year"))
        span = f"{years[0]}-{years[-1]}" if years else "n.d."
        median = str(years[len(years) // 2]) if years else "n.d."
        rows.append([theme["title"], str(len(members)), span, median])
    return Table(
        caption="Sources per theme",
        columns=["Theme", "Sources", "Years", "Median year"],
        rows=rows,
    )


def figure_plan(sources: list[dict[str, Any]]) -> list[tuple[FigureSpec, str]]:
    """The figures to draw, each with the section it goes in (method or conclusion).

    Sources per year need none: the tables' chart shows them, natively in every format."""
    plan = [
        (
            FigureSpec(
                file="years-by-theme.png",
                caption="Publication years of the sources in each theme",
                chart="a horizontal box plot of the publication years, one box per theme, "
                "the themes labelled on the vertical axis",
            ),
            "method",
        ),
        (
            FigureSpec(
                file="themes-by-year.png",
                caption="Sources per theme and year of publication",
                chart="stacked bars of the number of sources per year, one colour per theme, "
                "with a legend naming the themes",
            ),
            "conclusion",
        ),
    ]
    if len({s["venue"] for s in sources if s.get("venue")}) >= 2:
        spec = FigureSpec(
            file="top-venues.png",
            caption="Venues with the most reviewed sources",
            chart="a horizontal bar chart of the ten venues with the most sources",
        )
        plan.append((spec, "method"))
    return plan


def bibliography_csv(sources: list[dict[str, Any]], themes: list[dict[str, Any]]) -> str:
    """One row per source (key, year, theme title, venue), in the order of the themes."""
    titles = {t["id"]: t["title"] for t in themes}
    order = {t["id"]: n for n, t in enumerate(themes)}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in sorted(sources, key=lambda s: (order.get(s["theme"], len(order)), s["key"])):
        theme = titles.get(s["theme"], s["theme"])
        writer.writerow([s["key"], s.get("year") or "", theme, s.get("venue") or ""])
    return buffer.getvalue()


async def tabulate(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    sources, themes = payload["sources"], payload["themes"]
    return {
        "output": {
            "tables": {
                "per_year": per_year(sources).model_dump(),
                "per_theme": per_theme(sources, themes).model_dump(),
            }
        }
    }


async def analyse(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Figures of the bibliography: written as code, run in the sandbox, retried on failure."""
    task, payload = state["task"], state["task"]["payload"]
    tables = dict(state["work"]["output"]["tables"])
    if not payload.get("out_dir"):
        return {"output": {"tables": tables}}
    plan = figure_plan(payload["sources"])
    data = bibliography_csv(payload["sources"], payload["themes"])
    request = CodeRequest(
        purpose=f"bibliometric figures for a literature review of {len(payload['sources'])} "
        f"sources in {len(payload['themes'])} themes",
        data_file=DATA_FILE,
        columns=COLUMNS,
        preview="\n".join(data.splitlines()[:6]),
        figures=[spec for spec, _ in plan],
    )
    deadline = time.monotonic() + runtime.context.task_timeout * TIME_SHARE
    best, attempt, failure = await draw(task["id"], request, data, deadline, runtime)
    error = failure.splitlines()[0] if failure else None
    if error:
        log.warning("task %s: analysis code failed (attempts: %d): %s", task["id"], attempt, error)
    figures = await asyncio.to_thread(collect, best, plan, Path(payload["out_dir"]))
    return {
        "output": {
            "tables": {**tables, "figures": figures},
            "analysis": {
                "attempts": attempt,
                "figures": sum(len(f) for f in figures.values()),
                "error": error,
            },
        }
    }


async def draw(
    task_id: str, request: CodeRequest, data: str, deadline: float, runtime: Runtime[Context]
) -> tuple[dict[str, bytes], int, str]:
    """Write the code, run it, and feed a failure back, at most MAX_RETRIES more times and
    while time is left: the most figures an attempt drew, the attempts, the last failure."""
    engine = engine_for(runtime.context)
    best: dict[str, bytes] = {}
    failure = ""
    attempt = 0
    for attempt in range(1, MAX_RETRIES + 2):
        draft, failure = await write_code(engine, request)
        if draft is not None:
            seconds = min(SANDBOX_TIMEOUT, max(deadline - time.monotonic(), 0.1))
            result = await run_code(draft, data, seconds)
            drawn = drawings(result, request.figures)
            if len(drawn) > len(best):
                best = drawn
            failure = judge(result, request.figures, drawn)
        runtime.stream_writer(
            {"event": "code_run", "task": task_id, "attempt": attempt, "error": failure}
        )
        if not failure or deadline - time.monotonic() < MIN_RUN_SECONDS:
            break
        request = request.model_copy(
            update={"previous_code": draft.code if draft else "", "error": failure}
        )
    return best, attempt, failure


async def write_code(engine: Engine, request: CodeRequest) -> tuple[CodeDraft | None, str]:
    """The engine's script, or why the engine gave none (a failed attempt, not a failed task)."""
    try:
        return await engine.write_code(request), ""
    except GraphBubbleUp:
        raise
    except Exception as error:
        return None, f"the engine wrote no code: {type(error).__name__}: {error}"


async def run_code(draft: CodeDraft, data: str, seconds: float) -> SandboxResult:
    return await asyncio.to_thread(
        run_python,
        draft.code,
        files={DATA_FILE: data.encode("utf-8")},
        timeout=seconds,
        memory_mb=SANDBOX_MEMORY_MB,
    )


def drawings(result: SandboxResult, figures: list[FigureSpec]) -> dict[str, bytes]:
    """The requested PNG files the run wrote."""
    return {
        f.file: result.files[f.file]
        for f in figures
        if result.files.get(f.file, b"").startswith(_PNG)
    }


def judge(result: SandboxResult, figures: list[FigureSpec], drawn: dict[str, bytes]) -> str:
    """What went wrong, for the next attempt: the error and its traceback, or what is
    missing; empty when every figure was drawn."""
    if result.error:
        return f"{result.error}\n{result.stderr[-4000:]}".strip()
    missing = [f.file for f in figures if f.file not in drawn]
    if missing:
        output = (result.stdout[-1000:] + "\n" + result.stderr[-3000:]).strip()
        return f"the script ran but did not write {', '.join(missing)} as PNG\n{output}".strip()
    return ""


def collect(
    drawn: dict[str, bytes], plan: list[tuple[FigureSpec, str]], out_dir: Path
) -> dict[str, list[dict[str, Any]]]:
    """Save the drawn figures under `out_dir/figures/`; Figure blocks by section."""
    placed: dict[str, list[dict[str, Any]]] = {}
    for spec, section in plan:
        if spec.file not in drawn:
            continue
        folder = out_dir / FIGURES_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        (folder / spec.file).write_bytes(drawn[spec.file])
        figure = Figure(caption=spec.caption, path=f"{FIGURES_FOLDER}/{spec.file}")
        placed.setdefault(section, []).append(figure.model_dump())
    return placed


# Dataset rows: one agent fills the rows of one shard of the matching sources.

ROWS_PER_CALL = 8
"""Sources one engine call fills rows for; a shard's calls run at once."""
ROW_TEXT_CHARS = 8_000


async def gather_texts(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Each source's text: the corpus document's, else its title and abstract."""
    corpus = await corpus_for(runtime.context)
    items = state["task"]["payload"]["items"]
    texts = {
        item["identity"]: source_text(corpus, item["identity"], item["source"])[:ROW_TEXT_CHARS]
        for item in items
    }
    return {"texts": texts}


async def fill(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The engine fills one row per source, a few sources a call, all calls at once."""
    payload = state["task"]["payload"]
    texts = state["work"]["texts"]
    columns = [Column.model_validate(c) for c in payload["columns"] if c["name"] != PROVENANCE]
    sources = [
        RowSource(
            key=f"r{item['rank']}",
            text=texts[item["identity"]],
            **{
                k: v
                for k, v in item["source"].items()
                if k in RowSource.model_fields and k not in ("key", "text")
            },
        )
        for item in payload["items"]
    ]
    engine = engine_for(runtime.context)
    answers = await asyncio.gather(
        *(
            engine.extract_rows(
                RowsRequest(
                    subject=payload["subject"],
                    columns=columns,
                    sources=sources[start : start + ROWS_PER_CALL],
                )
            )
            for start in range(0, len(sources), ROWS_PER_CALL)
        )
    )
    asked = {s.key for s in sources}
    filled = {row.key: row.values for answer in answers for row in answer.rows if row.key in asked}
    return {"filled": filled}


async def check(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Every cell checked against its column's type (a failing cell is left empty and counted),
    the source named in the provenance column, each row with its key. Duplicates are the
    coordinator's to merge, across all shards at once."""
    payload = state["task"]["payload"]
    columns = [Column.model_validate(c) for c in payload["columns"]]
    key_column = next(c for c in columns if c.name == payload["key"])
    filled = state["work"]["filled"]
    rows: list[dict[str, Any]] = []
    keyless = 0
    problems: list[str] = []
    for item in payload["items"]:
        values = dict(filled.get(f"r{item['rank']}", {}))
        if any(c.name == PROVENANCE for c in columns):  # from the source, never the engine
            values[PROVENANCE] = provenance(Source.model_validate(item["source"]))
        cells, trouble = check_row(values, columns)
        problems += [f"row {item['rank'] + 1}: {t}" for t in trouble]
        if key := key_of(cells.get(key_column.name), key_column):
            rows.append({"key": key, "rank": item["rank"], "cells": cells})
        else:
            keyless += 1
    return {
        "output": {
            "rows": rows,
            "rows_without_key": keyless,
            "type_errors": len(problems),
            "problems": problems[:MAX_PROBLEMS],
        }
    }


def provenance(source: Source) -> str:
    """Where a row comes from: the work's DOI or arXiv link, its URL, else its file locator."""
    return link(source) or source.origin or source.title


graph = build_specialist(
    "coding", {"tables": [tabulate, analyse], "rows": [gather_texts, fill, check]}
)
