"""Engine set-up that differs by database.

SQLite is Twoway's embedded default and must hold up under several gunicorn workers. In WAL mode
readers never block the writer, and ``busy_timeout`` makes a second writer wait instead of failing.
That wait only happens when a transaction asks for the write lock *before* it has read anything:
a deferred transaction that reads and then writes while another worker has committed gets
"database is locked" at once, with no waiting. So transactions that may write start with
``BEGIN IMMEDIATE``. GET requests never write but for the admin's audit line (a test proves it)
and read in autocommit, as on PostgreSQL below: each statement in a snapshot of its own, with no
BEGIN and no ROLLBACK around it (a third of the statements a kept page or a probe sent).

On PostgreSQL a request's reads would otherwise cost four round trips for one statement: a ping
before checkout, BEGIN, the statement, and the ROLLBACK the pool resets with (which also makes
psycopg forget the statements it had prepared, so nothing was ever prepared). Under READ COMMITTED
each statement reads its own snapshot whether or not it sits in a transaction, so a GET runs in
autocommit and loses nothing by it: one round trip, and its statements stay prepared. Writes keep
their transaction, begun as on SQLite: the connection stays in autocommit and what may write starts
with a BEGIN of its own. The ping becomes a look at the socket: a connection the server closed while it
sat in the pool (a restart, a terminated backend) has something to read, and is replaced.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager

from flask import has_request_context, request
from psycopg import pq
from sqlalchemy import Connection, Engine, event, exc

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 15_000


# An execution option: a connection that only reads (``reading``).
READS_ONLY = "twoway_reads_only"


def _may_write(connection: Connection) -> bool:
    if connection.get_execution_options().get(READS_ONLY):
        return False
    return not (has_request_context() and request.method in SAFE_METHODS)


@contextmanager
def reading(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection of its own for one read (the light read that decides a pair GET's access, in
    Flask's request cycle or before it in app/light.py), begun as a GET's is, whatever the request.
    The test suite's single connection (already in its transaction) is used as it is."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect().execution_options(**{READS_ONLY: True}) as connection:
        yield connection


def configure_engine(engine: Engine) -> None:
    """Attach per-connection settings for the engine's database."""
    if engine.dialect.driver == "psycopg":
        _configure_psycopg(engine)
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
        if _may_write(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def closed_by_server(dbapi_connection) -> bool:
    """Whether PostgreSQL has closed this idle connection: an idle connection has nothing to say,
    so anything waiting on its socket (the FATAL of a terminated backend, the end of the stream) means
    it is gone. Costs a poll of the socket, not a round trip."""
    pgconn = dbapi_connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        return True
    if not hasattr(select, "poll"):  # Windows, or gevent's patched select
        return bool(select.select([pgconn.socket], [], [], 0)[0])
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    return bool(poller.poll(0))


def _configure_psycopg(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _replace_if_closed(dbapi_connection, _record, _proxy) -> None:
        # The pool retries the checkout with a fresh connection (SQLAlchemy's "pessimistic"
        # disconnect handling, as pool_pre_ping does with a SELECT 1).
        if closed_by_server(dbapi_connection):
            raise exc.DisconnectionError("PostgreSQL closed the pooled connection")

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection, _record) -> None:
        # For good: psycopg's commit() and rollback() follow the server's transaction status, not
        # this flag, so the BEGIN below gives a write its transaction; switching the mode on and
        # off around every GET cost a third of a light read's time in psycopg's own machinery.
        dbapi_connection.autocommit = True

    @event.listens_for(engine, "begin")
    def _begin_writes(connection) -> None:
        if _may_write(connection):
            connection.exec_driver_sql("BEGIN")
