"""Review quality with the claim checks off and on: coverage, citation precision, repeats.

Two corpora: the planted one (`tests/fakes/planted.py`: six themes, each document
with one planted fact) and the arXiv records in `<repo>/../shared/data/arxiv/
abstracts.jsonl` (skipped when absent). For each, one offline run with
`Context(verify=False)` and one with `verify=True`; the table reports

- theme coverage: planted themes that get a section (a section's theme is the one
  most of its cited documents belong to);
- citation precision: cited (sentence, source) pairs the offline `verify_claim`
  finds supported in the cited source's text;
- misattributed facts: citations of a sentence stating a planted fact (naming its
  trial site) to a document that does not state it;
- duplicate rate: sentences with a near-duplicate earlier in the review.

Run from the repository root: `python -m bench.quality [--out DIR]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from graph.config import Context
from graph.engines.base import SectionDraft, SourceBrief
from graph.engines.support import verify
from graph.review import Wording, near_duplicate
from graph.swarm import builder
from tests.fakes import planted
from tools.corpus import load_corpus
from tools.source import Source

ARXIV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv" / "abstracts.jsonl"
ARXIV_PROMPT = "Statistical process control and control charts: monitoring methods and their design"


async def review_state(prompt: str, corpus: Path, out: Path, verify: bool) -> dict[str, Any]:
    """Run the swarm offline and return its whole final state (drafts, outline, sources)."""
    graph = builder.compile(checkpointer=InMemorySaver())
    context = Context(corpus=[str(corpus)], out=str(out), formats=["md"], verify=verify)
    config = context.run_config("quality")
    await graph.ainvoke({"prompt": prompt}, config, context=context)
    return (await graph.aget_state(config)).values


def ordered_drafts(state: dict[str, Any]) -> list[tuple[str, SectionDraft]]:
    """The drafts in reading order, each with the theme id it belongs to ("" for frames)."""
    drafts = state.get("drafts", {})
    frames = {d["frame"]: d for d in drafts.values() if "frame" in d}
    out = [("", frames[k]) for k in ("introduction", "method") if k in frames]
    for theme in state["outline"]["themes"]:
        parts = [d for d in drafts.values() if d.get("theme") == theme["id"]]
        parts.sort(key=lambda d: (d["part"] != "overview", d["group"], d["chunk"]))
        out += [(theme["id"], d) for d in parts]
    out += [("", frames[k]) for k in ("conclusion",) if k in frames]
    return [(tid, SectionDraft.model_validate(d["draft"])) for tid, d in out]


def measure(
    state: dict[str, Any], corpus: Path, docs: list[planted.PlantedDocument] | None = None
) -> dict[str, float]:
    """Coverage (planted corpora only), precision, misattributed facts and duplicate rate."""
    loaded = load_corpus([corpus])
    by_key = {e["key"]: e for e in state["sources"].values() if e["key"]}
    sentences = [
        (tid, s)
        for tid, draft in ordered_drafts(state)
        for s in [*(s for p in draft.paragraphs for s in p.sentences), *draft.bullets]
    ]
    pairs = supported = misattributed = 0
    for _, sentence in sentences:
        for key in sentence.citations:
            entry = by_key[key]
            brief = SourceBrief(key=key, **_brief(entry["source"]))
            text = loaded.text(entry["identity"])
            pairs += 1
            supported += verify(sentence.text, brief, text).supported
            if docs is not None:
                sites = [d.site for d in docs if d.site in sentence.text]
                misattributed += any(site not in text for site in sites)
    seen: list[Wording] = []
    repeats = 0
    for _, sentence in sentences:
        mine = Wording.of(sentence.text)
        repeats += any(near_duplicate(mine, other) for other in seen)
        seen.append(mine)
    figures = {
        "citations": pairs,
        "precision": supported / pairs if pairs else 1.0,
        "duplicate_rate": repeats / len(sentences) if sentences else 0.0,
    }
    if docs is not None:
        theme_of = {d.title: d.theme for d in docs}
        covered = set()
        for theme in state["outline"]["themes"]:
            cited = Counter(
                theme_of.get(by_key[k]["source"]["title"], "")
                for tid, s in sentences
                if tid == theme["id"]
                for k in s.citations
            )
            if cited:
                covered.add(cited.most_common(1)[0][0])
        covered.discard("")
        figures["coverage"] = len(covered) / len(planted.THEMES)
        figures["misattributed"] = misattributed
    return figures


def _brief(source: dict[str, Any]) -> dict[str, Any]:
    parsed = Source.model_validate(source)
    return {
        "title": parsed.title,
        "authors": parsed.authors,
        "year": parsed.year,
        "abstract": parsed.abstract or "",
    }


async def bench(out: Path) -> list[dict[str, Any]]:
    rows = []
    corpora = [("planted", planted.write_corpus(out / "planted"), planted.PROMPT)]
    if ARXIV.is_file():
        corpora.append(("arxiv", ARXIV, ARXIV_PROMPT))
    else:
        print(f"skipping the arXiv records: {ARXIV} is not present")
    for name, corpus, prompt in corpora:
        docs = planted.documents() if name == "planted" else None
        for checks in (False, True):
            started = time.perf_counter()
            state = await review_state(prompt, corpus, out / f"{name}-{checks}", checks)
            figures = measure(state, corpus, docs)
            run = state["run"]
            rows.append(
                {
                    "corpus": name,
                    "checks": "on" if checks else "off",
                    **figures,
                    "sections": run["themes"],
                    "replaced": run["citations_replaced"],
                    "removed": run["sentences_removed"],
                    "merged": run["duplicates_removed"],
                    "seconds": time.perf_counter() - started,
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'corpus':8} {'checks':6} {'coverage':>8} {'precision':>9} {'misattr':>7} "
        f"{'dup rate':>8} {'cites':>6} {'sections':>8} {'replaced':>8} {'removed':>7} "
        f"{'merged':>6} {'seconds':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        coverage = f"{r['coverage']:.0%}" if "coverage" in r else "-"
        misattributed = str(r["misattributed"]) if "misattributed" in r else "-"
        lines.append(
            f"{r['corpus']:8} {r['checks']:6} {coverage:>8} {r['precision']:>9.1%} "
            f"{misattributed:>7} {r['duplicate_rate']:>8.1%} {r['citations']:>6} "
            f"{r['sections']:>8} {r['replaced']:>8} {r['removed']:>7} {r['merged']:>6} "
            f"{r['seconds']:>7.1f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where runs write (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        rows = asyncio.run(bench(args.out or Path(temp)))
    print(table(rows))


if __name__ == "__main__":
    main()
