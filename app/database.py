"""Engine set-up that differs by database.

SQLite is Twoway's embedded default and must hold up under several gunicorn workers. In WAL mode
readers never block the writer, and ``busy_timeout`` makes a second writer wait instead of failing.
That wait only happens when a transaction asks for the write lock *before* it has read anything:
a deferred transaction that reads and then writes while another worker has committed gets
"database is locked" at once, with no waiting. So transactions that may write start with
``BEGIN IMMEDIATE``; GET requests never write (a test proves it) and keep cheap deferred reads.
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import Engine, event

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 15_000


def _may_write() -> bool:
    return not (has_request_context() and request.method in SAFE_METHODS)


def configure_engine(engine: Engine) -> None:
    """Attach per-connection settings for the engine's database."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event below own the transaction instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Erased words (a deleted account, retention) are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")
