"""Build a 20,000-row dataset deliverable and compare it with bare openpyxl and csv writers.

The project's path checks every raw row (`check_row`), merges duplicates (`unique_rows`)
and writes both files (`write_dataset_xlsx`, `write_dataset_csv`). The baselines write the
same final rows with a plain `openpyxl.Workbook()` and a plain `csv.writer`: no types, styles,
formula guards or dedupe. Times are the best of `--repeats`; peak memory (tracemalloc) is
measured in separate, untimed runs of both workbook writers.

Titles and authors come from `<repo>/../shared/data/arxiv/abstracts.jsonl` when that file
exists, else from synthetic text. Run: `python -m bench.dataset [--rows 20000] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl

from exporters.dataset import Column, Dataset, check_row, infer_type, unique_rows
from exporters.dataset_files import write_dataset_csv, write_dataset_xlsx

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv" / "abstracts.jsonl"
NAMES = ["title", "authors", "year", "venue", "doi", "url", "citations"]
VENUES = ["NeurIPS", "ICLR", "ACL", "EMNLP", "SIGIR", "arXiv", "TACL", "ICML"]


def load_papers() -> tuple[list[dict], str]:
    """Title and authors records, real when the shared arXiv file is there, else synthetic."""
    if DATA.is_file():
        with DATA.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines], f"{DATA} (real arXiv titles)"
    words = "retrieval model data evidence method result design sample control test".split()
    rng = random.Random(1)
    papers = [
        {"title": " ".join(rng.choices(words, k=9)).capitalize(), "authors": [f"Author {i}"]}
        for i in range(1_000)
    ]
    return papers, "synthetic text (shared data not found)"


def raw_rows(papers: list[dict], count: int, duplicates: float) -> list[dict[str, Any]]:
    """`count` rows as agents write them: strings, some repeats of an earlier paper's DOI."""
    rng = random.Random(7)
    rows = []
    for i in range(count):
        n = rng.randrange(i) if i and rng.random() < duplicates else i
        paper = papers[n % len(papers)]
        doi = f"10.5555/bench.{n}"
        rows.append(
            {
                "title": f"{paper['title']} ({n})",
                "authors": "; ".join(paper.get("authors") or ["Anonymous"]),
                "year": str(paper.get("year") or 2000 + n % 25),
                "venue": VENUES[n % len(VENUES)],
                "doi": f"https://doi.org/{doi.upper()}" if n != i else doi,
                "url": f"https://example.org/papers/{n}/" if n % 3 else "",
                "citations": f"{rng.randrange(20_000):,}",
            }
        )
    return rows


def project(rows: list[dict[str, Any]], columns: list[Column], folder: Path) -> Dataset:
    checked = [check_row(row, columns)[0] for row in rows]
    kept, duplicates, keyless = unique_rows(checked, columns[NAMES.index("doi")])
    dataset = Dataset(
        title="Benchmark papers",
        columns=columns,
        key="doi",
        rows=kept,
        notes={"duplicates dropped": duplicates, "rows without doi dropped": keyless},
    )
    write_dataset_xlsx(dataset, folder / "dataset.xlsx")
    write_dataset_csv(dataset, folder / "dataset.csv")
    return dataset


def plain_rows(dataset: Dataset) -> list[list[Any]]:
    names = [column.name for column in dataset.columns]
    return [
        ["; ".join(v) if isinstance(v, list) else v for v in map(row.get, names)]
        for row in dataset.rows
    ]


def bare_xlsx(rows: list[list[Any]], path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(NAMES)
    for row in rows:
        sheet.append(row)
    book.save(str(path))


def bare_csv(rows: list[list[Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(NAMES)
        writer.writerows(rows)


def best(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_mib(function: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of repeated keys")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    papers, origin = load_papers()
    rows = raw_rows(papers, args.rows, args.duplicates)
    columns = [Column(name=name, type=infer_type(name)) for name in NAMES]
    print(f"data: {origin}")
    print("columns: " + ", ".join(f"{c.name} ({c.type})" for c in columns))
    with tempfile.TemporaryDirectory() as folder:
        out, bare = Path(folder), Path(folder) / "bare"
        bare.mkdir()
        dataset = project(rows, columns, out)
        final = plain_rows(dataset)
        print(f"rows: {len(rows)} in, {len(dataset.rows)} unique by doi ({dataset.notes})")

        checked = [check_row(row, columns)[0] for row in rows]
        doi = columns[NAMES.index("doi")]
        times = {
            "check_row": best(lambda: [check_row(row, columns) for row in rows], args.repeats),
            "unique_rows": best(lambda: unique_rows(checked, doi), args.repeats),
            "xlsx": best(lambda: write_dataset_xlsx(dataset, out / "d.xlsx"), args.repeats),
            "csv": best(lambda: write_dataset_csv(dataset, out / "d.csv"), args.repeats),
            "project": best(lambda: project(rows, columns, out), args.repeats),
            "bare xlsx": best(lambda: bare_xlsx(final, bare / "d.xlsx"), args.repeats),
            "bare csv": best(lambda: bare_csv(final, bare / "d.csv"), args.repeats),
        }
        baseline = times["bare xlsx"] + times["bare csv"]
        print(f"\n{'step (best of ' + str(args.repeats) + ')':<26}{'s':>8}{'ratio':>8}")
        for name, seconds in times.items():
            ratio = {
                "xlsx": seconds / times["bare xlsx"],
                "csv": seconds / times["bare csv"],
                "project": seconds / baseline,
            }.get(name)
            print(f"{name:<26}{seconds:>8.2f}{'' if ratio is None else f'{ratio:>8.1f}'}")
        print("ratios: xlsx / bare xlsx, csv / bare csv, project / (bare xlsx + bare csv)")

        project_peak = peak_mib(lambda: write_dataset_xlsx(dataset, out / "m.xlsx"))
        bare_peak = peak_mib(lambda: bare_xlsx(final, bare / "m.xlsx"))
        print(f"\nxlsx peak memory: project {project_peak:.1f} MiB, bare {bare_peak:.1f} MiB")
        sizes = {name: (out / name).stat().st_size / 2**20 for name in ("d.xlsx", "d.csv")}
        print(
            f"files: dataset.xlsx {sizes['d.xlsx']:.1f} MiB, dataset.csv {sizes['d.csv']:.1f} MiB"
        )


if __name__ == "__main__":
    main()
