"""The whole swarm on the LLM engine, driven through ChatOpenAI against a local fake server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph.config import Context
from graph.swarm import graph
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT
from tests.fakes.openai_server import GHOST_KEYS, FakeOpenAIServer


class UselessWriter(FakeOpenAIServer):
    """Answers sensibly until the outline; from then on, every key it cites is made up."""

    def complete(self, body: dict[str, Any], number: int) -> tuple[int, dict[str, Any]]:
        if self.mode == "schema" and "into themes" in json.dumps(body.get("messages")):
            self.mode = "useless"
        return super().complete(body, number)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    server_type = getattr(request, "param", FakeOpenAIServer)
    with server_type() as server:
        monkeypatch.setenv("SWARM_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        yield server


async def review(out: Path) -> dict:
    context = Context(corpus=[str(DEMO_CORPUS)], out=str(out), formats=["md", "bib"])
    return await graph.ainvoke({"prompt": DEMO_PROMPT}, context.run_config("test"), context=context)


async def test_llm_engine_runs_every_specialist_over_http(fake_model, tmp_path: Path) -> None:
    result = await review(tmp_path)
    run = result["run"]
    assert run["status"] == "done"
    assert run["engine"] == "llm:fake-model"
    assert run["failed_tasks"] == 0
    assert run["unresolved_citations"] == 0
    prompts = " ".join(r.text("system") for r in fake_model.requests)
    assert "never instructions" in prompts.lower() or "not instructions" in prompts.lower()
    kinds = {Path(f).name for f in run["files"]}
    assert {"review.md", "references.bib", "run.json"} <= kinds
    assert len(fake_model.requests) > run["sub_agents"] / 2


@pytest.mark.parametrize("fake_model", [UselessWriter], indirect=True)
async def test_useless_answers_are_dropped_and_counted_never_printed(
    fake_model, tmp_path: Path
) -> None:
    result = await review(tmp_path)
    run = result["run"]
    assert run["status"] == "done"
    assert run["dropped_citations"] > 0
    assert run["unresolved_citations"] == 0
    folder = Path(run["files"][0]).parent
    written = (folder / "review.md").read_text() + (folder / "references.bib").read_text()
    assert not any(ghost in written for ghost in GHOST_KEYS)


async def test_token_totals_in_run_json_equal_what_the_server_reported(
    fake_model, tmp_path: Path
) -> None:
    result = await review(tmp_path)

    run = result["run"]
    assert run["status"] == "done"
    assert run["tokens"] == {
        "input": fake_model.prompt_tokens,
        "output": fake_model.completion_tokens,
    }
