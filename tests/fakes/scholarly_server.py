"""A local HTTP server that speaks the APIs the swarm searches: arXiv, OpenAlex, Crossref, Tavily.

Each API lives under its own path prefix and answers in its documented format:

- `GET  /arxiv/api/query?search_query=all:(...)&start=S&max_results=N`  an Atom feed (arXiv's
  export API), a page of it;
- `GET  /openalex/works?search=...&per_page=N[&cursor=C]`   a page of works, abstracts as
  inverted indexes, the next page's cursor in `meta.next_cursor` when asked for by cursor;
- `GET  /crossref/works/{doi}`                  a work record, or a plain-text 404;
- `POST /tavily/search` (Bearer key)              Tavily's search JSON.

Searches match the query's words against each work's title and abstract, best first.
`mode` makes a provider answer malformed data, an empty body, no results or 503s;
`fail_next` scripts 429s (with Retry-After) or 5xx; `latency` delays answers;
`requests` logs what each provider was asked.

    with FakeScholarlyServer() as server:
        monkeypatch.setenv("ARXIV_API_URL", server.url("arxiv"))
        ...
        assert len(server.requests["arxiv"]) == 1
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from tests.fakes.local_server import LocalServer

Provider = Literal["arxiv", "openalex", "crossref", "tavily"]
PROVIDERS: tuple[Provider, ...] = ("arxiv", "openalex", "crossref", "tavily")

Mode = Literal["ok", "malformed", "empty", "no_results", "unavailable"]
"""How a provider answers: normally; with a body that is not its format; with an empty
200; with no results (a valid answer); or with 503 to every request."""

TAVILY_KEY = "tvly-test-key"

ENV = {
    "arxiv": "ARXIV_API_URL",
    "openalex": "OPENALEX_API_URL",
    "crossref": "CROSSREF_API_URL",
    "tavily": "TAVILY_BASE_URL",
}


@dataclass(frozen=True)
class Work:
    """One paper the fake APIs know."""

    title: str
    authors: tuple[str, ...]
    year: int
    abstract: str
    arxiv_id: str | None = None
    doi: str | None = None
    venue: str | None = None
    journal_ref: str | None = None
    """What arXiv lists as the journal reference, if the authors gave one."""
    url: str | None = None

    @property
    def page(self) -> str:
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url or "https://example.org/"


WORKS: tuple[Work, ...] = (
    Work(
        "Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks",
        ("Patrick Lewis", "Ethan Perez", "Aleksandra Piktus"),
        2020,
        "Retrieval-augmented generation models combine a pre-trained parametric memory "
        "with a non-parametric dense vector index of Wikipedia accessed by a neural retriever.",
        arxiv_id="2005.11401",
    ),
    Work(
        "Corrective Retrieval Augmented Generation",
        ("Shi-Qi Yan", "Jia-Chen Gu", "Yun Zhu", "Zhen-Hua Ling"),
        2024,
        "Corrective retrieval augmented generation adds a lightweight retrieval evaluator that "
        "judges the quality of retrieved documents for a query and triggers web search or "
        "knowledge refinement when retrieval goes wrong, improving the robustness of generation.",
        arxiv_id="2401.15884",
    ),
    Work(
        "Retrieval-Augmented Generation for Large Language Models: A Survey",
        ("Yunfan Gao", "Yun Xiong", "Xinyu Gao"),
        2023,
        "This survey reviews retrieval-augmented generation for large language models: naive, "
        "advanced and modular paradigms, the retrieval, generation and augmentation methods, "
        "and the evaluation frameworks and benchmarks of the field, with open problems.",
        arxiv_id="2312.10997",
    ),
    Work(
        "In-Context Retrieval-Augmented Language Models",
        ("Ori Ram", "Yoav Levine", "Itay Dalmedigos"),
        2023,
        "In-context retrieval-augmented language models prepend retrieved documents to the "
        "input of a frozen language model, without changing its architecture, and improve "
        "language modeling across model sizes and corpora.",
        arxiv_id="2302.00083",
        doi="10.1162/tacl_a_00605",
        venue="Transactions of the Association for Computational Linguistics",
        journal_ref="Transactions of the ACL 11 (2023)",
    ),
    Work(
        "Query Rewriting for Retrieval-Augmented Large Language Models",
        ("Xinbei Ma", "Yeyun Gong", "Pengcheng He"),
        2023,
        "A rewrite-retrieve-read pipeline trains a small query rewriter with reinforcement "
        "learning so that retrieval-augmented large language models retrieve better evidence.",
        doi="10.18653/v1/2023.emnlp-main.322",
        venue="Proceedings of EMNLP 2023",
    ),
    Work(
        "Dense Passage Retrieval for Open-Domain Question Answering",
        ("Vladimir Karpukhin", "Barlas Oguz", "Sewon Min"),
        2020,
        "Dense passage retrieval learns dense representations of questions and passages with "
        "a dual encoder and outperforms BM25 for open-domain question answering retrieval.",
        arxiv_id="2004.04906",
        doi="10.18653/v1/2020.emnlp-main.550",
        venue="Proceedings of EMNLP 2020",
    ),
)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: str | None


class FakeScholarlyServer(LocalServer):
    """The four APIs on 127.0.0.1 and a free port, served from a background thread."""

    def __init__(self, works: tuple[Work, ...] = WORKS, *, latency: float = 0.0) -> None:
        self.works = works
        self.latency = latency
        self.mode: dict[Provider, Mode] = dict.fromkeys(PROVIDERS, "ok")
        self.requests: dict[Provider, list[LoggedRequest]] = {p: [] for p in PROVIDERS}
        self._failures: dict[Provider, list[_Failure]] = {p: [] for p in PROVIDERS}
        self._lock = threading.Lock()

    def url(self, provider: Provider) -> str:
        """The base URL a provider's environment variable takes."""
        if provider == "arxiv":
            return f"{self.origin}/arxiv/api/query"
        return f"{self.origin}/{provider}"

    def environ(self, *providers: Provider) -> dict[str, str]:
        """Environment variables pointing the given providers (default: all) here."""
        chosen = providers or PROVIDERS
        env = {ENV[p]: self.url(p) for p in chosen}
        if "tavily" in chosen:
            env["TAVILY_API_KEY"] = TAVILY_KEY
        return env

    # scripting

    def fail_next(
        self, provider: Provider, count: int, *, status: int = 429, retry_after: str | None = None
    ) -> None:
        """Answer the next `count` requests to `provider` with `status` (and a Retry-After)."""
        with self._lock:
            self._failures[provider].append(_Failure(count, status, retry_after))

    def _next_failure(self, provider: Provider) -> _Failure | None:
        with self._lock:
            queue = self._failures[provider]
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    def _log(self, provider: Provider, request: LoggedRequest) -> None:
        with self._lock:
            self.requests[provider].append(request)

    # answers

    def matching(self, query: str, limit: int) -> list[tuple[Work, float]]:
        """Works sharing words with `query`, most shared first."""
        words = {w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 2}
        scored = []
        for index, work in enumerate(self.works):
            text = set(re.findall(r"[a-z0-9]+", f"{work.title} {work.abstract}".lower()))
            if shared := len(words & text):
                scored.append((-shared, index, work))
        scored.sort()
        return [(work, float(-negative)) for negative, _, work in scored[:limit]]

    def arxiv_feed(self, search_query: str, limit: int, start: int = 0) -> bytes:
        inside = re.search(r"all:\((.*)\)", search_query)
        hits = (
            []
            if self.mode["arxiv"] == "no_results"
            else self.matching(inside.group(1) if inside else search_query, start + limit)
        )[start:]
        entries = "".join(_atom_entry(work) for work, _ in hits if work.arxiv_id)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"<title>arXiv Query: {escape(search_query)}</title>"
            "<id>http://arxiv.org/api/fake</id><updated>2024-05-01T00:00:00-04:00</updated>"
            f"<opensearch:totalResults>{len(hits)}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>"
            f"<opensearch:itemsPerPage>{limit}</opensearch:itemsPerPage>"
            f"{entries}</feed>"
        ).encode()

    def openalex_page(
        self, search: str, per_page: int, cursor: str | None = None
    ) -> dict[str, Any]:
        """A page of works; with a cursor ("*" first), the cursor of the next page in `meta`."""
        start = 0 if cursor in (None, "*") else int(cursor)
        found = [] if self.mode["openalex"] == "no_results" else self.matching(search, 10**9)
        hits = found[start : start + per_page]
        meta = {"count": len(found), "db_response_time_ms": 5, "page": 1, "per_page": per_page}
        if cursor is not None:
            meta = {**meta, "page": None, "next_cursor": None}
            if start + per_page < len(found):
                meta["next_cursor"] = str(start + per_page)
        return {
            "meta": meta,
            "results": [
                _openalex_work(work, score * 100.0, start + n)
                for n, (work, score) in enumerate(hits)
            ],
            "group_by": [],
        }

    def crossref_work(self, doi: str) -> dict[str, Any] | None:
        work = next((w for w in self.works if w.doi and w.doi.lower() == doi.lower()), None)
        if work is None:
            return None
        return {
            "status": "ok",
            "message-type": "work",
            "message-version": "1.0.0",
            "message": {
                "DOI": work.doi,
                "URL": f"https://doi.org/{work.doi}",
                "title": [work.title],
                "author": [_crossref_name(name) for name in work.authors],
                "container-title": [work.venue] if work.venue else [],
                "issued": {"date-parts": [[work.year, 6]]},
                "type": "journal-article",
                "abstract": f"<jats:p>{escape(work.abstract)}</jats:p>",
            },
        }

    def tavily_answer(self, query: str, max_results: int) -> dict[str, Any]:
        hits = [] if self.mode["tavily"] == "no_results" else self.matching(query, max_results)
        best = max((score for _, score in hits), default=1.0)
        return {
            "query": query,
            "follow_up_questions": None,
            "answer": None,
            "images": [],
            "results": [
                {
                    "title": f"[{w.arxiv_id}] {w.title}" if w.arxiv_id else w.title,
                    "url": w.page,
                    "content": w.abstract,
                    "score": round(0.9 * score / best, 4),
                    "raw_content": None,
                }
                for w, score in hits
            ],
            "response_time": 0.12,
            "request_id": "fake-request",
        }


