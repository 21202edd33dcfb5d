"""The LLM engine: prompts from `prompts/`, a chat model with structured output.

`ChatOpenAI` reaches OpenAI and every OpenAI-compatible server (Moonshot Kimi, vLLM,
Ollama, LM Studio, llama.cpp) through `base_url`. Each skill sends the system prompt
and its own prompt, and asks for the contract's answer model as a strict JSON schema
(or as a forced function call, or in JSON mode, for servers that lack JSON schemas).
With `SWARM_STRUCTURED_OUTPUT=auto` (the default) a server that refuses JSON schemas
with a 400 is asked by function call instead, and one that refuses tools in JSON
mode. Source text is fenced between `<source key="...">` markers as data; the system
prompt says that nothing inside them is an instruction. Every answer's token usage is counted
(and priced from `prices.py`) for the engine and for the running step's meter.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, Literal, TypeVar, get_args

import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_core.runnables import Runnable
from langchain_core.utils.json import parse_json_markdown
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field, ValidationError, create_model

from graph.engines.base import (
    ClaimRequest,
    CodeDraft,
    CodeRequest,
    DatasetSpec,
    Engine,
    FrameRequest,
    NotedSource,
    NotesRequest,
    Outline,
    OutlineRequest,
    Plan,
    PlanRequest,
    ReviewPlan,
    Row,
    Rows,
    RowsRequest,
    Screening,
    ScreenRequest,
    SectionDraft,
    SectionRequest,
    SourceBrief,
    SourceNotes,
    Usage,
    Verdict,
    record_usage,
)
from graph.engines.datasets import asks_for_dataset
from graph.engines.prices import Price, price_for
from graph.errors import SwarmError

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
"""The prompt templates, one text file per skill, with `$name` placeholders."""

StructuredOutput = Literal["json_schema", "function_calling", "json_mode"]
"""How the answer is asked for: a strict JSON schema response format (OpenAI, vLLM,
recent Ollama), a forced function call (servers with tools but no JSON schemas), or
JSON mode with the schema in the prompt (servers with neither)."""

METHODS = ("auto", *get_args(StructuredOutput))
"""What `SWARM_STRUCTURED_OUTPUT` may say; `auto` starts with a JSON schema and falls
back, once for the whole engine, when the server refuses what was asked for with a 400."""

FALLBACK: dict[StructuredOutput, StructuredOutput] = {
    "json_schema": "function_calling",
    "function_calling": "json_mode",
}
_REFUSAL_WORDS: dict[StructuredOutput, tuple[str, ...]] = {
    "json_schema": ("response_format", "json_schema", "structured output", "schema"),
    "function_calling": ("tool", "function"),
}

TEMPLATES = (
    "system",
    "plan",
    "screen",
    "extract_notes",
    "outline",
    "write_section",
    "write_frame",
    "verify_claim",
    "write_code",
    "scope_dataset",
    "extract_rows",
    "json_answer",
)

Answer = TypeVar("Answer", bound=BaseModel)


class AnswerError(RuntimeError):
    """The model's answer is not the structured answer the skill asked for.

    Raised instead of guessing: the graph records the task as failed.
    """


class LLMEngine(Engine):
    """An engine that thinks with a chat model behind an OpenAI-compatible API."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 300.0,
        max_retries: int = 6,
        structured_output: StructuredOutput | Literal["auto"] = "auto",
        max_source_chars: int = 40_000,
        prompts: Path = PROMPTS,
        price: Price | None = None,
        requests_per_second: float = 0.0,
    ) -> None:
        """`price` defaults to the model's in the price table or `SWARM_PRICES`; a model
        with no known price is counted at no cost. `requests_per_second` (0: no limit)
        spaces the requests of every caller of this engine."""
        if structured_output not in METHODS:
            raise SwarmError(
                f"unknown structured output method {structured_output!r}: "
                f"use one of {', '.join(METHODS)}"
            )
        self.name = f"llm:{model}"
        self.model = model
        self.auto_fallback = structured_output == "auto"
        self.structured_output: StructuredOutput = (
            "json_schema" if structured_output == "auto" else structured_output
        )
        self.max_source_chars = max_source_chars
        self.price = price if price is not None else price_for(model)
        self._templates = _load_templates(prompts)
        # its own connection pool: langchain_openai shares one per base URL and timeout
        # across the process, which breaks once the event loop that used it has closed
        self._http = openai.DefaultAsyncHttpxClient()
        self._chat = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            http_async_client=self._http,
            rate_limiter=(
                InMemoryRateLimiter(
                    requests_per_second=requests_per_second,
                    check_every_n_seconds=min(0.1, 0.5 / requests_per_second),
                    max_bucket_size=max(1.0, requests_per_second),
                )
                if requests_per_second > 0
                else None
            ),
        )
        self._runnables: dict[tuple[StructuredOutput, type[BaseModel]], Runnable] = {}
        self._lock = threading.Lock()
        self._input_tokens = 0
        self._output_tokens = 0
        self._cost = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> LLMEngine:
        """Build the engine from `SWARM_MODEL`, `OPENAI_API_KEY`, `OPENAI_BASE_URL` and
        `SWARM_STRUCTURED_OUTPUT`; `options` go to the constructor and win over them."""
        env = os.environ if environ is None else environ
        model = options.pop("model", None) or env.get("SWARM_MODEL", "").strip()
        if not model:
            raise SwarmError(
                "SWARM_MODEL is not set: name the chat model to use (e.g. SWARM_MODEL=gpt-4.1), "
                "or run with the offline engine"
            )
        base_url = options.pop("base_url", None) or env.get("OPENAI_BASE_URL", "").strip() or None
        api_key = options.pop("api_key", None) or env.get("OPENAI_API_KEY", "").strip() or None
        if api_key is None:
            if base_url is None:
                raise SwarmError(
                    "OPENAI_API_KEY is not set: set it to your provider's key, or set "
                    "OPENAI_BASE_URL to a local OpenAI-compatible server that needs none"
                )
            api_key = "not-needed"  # local servers (Ollama, LM Studio) ignore the key
        method = options.pop("structured_output", None) or (
            env.get("SWARM_STRUCTURED_OUTPUT", "").strip() or "auto"
        )
        return cls(model, base_url=base_url, api_key=api_key, structured_output=method, **options)

    # the skills

    async def plan(self, request: PlanRequest) -> Plan:
        """The review's plan; for a prompt that asks for a table, also the table's columns."""
        probe = "\n".join(self._brief(s, abstract_chars=800) for s in request.probe)
        planned = await self._ask(
            "plan",
            ReviewPlan,
            prompt=request.prompt,
            probe=probe or "(no sources looked at yet)",
            max_queries=request.max_queries,
        )
        dataset = None
        if asks_for_dataset(request.prompt):
            dataset = await self._ask("scope_dataset", DatasetSpec, prompt=request.prompt)
        return Plan(**planned.model_dump(), dataset=dataset)

    async def screen(self, request: ScreenRequest) -> Screening:
        candidates = [
            self._brief(c, extra=f"search score: {c.score:.3f}") for c in request.candidates
        ]
        return await self._ask(
            "screen",
            Screening,
            topic=_data(request.topic),
            query=_data(request.query),
            candidates="\n".join(candidates) or "(none)",
        )

    async def extract_notes(self, request: NotesRequest) -> SourceNotes:
        return await self._ask(
            "extract_notes",
            SourceNotes,
            topic=_data(request.topic),
            source=self._brief(request.source, text=request.text),
        )

    async def outline(self, request: OutlineRequest) -> Outline:
        return await self._ask(
            "outline",
            Outline,
            topic=_data(request.topic),
            sources="\n".join(self._noted(s) for s in request.sources) or "(none)",
            keys=_keys(s.key for s in request.sources),
            max_themes=request.max_themes,
        )

    async def write_section(self, request: SectionRequest) -> SectionDraft:
        theme = request.theme
        if request.part == "group":
            if request.group is None:
                raise ValueError("a section request for a group part needs its group")
            part = (
                f'the line of work "{_data(request.group.label)}", comparing its works: '
                f"{_keys(request.group.keys)}"
            )
        else:
            lines = "; ".join(f"{_data(g.label)} ({_keys(g.keys)})" for g in theme.groups)
            part = "the overview of the section" + (
                f"; its lines of work: {lines}" if lines else ""
            )
        return await self._ask(
            "write_section",
            SectionDraft,
            topic=_data(request.topic),
            theme_title=_data(theme.title),
            theme_summary=_data(theme.summary) or "(not given)",
            theme_keywords=_data(", ".join(theme.keywords)) or "(not given)",
            part=part,
            sources="\n".join(self._noted(s) for s in request.sources) or "(none)",
            keys=_keys(s.key for s in request.sources),
        )

    async def write_frame(self, request: FrameRequest) -> SectionDraft:
        sections = "\n".join(
            f'<section title="{_attribute(s.title)}" keys="{_keys(s.keys)}">\n'
            f"{_data(s.summary)}\n</section>"
            for s in request.sections
        )
        facts = request.facts
        years = f"{facts.years[0]} to {facts.years[1]}" if facts.years else "not known"
        fact_lines = [
            f"- sources searched: {facts.sources_searched}",
            f"- sources found: {facts.sources_found}",
            f"- sources screened: {facts.sources_screened}",
            f"- sources kept: {facts.sources_kept}",
            f"- publication years of the kept sources: {years}",
            f"- search queries ({len(facts.queries)}): {_data('; '.join(facts.queries)) or 'none'}",
            f"- written by: {facts.engine or self.name}",
        ]
        keys = _keys(dict.fromkeys(k for s in request.sections for k in s.keys))
        return await self._ask(
            "write_frame",
            SectionDraft,
            kind=request.kind,
            title=_data(request.title),
            topic=_data(request.topic),
            sections=sections or "(none)",
            facts="\n".join(fact_lines),
            keys=keys,
        )

    async def verify_claim(self, request: ClaimRequest) -> Verdict:
        return await self._ask(
            "verify_claim",
            Verdict,
            sentence=_data(request.sentence),
            source=self._brief(request.source, text=request.text),
        )

    def usage(self) -> Usage:
        """Tokens of every answer so far, and their cost in US dollars (0 when unpriced)."""
        with self._lock:
            return Usage(input=self._input_tokens, output=self._output_tokens, cost=self._cost)

    async def aclose(self) -> None:
        """Close the engine's connections to the model server."""
        await self._http.aclose()

    # asking

    async def _ask(self, skill: str, answer: type[Answer], **fields: Any) -> Answer:
        """Send one skill's prompt and return its answer, validated against `answer`."""
        method = self.structured_output
        messages = self._messages(skill, answer, fields, method)
        try:
            result = await self._runnable(answer, method).ainvoke(messages)
        except openai.BadRequestError as error:
            if not self._fall_back(method, error):
                raise
            return await self._ask(skill, answer, **fields)
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as error:
            completion = error.completion
            if completion is not None and completion.usage is not None:
                self._count(completion.usage.prompt_tokens, completion.usage.completion_tokens)
            reason = (
                "was cut off at the output token limit"
                if isinstance(error, openai.LengthFinishReasonError)
                else "was stopped by the provider's content filter"
            )
            raise AnswerError(f"{self.name} {skill}: the answer {reason}") from error

        raw: AIMessage = result["raw"]
        if raw.usage_metadata:
            self._count(raw.usage_metadata["input_tokens"], raw.usage_metadata["output_tokens"])
        whole_json = method != "function_calling"
        return _read(answer, result, f"{self.name} {skill}: the answer", whole_json=whole_json)

    def _fall_back(self, method: StructuredOutput, error: openai.BadRequestError) -> bool:
        """Whether to ask again: in `auto`, a server that refused `method` gets the next one.

        The switch holds for the whole engine, so only the first request pays for it.
        """
        if not self.auto_fallback:
            return False
        with self._lock:
            if self.structured_output != method:
                return True  # another request has already switched
            message = str(error).lower()
            then = FALLBACK.get(method)
            if then is None or not any(word in message for word in _REFUSAL_WORDS[method]):
                return False
            self.structured_output = then
        log.warning(
            "%s refused %s (%s); asking with %s from now on (set SWARM_STRUCTURED_OUTPUT=%s "
            "to start there)",
            self.name,
            method,
            " ".join(str(error).split())[:200],
            then,
            then,
        )
        return True

    def _runnable(self, answer: type[BaseModel], method: StructuredOutput) -> Runnable:
        """The chat model bound to ask for `answer` by `method`, built once for each pair."""
        with self._lock:
            if (method, answer) not in self._runnables:
                self._runnables[method, answer] = self._structured(answer, method)
            return self._runnables[method, answer]

    def _structured(self, answer: type[BaseModel], method: StructuredOutput) -> Runnable:
        schema = copy.deepcopy(answer_schema(answer))
        description = (answer.__doc__ or f"The {answer.__name__} answer.").strip().splitlines()[0]
        if method == "json_schema":
            spec = {
                "name": answer.__name__,
                "description": description,
                "schema": schema,
                "strict": True,
            }
        elif method == "function_calling":
            spec = {"name": answer.__name__, "description": description, "parameters": schema}
        else:
            spec = schema
        return self._chat.with_structured_output(spec, method=method, include_raw=True)

    def _messages(
        self,
        skill: str,
        answer: type[BaseModel],
        fields: dict[str, Any],
        method: StructuredOutput,
    ) -> list[BaseMessage]:
        prompt = self._templates[skill].substitute(fields)
        if method == "json_mode":
            schema = json.dumps(answer_schema(answer), indent=2)
            prompt += "\n\n" + self._templates["json_answer"].substitute(schema=schema)
        return [
            SystemMessage(self._templates["system"].substitute()),
            HumanMessage(prompt),
        ]

    def _count(self, input_tokens: int, output_tokens: int) -> None:
        cost = self.price.cost(input_tokens, output_tokens) if self.price else 0.0
        with self._lock:
            self._input_tokens += input_tokens
            self._output_tokens += output_tokens
            self._cost += cost
        record_usage(input_tokens, output_tokens, cost)

    # rendering sources as fenced data

    def _brief(
        self,
        source: SourceBrief,
        *,
        text: str | None = None,
        extra: str | None = None,
        abstract_chars: int = 4_000,
    ) -> str:
        lines = [f"title: {source.title}"]
        if source.authors:
            authors = "; ".join(source.authors[:8])
            lines.append(f"authors: {authors}" + ("; et al." if len(source.authors) > 8 else ""))
        if source.year is not None:
            lines.append(f"year: {source.year}")
        if source.venue:
            lines.append(f"venue: {source.venue}")
        if extra:
            lines.append(extra)
        if source.abstract:
            lines.append(f"abstract: {_clip(source.abstract, abstract_chars)}")
        if text is not None:
            lines.append(f"text:\n{_clip(text, self.max_source_chars) or '(empty)'}")
        return _fence(source.key, "\n".join(lines))

    def _noted(self, source: NotedSource) -> str:
        notes = source.notes
        extra = [
            f"method: {notes.method}" if notes.method else "",
            f"finding: {notes.finding}" if notes.finding else "",
            f"keywords: {', '.join(notes.keywords)}" if notes.keywords else "",
            "key sentences:\n" + "\n".join(f"- {s}" for s in notes.key_sentences)
            if notes.key_sentences
            else "",
        ]
        return self._brief(source, extra="\n".join(e for e in extra if e) or None)

    async def extract_rows(self, request: RowsRequest) -> Rows:
        columns = "\n".join(
            f"- {_data(c.name)} ({c.type})" + (f": {_data(c.description)}" if c.description else "")
            for c in request.columns
        )
        sources = [
            self._brief(
                s,
                text=s.text,
                extra="\n".join(
                    f"{name}: {value}"
                    for name, value in (("doi", s.doi), ("arxiv id", s.arxiv_id), ("url", s.url))
                    if value
                )
                or None,
            )
            for s in request.sources
        ]
        answer = await self._ask(
            "extract_rows",
            rows_answer(tuple(c.name for c in request.columns)),
            subject=_data(request.subject),
            columns=columns,
            sources="\n".join(sources) or "(none)",
            keys=_keys(s.key for s in request.sources),
        )
        return Rows(
            rows=[
                Row(key=row.key, values={c.column: c.value for c in row.cells if c.value.strip()})
                for row in answer.rows
            ]
        )

    async def write_code(self, request: CodeRequest) -> CodeDraft:
        figures = "\n".join(
            f"- {f.file}: {_data(f.chart)} (caption: {_data(f.caption)})" for f in request.figures
        )
        columns = "\n".join(f"- {name}: {_data(text)}" for name, text in request.columns.items())
        retry = "This is the first attempt."
        if request.error:
            retry = (
                "A previous attempt failed. Its code:\n"
                + _fence("previous-code", _clip(request.previous_code, 12_000))
                + "\nHow it failed:\n"
                + _fence("error", _clip(request.error, 4_000))
                + "\nFix the cause of the failure and return the whole corrected script."
            )
        return await self._ask(
            "write_code",
            CodeDraft,
            purpose=_data(request.purpose),
            data_file=request.data_file,
            columns=columns,
            preview=_fence(request.data_file, request.preview or "(empty)"),
            figures=figures,
            retry=retry,
        )


