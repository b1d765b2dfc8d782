"""PostgreSQL under a request's reads: one round trip, statements that stay prepared, and a pooled
connection the server closed replaced before anyone sees an error (app/database.py)."""

from __future__ import annotations

import os
import time

import psycopg
import pytest
from flask import Flask
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError, OperationalError
from support.apps import make_app

from app import database
from app.extensions import db

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="what a database server does to pooled connections"
)


@pytest.fixture
def own_engine_app(app: Flask) -> Flask:
    """An app on the suite's database with an engine of its own (the suite's requests share the
    test's connection, which never goes back to a pool), holding one connection."""
    own = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    yield own
    with own.app_context():
        db.engine.dispose()


def in_request(app: Flask, method: str, sql: str, times: int = 1, **params) -> list:
    with app.test_request_context("/", method=method):
        return [db.session.execute(text(sql), params).scalar() for _ in range(times)]


def test_reads_run_outside_a_transaction_and_writes_inside_one(own_engine_app):
    # Each statement of a GET is a transaction of its own (no BEGIN, no ROLLBACK to wait for)...
    first, second = in_request(own_engine_app, "GET", "SELECT pg_current_xact_id()", times=2)
    assert first != second
    # ...and the same pooled connection still gives a write one transaction for all it does.
    first, second = in_request(own_engine_app, "POST", "SELECT pg_current_xact_id()", times=2)
    assert first == second


def test_a_read_statement_stays_prepared_from_one_request_to_the_next(own_engine_app):
    # Ending every request with a ROLLBACK made psycopg forget what it had prepared: the server
    # planned the same statement again on every request.
    for n in range(6):
        in_request(own_engine_app, "GET", "SELECT CAST(:n AS integer) + 1", n=n)
    (prepared,) = in_request(own_engine_app, "GET", "SELECT count(*) FROM pg_prepared_statements")
    assert prepared >= 1


def test_a_connection_the_server_closed_in_the_pool_is_replaced(own_engine_app):
    """A database restart or a terminated backend while the connection sat in the pool: the next
    request gets a fresh connection, not an error page."""
    (pid,) = in_request(own_engine_app, "GET", "SELECT pg_backend_pid()")
    server = make_url(own_engine_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    killer = psycopg.connect(server.render_as_string(hide_password=False), autocommit=True)
    try:
        assert killer.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        deadline = time.monotonic() + 30
        while killer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the terminated backend never went away"
    finally:
        killer.close()
    (again,) = in_request(own_engine_app, "GET", "SELECT pg_backend_pid()")
    assert again != pid


def test_a_read_before_flask_runs_outside_a_transaction_and_leaves_the_pool_as_it_was(own_engine_app):
    """The live probes' fast path (app/light.py) reads outside any request: no BEGIN either, and
    the pooled connection it used still gives the next write its one transaction."""
    with own_engine_app.app_context():
        with database.reading(db.engine) as connection:
            first = connection.exec_driver_sql("SELECT pg_current_xact_id()").scalar()
            second = connection.exec_driver_sql("SELECT pg_current_xact_id()").scalar()
    assert first != second
    first, second = in_request(own_engine_app, "POST", "SELECT pg_current_xact_id()", times=2)
    assert first == second


@pytest.fixture
def scratch_table(own_engine_app: Flask):
    """A table of this test's own on the suite's database, committed for real and dropped after."""
    name = f"scratch_{os.getpid()}_{time.monotonic_ns()}"
    with own_engine_app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {name} (id integer PRIMARY KEY)")
    yield name
    with own_engine_app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {name}")


def _idle_in_pool(app: Flask) -> bool:
    with app.app_context():
        pooled = db.engine.raw_connection()
        try:
            return pooled.driver_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        finally:
            pooled.close()


def test_a_write_that_fails_half_way_keeps_nothing_and_the_next_read_finds_the_connection_idle(
    own_engine_app, scratch_table
):
    """The pool's ROLLBACK ends a failed transaction though the connection stays in autocommit:
    the next GET, which begins nothing, reads on a connection in no transaction at all."""
    with pytest.raises(IntegrityError), own_engine_app.test_request_context("/", method="POST"):
        db.session.execute(text(f"INSERT INTO {scratch_table} VALUES (1)"))
        db.session.execute(text(f"INSERT INTO {scratch_table} VALUES (1)"))
    assert _idle_in_pool(own_engine_app)
    assert in_request(own_engine_app, "GET", f"SELECT count(*) FROM {scratch_table}") == [0]


def test_a_write_whose_connection_is_killed_half_way_keeps_nothing(own_engine_app, scratch_table):
    server = make_url(own_engine_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    with pytest.raises(OperationalError), own_engine_app.test_request_context("/", method="POST"):
        db.session.execute(text(f"INSERT INTO {scratch_table} VALUES (1)"))
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as killer:
            assert killer.execute("SELECT pg_terminate_backend(%s, 30000)", (pid,)).fetchone()[0]
        db.session.execute(text(f"INSERT INTO {scratch_table} VALUES (2)"))
    assert in_request(own_engine_app, "GET", f"SELECT count(*) FROM {scratch_table}") == [0]
