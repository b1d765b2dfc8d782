"""The live probes answered before Flask's request cycle (app/light.py): the same answer Flask
gives, for every kind of request, and only the plain ones answered there."""

from __future__ import annotations

from contextlib import contextmanager

import flask_login.utils
import pytest
from factories import AdminFactory, PairFactory
from flask import Flask
from sqlalchemy import event, update
from support.apps import committed_pair, make_app, migrated_sqlite, sign_in
from test_ground_rules import MENTEE_WANTS, agree, save
from test_ground_rules import base as base  # noqa: F401  (fixtures of the ground rules' tests)
from test_ground_rules import started as started  # noqa: F401
from werkzeug.wrappers import Request

from app import authz
from app.extensions import db
from app.light import LightProbes
from app.models import Agreement, User


@pytest.fixture
def probes(app) -> LightProbes:
    return app.extensions["light_probes"]


@contextmanager
def flask_only(probes: LightProbes, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(probes, "answer", lambda environ: None)
        yield


def both(client, probes: LightProbes, monkeypatch, url: str, headers: dict | None = None):
    """The answer with the fast path, whether it answered, and Flask's own answer to the same."""
    answered = []
    original = probes.answer

    def spy(environ):
        found = original(environ)
        answered.append(found is not None)
        return found

    with monkeypatch.context() as patch:
        patch.setattr(probes, "answer", spy)
        fast = client.get(url, headers=headers)
    with flask_only(probes, monkeypatch):
        slow = client.get(url, headers=headers)
    return fast, bool(answered and answered[0]), slow


def same(fast, slow) -> None:
    assert (fast.status_code, fast.get_data()) == (slow.status_code, slow.get_data())
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())


def live(pair, since) -> str:
    return f"/pairs/{pair.id}/changes?since={since}"


def test_a_plain_probe_is_answered_before_flask_exactly_as_flask_answers(pair, mentee, probes, monkeypatch):
    now = int(mentee.get(live(pair, 10**9)).text)
    fast, answered, slow = both(mentee, probes, monkeypatch, live(pair, now))
    assert answered and fast.status_code == 204
    same(fast, slow)
    tag = fast.headers["ETag"]
    fast, answered, slow = both(mentee, probes, monkeypatch, live(pair, now), {"If-None-Match": tag})
    assert answered and fast.status_code == 304
    same(fast, slow)
    # A count the page doesn't have yet: the new one, still without Flask.
    fast, answered, slow = both(mentee, probes, monkeypatch, live(pair, now - 1 if now else 5))
    assert answered and fast.status_code == 200
    same(fast, slow)


def test_a_plain_probe_costs_one_statement_and_writes_nothing(pair, mentee, probes, monkeypatch, queries):
    now = int(mentee.get(live(pair, 10**9)).text)
    with queries() as log:
        assert mentee.get(live(pair, now)).status_code == 204
    assert log.count == 1 and log.writes == []


@pytest.mark.parametrize(
    "who",
    ["anonymous", "someone else's member", "an admin", "signed out elsewhere", "another browser", "closed account"],
)
def test_whoever_flask_refuses_is_left_to_flask(app, pair, mentee, login, session, probes, monkeypatch, who):
    client = mentee
    if who == "anonymous":
        client = app.test_client()
    elif who == "someone else's member":
        client = login(PairFactory().mentor, on=app.test_client())
    elif who == "an admin":
        client = login(AdminFactory(), on=app.test_client())
    elif who == "signed out elsewhere":
        session.execute(update(User).where(User.id == pair.mentee.id).values(session_generation=7))
    elif who == "another browser":
        client.environ_base["HTTP_USER_AGENT"] = "Someone else's phone"
        client.get(live(pair, 0))  # Flask-Login marks the session no longer fresh, once
    elif who == "closed account":
        session.execute(update(User).where(User.id == pair.mentee.id).values(active=False))
    session.flush()
    fast, answered, slow = both(client, probes, monkeypatch, live(pair, 0))
    assert not answered
    assert fast.status_code in (302, 401, 404) or who == "another browser"
    same(fast, slow)


@pytest.mark.parametrize(
    "query", ["since=abc", "since=-1", f"since={10**30}", "since=%00", "since=" + "9" * 100_000, "since=1&since=2"]
)
def test_a_malformed_since_gets_flasks_own_answer(pair, mentee, probes, monkeypatch, query):
    fast, answered, slow = both(mentee, probes, monkeypatch, f"/pairs/{pair.id}/changes?{query}")
    same(fast, slow)
    assert answered == (fast.status_code != 400)


def test_a_replayed_write_header_is_left_to_flask(pair, mentee, probes, monkeypatch):
    fast, answered, slow = both(mentee, probes, monkeypatch, live(pair, 0), {authz.REPLAY_FOR: "999999"})
    assert not answered and fast.status_code == 403
    same(fast, slow)


def test_other_pair_urls_go_straight_to_flask(pair, mentee, probes, monkeypatch):
    for url in (f"/pairs/{pair.id}", f"/pairs/{pair.id}/goals", f"/pairs/{pair.id}/changes/extra", "/changes"):
        fast, answered, slow = both(mentee, probes, monkeypatch, url)
        assert not answered and fast.status_code == slow.status_code  # (pages carry a fresh token)


