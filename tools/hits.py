"""Search hits from several backends: scores on one scale, one entry per work.

A hit is a Source with a score, best first. The corpus scores with BM25, Tavily and
OpenAlex with their own relevance scales, arXiv not at all (its rank is its score),
so when several backends answer one query each one's scores are divided by its best.
Hits merge by identity; a live hit that names a corpus document by any of its
identifiers (DOI, arXiv id, URL, or title and year) becomes that document, so the
run reads the document's full text and every agent gives it the same identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from tools.source import Source, normalize_doi, source_identity

Hit = tuple[Source, float]

_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
"""arXiv's DataCite DOIs (10.48550/arXiv.2005.11401) name the preprint: its arXiv id."""


def rank_scored(sources: Sequence[Source]) -> list[Hit]:
    """Scores from rank alone, for APIs that rank without scoring: 1 for the best, down to 0.5."""
    count = max(len(sources), 1)
    return [(source, 1.0 - 0.5 * rank / count) for rank, source in enumerate(sources)]


def rescaled(hits: Sequence[Hit]) -> list[Hit]:
    """The same hits with scores divided by the best one, so backends compare."""
    best = max((score for _, score in hits), default=0.0)
    if best <= 0:
        return list(hits)
    return [(source, score / best) for source, score in hits]


def preprint_doi(source: Source) -> Source:
    """A Source whose DOI is arXiv's own DataCite DOI carries the arXiv id instead.

    OpenAlex and Crossref name preprints by that DOI, arXiv and the corpus by the
    arXiv id: one identity for both lets them merge.
    """
    doi = normalize_doi(source.doi)
    match = _ARXIV_DOI.match(doi or "")
    if match is None:
        return source
    return source.model_copy(update={"doi": None, "arxiv_id": source.arxiv_id or match.group(1)})


def identifiers(source: Source) -> set[str]:
    """Every identity the source could be known by: its own, and by arXiv id, URL and title."""
    title, year = source.title, source.year
    return {
        source.identity,
        source_identity(None, source.arxiv_id, None, title, year),
        source_identity(None, None, source.url, title, year),
        source_identity(None, None, None, title, year),
    }


def by_identifiers(sources: Iterable[Source]) -> dict[str, Source]:
    """Each source under every identity it could be known by; the first source wins a tie."""
    known: dict[str, Source] = {}
    for source in sources:
        for form in identifiers(source):
            known.setdefault(form, source)
    return known


def fill_gaps(primary: Source, other: Source) -> Source:
    """`primary` with its empty fields filled from `other`, keeping `primary`'s identity."""
    fields = primary.model_dump()
    for name, value in other.model_dump().items():
        if name not in ("origin", "provider") and value and not fields[name]:
            fields[name] = value
    merged = Source(**fields)
    if merged.identity == primary.identity:
        return merged
    for name in ("doi", "arxiv_id", "url", "title", "year"):
        fields[name] = getattr(primary, name)
    return Source(**fields)


def merge_hits(
    groups: Iterable[Sequence[Hit]], known: Mapping[str, Source] | None = None
) -> list[Hit]:
    """One hit per work, with its best score, best first (ties in the order found).

    `known` maps identifiers to the documents they name (`by_identifiers(corpus)`):
    a hit naming one of them takes that document's identity and metadata.
    """
    merged: dict[str, Hit] = {}
    for hits in groups:
        for source, score in hits:
            if known:
                forms = [source.identity, *sorted(identifiers(source) - {source.identity})]
                base = next((known[f] for f in forms if f in known), None)
                if base is not None:
                    source = fill_gaps(base, source)
            identity = source.identity
            if identity in merged:
                seen, best = merged[identity]
                merged[identity] = (fill_gaps(seen, source), max(best, score))
            else:
                merged[identity] = (source, score)
    ranked = sorted(enumerate(merged.values()), key=lambda item: (-item[1][1], item[0]))
    return [hit for _, hit in ranked]
