"""Shared fixtures.

One app for the whole run; its schema is built by the Alembic migrations. Each test runs inside a
transaction on one connection that is rolled back afterwards: the app's requests and the test's
own ``session`` both work on that connection (each in a savepoint), so they see each other's data
and nothing outlives the test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set. Under
pytest-xdist (``make test`` runs ``-n auto``) every worker has a database of its own: see
``support.apps.database_url``.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from factories import PairFactory, UserFactory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session
from support.apps import (
    SCHEMA_TEMPLATE,
    build_schema_template,
    database_url,
    drop_worker_database,
    factories_on,
    make_app,
    migrated_sqlite,
    share_url_builders,
    sign_in,
    with_schema,
)
from support.reminders import catch_mail

from app.extensions import db
from app.models import User


def pytest_configure(config: pytest.Config) -> None:
    # Apps built as in production refuse to start without the hashed static files: build them
    # once, before any test makes one (each xdist worker checks; the build is atomic).
    from app import static_build

    static_build.ensure()
    share_url_builders()
    # Requests leave many short-lived reference cycles (ORM sessions and states, request
    # contexts): at the collector's default pace, a pass every 700 new objects, it took about 4%
    # of the suite's CPU; every 5,000 halves that and frees the same garbage a little later.
    gc.set_threshold(5_000, 20, 20)
    # The xdist controller runs no test: it migrates the one SQLite template its workers copy
    # (they inherit its environment), instead of each worker running the migrations itself.
    controller = not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None)
    if controller and not config.option.collectonly:
        os.environ[SCHEMA_TEMPLATE] = str(build_schema_template())


def pytest_collection_finish(session: pytest.Session) -> None:
    # What is alive once the test modules are imported (modules, the app's models and routes:
    # some 300,000 objects in each worker) lives to the end of the run: moved out of the
    # collector's sight, it is not walked again by each full collection, nor by the last one
    # pytest makes before it exits (half a second per worker with those objects still in).
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``long`` first. pytest-xdist hands the tests out in this order as workers
    ask for more, so a test that takes seconds, handed out last, leaves the other worker idle
    until it ends: at the front, the short ones fill in around it. Every worker sorts alike, as
    xdist requires; ``sort`` is stable, so the rest keep their order."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[Flask]:
    url = database_url(tmp_path_factory.mktemp("db"))
    with_schema(url)
    app = make_app(url)
    app.test_client_class = Client
    # Let the app's sessions nest inside the test's transaction, each in a savepoint.
    with app.app_context():
        db.session.configure(join_transaction_mode="create_savepoint")
    yield app
    with app.app_context():
        db.engine.dispose()
    drop_worker_database(url)


@pytest.fixture(scope="session")
def csrf_app(tmp_path_factory) -> Flask:
    """An app with CSRF protection on, as in production, on a SQLite file of its own whose data is
    committed for real (``support.apps.committed_session``): for tests that post a page's own token."""
    return make_app(migrated_sqlite(tmp_path_factory.mktemp("csrf") / "csrf.sqlite3"), WTF_CSRF_ENABLED=True)


@pytest.fixture
def connection(app: Flask) -> Iterator[Connection]:
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    engines = db._app_engines[app]  # Flask-SQLAlchemy's per-app engine map: point it at our connection
    engines[None] = connection
    try:
        yield connection
    finally:
        engines[None] = engine
        outer.rollback()
        connection.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """The test's own session, for factories and for checking what was stored."""
    with factories_on(Session(bind=connection, join_transaction_mode="create_savepoint")) as session:
        yield session


class Client(FlaskClient):
    """A test client that flushes the test's pending objects before each request, so the app sees
    them. To check what a request stored, read it back with ``session.refresh(obj)`` or a query
    with ``populate_existing``: the test session otherwise remembers the old values."""

    test_session: Session | None = None

    def open(self, *args, **kwargs):
        if self.test_session is not None:
            self.test_session.flush()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask, session: Session) -> Client:
    client = app.test_client()
    client.test_session = session
    return client


@pytest.fixture
def htmx_client(app: Flask, session: Session) -> Client:
    """A client whose every request says it comes from htmx."""
    client = app.test_client()
    client.test_session = session
    client.environ_base["HTTP_HX_REQUEST"] = "true"
    return client


@pytest.fixture
def login(client: Client, session: Session):
    """``login(user)`` signs the default client in; ``login(user, on=app.test_client())`` a second one."""

    def login(user: User, on: FlaskClient | None = None) -> FlaskClient:
        target = on or client
        if isinstance(target, Client):
            target.test_session = session
        session.flush()
        sign_in(target, user)
        return target

    return login


@pytest.fixture
def sent_mail(app: Flask, monkeypatch):
    """The mail the app hands to its mail server during the test (support.reminders.catch_mail)."""
    return catch_mail(app, monkeypatch)


@pytest.fixture
def pair(session):
    """Aisha (the mentor, a junior colleague) and Margaret (the mentee, a senior one)."""
    return PairFactory(mentor=UserFactory(name="Aisha Khan"), mentee=UserFactory(name="Margaret Holloway"))


@pytest.fixture
def mentor(app, pair, login) -> FlaskClient:
    """Aisha, signed in on her own phone."""
    return login(pair.mentor, on=app.test_client())


@pytest.fixture
def mentee(app, pair, login) -> FlaskClient:
    """Margaret, signed in on her own phone."""
    return login(pair.mentee, on=app.test_client())


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.statements if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", s, re.IGNORECASE)]


@pytest.fixture
def queries(app: Flask, connection: Connection):
    """``with queries() as log:`` records the SQL the app sends (savepoint bookkeeping excluded)."""

    @contextmanager
    def record() -> Iterator[QueryLog]:
        log = QueryLog()

        def before(_conn, _cursor, statement, *_args) -> None:
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO)\b", statement, re.IGNORECASE):
                log.statements.append(statement)

        event.listen(connection, "before_cursor_execute", before)
        try:
            yield log
        finally:
            event.remove(connection, "before_cursor_execute", before)

    return record
