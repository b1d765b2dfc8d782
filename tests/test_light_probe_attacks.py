"""The live probes' fast path (app/light.py) under attack: many browsers at once, a database that
fails under it, and the answers whoever isn't a member gets."""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest
from factories import AdminFactory, PairFactory
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import event, exc, make_url
from support.apps import committed_session, own_app, sign_in
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app import database
from app.extensions import db, login_manager


def _probe(client, pair_id: int, since: int = 10**9):
    return client.get(f"/pairs/{pair_id}/changes?since={since}")


@pytest.fixture
def threaded_app(tmp_path):
    with own_app(tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 2, "max_overflow": 0}) as app:
        yield app


def _people(app: Flask):
    with committed_session(app) as session:
        ours, theirs, admin = PairFactory(), PairFactory(), AdminFactory()
        session.commit()
    return ours, theirs, admin


def test_many_browsers_at_once_each_get_their_own_answer(threaded_app):
    """Threads (gunicorn's gthread) sharing the fast path, its cookie cache and a pool of two: a
    member always 204, the other pair's member and the admin always Flask's 404."""
    app = threaded_app
    ours, theirs, admin = _people(app)
    expected = {}
    for name, person in (
        ("mentor", ours.mentor),
        ("mentee", ours.mentee),
        ("stranger", theirs.mentor),
        ("admin", admin),
    ):
        client = app.test_client()
        sign_in(client, person)
        expected[name] = client
    now = int(_probe(expected["mentee"], ours.id).text)
    wanted = {"mentor": 204, "mentee": 204, "stranger": 404, "admin": 404}
    seen: list[tuple[str, int]] = []
    start = threading.Barrier(len(wanted))

    def ask(name: str) -> None:
        start.wait()
        for _ in range(60):
            seen.append((name, _probe(expected[name], ours.id, now).status_code))

    probes = app.extensions["light_probes"]
    original = probes.answer
    answered: list[bool] = []

    def counted(environ):
        found = original(environ)
        answered.append(found is not None)
        return found

    probes.answer = counted
    threads = [threading.Thread(target=ask, args=(name,)) for name in wanted]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        probes.answer = original
    assert {(name, status) for name, status in seen} == set(wanted.items())
    assert answered.count(True) == 2 * 60  # the two members', each before Flask
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def _probe_whose_first_read(app: Flask, happens) -> int:
    """A member's probe whose first read (the fast path's: Flask's own reads again) first runs
    ``happens(connection)``; the probe's status and what ``happens`` returned."""
    ours, _theirs, _admin = _people(app)
    client = app.test_client()
    sign_in(client, ours.mentee)
    now = int(_probe(client, ours.id).text)
    with app.app_context():
        engine = db.engine
    happened = []

    def first_read(connection, _cursor, _statement, *_args) -> None:
        if connection.get_execution_options().get(database.READS_ONLY) and not happened:
            happened.append(True)
            happens(connection)

    event.listen(engine, "before_cursor_execute", first_read)
    try:
        status = _probe(client, ours.id, now).status_code
    finally:
        event.remove(engine, "before_cursor_execute", first_read)
    assert happened and engine.pool.checkedout() == 0
    assert _probe(client, ours.id, now).status_code == 204  # and the next probe is as ever
    return status


def test_a_read_that_fails_before_flask_is_left_to_flask_and_leaks_nothing(threaded_app):
    def fail(_connection) -> None:
        raise exc.OperationalError("SELECT", {}, Exception("the server went away"))

    assert _probe_whose_first_read(threaded_app, fail) == 204  # Flask's answer