def test_the_ground_rules_probe_answers_alone_until_there_are_edits_to_tell(
    mentor, mentee, started, session, pair, probes, monkeypatch, queries
):
    base = f"/pairs/{pair.id}/ground-rules"
    version = session.get(Agreement, pair.id).version
    fast, answered, slow = both(mentee, probes, monkeypatch, f"{base}/changes?since={version}&agreed=0")
    assert answered and fast.status_code == 204
    same(fast, slow)
    agree(mentor, base, session, pair)
    fast, answered, slow = both(mentee, probes, monkeypatch, f"{base}/changes?since={version}&agreed=0")
    assert answered and fast.status_code == 200 and fast.get_json()["version"] == version
    same(fast, slow)
    save(mentor, base, started[MENTEE_WANTS], body="Aisha edited this")
    with queries() as log:
        fast, answered, slow = both(mentee, probes, monkeypatch, f"{base}/changes?since={version}")
    # The edits to tell need the membership: Flask's path, which reuses the read already made.
    assert not answered and "Aisha" in fast.text
    same(fast, slow)
    assert log.statements.count(log.statements[0]) == 2  # one light read for each of the two requests


def test_the_fast_path_names_the_browser_as_flask_login_does(app):
    environs = [
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone)"},
        {"REMOTE_ADDR": "10.0.0.8"},
        {"REMOTE_ADDR": "10.0.0.8", "HTTP_X_FORWARDED_FOR": " 203.0.113.9 , 10.0.0.1", "HTTP_USER_AGENT": "x"},
        {"HTTP_USER_AGENT": "Ünïcode ☕ agent"},
        {},
    ]
    for environ in environs:
        with app.test_request_context(environ_base=environ) as context:
            assert authz.session_identifier(Request(context.request.environ)) == flask_login.utils._create_identifier()


# What Flask runs around every request, and where each hangs (app-wide, or on a blueprint). app/light.py
# answers without them, having been told why each changes nothing for a probe it answers (its
# docstring); one more, or one moved onto the pair blueprint, appears here only once someone has
# decided what the fast path must do about it.
KNOWN_HOOKS = {
    "before": {
        (None, "csrf_protect"),  # GETs are never checked
        (None, "_check_request_limit"),  # pair GETs carry no limit (app/pairs/views.py)
        (None, "require_sign_in"),  # the same decision: authz.quick_visit
        (None, "refuse_foreign_replay"),  # its header sends the request to Flask
        (None, "check_origin"),  # writes only
        ("pair", "_load_membership"),  # the light read, for a light view
        ("admin", "require_admin"),
        ("admin.admins", "require_owner"),
    },
    "after": {
        (None, "_update_remember_cookie"),  # a session with "_remember" goes to Flask
        (None, "__inject_headers"),  # no limit, no header
        (None, "_tell_the_page"),  # writes only
        (None, "add_security_headers"),  # security.secure
        (None, "_finish"),  # page cache: light views aren't kept
    },
    "teardown": {(None, "__release_context")},  # the limiter's, untouched by the fast path
    "url_value_preprocessors": {("pair", "_pull_pair_id")},  # g.pair_id: the fast path takes its own
}


def _where(hooks: dict) -> set[tuple[str | None, str]]:
    return {
        (scope, getattr(getattr(f, "func", f), "__name__", repr(f))) for scope, funcs in hooks.items() for f in funcs
    }


def test_flask_runs_no_hook_the_fast_path_was_not_told_about(tmp_path):
    app = make_app(migrated_sqlite(tmp_path / "hooks.sqlite3"), RATELIMIT_ENABLED=True)  # as deployed
    assert _where(app.before_request_funcs) == KNOWN_HOOKS["before"]
    assert _where(app.after_request_funcs) == KNOWN_HOOKS["after"]
    assert _where(app.teardown_request_funcs) == KNOWN_HOOKS["teardown"]
    assert _where(app.url_value_preprocessors) == KNOWN_HOOKS["url_value_preprocessors"]
    # The app context's own: the ORM session's, which the fast path's app context runs too.
    assert _where({None: app.teardown_appcontext_funcs}) == {(None, "_teardown_session")}


def test_a_probe_on_sqlite_reads_in_autocommit_before_flask(tmp_path):
    """Outside the suite's one shared connection, as in production: the fast path's read begins
    no transaction (so it holds no lock a writer would wait for, and leaves none open)."""
    app: Flask = make_app(migrated_sqlite(tmp_path / "probe.sqlite3"))
    made = committed_pair(app)
    client = app.test_client()
    sign_in(client, made.mentee)
    with app.app_context():
        engine = db.engine
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: sent.append(statement))
    probes: LightProbes = app.extensions["light_probes"]
    answered = []
    original = probes.answer
    probes.answer = lambda environ: answered.append(original(environ)) or answered[-1]
    try:
        now = int(client.get(f"/pairs/{made.id}/changes?since={10**9}").text)
        sent.clear()
        assert client.get(f"/pairs/{made.id}/changes?since={now}").status_code == 204
        assert answered[-1] is not None
        assert len(sent) == 1 and sent[0].lstrip().startswith("SELECT")
        # So does any GET through Flask (each statement reads a snapshot of its own, as on
        # PostgreSQL), while a write takes the write lock first.
        sent.clear()
        assert client.get(f"/pairs/{made.id}/goals").status_code == 200
        assert sent and not [s for s in sent if s.lstrip().upper().startswith("BEGIN")]
        sent.clear()
        client.post(f"/pairs/{made.id}/topics", data={"text": "How I read a board pack"})
        assert sent[0] == "BEGIN IMMEDIATE"
    finally:
        engine.dispose()


def test_a_probe_whose_query_is_not_utf8_gets_flasks_400(app, pair, mentee):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path=f"/pairs/{pair.id}/changes", environ_base=mentee.environ_base).get_environ()
    environ["QUERY_STRING"] = "since=\xff"  # a raw byte, as a WSGI server hands it on
    environ["HTTP_COOKIE"] = "; ".join(f"{c.key}={c.value}" for c in mentee._cookies.values())
    assert run_wsgi_app(app, environ)[1] == "400 BAD REQUEST"
