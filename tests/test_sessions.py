"""Sessions: rotated at sign-in, ended on the server at sign-out, cookies locked down."""

from __future__ import annotations

from collections import OrderedDict

from factories import UserFactory
from sqlalchemy import update

from app.models import User


def session_cookie(client):
    return client.get_cookie("twoway")


def test_a_cookie_captured_before_sign_out_is_worthless_after_it(app, client, session, login):
    person = UserFactory(name="Peter Lindqvist")
    login(person)
    assert client.get("/").status_code == 200
    stolen = session_cookie(client).value

    response = client.post("/auth/sign-out")
    assert response.status_code == 303 and response.location == "/auth/sign-in"
    assert response.headers["Clear-Site-Data"] == '"cache"'
    assert client.get("/").status_code == 302

    replay = app.test_client()
    replay.set_cookie("twoway", stolen)
    assert replay.get("/").status_code == 302
    assert replay.get("/account/passkeys").status_code == 302


def test_sign_out_is_a_post(client, login):
    login(UserFactory())
    assert client.get("/auth/sign-out").status_code == 405
    assert client.get("/").status_code == 200


def test_signing_in_starts_a_fresh_session(app, client, session):
    from test_sign_in_links import issue_link

    person = UserFactory()
    client.get("/auth/sign-in")
    with client.session_transaction() as before:
        before["left_over"] = "from before sign-in"
    client.post(issue_link(app, person))
    with client.session_transaction() as after:
        assert "left_over" not in after
        assert after["_user_id"] == f"{person.id}:0"
        assert after.permanent


def test_a_switched_off_person_is_signed_out_at_once(client, session, login):
    person = UserFactory()
    login(person)
    session.execute(update(User).where(User.id == person.id).values(active=False))
    assert client.get("/").status_code == 302


def test_cookie_is_http_only_and_same_site_lax(client, login):
    login(UserFactory())
    cookie = session_cookie(client)
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_every_way_of_signing_in_records_when_for_the_recent_sign_in_rule(app, client, session):
    from datetime import timedelta

    from support.records import add_link

    from app.models import utcnow

    person = UserFactory()
    assert client.post(f"/auth/link/{add_link(session, person)}").status_code == 303
    with client.session_transaction() as cookie:
        assert abs(cookie["signed_in_at"] - utcnow().timestamp()) < 5
    session.refresh(person)
    first = person.first_signed_in_at
    assert first is not None and person.last_signed_in_at == first
    # A later sign-in moves "last" on but never "first": joined stays the day they joined.
    person.first_signed_in_at = first - timedelta(days=3)
    session.flush()
    client.post("/auth/sign-out")
    client.post(f"/auth/link/{add_link(session, person)}")
    session.refresh(person)
    assert person.first_signed_in_at == first - timedelta(days=3) and person.last_signed_in_at > first


def test_a_response_that_changed_nothing_never_rewrites_the_session_cookie(client, session):
    """A request sent with the cookie from before sign-in (the service worker fetching /offline
    while the next page loads) must not put that cookie back over the signed-in one."""
    from factories import UserFactory
    from support.records import add_link

    person = UserFactory()
    assert client.post(f"/auth/link/{add_link(session, person)}").status_code == 303  # a real, lasting sign-in
    signed_in = client
    signed_in.get("/")  # the first page makes the session's CSRF token: a real change, written
    for path in ("/offline", "/sw.js", "/manifest.webmanifest", "/"):
        response = signed_in.get(path)
        assert "Set-Cookie" not in response.headers, path


# --- The cookie, opened once per worker (app/auth/sessions.py CookieSessions) ------------------


def opened(app, cookie: str | None):
    """The session the app opens from ``cookie``, as a request carrying it would."""
    with app.test_request_context("/", headers={"Cookie": f"twoway={cookie}"} if cookie else {}) as context:
        return app.session_interface.open_session(app, context.request)


def signed(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


def test_a_cookie_opened_before_is_still_refused_once_it_is_too_old(app, monkeypatch):
    import time

    cookie = signed(app, {"_user_id": "7:0", "told_roles": [1]})
    assert opened(app, cookie)["_user_id"] == "7:0"
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert "_user_id" not in opened(app, cookie)


def test_what_one_request_changes_in_its_session_never_reaches_the_next(app):
    """A request may change its session in place and then fail before the cookie is written:
    the next request with the same cookie must read what the cookie says, not those changes."""
    cookie = signed(app, {"_user_id": "7:0", "told_roles": [1]})
    first = opened(app, cookie)
    first["told_roles"].append(2)
    first["_user_id"] = "8:0"
    again = opened(app, cookie)
    assert again["_user_id"] == "7:0" and again["told_roles"] == [1]


def test_a_tampered_cookie_opens_nothing_after_the_genuine_one_was_opened(app):
    cookie = signed(app, {"_user_id": "7:0"})
    assert opened(app, cookie)["_user_id"] == "7:0"
    payload, _, signature = cookie.rpartition(".")
    forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert "_user_id" not in opened(app, forged)
    # The secret key rotated away (no fallback kept): the cookie it signed is worthless now.
    original = app.secret_key
    app.secret_key = "a key rotated away"
    try:
        assert "_user_id" not in opened(app, cookie)
    finally:
        app.secret_key = original


def test_a_cookie_pushed_out_by_another_request_meanwhile_still_opens(app, monkeypatch):
    """Under a threaded server, another request may push this cookie out of the kept ones between
    this request finding it and marking it recently used: this request still opens its session
    (it failed with a KeyError, a 500)."""
    cookie = signed(app, {"_user_id": "7:0"})
    assert opened(app, cookie)["_user_id"] == "7:0"

    class PushedOutOnceFound(OrderedDict):
        def get(self, key, default=None):
            found = super().get(key, default)
            self.pop(key, None)  # the other request's, right after this one found it
            return found

    monkeypatch.setattr(app.session_interface, "_opened", PushedOutOnceFound(app.session_interface._opened))
    assert opened(app, cookie)["_user_id"] == "7:0"
    assert opened(app, cookie)["_user_id"] == "7:0"
