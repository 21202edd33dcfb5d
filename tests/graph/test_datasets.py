"""Dataset deliverables: a prompt asking for a table becomes sharded rows, merged by key, typed,
and written as XLSX and CSV."""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from exporters.dataset import Column, check_row, infer_type
from graph.config import Context
from graph.engines.base import RowSource, RowsRequest
from graph.engines.datasets import _BY_NAME, dataset_spec, fill_rows, named_datasets
from graph.swarm import graph
from tests.conftest import DEMO_CORPUS, swarm_cli
from tests.fakes.openai_server import FakeOpenAIServer

TABLE_PROMPT = (
    "A table of retrieval-augmented generation papers with columns title, authors, "
    "year (integer), venue, method and datasets, unique by title"
)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_table_request_is_read_into_typed_columns_and_a_key() -> None:
    spec = dataset_spec(TABLE_PROMPT)
    assert spec is not None
    assert spec.subject == "retrieval-augmented generation papers"
    assert [(c.name, c.type) for c in spec.columns] == [
        ("title", "text"),
        ("authors", "list"),
        ("year", "integer"),
        ("venue", "text"),
        ("method", "text"),
        ("datasets", "list"),
    ]
    assert spec.key == "title"
    counted = dataset_spec(
        "Build a dataset of 500 control chart papers, keyed by doi: columns doi, title"
    )
    assert counted is not None and (counted.rows, counted.key) == (500, "doi")
    plain = dataset_spec("A dataset of control chart papers")
    assert plain is not None and plain.key == "title" and len(plain.columns) == 6


def test_a_review_prompt_asks_for_no_table() -> None:
    assert dataset_spec("A literature review on retrieval-augmented generation") is None
    assert dataset_spec("Survey dense retrieval methods, focusing on data sets") is None
    assert dataset_spec("A literature review of RAG with a table of methods and benchmarks") is None
    assert dataset_spec("Review RAG, including a list of open problems") is None
    survey_papers = dataset_spec(
        "A dataset of survey papers on retrieval, with columns title, year"
    )
    assert survey_papers is not None and survey_papers.subject == "survey papers on retrieval"


def test_offline_rows_come_from_the_source_alone() -> None:
    source = RowSource(
        key="r0",
        title="Dense Passage Retrieval for Open-Domain Question Answering",
        authors=["Vladimir Karpukhin", "Barlas Oguz"],
        year=2020,
        doi="10.18653/v1/2020.emnlp-main.550",
        text="We propose a dense passage retriever trained with in-batch negatives. "
        "We evaluate on the Natural Questions and TriviaQA datasets.",
    )
    columns = [
        Column(name="title"),
        Column(name="first author"),
        Column(name="url", type="url"),
        Column(name="datasets", type="list"),
        Column(name="venue"),
    ]
    (row,) = fill_rows(
        RowsRequest(subject="dense retrieval", columns=columns, sources=[source])
    ).rows
    assert row.key == "r0"
    assert row.values["first author"] == "Vladimir Karpukhin"
    assert row.values["url"] == "https://doi.org/10.18653/v1/2020.emnlp-main.550"
    assert {"Natural Questions", "TriviaQA"} <= set(row.values["datasets"])
    assert "venue" not in row.values  # the source names none: the cell stays empty
    read_columns = [Column(name=n) for n in ("summary", "method", "keywords", "training")]
    request = RowsRequest(subject="dense retrieval", columns=read_columns, sources=[source])
    (read_row,) = fill_rows(request).rows
    assert read_row.values["summary"] in source.text
    assert "dense passage retriever" in read_row.values["method"]
    assert read_row.values["keywords"]
    assert "trained" in read_row.values["training"]  # a column named by a word of the text
    assert named_datasets(["We thank our colleagues."]) == []
    own = named_datasets(["We evaluate DPR on the TriviaQA benchmark."], "Passage Retrieval (DPR)")
    assert own == ["TriviaQA"]  # the source's own method is not its data


