"""LangChain tools over one loaded corpus: search it, then read a document by its identity."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from tools.corpus import Corpus
from tools.index import tokenize

SNIPPET_CHARS = 320
_SNIPPET_SCAN_CHARS = 200_000  # a book-length text is scanned only this far for a snippet
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class CorpusSearchInput(BaseModel):
    query: str = Field(description="keywords for the facet you are researching")
    k: int = Field(8, ge=1, le=50, description="how many documents to return, best first")


class ReadDocumentInput(BaseModel):
    identity: str = Field(description="a document identity exactly as corpus_search returned it")
    max_chars: int = Field(12_000, ge=500, description="return at most this many characters")


def corpus_tools(corpus: Corpus) -> list[BaseTool]:
    """`corpus_search` and `read_document` bound to `corpus`, for a tool-calling agent."""

    def corpus_search(query: str, k: int = 8) -> list[dict[str, Any]]:
        terms = set(tokenize(query))
        return [
            {
                "identity": source.identity,
                "title": source.title,
                "authors": source.authors,
                "year": source.year,
                "venue": source.venue,
                "snippet": snippet(corpus.text(source.identity), terms),
                "score": round(score, 3),
            }
            for source, score in corpus.search(query, k)
        ]

    def read_document(identity: str, max_chars: int = 12_000) -> str:
        if identity not in corpus:
            raise ToolException(
                f"no document {identity!r} in the corpus: pass an identity from corpus_search"
            )
        text = corpus.text(identity)
        if len(text) <= max_chars:
            return text
        return f"{text[:max_chars]}\n\n[truncated: {max_chars} of {len(text)} characters shown]"

    return [
        StructuredTool.from_function(
            corpus_search,
            name="corpus_search",
            description=(
                "Search the user's local corpus of papers by keywords (BM25). Returns documents "
                "with identity, title, authors, year, venue, a matching snippet and a score."
            ),
            args_schema=CorpusSearchInput,
        ),
        StructuredTool.from_function(
            read_document,
            name="read_document",
            description=(
                "Read the full text of one corpus document by the identity corpus_search gave; "
                "long texts are cut at max_chars."
            ),
            args_schema=ReadDocumentInput,
            handle_tool_error=True,
        ),
    ]


def snippet(text: str, terms: set[str], width: int = SNIPPET_CHARS) -> str:
    """The passage of `text` that holds the most distinct query terms, about `width` long."""
    sentences = [
        part for part in _SENTENCE_END.split(" ".join(text[:_SNIPPET_SCAN_CHARS].split())) if part
    ]
    if not sentences:
        return ""
    hits = [len(terms.intersection(tokenize(sentence))) for sentence in sentences]
    start = max(range(len(sentences)), key=lambda i: (hits[i], -i))
    passage = sentences[start]
    for sentence in sentences[start + 1 :]:
        if len(passage) + 1 + len(sentence) > width:
            break
        passage = f"{passage} {sentence}"
    if len(passage) > width:
        passage = passage[:width].rsplit(" ", 1)[0] + " …"
    return passage
