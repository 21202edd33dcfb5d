"""Run settings: one `Context`, the graph's context schema, filled by the CLI or a client.

Every field has a default that works offline. Secrets and endpoints come from the
environment (`SWARM_MODEL`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.errors import SwarmError

ENGINES = ("auto", "offline", "llm")
ON_UNSUPPORTED = ("drop", "mark")


@dataclass(kw_only=True)
class Context:
    """Settings of one swarm run."""

    corpus: list[str] = field(
        default_factory=list,
        metadata={
            "description": "Folders of documents (PDF, DOCX, HTML, Markdown, text) or records "
            "files (JSON Lines, CSV, BibTeX, CSL-JSON) to review."
        },
    )
    sources: list[str] = field(
        default_factory=list,
        metadata={
            "description": "Where to search: corpus, tavily, arxiv, openalex. Default: the "
            "corpus when given, else the keyless scholarly APIs, plus Tavily when its key is set."
        },
    )
    out: str = field(
        default="out",
        metadata={"description": "Output folder; each review goes to OUT/<slug>/."},
    )
    max_agents: int = field(
        default=32,
        metadata={"description": "Most sub-agents running at once."},
    )
    max_steps: int = field(
        default=4000,
        metadata={"description": "Step budget of the run; sets the recursion limit."},
    )
    max_tokens: int = field(
        default=0,
        metadata={"description": "Token budget of model calls (0: none)."},
    )
    max_cost: float = field(
        default=0.0,
        metadata={"description": "Cost budget in US dollars (0: none)."},
    )
    max_time: float = field(
        default=0.0,
        metadata={"description": "Wall-time budget in seconds (0: none)."},
    )
    rps: float = field(
        default=0.0,
        metadata={
            "description": "Most model calls per second, shared by all sub-agents (0: no limit)."
        },
    )
    task_timeout: float = field(
        default=600.0,
        metadata={"description": "Seconds one step of a sub-agent may take before it is retried."},
    )
    retries: int = field(
        default=3,
        metadata={"description": "Retries of a sub-agent step after a rate limit or timeout."},
    )
    max_sources: int = field(
        default=200,
        metadata={"description": "Most sources kept after screening."},
    )
    max_rows: int = field(
        default=50_000,
        metadata={
            "description": "Most rows of a dataset (a prompt asking for a table); a number of "
            "rows in the prompt asks for fewer."
        },
    )
    max_themes: int = field(
        default=8,
        metadata={"description": "Most thematic sections in the review."},
    )
    formats: list[str] = field(
        default_factory=lambda: ["docx", "pdf", "pptx", "xlsx", "md", "bib"],
        metadata={
            "description": "Files of a review: docx, pdf, pptx, xlsx, md, bib. A dataset is "
            "always written as dataset.xlsx and dataset.csv."
        },
    )
    style: str = field(
        default="apa",
        metadata={"description": "Reference style: apa or ieee."},
    )
    engine: str = field(
        default="auto",
        metadata={
            "description": "auto (a model when SWARM_MODEL is set, else offline), offline or llm."
        },
    )
    review_plan: bool = field(
        default=False,
        metadata={
            "description": "Pause after the outline so a person can approve or edit the plan "
            "(drop or retitle themes) before any section is written."
        },
    )
    cache_dir: str = field(
        default="",
        metadata={"description": "Where corpus indexes are cached (default: the user cache)."},
    )
    verify: bool = field(
        default=True,
        metadata={
            "description": "Check every cited sentence against the cited source's text, merge "
            "repeated sentences and note disagreeing sources before assembly."
        },
    )
    on_unsupported: str = field(
        default="drop",
        metadata={
            "description": "What to do with a sentence no source supports: drop it, or mark "
            "it (keep it without citation, marked [unsupported])."
        },
    )

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise SwarmError(f"unknown engine {self.engine!r}: use one of {', '.join(ENGINES)}")
        if self.max_agents < 1:
            raise SwarmError("--max-agents must be at least 1")
        if self.max_steps < 50:
            raise SwarmError("--max-steps must be at least 50")
        for name in ("max_tokens", "max_cost", "max_time", "rps", "retries"):
            if getattr(self, name) < 0:
                raise SwarmError(f"--{name.replace('_', '-')} must not be negative")
        if self.task_timeout <= 0:
            raise SwarmError("--task-timeout must be positive")
        if self.on_unsupported not in ON_UNSUPPORTED:
            raise SwarmError(f"unknown --on-unsupported {self.on_unsupported!r}: use drop or mark")
        if self.max_sources < 1:
            raise SwarmError("--max-sources must be at least 1")
        if self.max_rows < 1:
            raise SwarmError("--max-rows must be at least 1")
        if isinstance(self.corpus, str):
            self.corpus = [self.corpus]
        if isinstance(self.sources, str):
            self.sources = [s.strip() for s in self.sources.split(",") if s.strip()]
        if isinstance(self.formats, str):
            self.formats = [f.strip() for f in self.formats.split(",") if f.strip()]

    def run_config(self, thread_id: str) -> dict:
        """The LangGraph config for one run: its thread and recursion limit.

        Concurrency is `max_agents`, enforced by the specialists themselves."""
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": self.max_steps}