def _atom_entry(work: Work) -> str:
    extra = ""
    if work.doi:
        extra += f"<arxiv:doi>{escape(work.doi)}</arxiv:doi>"
    if work.journal_ref:
        extra += f"<arxiv:journal_ref>{escape(work.journal_ref)}</arxiv:journal_ref>"
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in work.authors)
    return (
        f"<entry><id>http://arxiv.org/abs/{work.arxiv_id}v2</id>"
        f"<updated>{work.year}-06-01T00:00:00Z</updated>"
        f"<published>{work.year}-05-01T17:59:00Z</published>"
        f"<title>{escape(work.title)}</title>"
        f"<summary>  {escape(work.abstract)}\n</summary>{authors}{extra}"
        f'<link href="http://arxiv.org/abs/{work.arxiv_id}v2" rel="alternate" type="text/html"/>'
        f'<link title="pdf" href="http://arxiv.org/pdf/{work.arxiv_id}v2" rel="related"/>'
        '<arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>'
        "</entry>"
    )


def _openalex_work(work: Work, score: float, number: int) -> dict[str, Any]:
    doi = work.doi or (f"10.48550/arxiv.{work.arxiv_id}" if work.arxiv_id else None)
    venue = work.venue or ("arXiv (Cornell University)" if work.arxiv_id else None)
    primary = {
        "is_oa": True,
        "landing_page_url": work.page if not work.doi else f"https://doi.org/{work.doi}",
        "source": {"display_name": venue, "type": "journal"} if venue else None,
    }
    locations = [primary]
    if work.arxiv_id and work.doi:
        arxiv_source = {"display_name": "arXiv (Cornell University)", "type": "repository"}
        locations.append(
            {"landing_page_url": f"https://arxiv.org/abs/{work.arxiv_id}", "source": arxiv_source}
        )
    inverted: dict[str, list[int]] = {}
    for position, word in enumerate(work.abstract.split()):
        inverted.setdefault(word, []).append(position)
    return {
        "id": f"https://openalex.org/W{4000000000 + number}",
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": work.title,
        "display_name": work.title,
        "relevance_score": score,
        "publication_year": work.year,
        "type": "article",
        "authorships": [
            {"author_position": "first" if i == 0 else "middle", "author": {"display_name": a}}
            for i, a in enumerate(work.authors)
        ],
        "primary_location": primary,
        "locations": locations,
        "abstract_inverted_index": inverted,
    }


