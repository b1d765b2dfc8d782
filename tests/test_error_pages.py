"""Twoway's own error page, whatever broke: it needs no database, no loaded objects and no Redis."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask, has_request_context
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from support.apps import make_app

from app.extensions import db
from app.journal import meetings

OUR_WORDS = "Something went wrong on our side"


def assert_our_500(response) -> None:
    assert response.status_code == 500
    if response.is_json:
        assert "Twoway hit an error" in response.get_json()["error"]
        return
    assert OUR_WORDS in response.text
    assert "Twoway hit an error" in response.text
    assert "<html" in response.text and "Internal Server Error" not in response.text


def kill_the_connection() -> None:
    """What a database restart does to a request's PostgreSQL connection, mid-request."""
    try:
        db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    except DBAPIError:
        pass  # the statement dies with the connection; the session now needs a rollback


def disk_gone(*_args, **_kwargs) -> None:
    """SQLite's equivalent: every statement of a request fails with an OperationalError."""
    if has_request_context():
        raise sqlite3.OperationalError("disk I/O error")


@pytest.fixture
def cut_off_app(app) -> Flask:
    """An app on the test database (its own engine, so its connections can die) whose requests
    lose the database before anything else runs."""
    broken = make_app(app.config["SQLALCHEMY_DATABASE_URI"], PROPAGATE_EXCEPTIONS=False)
    with broken.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        broken.before_request_funcs.setdefault(None, []).insert(0, kill_the_connection)
    else:
        event.listen(engine, "before_cursor_execute", disk_gone)
    yield broken
    engine.dispose()


def signed_in_client(app: Flask):
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"], cookie["_fresh"] = "1:0", True
    return client


@pytest.mark.parametrize("path", ["/auth/sign-in", "/", "/pairs/1/journal", "/account/passkeys"])
def test_a_dead_database_connection_gets_our_error_page(cut_off_app, path):
    assert_our_500(signed_in_client(cut_off_app).get(path))


def test_a_page_not_found_while_the_database_is_down_still_says_so(cut_off_app):
    page = signed_in_client(cut_off_app).get("/no/such/page")
    assert page.status_code == 404
    assert "There is nothing here" in page.text


def test_signing_in_needs_no_database_to_show_its_page(cut_off_app):
    page = cut_off_app.test_client().get("/auth/sign-in")
    assert page.status_code == 200
    assert "Email me a sign-in link" in page.text


def test_the_passkey_script_gets_our_error_as_json(cut_off_app):
    response = signed_in_client(cut_off_app).post("/auth/passkey/options", headers={"Accept": "application/json"})
    assert_our_500(response)


def test_a_failed_transaction_on_a_pair_page_gets_our_error_page(app, mentor, pair, monkeypatch):
    """The query fails after the membership was loaded: the error page must not read it (rolled
    back, it is expired, and its relationships refuse to load lazily) nor ask the database who
    is signed in."""

    def failing_query(*_args, **_kwargs):
        db.session.execute(text("SELECT no_such_column FROM no_such_table"))

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(meetings, "meetings_page", failing_query)
    response = mentor.get(f"/pairs/{pair.id}/journal")
    assert_our_500(response)
    assert "Back to your pairs" in response.text
    # The session was rolled back: the next request works.
    monkeypatch.undo()
    assert mentor.get(f"/pairs/{pair.id}").status_code == 200


def test_other_error_pages_keep_their_words(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "There is nothing here" in page.text
    assert 'href="/auth/sign-in"' in page.text


@pytest.mark.parametrize("host", ["..", "a" * 100 + ".example.org"])
def test_a_host_header_werkzeug_refuses_gets_our_400_page(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400
    assert "<html" in response.text and "Go to sign-in" in response.text


def test_a_query_string_that_is_not_utf8_still_sends_a_signed_out_person_to_sign_in(app):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path="/pairs/1/changes").get_environ()
    environ["QUERY_STRING"] = "since=\xff"  # the raw byte 0xff, as a WSGI server hands it on
    _body, status, headers = run_wsgi_app(app, environ)
    assert status.startswith("302") and headers["Location"] == "/auth/sign-in?next=/pairs/1/changes"