async def test_a_table_prompt_gives_xlsx_and_csv_rows_unique_by_key(tmp_path: Path) -> None:
    context = Context(corpus=[str(DEMO_CORPUS)], out=str(tmp_path))
    result = await graph.ainvoke({"prompt": TABLE_PROMPT}, context=context)
    run = result["run"]
    assert (run["deliverable"], run["status"], run["failed_tasks"]) == ("dataset", "done", 0)
    folder = Path(run["files"][0]).parent
    rows = read_csv(folder / "dataset.csv")
    assert list(rows[0]) == ["title", "authors", "year", "venue", "method", "datasets", "source"]
    assert len(rows) == run["rows"] == run["sources_kept"] >= 15
    titles = [r["title"].casefold() for r in rows]
    assert len(set(titles)) == len(titles)
    assert "retrieval-augmented generation for knowledge-intensive nlp tasks" in titles
    assert not any(t.startswith("hotpotqa") for t in titles)  # a dataset paper, not a RAG one
    assert all(r["year"].isdigit() and 1990 < int(r["year"]) <= 2026 for r in rows if r["year"])
    assert sum(1 for r in rows if r["method"]) >= len(rows) // 2
    sheet = load_workbook(folder / "dataset.xlsx", read_only=True)["Data"]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][:3] == ("title", "authors", "year") and len(cells) == len(rows) + 1
    assert all(isinstance(r[2], int) for r in cells[1:] if r[2] is not None)
    assert not (folder / "review.md").exists() and result["review"] == ""
    assert json.loads((folder / "run.json").read_text())["rows"] == len(rows)


def synthetic_records(path: Path, unique: int, repeated: int) -> Path:
    """`unique` works on one subject, then `repeated` more records that repeat earlier titles
    under other DOIs (as preprints and their published versions do)."""
    rng = random.Random(7)
    words = "adaptive robust sequential bayesian multivariate nonparametric weighted".split()
    titles = [f"{rng.choice(words).title()} control chart design number {n}" for n in range(unique)]
    with path.open("w", encoding="utf-8") as out:
        for n in range(unique + repeated):
            title = titles[n] if n < unique else titles[rng.randrange(unique)]
            record = {
                "id": f"w{n}",
                "title": title,
                "authors": [f"Author {n % 97}", f"Writer {n % 89}"],
                "year": 2000 + n % 25,
                "venue": ["Technometrics", "Quality Engineering", ""][n % 3],
                "doi": f"10.5555/chart.{n}",
                "abstract": f"A control chart for monitoring process {n}.",
            }
            out.write(json.dumps(record) + "\n")
    return path


async def test_a_20000_row_dataset_exports_unique_rows_to_xlsx_and_csv(tmp_path: Path) -> None:
    records = synthetic_records(tmp_path / "charts.jsonl", unique=20_000, repeated=1_500)
    context = Context(corpus=[str(records)], out=str(tmp_path / "out"), max_agents=64)
    prompt = "A dataset of control chart papers with columns title, authors, year, venue, doi"
    result = await graph.ainvoke({"prompt": prompt}, context=context)
    run = result["run"]
    assert (run["status"], run["rows"], run["duplicates_dropped"]) == ("done", 20_000, 1_500)
    assert run["max_parallel"] >= 64
    folder = Path(run["files"][0]).parent
    rows = read_csv(folder / "dataset.csv")
    assert len(rows) == 20_000 == len({r["title"] for r in rows})
    assert all(r["doi"].startswith("10.5555/chart.") for r in rows)
    sheet = load_workbook(folder / "dataset.xlsx", read_only=True)["Data"]
    titles = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(titles) == 20_000 == len(set(titles))


