"""An on-disk cache of web API answers, so a query asked twice is sent once.

Scholarly search results change slowly and every API limits how often it may be
asked; a run resumed after a crash, or run again, should not ask again. Entries are
keyed by method, URL and body (Tavily searches are POSTs), one JSON file each under
`<directory>/<2 hex>/<key>.json`, written to a temporary file and renamed into
place so concurrent runs never read half of one. Only 200 answers are kept, for
`ttl` seconds, and not an empty one or one that says it is JSON and is not; a
provider that finds a kept answer malformed drops it (`tools.http.forget`). HTTP
caching headers are ignored on purpose: the scholarly APIs send none worth
following, and a reproducible run wants the same answer again.

(hishel, the maintained HTTP cache for httpx, caches only GET and HEAD outside its
RFC 9111 mode, which would leave the paid Tavily POST searches uncached.)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

FORMAT = 1
_EXTENSION = "swarm_cache"
"""The response extension holding `{"path": ..., "hit": bool}` for a cached answer."""


class ResponseCache:
    """Answers of web APIs kept on disk for `ttl` seconds."""

    def __init__(self, directory: Path, ttl: float) -> None:
        self.directory = Path(directory).expanduser()
        self.ttl = ttl

    async def load(self, request: httpx.Request) -> httpx.Response | None:
        """The cached answer to `request`, or None when there is none or it expired."""
        path = self.path(await _key(request))
        entry = await asyncio.to_thread(self._read, path)
        if entry is None:
            return None
        return httpx.Response(
            entry["status"],
            headers=entry["headers"],
            content=base64.b64decode(entry["body"]),
            request=request,
            extensions={_EXTENSION: {"path": str(path), "hit": True}},
        )

    async def store(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """Read `response` whole, keep it, and return it as a fresh response to hand on."""
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        # the body is kept decoded, so the encoding and length headers no longer hold
        dropped = {"content-encoding", "content-length", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in dropped]
        path = self.path(await _key(request))
        extensions: dict[str, Any] = {}
        if _worth_keeping(response, content):
            entry = {
                "format": FORMAT,
                "stored": time.time(),
                "method": request.method,
                "url": str(request.url),
                "status": response.status_code,
                "headers": headers,
                "body": base64.b64encode(content).decode("ascii"),
            }
            if await asyncio.to_thread(self._write, path, entry):
                extensions[_EXTENSION] = {"path": str(path), "hit": False}
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=content,
            request=request,
            extensions=extensions,
        )

    @staticmethod
    async def forget(response: httpx.Response) -> None:
        """Remove the entry `response` came from or went to, if any."""
        found = response.extensions.get(_EXTENSION)
        if found:
            await asyncio.to_thread(Path(found["path"]).unlink, missing_ok=True)

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring a damaged HTTP cache entry %s: %s", path, exc)
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            return None
        if time.time() - float(entry.get("stored", 0)) > self.ttl:
            return None
        return entry

    def _write(self, path: Path, entry: dict[str, Any]) -> bool:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, staging = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump(entry, file)
                os.replace(staging, path)
            except OSError:
                Path(staging).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("could not cache a response in %s: %s", path.parent, exc)
            return False
        return True


def _worth_keeping(response: httpx.Response, content: bytes) -> bool:
    """Not an empty body, nor one that says it is JSON and is not: a retry may do better."""
    if not content.strip():
        return False
    if "json" in response.headers.get("Content-Type", "").lower():
        try:
            json.loads(content)
        except ValueError:
            return False
    return True


def cache_hit(response: httpx.Response) -> bool:
    """Whether `response` was served from the cache rather than the network."""
    return bool((response.extensions.get(_EXTENSION) or {}).get("hit"))


async def _key(request: httpx.Request) -> str:
    body = await request.aread()
    digest = hashlib.sha256(f"{request.method} {request.url}\n".encode())
    digest.update(body)
    return digest.hexdigest()