def _crossref_name(name: str) -> dict[str, str]:
    given, _, family = name.rpartition(" ")
    return {"given": given, "family": family, "sequence": "additional"}


_MALFORMED: dict[Provider, tuple[str, bytes]] = {
    "arxiv": ("application/atom+xml", b"<feed><entry><title>cut off"),
    "openalex": ("application/json", b'{"results": [{"title": '),
    "crossref": ("application/json", b'{"status": "ok", "message": '),
    "tavily": ("application/json", b'{"results": [ {"url": '),
}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeScholarlyServer
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep test output quiet."""

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._answer("POST", self.rfile.read(length) if length else b"")

    def _answer(self, method: str, body: bytes) -> None:
        parts = urlsplit(self.path)
        provider = parts.path.strip("/").split("/", 1)[0]
        if provider not in PROVIDERS:
            self._send(404, "text/plain", b"no such API")
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.fake._log(provider, LoggedRequest(method, parts.path, query, dict(self.headers), body))
        if self.fake.latency:
            time.sleep(self.fake.latency)
        failure = self.fake._next_failure(provider)
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            self._send(failure.status, "application/json", b'{"error": "scripted"}', headers)
            return
        mode = self.fake.mode[provider]
        if mode == "unavailable":
            self._send(503, "text/html", b"<html><body>Service Unavailable</body></html>")
        elif mode == "malformed":
            self._send(200, *_MALFORMED[provider])
        elif mode == "empty":
            self._send(200, "application/json", b"")
        else:
            getattr(self, f"_{provider}")(method, parts.path, query, body)

    def _arxiv(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if not path.rstrip("/").endswith("/api/query"):
            self._send(404, "text/plain", b"not found")
            return
        limit = int(query.get("max_results", "10"))
        start = int(query.get("start", "0"))
        feed = self.fake.arxiv_feed(query.get("search_query", ""), limit, start)
        self._send(200, "application/atom+xml; charset=UTF-8", feed)

    def _openalex(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if not path.rstrip("/").endswith("/works") or "search" not in query:
            self._send(400, "application/json", b'{"error": "Invalid query"}')
            return
        page = self.fake.openalex_page(
            query["search"], int(query.get("per_page", "25")), query.get("cursor")
        )
        self._json(200, page)

    def _crossref(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        doi = unquote(path.split("/works/", 1)[-1]) if "/works/" in path else ""
        work = self.fake.crossref_work(doi)
        if work is None:
            self._send(404, "text/plain", b"Resource not found.")
        else:
            self._json(200, work)

    def _tavily(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        if method != "POST" or not path.rstrip("/").endswith("/search"):
            self._send(404, "application/json", b'{"detail": "Not Found"}')
            return
        if self.headers.get("Authorization") != f"Bearer {TAVILY_KEY}":
            self._json(401, {"detail": {"error": "Unauthorized: missing or invalid API key."}})
            return
        request = json.loads(body or b"{}")
        answer = self.fake.tavily_answer(request.get("query", ""), request.get("max_results") or 5)
        self._json(200, answer)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, "application/json", json.dumps(body).encode())

    def _send(
        self, status: int, kind: str, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


FakeScholarlyServer.handler = _Handler