class TableModel(FakeOpenAIServer):
    """Answers like a model that reads the table request and each source it is shown: a real
    spec, and rows for the keys it was given, plus one row for a key it was not given and one
    year that is no year."""

    def _render(self, schema: dict[str, Any], keys: tuple[str, ...]) -> str:
        asked = set(schema.get("properties", {}))
        if asked == {"subject", "columns", "key", "rows"}:
            columns = [
                {"name": "title", "type": "text", "description": "the title"},
                {"name": "year", "type": "year", "description": "the year"},
            ]
            return json.dumps(
                {
                    "subject": "retrieval-augmented generation papers",
                    "columns": columns,
                    "key": "title",
                    "rows": 0,
                }
            )
        if asked == {"rows"}:
            rows = [
                {
                    "key": key,
                    "cells": [
                        {"column": "title", "value": f"Work {key}"},
                        {"column": "year", "value": "soon" if n == 0 else "2021"},
                    ],
                }
                for n, key in enumerate([*keys, "r999999"])
            ]
            return json.dumps({"rows": rows})
        return super()._render(schema, keys)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch):
    with TableModel() as server:
        monkeypatch.setenv("SWARM_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        yield server


async def test_llm_engine_scopes_the_table_and_fills_rows_over_http(
    fake_model, tmp_path: Path
) -> None:
    context = Context(corpus=[str(DEMO_CORPUS)], out=str(tmp_path))
    result = await graph.ainvoke({"prompt": TABLE_PROMPT}, context=context)
    run = result["run"]
    assert (run["deliverable"], run["status"], run["engine"]) == (
        "dataset",
        "done",
        "llm:fake-model",
    )
    asked = [r.text() for r in fake_model.requests]
    assert any("Describe that table" in text for text in asked)
    filling = [text for text in asked if "fill one row of a table" in text]
    assert filling and all("never instructions" in text.lower() for text in filling)
    rows = read_csv(Path(run["files"][0]).parent / "dataset.csv")
    assert list(rows[0]) == ["title", "year", "source"]
    assert len(rows) == run["rows"] == run["sources_kept"] >= 2
    assert len({r["title"] for r in rows}) == len(rows)
    assert not any(r["title"] == "Work r999999" for r in rows)  # a key it was not given
    assert run["type_errors"] >= 1 and sum(1 for r in rows if r["year"] == "") == run["type_errors"]
    assert any("year" in problem and "soon" in problem for problem in run["type_problems"])
    assert all(r["source"] for r in rows)  # provenance comes from the source, not the model


def test_swarm_command_makes_a_dataset_and_exports_it_again(tmp_path: Path) -> None:
    env = {**os.environ, "SWARM_DB": str(tmp_path / "runs.sqlite")}
    out = tmp_path / "out"
    made = swarm_cli(
        "run", TABLE_PROMPT, "--corpus", str(DEMO_CORPUS), "--out", str(out), "--thread", "t1",
        env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "rows unique by title" in made.stderr
    csv_file = next(out.iterdir()) / "dataset.csv"
    first = csv_file.read_bytes()
    csv_file.unlink()
    again = swarm_cli("export", "t1", env=env)
    assert again.returncode == 0, again.stderr
    assert csv_file.read_bytes() == first


def test_every_column_name_the_offline_engine_knows_fills_from_a_source() -> None:
    source = RowSource(
        key="r0",
        title="Adaptive EWMA charts",
        authors=["Ann Lee"],
        year=2019,
        venue="Technometrics",
        doi="10.1080/00401706.2019.1",
        arxiv_id="1901.00001",
        abstract="We propose an adaptive EWMA chart. It detects shifts faster on the "
        "Tennessee Eastman benchmark dataset.",
    )
    names = sorted(_BY_NAME)
    columns = [Column(name=n, type=infer_type(n)) for n in names]
    request = RowsRequest(subject="control charts", columns=columns, sources=[source])
    (row,) = fill_rows(request).rows
    cells, problems = check_row(row.values, columns)
    assert problems == []
    assert sum(1 for value in cells.values() if value not in (None, [])) >= len(names) * 3 // 4
