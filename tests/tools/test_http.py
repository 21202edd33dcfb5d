"""The shared HTTP policy: per-host rate limits, Retry-After, retries, the response cache."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from tests.fakes.scholarly_server import FakeScholarlyServer
from tools import arxiv, openalex
from tools.http import HttpPolicy, ProviderError, retry_after


async def test_requests_to_one_host_keep_its_rate_limit(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    policy = HttpPolicy(rates={"127.0.0.1": (1, 0.25)}, cache_dir=tmp_path)

    await asyncio.gather(*(arxiv.search(f"retrieval {n}", 3, policy) for n in range(4)))

    times = sorted(r.at for r in scholarly.requests["arxiv"])
    assert len(times) == 4
    assert times[-1] - times[0] >= 0.7


async def test_a_retry_after_longer_than_the_policy_allows_fails_at_once(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("openalex", 1, status=429, retry_after="3600")

    started = time.monotonic()
    with pytest.raises(ProviderError, match="openalex: HTTP 429"):
        await openalex.search("retrieval", 5, policy)
    assert time.monotonic() - started < 1
    assert len(scholarly.requests["openalex"]) == 1


async def test_server_errors_without_retry_after_back_off_and_recover(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    scholarly.fail_next("openalex", 2, status=502)

    assert await openalex.search("retrieval augmented generation", 5, policy)
    assert len(scholarly.requests["openalex"]) == 3


async def test_a_refused_connection_is_retried_then_reported(
    monkeypatch: pytest.MonkeyPatch, policy: HttpPolicy
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("ARXIV_API_URL", f"http://127.0.0.1:{port}/api/query")

    with pytest.raises(ProviderError, match=r"arxiv: no answer from 127\.0\.0\.1 \(ConnectError"):
        await arxiv.search("retrieval", 5, policy)


async def test_expired_answers_are_asked_again(
    scholarly: FakeScholarlyServer, tmp_path: Path
) -> None:
    policy = HttpPolicy(cache_dir=tmp_path, cache_ttl=0.0)

    await openalex.search("dense retrieval", 5, policy)
    await openalex.search("dense retrieval", 5, policy)

    assert len(scholarly.requests["openalex"]) == 2


async def test_a_damaged_cache_entry_is_ignored_and_replaced(
    scholarly: FakeScholarlyServer, policy: HttpPolicy
) -> None:
    first = await openalex.search("dense retrieval", 5, policy)
    (entry,) = policy.cache_dir.rglob("*.json")
    entry.write_text("{not json", encoding="utf-8")

    assert await openalex.search("dense retrieval", 5, policy) == first
    assert len(scholarly.requests["openalex"]) == 2
    assert await openalex.search("dense retrieval", 5, policy) == first
    assert len(scholarly.requests["openalex"]) == 2


async def test_no_cache_policy_always_asks(
    scholarly: FakeScholarlyServer,
) -> None:
    policy = HttpPolicy(cache=False)

    await openalex.search("dense retrieval", 5, policy)
    await openalex.search("dense retrieval", 5, policy)

    assert len(scholarly.requests["openalex"]) == 2


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def answer(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    assert retry_after(answer("7")) == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after(answer(later)) or 0) <= 30
    assert retry_after(answer("soon")) is None
    assert retry_after(httpx.Response(429)) is None
