"""The live search tools as an LLM calls them: arguments in, works or a clear error out."""

from __future__ import annotations

import pytest

from tests.fakes.scholarly_server import FakeScholarlyServer
from tools.http import HttpPolicy
from tools.search_tools import search_tools


async def test_each_live_source_is_a_tool_and_answers_with_works(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    tools = {tool.name: tool for tool in search_tools(policy)}

    assert set(tools) == {"web_search", "arxiv_search", "openalex_search"}
    found = await tools["arxiv_search"].ainvoke({"query": "corrective retrieval", "k": 2})
    assert found[0]["identity"] == "arxiv:2401.15884"
    assert set(found[0]) >= {"title", "authors", "year", "url", "snippet", "score"}


async def test_without_a_tavily_key_there_is_no_web_search(
    scholarly: FakeScholarlyServer, policy: HttpPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAVILY_API_KEY")

    assert {tool.name for tool in search_tools(policy)} == {"arxiv_search", "openalex_search"}


async def test_a_failing_source_answers_the_model_with_the_reason(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.mode["openalex"] = "malformed"
    (tool,) = [t for t in search_tools(policy) if t.name == "openalex_search"]

    answer = await tool.ainvoke({"query": "dense retrieval"})

    assert "openalex: the response is not JSON" in answer and "try another source" in answer
