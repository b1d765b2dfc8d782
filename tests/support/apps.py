"""Building test apps: the shared one in conftest, and dedicated ones for tests that need their own."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import CodeType

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import URL, Connection, create_engine, make_url, text
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app import create_app
from app.config import celery_settings
from app.extensions import db, login_manager
from app.models import User

BASE_URL = "http://localhost:5000"

# pytest-xdist names its workers gw0, gw1…; without it the whole run is one process, "main".
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def run_name(kind: str) -> str:
    """A name of this run's and this worker's own, for what lives outside the process (a Redis key
    prefix, a Celery queue), so parallel workers, parallel runs and stray workers never meet."""
    return f"twoway-test-{kind}-{WORKER}-{uuid.uuid4().hex[:8]}"


def eager_tasks() -> dict:
    """Celery settings under which a queued task runs at once, in the thread that queued it (its
    errors raised there), so a test sees the mail a request sent as soon as it answers. The tests
    of the queue itself (tests/test_queue.py) use a real broker and a real worker instead."""
    return {**celery_settings("memory://", Path()), "task_always_eager": True, "task_eager_propagates": True}


def database_url(tmp_dir) -> str:
    """The suite's database: a SQLite file in ``tmp_dir`` (a folder of this worker's own), or, with
    TEST_DATABASE_URL, that PostgreSQL database; under pytest-xdist each worker has its own beside
    it (``<name>_gw0``, ``<name>_gw1``…: ``worker_database``)."""
    suite_url = os.environ.get("TEST_DATABASE_URL")
    if not suite_url:
        return f"sqlite:///{tmp_dir}/twoway-test.sqlite3"
    if WORKER == "main":
        return suite_url
    return worker_database(suite_url)


def worker_database(suite_url: str) -> str:
    """This xdist worker's PostgreSQL database beside ``suite_url``'s, created if missing (its
    schema is reset as the suite's is; ``drop_worker_database`` removes it at the end)."""
    url = _psycopg(suite_url)
    name = f"{url.database}_{WORKER}"
    with _postgres_admin(url) as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False)


def drop_worker_database(url: str) -> None:
    """Drop the database ``worker_database`` made (nothing for SQLite or a run without workers)."""
    if WORKER == "main" or not url.startswith("postgresql"):
        return
    # From the suite's own database: PostgreSQL drops no database over a connection to itself.
    with _postgres_admin(_psycopg(os.environ["TEST_DATABASE_URL"])) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def _psycopg(url: str) -> URL:
    """``url`` with psycopg 3 named, as app/config.py reads a ``postgresql://`` DATABASE_URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed


@contextmanager
def _postgres_admin(url) -> Iterator[Connection]:
    """An autocommit connection on ``url``'s server, for CREATE and DROP DATABASE."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            yield connection
    finally:
        admin.dispose()


# Where this run's migrated SQLite template is: set by the xdist controller (``build_schema_template``)
# so that its workers, which inherit its environment, copy one template instead of each migrating.
SCHEMA_TEMPLATE = "TWOWAY_TEST_SCHEMA_TEMPLATE"


