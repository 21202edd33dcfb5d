"""How the swarm talks to web APIs: one policy for timeouts, retries, rate limits and caching.

Every live provider (Tavily, arXiv, OpenAlex, Crossref) sends its requests through
a client from `http_client`, whose transport:

- answers from the on-disk response cache when it can (`tools/http_cache.py`);
- waits for its turn under a per-host rate limit (aiolimiter's leaky bucket), so
  hundreds of parallel agents stay within what each API allows;
- retries connection errors, timeouts, 429s and 5xx with exponential backoff and
  full jitter (tenacity), waiting what a `Retry-After` header asks for instead;
- returns the last answer when retries run out, for the provider to turn into a
  `ProviderError` that says what went wrong.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import time
import weakref
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from tools.corpus import default_cache_dir
from tools.http_cache import ResponseCache

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Answers worth asking again: rate limited, or a server that failed or is overloaded."""

HOST_RATES: Mapping[str, tuple[float, float]] = {
    "export.arxiv.org": (1, 3.0),  # arXiv's terms: one request every three seconds
    "api.openalex.org": (10, 1.0),
    "api.crossref.org": (5, 1.0),  # a cautious share of what Crossref's public pool allows
    "api.tavily.com": (5, 1.0),
}
"""Requests per period (seconds) each known API allows; other hosts get the policy default."""

T = TypeVar("T")

USER_AGENT = "agent-swarm/0.1 (literature reviews)"


class ProviderError(RuntimeError):
    """A live source gave no usable answer: it failed, timed out, or answered malformed data.

    The message names the provider and says what went wrong; the search goes on with
    the other sources.
    """

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, retries, rate limits and caching for requests to web APIs."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 4
    backoff: float = 1.0
    """The longest first wait before a retry, in seconds; doubled at each retry, and a
    random share of it taken (full jitter), so parallel agents do not retry in step."""
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    """A `Retry-After` longer than this is not waited for: the request fails at once."""
    rates: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(HOST_RATES))
    default_rate: tuple[float, float] = (10, 1.0)
    cache: bool = True
    cache_dir: Path | None = None
    """Where responses are kept; default `<SWARM_CACHE_DIR or ~/.cache/agent-swarm>/http`."""
    cache_ttl: float = 7 * 24 * 3600.0

    def response_cache(self) -> ResponseCache | None:
        if not self.cache:
            return None
        return ResponseCache(self.cache_dir or default_cache_dir() / "http", self.cache_ttl)


def http_client(
    policy: HttpPolicy | None = None,
    *,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """A new client under `policy`; close it (`async with`) when done.

    Each caller gets its own client, so headers one provider sets (an API key) never
    travel to another host; rate limits and the cache are shared all the same.
    """
    policy = policy or HttpPolicy()
    return httpx.AsyncClient(
        transport=PolicyTransport(httpx.AsyncHTTPTransport(), policy),
        base_url=base_url,
        headers={"User-Agent": user_agent(), **(headers or {})},
        timeout=httpx.Timeout(policy.timeout, connect=policy.connect_timeout),
        follow_redirects=True,
    )


async def fetch(
    provider: str,
    url: str,
    parse: Callable[[httpx.Response], T],
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    policy: HttpPolicy | None = None,
    accept: Collection[int] = (200,),
) -> T:
    """GET `url` under the policy and `parse` the answer.

    Raises ProviderError when no answer came (after retries), when its status is not
    in `accept`, or when `parse` finds it malformed (then it is dropped from the cache).
    """
    async with http_client(policy, headers=headers) as client:
        try:
            response = await client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise ProviderError(provider, no_answer(exc)) from exc
        if response.status_code not in accept:
            raise ProviderError(provider, bad_status(response))
        try:
            return parse(response)
        except ProviderError:
            await forget(response)
            raise


def no_answer(exc: httpx.HTTPError) -> str:
    """Why a request got no answer at all, in a few words."""
    try:
        where = exc.request.url.host
    except RuntimeError:  # an error raised before a request was made
        where = "the server"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer in time"
    return f"no answer from {where} ({type(exc).__name__}: {exc or 'connection failed'})"


def bad_status(response: httpx.Response) -> str:
    """`HTTP 503 from host: <the start of the body>`, for an answer that is not a success."""
    detail = " ".join(response.text.split())[:200] if response.content else ""
    where = f"HTTP {response.status_code} from {response.request.url.host}"
    return f"{where}: {detail}" if detail else where


def user_agent() -> str:
    """Polite APIs (Crossref, OpenAlex) ask for a contact address: `SWARM_MAILTO`."""
    mailto = contact_email()
    return f"{USER_AGENT} mailto:{mailto}" if mailto else USER_AGENT


def contact_email() -> str:
    return os.environ.get("SWARM_MAILTO", "").strip()


class PolicyTransport(httpx.AsyncBaseTransport):
    """Cache, rate limit and retries around another transport."""

    def __init__(self, transport: httpx.AsyncBaseTransport, policy: HttpPolicy) -> None:
        self._transport = transport
        self._policy = policy
        self._cache = policy.response_cache()
        self._backoff = wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._cache is not None and (cached := await self._cache.load(request)) is not None:
            return cached
        response = await self._send(request)
        if self._cache is not None and response.status_code == 200:
            response = await self._cache.store(request, response)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        policy = self._policy
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type((httpx.TransportError, _Retry)),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    async with limiter(request.url.host, policy):
                        response = await self._transport.handle_async_request(request)
                    if response.status_code not in RETRY_STATUSES:
                        return response
                    answer = await _read(response, request)
                    wait = retry_after(answer)
                    if wait is not None and wait > policy.max_retry_after:
                        return answer  # not worth waiting for: the caller reports it
                    raise _Retry(answer, wait)
        except _Retry as last:
            return last.response
        raise AssertionError("unreachable: tenacity returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retry) and error.wait is not None:
            return error.wait
        return self._backoff(state)


class _Retry(Exception):
    """An answer worth asking again, and how long its server asked us to wait."""

    def __init__(self, response: httpx.Response, wait: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.wait = wait


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def _read(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """The response read whole and closed, so its connection goes back to the pool."""
    try:
        content = await response.aread()
    finally:
        await response.aclose()
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
    return httpx.Response(response.status_code, headers=headers, content=content, request=request)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying in %.1f s after %s: %s", wait, type(error).__name__, error)


_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncLimiter]] = (
    weakref.WeakKeyDictionary()
)


def limiter(host: str, policy: HttpPolicy) -> AsyncLimiter:
    """The rate limit of `host`, shared by every client of this event loop."""
    loop = asyncio.get_running_loop()
    limiters = _LIMITERS.setdefault(loop, {})
    if (found := limiters.get(host)) is None:
        requests, period = policy.rates.get(host, policy.default_rate)
        found = limiters[host] = AsyncLimiter(requests, period)
    return found


async def forget(response: httpx.Response) -> None:
    """Drop a response from the cache: its provider found it unusable (malformed)."""
    await ResponseCache.forget(response)


def endpoint(variable: str, default: str) -> str:
    """An API's base URL: the environment variable when set (tests, mirrors), else `default`."""
    return (os.environ.get(variable, "").strip() or default).rstrip("/")
