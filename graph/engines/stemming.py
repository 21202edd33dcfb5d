"""English stems by the Snowball (Porter2) algorithm, so "charts", "charting" and "chart" match.

PyStemmer runs the maintained Snowball stemmer in C. Its stemmer objects keep state and
must not be shared between threads (the offline engine runs skills in threads), so each
thread gets its own; results are cached because a corpus repeats a few thousand words.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import Stemmer

_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english", 0)
    return stemmer


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a lowercase word; words of two letters or fewer are kept."""
    if len(word) <= 2 or not word.isalpha():
        return word
    return _stemmer().stemWord(word)
