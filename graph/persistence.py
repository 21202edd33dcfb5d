"""Checkpointer factories: where a run's state is saved at every superstep.

A SQLite file in the user's data folder by default, or `--db PATH`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from graph.errors import SwarmError


def default_db() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(os.environ.get("SWARM_DB") or Path(base) / "agent-swarm" / "runs.sqlite")


@asynccontextmanager
async def checkpointer(db: str | None = None) -> AsyncIterator[BaseCheckpointSaver]:
    path = Path(db).expanduser() if db else default_db()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SwarmError(
            f"cannot create the run database folder {path.parent}: {exc.strerror}; "
            "pass --db with a writable path"
        ) from exc
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver
