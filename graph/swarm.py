"""The swarm graph, assembled top to bottom as the flow in DESIGN.md reads.

prompt -> plan -> (Send every ready task to its specialist, in parallel) -> merge
-> ... -> finish; with `review_plan` on, the run pauses after the outline for a person
to approve or edit the plan. The graph served by `langgraph dev` is compiled without a
checkpointer (the server brings its own); the CLI compiles `builder` with one.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graph.config import Context
from graph.coordinator import dispatch, finish, merge, plan, review_plan
from graph.specialists import citation, coding, formatting, search, writing
from graph.specialists.subgraph import sub_agent
from graph.state import KINDS, SwarmInput, SwarmOutput, SwarmState

SPECIALISTS = {
    "search": search.graph,
    "citation": citation.graph,
    "writing": writing.graph,
    "coding": coding.graph,
    "formatting": formatting.graph,
}


def build() -> StateGraph:
    builder = StateGraph(
        SwarmState, context_schema=Context, input_schema=SwarmInput, output_schema=SwarmOutput
    )
    builder.add_node("plan", plan)
    for kind in KINDS:
        builder.add_node(kind, sub_agent(SPECIALISTS[kind]))
    builder.add_node("merge", merge)
    builder.add_node("review_plan", review_plan)
    builder.add_node("finish", finish)

    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", dispatch, [*KINDS, "finish"])
    for kind in KINDS:
        builder.add_edge(kind, "merge")
    builder.add_conditional_edges("merge", dispatch, [*KINDS, "review_plan", "finish"])
    builder.add_edge("review_plan", "merge")
    builder.add_edge("finish", END)
    return builder


builder = build()
graph = builder.compile(name="swarm")
