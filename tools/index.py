"""BM25 keyword search over a list of texts, with the tokenizer that indexing and queries share.

Tokens are lower-cased words of two or more characters without English stopwords,
stemmed by the Snowball (Porter2) English stemmer (`charts`, `charting` -> `chart`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from graph.engines.stemming import stem

# bm25s sets its own logger to DEBUG on import; let the application's logging config decide.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

_WORD = re.compile(r"\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """The index terms of `text`, in order."""
    return [stem(word) for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


class SearchIndex:
    """BM25 over texts; hits are positions in the indexed list with their scores."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, texts: Sequence[str]) -> SearchIndex:
        retriever = bm25s.BM25()
        retriever.index([tokenize(text) for text in texts], show_progress=False)
        return cls(retriever)

    @classmethod
    def load(cls, directory: Path) -> SearchIndex:
        return cls(bm25s.BM25.load(str(directory), show_progress=False))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The `k` best positions with a score above zero, best first, ties by position."""
        terms = tokenize(query)
        if not terms or k <= 0:
            return []
        scores = self._retriever.get_scores(terms)
        hits = np.flatnonzero(scores > 0)
        best = hits[np.lexsort((hits, -scores[hits]))][:k]
        return [(int(position), float(scores[position])) for position in best]
