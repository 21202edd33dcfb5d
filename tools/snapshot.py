"""Snapshot live sources into a local records file, for reproducible offline runs.

`swarm corpus build "QUERY" --from arxiv,openalex --out DIR` searches the providers
once, merges their results by identity (filling gaps from Crossref when `crossref`
is named), and writes them as JSON Lines records, the format the corpus reads:
`id`, `title`, `authors`, `year`, `venue`, `doi`, `arxiv`, `url`, `abstract`, plus
where each came from. A run with `--corpus DIR` then reviews exactly those works,
offline, as often as wanted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.errors import SwarmError
from tools import crossref, providers
from tools.hits import Hit, merge_hits, rescaled
from tools.http import HttpPolicy, ProviderError
from tools.slug import slug
from tools.source import Source
from tools.web_search import KEY as TAVILY_KEY

log = logging.getLogger(__name__)

CHOICES = (*providers.SEARCHABLE, "crossref")


def build_corpus(
    query: str,
    providers: list[str],
    out_dir: Path,
    limit: int,
    policy: HttpPolicy | None = None,
) -> Path:
    """Search `providers` for `query` (`limit` works from each) and write a records file.

    Returns the path of `<out_dir>/<query slug>.jsonl`. Raises SwarmError for an
    unknown provider, a missing key, or when no provider found anything.
    """
    return asyncio.run(snapshot(query, providers, out_dir, limit, policy))


async def snapshot(
    query: str,
    names: Sequence[str],
    out_dir: Path,
    limit: int,
    policy: HttpPolicy | None = None,
) -> Path:
    """`build_corpus` for callers already inside an event loop."""
    query = " ".join(query.split())
    if not query:
        raise SwarmError('empty query: say what to collect, e.g. swarm corpus build "RAG"')
    if limit < 1:
        raise SwarmError("--limit must be at least 1")
    chosen = _check(names)
    sources = await collect(query, chosen, limit, policy)
    return await asyncio.to_thread(write_records, sources, Path(out_dir), query)


async def collect(
    query: str, names: Sequence[str], limit: int, policy: HttpPolicy | None = None
) -> list[Source]:
    """The works the providers found for `query`, merged by identity, best first."""
    searched = [name for name in names if name in providers.SEARCHABLE]
    answers = await asyncio.gather(
        *(providers.search(name, query, limit, policy) for name in searched),
        return_exceptions=True,
    )
    groups: list[list[Hit]] = []
    failed: dict[str, str] = {}
    for name, answer in zip(searched, answers, strict=True):
        if isinstance(answer, ProviderError):
            failed[name] = answer.reason
            log.warning("%s failed: %s; the snapshot goes on without it", name, answer.reason)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            groups.append(answer)
    hits = merge_hits([rescaled(group) for group in groups])
    if not hits:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        raise SwarmError(
            f"no records found for {query!r} in {', '.join(searched)}"
            + (f" ({reasons})" if reasons else "")
            + ": try other words, or other sources with --from"
        )
    sources = [source for source, _ in hits]
    if "crossref" in names:
        sources = await _enriched(sources, policy)
    return sources


def write_records(sources: Sequence[Source], out_dir: Path, query: str) -> Path:
    """Write `sources` as JSON Lines records to `<out_dir>/<query slug>.jsonl`, atomically."""
    out_dir = out_dir.expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SwarmError(
            f"cannot create {out_dir}: {exc.strerror or exc}; choose another --out"
        ) from exc
    path = out_dir / f"{slug(query, 'records')}.jsonl"
    retrieved = datetime.now(UTC).date().isoformat()
    lines = [json.dumps(record(s, query, retrieved), ensure_ascii=False) for s in sources]
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=out_dir)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        os.replace(staging, path)
    except OSError as exc:
        Path(staging).unlink(missing_ok=True)
        raise SwarmError(
            f"cannot write {path}: {exc.strerror or exc}; choose another --out"
        ) from exc
    return path


def record(source: Source, query: str, retrieved: str) -> dict[str, Any]:
    """One records-file line: the fields the corpus reads, then provenance."""
    return {
        "id": source.arxiv_id or source.identity,
        "title": source.title,
        "authors": source.authors,
        "year": source.year,
        "venue": source.venue,
        "doi": source.doi,
        "arxiv": source.arxiv_id,
        "url": source.url,
        "abstract": source.abstract,
        "provider": source.provider,
        "query": query,
        "retrieved": retrieved,
    }


def _check(names: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(name.strip().lower() for name in names if name.strip()))
    unknown = [name for name in chosen if name not in CHOICES]
    if unknown:
        raise SwarmError(
            f"unknown source {unknown[0]!r} for --from: use some of {', '.join(CHOICES)}"
        )
    if not any(name in providers.SEARCHABLE for name in chosen):
        raise SwarmError("--from names nothing to search: add arxiv, openalex or tavily")
    if "tavily" in chosen and not os.environ.get(TAVILY_KEY, "").strip():
        raise SwarmError(f"--from names tavily but {TAVILY_KEY} is not set: set it")
    return chosen


async def _enriched(sources: list[Source], policy: HttpPolicy | None) -> list[Source]:
    answers = await asyncio.gather(
        *(crossref.enrich(source, policy) for source in sources), return_exceptions=True
    )
    enriched = []
    failures = 0
    for source, answer in zip(sources, answers, strict=True):
        if isinstance(answer, ProviderError):
            failures += 1
            enriched.append(source)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            enriched.append(answer)
    if failures:
        log.warning("crossref could not enrich %d of %d records", failures, len(sources))
    return enriched
