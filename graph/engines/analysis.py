"""The offline engine's analysis code: plotting scripts assembled from templates.

A figure is known by its file name (`sources-per-year.png`, `themes-by-year.png`,
`years-by-theme.png`, `top-venues.png`); the script reads the bibliography's CSV (columns key, year,
theme, venue) with the standard library and draws with matplotlib's Agg backend.
After a failed attempt, each figure is drawn on its own, so one failure spares the
others. The same request always gives the same script.
"""

from __future__ import annotations

from graph.engines.base import CodeDraft, CodeRequest

PRELUDE = """\
import csv
import math
import traceback
from collections import Counter

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

with open(DATA_FILE, newline="", encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
dated = [r for r in rows if (r.get("year") or "").strip().isdigit()]
years = sorted({int(r["year"]) for r in dated})
span = list(range(years[0], years[-1] + 1)) if years else []


def short(text, limit=38):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\\u2026"


def year_axis(axes):
    step = max(1, math.ceil(len(span) / 12))
    axes.set_xticks(range(0, len(span), step), [str(y) for y in span[::step]])
    axes.set_xlabel("year of publication")
    axes.yaxis.get_major_locator().set_params(integer=True)


def save(figure, axes, name):
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    figure.savefig(name, dpi=150)
    plt.close(figure)
    print("wrote", name)
"""

DRAWINGS = {
    "sources-per-year.png": """

def sources_per_year(name):
    counts = Counter(int(r["year"]) for r in dated)
    figure, axes = plt.subplots(figsize=(6.4, 3.4))
    axes.bar(range(len(span)), [counts.get(y, 0) for y in span], color="#4c72b0")
    year_axis(axes)
    axes.set_ylabel("sources")
    save(figure, axes, name)
""",
    "themes-by-year.png": """

def themes_by_year(name):
    themes = list(dict.fromkeys(r["theme"] for r in dated if r.get("theme")))
    counts = Counter((r["theme"], int(r["year"])) for r in dated if r.get("theme"))
    figure, axes = plt.subplots(figsize=(6.4, 3.4 + 0.16 * math.ceil(len(themes) / 2)))
    colors = plt.get_cmap("tab10")
    bottom = [0] * len(span)
    for number, theme in enumerate(themes):
        values = [counts.get((theme, y), 0) for y in span]
        color = colors(number % 10)
        axes.bar(range(len(span)), values, bottom=bottom, label=short(theme, 46), color=color)
        bottom = [b + v for b, v in zip(bottom, values)]
    year_axis(axes)
    axes.set_ylabel("sources")
    if themes:
        axes.legend(
            frameon=False, fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2)
        )
    save(figure, axes, name)
""",
    "years-by-theme.png": """

def years_by_theme(name):
    themes = list(dict.fromkeys(r["theme"] for r in dated if r.get("theme")))
    groups = [[int(r["year"]) for r in dated if r["theme"] == theme] for theme in themes[::-1]]
    figure, axes = plt.subplots(figsize=(6.4, 1.2 + 0.4 * len(themes)))
    if themes:
        axes.boxplot(
            groups, orientation="horizontal", widths=0.6, medianprops={"color": "#c44e52"}
        )
        axes.set_yticks(range(1, len(themes) + 1), [short(t, 46) for t in themes[::-1]])
    axes.set_xlabel("year of publication")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=7)
    save(figure, axes, name)
""",
    "top-venues.png": """

def top_venues(name):
    counts = Counter(r["venue"].strip() for r in rows if (r.get("venue") or "").strip())
    top = counts.most_common(10)[::-1]
    figure, axes = plt.subplots(figsize=(6.4, 1.2 + 0.3 * len(top)))
    axes.barh([short(v, 48) for v, _ in top], [n for _, n in top], color="#55a868")
    axes.set_xlabel("sources")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=7)
    save(figure, axes, name)
""",
}


def write_code(request: CodeRequest) -> CodeDraft:
    """A script drawing every requested figure this module has a template for."""
    known = [f.file for f in request.figures if f.file in DRAWINGS]
    parts = [f"DATA_FILE = {request.data_file!r}\n", PRELUDE]
    parts += [DRAWINGS[file] for file in known]
    calls = [f"({file!r}, {_function(DRAWINGS[file])})" for file in known]
    parts.append(f"\n\nFIGURES = [{', '.join(calls)}]\n")
    if request.error:  # a failed attempt: draw each figure on its own
        parts.append(
            "\nfor name, draw in FIGURES:\n"
            "    try:\n"
            "        draw(name)\n"
            "    except Exception:\n"
            "        traceback.print_exc()\n"
        )
    else:
        parts.append("\nfor name, draw in FIGURES:\n    draw(name)\n")
    for spec in request.figures:
        if spec.file not in DRAWINGS:
            parts.append(f"print({f'no template for {spec.file}'!r})\n")
    return CodeDraft(code="".join(parts))


def _function(template: str) -> str:
    return template.split("def ", 1)[1].split("(", 1)[0]
