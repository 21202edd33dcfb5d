"""LangChain tools over the live sources: `web_search` (Tavily), `arxiv_search`, `openalex_search`.

For an LLM that calls tools: each returns the works found, best first, with their
identity, bibliographic fields and a snippet of their abstract; a provider that
fails answers with a ToolException that says why, so the model can try another.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from tools import providers
from tools.http import HttpPolicy, ProviderError
from tools.web_search import api_key

SNIPPET_CHARS = 400

_DESCRIPTIONS = {
    "tavily": "Search the web (Tavily) for pages about a topic.",
    "arxiv": "Search arXiv for preprints about a topic.",
    "openalex": "Search OpenAlex, a catalogue of scholarly works, for papers about a topic.",
}
_NAMES = {"tavily": "web_search", "arxiv": "arxiv_search", "openalex": "openalex_search"}


class LiveSearchInput(BaseModel):
    query: str = Field(description="keywords for the facet you are researching")
    k: int = Field(8, ge=1, le=20, description="how many works to return, best first")


def search_tools(policy: HttpPolicy | None = None) -> list[BaseTool]:
    """One tool per live provider that can be used now (`web_search` only with a Tavily key)."""
    names = [name for name in providers.SEARCHABLE if name != "tavily" or api_key()]
    return [_tool(name, policy) for name in names]


def _tool(name: str, policy: HttpPolicy | None) -> BaseTool:
    async def search(query: str, k: int = 8) -> list[dict[str, Any]]:
        try:
            hits = await providers.search(name, query, k, policy)
        except ProviderError as exc:
            raise ToolException(f"{exc}; try another source or other words") from exc
        return [
            {
                "identity": source.identity,
                "title": source.title,
                "authors": source.authors[:8],
                "year": source.year,
                "venue": source.venue,
                "url": source.url,
                "snippet": source.abstract[:SNIPPET_CHARS],
                "score": round(score, 3),
            }
            for source, score in hits
        ]

    return StructuredTool.from_function(
        coroutine=search,
        name=_NAMES[name],
        description=_DESCRIPTIONS[name],
        args_schema=LiveSearchInput,
        handle_tool_error=True,
    )
