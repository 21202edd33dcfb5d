"""Where runs live: a checkpointer (state at every superstep) and a store (run records, large text).

A SQLite file in the user's data folder by default, or `--db PATH`; PostgreSQL with
`--db postgresql://...` or `SWARM_DATABASE_URL`. The store also keeps one record per
run (prompt, settings, status, progress), which `swarm runs` lists and `swarm resume`
reads to continue a run with the settings it started with.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import WRITES_IDX_MAP, BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
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


class BatchingSqliteSaver(AsyncSqliteSaver):
    """The async SQLite checkpointer, committing the writes of tasks that finish together at once.

    A task's writes are saved the moment it finishes, so that a resume does not run it
    again. The stock saver gives each task its own transaction: four round trips to the
    database thread, one task after another, so a wave of 300 sub-agents that finish
    within milliseconds queues 1,200 round trips behind its last agent. Here the writes
    that arrive while a commit is under way wait for the next commit, and go in together;
    each task's `aput_writes` still returns only once its own writes are committed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[tuple[str, list[tuple[Any, ...]], asyncio.Future[None]]] = []
        self._committing: asyncio.Task[None] | None = None

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        conf = config["configurable"]
        replace = all(channel in WRITES_IDX_MAP for channel, _ in writes)
        rows = [
            (
                str(conf["thread_id"]),
                str(conf["checkpoint_ns"]),
                str(conf["checkpoint_id"]),
                task_id,
                task_path,
                WRITES_IDX_MAP.get(channel, idx),
                channel,
                *self.serde.dumps_typed(value),
            )
            for idx, (channel, value) in enumerate(writes)
        ]
        committed = asyncio.get_running_loop().create_future()
        self._queued.append(("REPLACE" if replace else "IGNORE", rows, committed))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_queued())
        await committed

    async def _commit_queued(self) -> None:
        await self.setup()
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                async with self.lock:
                    try:
                        # In arrival order: a task's later write may replace its earlier one.
                        for conflict, group in groupby(batch, key=itemgetter(0)):
                            await self.conn.executemany(
                                f"INSERT OR {conflict} INTO writes (thread_id, checkpoint_ns, "
                                "checkpoint_id, task_id, task_path, idx, channel, type, value) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [row for _, rows, _ in group for row in rows],
                            )
                        await self.conn.commit()
                    except BaseException:
                        await self.conn.rollback()
                        raise
            except BaseException as exc:
                for _, _, committed in batch:
                    if committed.done():  # its task was cancelled meanwhile
                        continue
                    if isinstance(exc, Exception):
                        committed.set_exception(exc)
                    else:
                        committed.cancel()
                if not isinstance(exc, Exception):
                    raise
            else:
                for _, _, committed in batch:
                    if not committed.done():
                        committed.set_result(None)


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
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    async with (
        BatchingSqliteSaver.from_conn_string(str(path)) as saver,
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