def _read(answer: type[Answer], result: dict[str, Any], failed: str, *, whole_json: bool) -> Answer:
    """The validated answer from `with_structured_output(..., include_raw=True)`'s result,
    or an `AnswerError` that says what was wrong with it (`failed` starts the message)."""
    raw: AIMessage = result["raw"]
    name = answer.__name__
    if raw.response_metadata.get("finish_reason") == "length":
        raise AnswerError(f"{failed} was cut off at the output token limit")
    if result["parsing_error"] is not None:
        reason = str(result["parsing_error"]).strip().splitlines()[0]
        raise AnswerError(f"{failed} is not a valid {name}: {reason[:300]}") from result[
            "parsing_error"
        ]
    if raw.invalid_tool_calls:
        raise AnswerError(
            f"{failed} is not a valid {name}: its function call arguments are not JSON: "
            f"{_excerpt(raw)}"
        )
    if whole_json:
        try:  # the JSON output parser completes cut-off JSON; a finished answer is whole
            parse_json_markdown(raw.text, parser=json.loads)
        except json.JSONDecodeError as error:
            raise AnswerError(
                f"{failed} is not a valid {name}: its JSON is incomplete ({error}): {_excerpt(raw)}"
            ) from error
    if result["parsed"] is None:
        raise AnswerError(f"{failed} is not a {name}: it was {_excerpt(raw)}")
    try:
        return answer.model_validate(result["parsed"])
    except ValidationError as error:
        raise AnswerError(f"{failed} is not a valid {name}: {error}") from error


