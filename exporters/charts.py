"""Chart blocks drawn as PNG images with matplotlib, for formats without native charts.

The object API (`Figure` with an Agg canvas), not pyplot: exports run in worker
threads and pyplot's global state is not thread-safe.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from exporters.document import Chart


def chart_png(chart: Chart, width_in: float = 6.0, height_in: float = 3.4, dpi: int = 150) -> bytes:
    """The chart as PNG bytes: grouped bars or lines, one per series, with axis labels."""
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(chart.categories)))
    count = max(len(chart.series), 1)
    width = 0.8 / count
    for i, (name, values) in enumerate(chart.series.items()):
        values = list(values)[: len(positions)]
        if chart.chart_type == "bar":
            offset = (i - (count - 1) / 2) * width
            axes.bar([p + offset for p in positions[: len(values)]], values, width, label=name)
        else:
            axes.plot(positions[: len(values)], values, marker="o", label=name)
    axes.set_xticks(positions, chart.categories, rotation=30 if len(positions) > 6 else 0)
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel(chart.y_label)
    axes.spines[["top", "right"]].set_visible(False)
    if len(chart.series) > 1:
        axes.legend(frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