def test_gets_in_autocommit_beside_writers_never_fail_on_sqlite(threaded_app):
    """SQLite GETs read in autocommit: the probes (before Flask), pages, and the one GET that
    writes (the admin's audit line of a download) never meet "database is locked" while the
    pair writes as fast as it can."""
    app = threaded_app
    ours, _theirs, admin = _people(app)
    mentor, mentee, owner = app.test_client(), app.test_client(), app.test_client()
    sign_in(mentor, ours.mentor)
    sign_in(mentee, ours.mentee)
    sign_in(owner, admin)
    failures: list[object] = []
    start = threading.Barrier(4)

    def write() -> None:
        start.wait()
        for n in range(40):
            status = mentor.post(f"/pairs/{ours.id}/topics", data={"text": f"Topic {n}"}).status_code
            if status >= 400:
                failures.append(("write", status))

    def probe() -> None:
        start.wait()
        for _ in range(80):
            status = _probe(mentee, ours.id, 0).status_code
            if status not in (200, 204):
                failures.append(("probe", status))

    def page() -> None:
        start.wait()
        for _ in range(20):
            status = mentee.get(f"/pairs/{ours.id}/goals").status_code
            if status != 200:
                failures.append(("page", status))

    def download() -> None:
        start.wait()
        for _ in range(20):
            status = owner.get(f"/admin/programs/{ours.program_id}/dashboard.csv").status_code
            if status != 200:
                failures.append(("download", status))

    threads = [threading.Thread(target=f) for f in (write, probe, page, download)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="a PostgreSQL backend terminated mid-read")
def test_a_backend_terminated_mid_read_before_flask_is_left_to_flask(threaded_app):
    app = threaded_app
    server = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    killer = psycopg.connect(server.render_as_string(hide_password=False), autocommit=True)

    def terminate_this_backend(connection) -> None:
        pid = connection.connection.dbapi_connection.info.backend_pid
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while killer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0]:
            assert time.monotonic() < deadline

    try:
        assert _probe_whose_first_read(app, terminate_this_backend) == 204
        left_open = killer.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state LIKE 'idle in transaction%%'",
            (server.database,),
        ).fetchone()[0]
    finally:
        killer.close()
    assert left_open == 0


# --- Cookies: whatever Flask would not take as is goes to Flask -----------------------------------


@pytest.fixture
def rotated_app(tmp_path):
    """As deployed behind one proxy, with a previous secret key still accepted."""
    with own_app(tmp_path, SECRET_KEY_FALLBACKS=["the-key-before"], TRUSTED_PROXIES=1) as app:
        yield app


def _cookie(app: Flask, data: dict, key: str | None = None, signed_at: float | None = None) -> str:
    interface = app.session_interface
    serializer = URLSafeTimedSerializer(
        key or app.secret_key,
        salt=interface.salt,
        serializer=interface.serializer,
        signer_kwargs={"key_derivation": interface.key_derivation, "digest_method": interface.digest_method},
    )
    if signed_at is None:
        return serializer.dumps(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: int(signed_at))
        return serializer.dumps(data)


def _fast_and_flask(app: Flask, cookie: str, url: str, headers: dict | None = None):
    """The answer with the fast path, whether it answered, and Flask's own: each from a browser
    holding ``cookie``, so that what one answer writes to the cookie can't change the other (and
    a cookie Flask writes is signed at the same second for both)."""
    probes = app.extensions["light_probes"]
    answered = []
    original = probes.answer
    name = app.config["SESSION_COOKIE_NAME"]
    fast_client, flask_client = app.test_client(), app.test_client()
    fast_client.set_cookie(name, cookie)
    flask_client.set_cookie(name, cookie)
    second = int(time.time())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda _self: second)
        patch.setattr(probes, "answer", lambda environ: answered.append(original(environ)) or answered[-1])
        fast = fast_client.get(url, headers=headers)
        patch.setattr(probes, "answer", lambda environ: None)
        slow = flask_client.get(url, headers=headers)
    assert (fast.status_code, fast.get_data()) == (slow.status_code, slow.get_data())
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())
    return fast, answered[0] is not None


SESSIONS = {
    "plain": ({}, True),
    "permanent": ({"_permanent": True}, True),
    "a flash waiting": ({"_flashes": [("message", "Saved")]}, True),
    "a list": ({"x": [1, 2]}, True),
    "bytes": ({"x": b"\x00\xff"}, True),
    "a tuple": ({"x": (1, 2)}, True),
    "no longer fresh": ({"_fresh": False}, True),
    "remember me": ({"_remember": "set"}, False),
    "no browser named": ({"_id": None}, False),
    "another browser": ({"_id": "0" * 128}, False),
    "a number for an id": ({"_user_id": 1}, False),
    "an id with no generation": ({"_user_id": "1"}, False),
}