def build_schema_template() -> Path:
    """Run the migrations once into a SQLite file of this process's own (removed when it exits)."""
    folder = tempfile.mkdtemp(prefix="twoway-schema-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    template = Path(folder) / "migrated.sqlite3"
    reset_schema(make_app(f"sqlite:///{template}"))  # disposes its engine: no -wal file is left
    return template


_MIGRATED_SQLITE: Path | None = None


def migrated_sqlite(path: Path) -> str:
    """A SQLite file at ``path`` with the schema the migrations build, and its URL. The migrations
    run once per run (in the xdist controller, or in the one process without it), into a template
    every later call copies: the schema is the same, and a copy takes a millisecond where the
    migrations take more than half a second of CPU."""
    global _MIGRATED_SQLITE
    if _MIGRATED_SQLITE is None:
        inherited = os.environ.get(SCHEMA_TEMPLATE)
        _MIGRATED_SQLITE = Path(inherited) if inherited and Path(inherited).is_file() else build_schema_template()
    shutil.copyfile(_MIGRATED_SQLITE, path)
    return f"sqlite:///{path}"


def with_schema(url: str) -> None:
    """Give the suite's database at ``url`` the migrations' schema: a SQLite file is a copy of the
    run's template; a PostgreSQL database has whatever a previous run left dropped and is migrated."""
    if url.startswith("sqlite:///"):
        migrated_sqlite(Path(url.removeprefix("sqlite:///")))
    else:
        reset_schema(make_app(url))


@contextmanager
def own_database(tmp_dir) -> Iterator[str]:
    """A database of a test's own with the schema built, on the suite's engine (a SQLite file, or a
    new PostgreSQL database beside the suite's, dropped afterwards): for tests whose requests
    commit for real and run in parallel, such as two people saving at the same moment."""
    suite_url = os.environ.get("TEST_DATABASE_URL")
    if not suite_url:
        yield migrated_sqlite(Path(tmp_dir) / "own.sqlite3")
        return
    url = _psycopg(suite_url)
    name = f"{url.database}_{WORKER}_own_{secrets.token_hex(4)}"
    with _postgres_admin(url) as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        own_url = url.set(database=name).render_as_string(hide_password=False)
        reset_schema(make_app(own_url))
        yield own_url
    finally:
        with _postgres_admin(url) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def own_app(tmp_dir, **config) -> Iterator[Flask]:
    """An app on a database of its own (``own_database``): for tests whose requests commit for
    real, in parallel."""
    with own_database(tmp_dir) as url:
        app = make_app(url, **config)
        try:
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()


def clients_of(app: Flask, *people: User) -> list[FlaskClient]:
    """A test client signed in as each of ``people`` (one person twice: two tabs or two taps)."""
    clients = []
    for person in people:
        client = app.test_client()
        sign_in(client, person)
        clients.append(client)
    return clients


def share_url_builders() -> None:
    """Let every app of the run reuse the URL builders werkzeug compiles for each route.

    Binding a rule to an app's URL map writes and compiles two small Python functions for it
    (``Rule._compile_builder``): about 0.13 s of CPU for our 133 routes, three quarters of what
    building an app costs, and the suite builds seventy apps. The functions depend only on the
    rule's text, its parsed parts and the names of its defaults (the rule itself is passed in when
    they are called), so one compiled per distinct rule serves every app. A default that fills a
    variable part is turned into text by that app's converter while compiling: those compile anew.
    """
    compile_builder = Rule._compile_builder
    if getattr(compile_builder, "shared", False):
        return
    builders: dict[tuple, object] = {}

    def shared_builder(rule: Rule, append_unknown: bool = True):
        defaults = rule.defaults or {}
        if any(is_dynamic and data in defaults for is_dynamic, data in rule._trace):
            return compile_builder(rule, append_unknown)
        key = (rule.rule, tuple(rule._trace), tuple(defaults), append_unknown)
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(rule, append_unknown)
        return builder

    shared_builder.shared = True
    Rule._compile_builder = shared_builder


class _SharedTemplates(BytecodeCache):
    """Compiled templates shared by every app of the run. Each app has a Jinja environment of its
    own, which lexes, parses and compiles each template it renders anew: with some seventy apps
    that was about 3% of the suite's CPU. The code depends only on the template's source (checked
    by its checksum) and the environment's settings, the same for every app."""

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        kept = self._compiled.get(bucket.key)
        if kept is not None and kept[0] == bucket.checksum:
            bucket.code = kept[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._compiled[bucket.key] = (bucket.checksum, bucket.code)


_SHARED_TEMPLATES = _SharedTemplates()


def make_app(url: str, environ: dict[str, str] | None = None, **config) -> Flask:
    """An app configured for tests from a clean environment (nothing from the shell leaks in);
    ``environ`` adds to or replaces the variables it reads (``MAIL_URL``, ``BASE_URL``…) and
    ``config`` the settings."""
    settings = {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "CELERY": eager_tasks()}
    # Factories write without committing, so no change count moves: a kept page would hide their
    # rows. tests/test_page_cache.py turns the page cache on where it is the subject.
    settings["PAGE_CACHE_URL"] = "none"
    settings.update(config)
    app = create_app(
        settings, environ={"SECRET_KEY": "test-secret", "DATABASE_URL": url, "BASE_URL": BASE_URL, **(environ or {})}
    )
    app.jinja_env.bytecode_cache = _SHARED_TEMPLATES
    return app


def reset_schema(app: Flask) -> None:
    """Drop whatever a previous run left and build the schema through the migrations."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.engine.dispose()


def sign_in(client: FlaskClient, user: User, signed_in_at: datetime | None = None) -> None:
    """Put ``user``'s signed-in session in ``client``'s cookie (the real sign-in paths have their own
    tests), as if they signed in at ``signed_in_at`` (default: just now)."""
    # As Flask-Login's login_user keeps it: the browser signing in (its address and User-Agent).
    with client.application.test_request_context(environ_base=client.environ_base):
        browser = login_manager._session_identifier_generator()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = user.get_id()
        flask_session["_fresh"] = True
        flask_session["_id"] = browser
        flask_session["signed_in_at"] = (signed_in_at or datetime.now(UTC)).timestamp()


@contextmanager
def factories_on(session: Session) -> Iterator[Session]:
    """``session``, used by the test data factories too until the block ends, then closed."""
    from factories import use_session

    use_session(session)
    try:
        yield session
    finally:
        use_session(None)
        session.close()


@contextmanager
def committed_session(app: Flask) -> Iterator[Session]:
    """A session on ``app``'s own database whose commits are real, also used by the factories:
    for tests that build an app of their own (CSRF on, a mail server…) and need data in it."""
    with app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
    with factories_on(session):
        yield session


def committed_pair(app: Flask):
    """A pair (``factories.PairFactory``) committed to ``app``'s own database; its id and people
    stay readable afterwards, for tests whose requests then run in parallel."""
    from factories import PairFactory

    with committed_session(app) as session:
        pair = PairFactory()
        session.commit()
    return pair