@cache
def answer_schema(answer: type[BaseModel]) -> dict[str, Any]:
    """`answer`'s JSON schema in the subset strict structured outputs accept.

    Every property required, no defaults, `additionalProperties: false` on every object,
    no titles, and no `$ref` with sibling keywords. Descriptions stay: they guide the model.
    """
    schema = copy.deepcopy(answer.model_json_schema())
    defs = schema.pop("$defs", {})
    strict = _strict(schema, defs, answer.__name__)
    if defs:
        strict["$defs"] = {name: _strict(d, defs, answer.__name__) for name, d in defs.items()}
    return strict


def _strict(node: dict[str, Any], defs: dict[str, Any], model: str) -> dict[str, Any]:
    if "prefixItems" in node:
        raise TypeError(f"{model}: tuples cannot be asked for in a strict JSON schema")
    if "$ref" in node and len(node) > 1:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for keyword, value in node.items():
        if keyword in ("default", "title"):
            continue
        if keyword == "properties":
            out[keyword] = {name: _strict(sub, defs, model) for name, sub in value.items()}
        elif keyword in ("items", "additionalProperties") and isinstance(value, dict):
            out[keyword] = _strict(value, defs, model)
        elif keyword in ("anyOf", "oneOf", "allOf"):
            out[keyword] = [_strict(sub, defs, model) for sub in value]
        else:
            out[keyword] = value
    if out.get("type") == "object" or "properties" in out:
        out.setdefault("properties", {})
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


