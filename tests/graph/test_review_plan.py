"""Human review of the plan: the run pauses after the outline and follows the edit."""

from __future__ import annotations

from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.config import Context
from graph.swarm import builder
from tests.conftest import DEMO_CORPUS, DEMO_PROMPT


async def test_run_pauses_with_the_plan_and_follows_an_edit(tmp_path: Path) -> None:
    graph = builder.compile(checkpointer=InMemorySaver())
    context = Context(
        corpus=[str(DEMO_CORPUS)], out=str(tmp_path), formats=["md"], review_plan=True
    )
    config = context.run_config("review-1")
    paused = await graph.ainvoke({"prompt": DEMO_PROMPT}, config, context=context)
    (pause,) = paused["__interrupt__"]
    themes = pause.value["plan"]["themes"]
    assert len(themes) >= 3
    snapshot = await graph.aget_state(config)
    assert snapshot.next == ("review_plan",)
    assert not any(t.startswith("section-") for t in snapshot.values["tasks"])

    dropped, renamed = themes[0], themes[1]
    edited = {"themes": [{**renamed, "title": "Renamed by a person"}, *themes[2:]]}
    done = await graph.ainvoke(Command(resume=edited), config, context=context)

    review = done["review"]
    assert f"## {dropped['title']}" not in review
    assert "## Renamed by a person" in review
    assert done["run"]["themes"] == len(themes) - 1


async def test_approved_plan_runs_unchanged(tmp_path: Path) -> None:
    graph = builder.compile(checkpointer=InMemorySaver())
    context = Context(
        corpus=[str(DEMO_CORPUS)], out=str(tmp_path), formats=["md"], review_plan=True
    )
    config = context.run_config("review-2")
    paused = await graph.ainvoke({"prompt": DEMO_PROMPT}, config, context=context)
    themes = paused["__interrupt__"][0].value["plan"]["themes"]
    done = await graph.ainvoke(Command(resume={"approved": True}), config, context=context)
    assert done["run"]["themes"] == len(themes)