@pytest.mark.parametrize("kind", SESSIONS)
def test_a_session_the_fast_path_takes_gets_flasks_answer_and_any_other_goes_to_flask(rotated_app, kind):
    app = rotated_app
    ours, _theirs, _admin = _people(app)
    browser = app.test_client()
    sign_in(browser, ours.mentee)
    with app.test_request_context(environ_base=browser.environ_base):
        identifier = login_manager._session_identifier_generator()
    changed, plain = SESSIONS[kind]
    data = {"_user_id": ours.mentee.get_id(), "_fresh": True, "_id": identifier, "signed_in_at": time.time()}
    data = {name: value for name, value in (data | changed).items() if value is not None}
    now = int(_probe(browser, ours.id).text)
    url = f"/pairs/{ours.id}/changes?since={now}"
    fast, answered = _fast_and_flask(app, _cookie(app, data), url)
    assert answered == plain
    # Signed with the key before: still Flask's own cookie, and the same answer.
    fast, answered = _fast_and_flask(app, _cookie(app, data, key="the-key-before"), url)
    assert answered == plain
    if plain:
        assert fast.status_code == 204
    lifetime = app.permanent_session_lifetime.total_seconds()
    for cookie in (
        _cookie(app, data, key="a-key-nobody-has"),
        _cookie(app, data, signed_at=time.time() - lifetime - 60),  # expired
        _cookie(app, data, signed_at=time.time() + 3600),  # from the future
    ):
        fast, answered = _fast_and_flask(app, cookie, url)
        assert not answered and fast.status_code == 302
    # Behind the proxy: the address the session was signed in from, or another one.
    for forwarded in ("127.0.0.1", "203.0.113.9", "127.0.0.1, 10.0.0.1"):
        _fast_and_flask(app, _cookie(app, data), url, {"X-Forwarded-For": forwarded})


# --- Hostile requests, below what a test client sends ---------------------------------------------


def _through_the_stack(app: Flask, environ: dict) -> tuple:
    """What the whole WSGI stack (static files, proxy, fast path, Flask) gives ``environ``: status,
    headers and body, or the exception that escaped every layer."""
    try:
        body, status, headers = run_wsgi_app(app.wsgi_app, dict(environ), buffered=True)
        return status, sorted(headers.items()), b"".join(body)
    except Exception as error:  # noqa: BLE001  (what escapes is part of the answer compared)
        return type(error), str(error)


HOSTILE = {
    "HTTP_HOST": ["", "[", "[::1", "a:b:c", "é", "x" * 100, "localhost:99999999", "..", "xn--zz", "\x00", "a@b"],
    # A raw byte the client sent unencoded (WSGI hands it on as Latin-1), and its encoded form.
    "QUERY_STRING": ["since=\xff", "since=%ff", "since=%00", "since", "&&&", "since=" + "1" * 100_000],
    "PATH_INFO": ["/pairs/{id}/changes\xff", "/pairs/{id}/changes\x00", "/pairs/{id}/changes;x", "pairs/{id}/changes"],
    "SCRIPT_NAME": ["/twoway", "twoway", "/\xe9", "//"],
    "HTTP_IF_NONE_MATCH": ["\xff", '"', "W/", "*, x", '"' * 1000],
    "HTTP_USER_AGENT": ["\xff\xfe", "\x00"],
    "HTTP_X_FORWARDED_FOR": ["\xff", ",", "", " , "],
    "wsgi.url_scheme": ["https", "ftp"],
}


@pytest.mark.parametrize("key", HOSTILE)
def test_hostile_requests_get_what_flask_alone_gives(app, pair, mentee, key):
    probes = app.extensions["light_probes"]
    cookie = mentee.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    plain = EnvironBuilder(
        path=f"/pairs/{pair.id}/changes",
        query_string="since=0",
        headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"},
        environ_base=mentee.environ_base,
    ).get_environ()
    assert probes.answer(dict(plain)) is not None  # the plain request is the fast path's
    for value in HOSTILE[key]:
        environ = plain | {key: value.format(id=pair.id)}
        fast = _through_the_stack(app, environ)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(probes, "answer", lambda _environ: None)
            slow = _through_the_stack(app, environ)
        assert fast == slow, (key, value)
