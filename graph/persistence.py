"""Where runs live: a checkpointer (state at every superstep) and a store (run records, large text).

A SQLite file in the user's data folder by default, or `--db PATH`; PostgreSQL with
`--db postgresql://...` or `SWARM_DATABASE_URL`. The store also keeps one record per
run (prompt, settings, status, progress), which `swarm runs` lists and `swarm resume`
reads to continue a run with the settings it started with.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from graph.errors import SwarmError

RUNS = ("swarm", "runs")


def default_db() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(os.environ.get("SWARM_DB") or Path(base) / "agent-swarm" / "runs.sqlite")


def database_url(db: str | None) -> str:
    """`--db`, else SWARM_DATABASE_URL, else the default SQLite file."""
    return db or os.environ.get("SWARM_DATABASE_URL") or str(default_db())


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


@dataclass
class Persistence:
    checkpointer: BaseCheckpointSaver
    store: BaseStore
    url: str

    async def record(self, thread_id: str, **fields: Any) -> dict[str, Any]:
        """Create or update the record of a run; returns the record as stored."""
        item = await self.store.aget(RUNS, thread_id)
        record = {**(item.value if item else {"thread_id": thread_id, "started": time.time()})}
        record.update(fields, updated=time.time())
        await self.store.aput(RUNS, thread_id, record, index=False)
        return record

    async def run(self, thread_id: str) -> dict[str, Any]:
        item = await self.store.aget(RUNS, thread_id)
        if item is None:
            raise SwarmError(
                f"no run named {thread_id!r} in {self.url}: list runs with `swarm runs`"
            )
        return item.value

    async def runs(self) -> list[dict[str, Any]]:
        items = await self.store.asearch(RUNS, limit=10_000)
        return sorted((i.value for i in items), key=lambda r: r.get("started", 0))


@asynccontextmanager
async def persistence(db: str | None = None) -> AsyncIterator[Persistence]:
    """Open the checkpointer and store of `db` (see `database_url`), creating tables."""
    url = database_url(db)
    if is_postgres(url):
        async with _postgres(url) as opened:
            yield opened
        return
    path = Path(url).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SwarmError(
            f"cannot create the run database folder {path.parent}: {exc.strerror}; "
            "pass --db with a writable path"
        ) from exc
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    async with (
        AsyncSqliteSaver.from_conn_string(str(path)) as saver,
        AsyncSqliteStore.from_conn_string(str(path)) as store,
    ):
        await saver.setup()
        await store.setup()
        # WAL without an fsync per commit: a killed or crashed process loses nothing (the
        # log is in the OS's hands); only a power cut may lose the last commits.
        await saver.conn.execute("PRAGMA synchronous=NORMAL")
        yield Persistence(saver, store, str(path))


@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[Persistence]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from psycopg import OperationalError

    try:
        async with (
            AsyncPostgresSaver.from_conn_string(url) as saver,
            AsyncPostgresStore.from_conn_string(url) as store,
        ):
            await saver.setup()
            await store.setup()
            yield Persistence(saver, store, url)
    except OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SwarmError(f"cannot reach the database {url}: {first}; check --db") from exc
