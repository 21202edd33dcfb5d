"""The coding specialist: analyses of the bibliography, computed as data for the document.

Its first duty is the bibliometric tables every review carries: sources per year
and per theme. They travel as document blocks (a chart and tables), so every
renderer can draw them natively.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from langgraph.runtime import Runtime

from exporters.document import Chart, Table
from graph.config import Context
from graph.specialists.subgraph import SpecialistState, build_specialist


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


graph = build_specialist("coding", {"tables": [tabulate]})
