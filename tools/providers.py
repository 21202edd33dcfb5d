"""The live sources by name: how each is searched, where it lives, whether it can be reached.

`tavily`, `arxiv` and `openalex` search; `crossref` only enriches sources that have
a DOI. Each searcher takes a query, a limit and an HTTP policy and returns hits
best first, or raises ProviderError.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from tools import arxiv, crossref, openalex, web_search
from tools.hits import Hit
from tools.http import HttpPolicy

Searcher = Callable[[str, int, HttpPolicy | None], Awaitable[list[Hit]]]


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    api_url: Callable[[], str]
    search: Searcher | None = None


PROVIDERS: dict[str, Provider] = {
    "tavily": Provider("tavily", "Tavily", web_search.api_url, web_search.search),
    "arxiv": Provider("arxiv", "arXiv", arxiv.api_url, arxiv.search),
    "openalex": Provider("openalex", "OpenAlex", openalex.api_url, openalex.search),
    "crossref": Provider("crossref", "Crossref", crossref.api_url),
}
SEARCHABLE = tuple(name for name, p in PROVIDERS.items() if p.search is not None)
"""The live providers that search: tavily, arxiv, openalex."""


async def search(name: str, query: str, limit: int, policy: HttpPolicy | None = None) -> list[Hit]:
    """Search the provider called `name`; ProviderError when it gives no usable answer."""
    searcher = PROVIDERS[name].search
    if searcher is None:
        raise ValueError(f"{name} does not search; it only enriches sources with a DOI")
    return await searcher(query, limit, policy)


def any_reachable(urls: Iterable[str], timeout: float = 2.0) -> bool:
    """Whether a TCP connection opens to the host of any of `urls` within `timeout` seconds.

    Probes run in parallel daemon threads, so a stalled name lookup cannot hold the
    caller past the timeout; the first connection that opens answers.
    """
    addresses = {address for url in urls if (address := _address(url)) is not None}
    if not addresses:
        return False
    answers: queue.SimpleQueue[bool] = queue.SimpleQueue()

    def probe(host: str, port: int) -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError:
            answers.put(False)
        else:
            answers.put(True)

    for address in addresses:
        threading.Thread(target=probe, args=address, daemon=True).start()
    deadline = time.monotonic() + timeout
    for _ in addresses:
        try:
            if answers.get(timeout=max(0.0, deadline - time.monotonic()) + 0.1):
                return True
        except queue.Empty:
            return False
    return False


def _address(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
