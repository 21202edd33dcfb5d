"""The coding specialist draws the bibliography's figures through the sandbox, retrying on error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pypdf
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from exporters.document import Chart, Figure, Table
from graph import board
from graph.config import Context
from graph.engines.base import CodeDraft, CodeRequest
from graph.engines.offline import OfflineEngine
from graph.resources import use_engine
from graph.specialists import coding
from graph.specialists.formatting import assemble_document
from graph.swarm import graph

PNG = b"\x89PNG\r\n\x1a\n"
THEMES = [
    {"id": "t1", "title": "Control charts for autocorrelated processes"},
    {"id": "t2", "title": "Design of experiments"},
]


def sources() -> list[dict[str, Any]]:
    venues = ["Technometrics", "Journal of Quality Technology", None]
    return [
        {
            "key": f"author{n:02d}",
            "year": 2009 + n % 7 if n % 5 else None,
            "theme": "t1" if n % 3 else "t2",
            "venue": venues[n % 3],
        }
        for n in range(24)
    ]


def tables_task(out_dir: Path) -> dict[str, Any]:
    payload = {"sources": sources(), "themes": THEMES, "out_dir": str(out_dir)}
    return board.task("tables", "coding", "tables", payload)


async def run_coding(out_dir: Path, **settings: Any) -> dict[str, Any]:
    context = Context(**settings)
    state = await coding.graph.ainvoke({"task": tables_task(out_dir)}, context=context)
    return state["results"]["tables"]


class FlakyEngine(OfflineEngine):
    """Writes broken code `failures` times, then the offline engine's; keeps every request."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[CodeRequest] = []

    async def write_code(self, request: CodeRequest) -> CodeDraft:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return CodeDraft(code="import csv\nraise ValueError('no column named citations')\n")
        return await super().write_code(request)


@pytest.fixture
def engine() -> Iterator[None]:
    yield
    use_engine(None)


async def test_offline_engine_draws_the_figures_through_the_sandbox(tmp_path: Path) -> None:
    result = await run_coding(tmp_path)
    assert result["status"] == "done"
    output = result["output"]
    assert output["analysis"] == {"attempts": 1, "figures": 3, "error": None}
    figures = {
        section: [Figure.model_validate(f).path for f in placed]
        for section, placed in output["tables"]["figures"].items()
    }
    assert figures == {
        "method": ["figures/years-by-theme.png", "figures/top-venues.png"],
        "conclusion": ["figures/themes-by-year.png"],
    }
    for path in [*figures["method"], *figures["conclusion"]]:
        assert (tmp_path / path).read_bytes().startswith(PNG)
    assert Chart.model_validate(output["tables"]["per_year"]).categories[0] == "2009"
    assert Table.model_validate(output["tables"]["per_theme"]).rows[0][0] == THEMES[0]["title"]


async def test_a_failing_attempt_is_retried_with_its_traceback(tmp_path: Path, engine) -> None:
    flaky = FlakyEngine(failures=1)
    use_engine(flaky)
    result = await run_coding(tmp_path)
    assert result["output"]["analysis"] == {"attempts": 2, "figures": 3, "error": None}
    first, second = flaky.requests
    assert not first.error and not first.previous_code
    assert second.previous_code.startswith("import csv")
    assert second.error.startswith("exited with status 1: ValueError: no column named citations")
    assert 'File "main.py", line 2, in <module>' in second.error
    assert len(list((tmp_path / "figures").glob("*.png"))) == 3


async def test_code_that_keeps_failing_leaves_the_tables_and_the_run_goes_on(
    tmp_path: Path, engine
) -> None:
    flaky = FlakyEngine(failures=10)
    use_engine(flaky)
    result = await run_coding(tmp_path)
    assert result["status"] == "done"
    output = result["output"]
    assert len(flaky.requests) == 1 + coding.MAX_RETRIES
    assert output["analysis"]["attempts"] == 4 and output["analysis"]["figures"] == 0
    assert output["analysis"]["error"].startswith("exited with status 1: ValueError")
    assert output["tables"]["figures"] == {}
    assert Chart.model_validate(output["tables"]["per_year"]).categories[0] == "2009"


async def test_an_analysis_out_of_time_ends_with_the_tables(tmp_path: Path) -> None:
    result = await run_coding(tmp_path, task_timeout=0.5)
    assert result["status"] == "done"
    output = result["output"]
    assert output["analysis"]["error"] == "timed out after 0.4 s"
    assert {"per_year", "per_theme"} <= set(output["tables"])


def test_bibliography_data_follows_the_themes_order() -> None:
    lines = coding.bibliography_csv(sources(), THEMES).splitlines()
    assert lines[0] == "key,year,theme,venue"
    assert lines[1].split(",")[2] == THEMES[0]["title"]
    assert lines[-1].split(",")[2] == THEMES[1]["title"]


def test_the_document_places_each_figure_in_its_section(tmp_path: Path) -> None:
    empty = {"title": "", "paragraphs": []}
    figure = {"kind": "figure", "caption": "c", "path": "figures/x.png"}
    payload = {
        "title": "A review",
        "subtitle": "",
        "style": "apa",
        "metadata": {},
        "frames": {k: empty for k in ("introduction", "method", "conclusion", "abstract")},
        "parts": [],
        "outline": {"themes": []},
        "sources": [],
        "tables": {
            "per_theme": Table(caption="t", columns=["a"], rows=[]).model_dump(),
            "figures": {"method": [figure], "conclusion": [figure | {"path": "figures/y.png"}]},
        },
    }
    document = assemble_document(payload)
    method, conclusion = document.sections[1], document.sections[-2]
    assert (method.title, conclusion.title) == ("Method", "Conclusion")
    assert [b.kind for b in method.blocks] == ["table", "figure"]
    assert [b.path for b in conclusion.blocks if isinstance(b, Figure)] == ["figures/y.png"]


async def test_arxiv_review_shows_the_sandbox_figures_in_every_format(
    tmp_path: Path, arxiv_records: Path
) -> None:
    context = Context(
        corpus=[str(arxiv_records)],
        out=str(tmp_path),
        max_sources=40,
        formats=["md", "docx", "pdf", "pptx"],
    )
    prompt = "Statistical process control and control charts: monitoring methods and their design"
    result = await graph.ainvoke({"prompt": prompt}, context=context)
    folder = Path(result["run"]["files"][0]).parent
    drawn = {p.read_bytes() for p in (folder / "figures").glob("*.png")}
    assert len(drawn) >= 2
    assert "](figures/themes-by-year.png)" in result["review"]
    word = docx.Document(str(folder / "review.docx"))
    in_word = {s._inline.graphic.graphicData.pic.blipFill.blip.embed for s in word.inline_shapes}
    assert drawn <= {word.part.related_parts[r].blob for r in in_word}
    slides = Presentation(str(folder / "review.pptx")).slides
    pictures = [
        s for slide in slides for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE
    ]
    assert drawn <= {p.image.blob for p in pictures}
    pages = pypdf.PdfReader(folder / "review.pdf").pages
    assert sum(len(page.images) for page in pages) >= len(drawn)