_FENCE_MARK = re.compile(r"<(\s*/?\s*(?:source|section)\b)", re.IGNORECASE)
_KEY_UNSAFE = re.compile(r'["<>\s]')
_ATTRIBUTE_UNSAFE = re.compile(r'["<>\r\n]')


@cache
def rows_answer(columns: tuple[str, ...]) -> type[BaseModel]:
    """The answer model for filling rows with these columns: cells name their column exactly."""
    cell = create_model(
        "Cell",
        column=(Literal[columns], Field(description="the column's name, exactly as listed")),
        value=(str, Field(description="the value as the source states it")),
    )
    row = create_model(
        "FilledRow",
        key=(str, Field(description="the source's key, exactly as in its marker")),
        cells=(list[cell], Field(description="one cell per column the source answers")),
    )
    return create_model("FilledRows", rows=(list[row], Field(description="one row per source")))


def _data(text: str) -> str:
    """Untrusted text with any fence marker inside it defused, so it cannot leave its fence."""
    return _FENCE_MARK.sub(r"&lt;\1", text)


def _key(key: str) -> str:
    return _KEY_UNSAFE.sub("_", key)


def _attribute(text: str) -> str:
    return _ATTRIBUTE_UNSAFE.sub(" ", text)


def _fence(key: str, body: str) -> str:
    return f'<source key="{_key(key)}">\n{_data(body)}\n</source>'


def _keys(keys: Iterable[str]) -> str:
    return ", ".join(_key(k) for k in keys) or "(none)"


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n[... truncated: {len(text) - limit} more characters]"


def _excerpt(message: AIMessage, limit: int = 200) -> str:
    """The start of what the model said (or of its function call arguments), for errors."""
    content = message.text
    if not content and message.invalid_tool_calls:
        content = str(message.invalid_tool_calls[0].get("args") or "")
    if not content:
        return "empty"
    return repr(content[:limit]) + ("..." if len(content) > limit else "")


def _load_templates(folder: Path) -> dict[str, Template]:
    templates = {}
    for skill in TEMPLATES:
        path = folder / f"{skill}.txt"
        if not path.is_file():
            raise SwarmError(f"prompt template {path} is missing: restore the prompts/ folder")
        templates[skill] = Template(path.read_text(encoding="utf-8"))
    return templates
