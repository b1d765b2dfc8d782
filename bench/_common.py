"""What every bench script needs: its command line, a database of its own, an app on it, bulk
inserts, a signed-in client, and counting and timing requests.

Each script calls ``main(__doc__, run, ...)``; ``run`` receives the database URL (a fresh SQLite
file, or a PostgreSQL database made on the named server and dropped afterwards) and the parsed
arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

CHUNK = 5_000


def main(
    doc: str | None,
    run: Callable[[str, argparse.Namespace], None],
    name: str,
    arguments: Callable[[argparse.ArgumentParser], None] = lambda _parser: None,
) -> None:
    """Parse the command line (a server URL, or ``BENCH_DATABASE_URL``, then the script's own
    ``arguments``) and call ``run`` on a database of the bench's own, named after ``name``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "url",
        nargs="?",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL server URL (default: a fresh SQLite file)",
    )
    arguments(parser)
    args = parser.parse_args()
    with bench_database(args.url, name) as url:
        run(url, args)


@contextmanager
def bench_database(server_url: str | None, name: str) -> Iterator[str]:
    """A fresh SQLite file (no URL, or a SQLite one), or a new database on that PostgreSQL server,
    dropped afterwards even when the bench fails."""
    if not server_url or server_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            yield server_url or f"sqlite:///{tmp}/bench.sqlite3"
        return
    server = make_url(server_url)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    database = f"twoway_bench_{name}_{os.getpid()}"
    admin_engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield server.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin_engine.dispose()


def make_app(url: str, config: dict | None = None, **environ: str) -> Flask:
    """An app on ``url`` with its schema migrated; rate limits off, so timing runs aren't refused."""
    app = create_app(
        {"RATELIMIT_ENABLED": False, **(config or {})},
        environ={"SECRET_KEY": "bench-secret", "DATABASE_URL": url, "BASE_URL": "http://localhost:5000", **environ},
    )
    with app.app_context():
        upgrade()
    return app


def insert_rows(model, rows: list[dict]) -> None:
    """Insert ``rows`` in batches the database drivers take."""
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def insert_returning_ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in batches; their ids, in the order of ``rows``."""
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        ids += db.session.scalars(
            insert(model).returning(model.id, sort_by_parameter_order=True), rows[start : start + CHUNK]
        ).all()
    return ids


def insert_pairs(rows: list[dict], user_ids: list[int]) -> list[int]:
    """Insert one pair per row of ``rows``, pair ``i`` made of ``user_ids[2 * i]`` (the mentor)
    and ``user_ids[2 * i + 1]`` (the mentee); the pairs' ids."""
    from app.models import Pair, PairMember, Role

    pair_ids = insert_returning_ids(Pair, rows)
    insert_rows(
        PairMember,
        [
            {"pair_id": p, "user_id": user_ids[2 * i + r], "role": role}
            for i, p in enumerate(pair_ids)
            for r, role in enumerate((Role.MENTOR, Role.MENTEE))
        ],
    )
    return pair_ids


def signed_in_client(app: Flask, user_id: int) -> FlaskClient:
    """A test client with user ``user_id``'s session in its cookie, as the suite signs people in."""
    with app.app_context():
        from app.models import User

        cookie = db.session.get(User, user_id).get_id()
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = cookie
        flask_session["_fresh"] = True
    return client


@contextmanager
def recorded_statements(engine) -> Iterator[list[str]]:
    """The statements sent on ``engine`` inside the block."""
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def time_get(client: FlaskClient, url: str, runs: int) -> list[float]:
    """Milliseconds each of ``runs`` GETs of ``url`` took, after one to warm up (templates
    compiled, connections open)."""
    client.get(url)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings
