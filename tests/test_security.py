"""Cross-cutting protections, checked over every route the app has.

The route lists come from ``app.url_map``: a new route is covered the moment it is registered, and
a route with a URL parameter these tests can't fill fails loudly instead of being skipped.
"""

from __future__ import annotations

import html
import re
import secrets

import pytest
from factories import AdminFactory, PairFactory, UserFactory
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.apps import committed_session, make_app, migrated_sqlite, sign_in
from support.pages import inline_code_in
from support.records import (
    add_clause,
    add_link,
    add_pair_content,
    add_passkey,
    add_push_subscription,
    add_recovery_code,
)

from app import authz
from app.extensions import db
from app.models import User

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "didn't save it"  # from the page shown when a form's CSRF token is missing or wrong
FAKE_TOKEN = "IjA5ZWQ1ZTJmNGQ4YmE5OTk0NjE5ZGE4NTEyMGQ3NjBmZjY5NTY0MjAi.Z0aaaa.forged-signature-forged-xx"


# --- helpers -------------------------------------------------------------------------------------


def build(app: Flask, rule, params: dict[str, object]) -> str:
    """The rule's URL with its parameters filled in; fails when the tests have no value for one."""
    missing = set(rule.arguments) - params.keys()
    assert not missing, (
        f"{rule.rule} ({rule.endpoint}) takes {sorted(missing)}: give the security tests a plausible value for it"
    )
    method = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})[0]
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, {k: params[k] for k in rule.arguments}, method=method)


def rules_with(app: Flask, methods: set[str]):
    return sorted(
        (rule for rule in app.url_map.iter_rules() if (rule.methods or set()) & methods),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


# RFC 8058: a mail client's one-click unsubscribe POST carries no cookie and no CSRF token; the
# signed token in its URL is the whole authentication (tests/test_reminders.py tries it).
CSRF_EXEMPT = {"reminders.unsubscribe"}


def csrf_token_of(page_html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page_html)
    assert match, "the page carries no csrf-token meta tag"
    return match.group(1)


def is_public(app: Flask, endpoint: str) -> bool:
    return authz.is_public(app.view_functions.get(endpoint))


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def set_cookie(response, name: str) -> dict[str, str] | None:
    """Attributes (lower-cased names) of the Set-Cookie header for ``name``, or None."""
    for header in response.headers.getlist("Set-Cookie"):
        cookie_name = header.split("=", 1)[0].strip()
        if cookie_name == name:
            attributes = {}
            for attribute in header.split(";")[1:]:
                key, _, value = attribute.strip().partition("=")
                attributes[key.lower()] = value
            return attributes
    return None


# --- CSRF: every state-changing route refuses a missing or wrong token ---------------------------


@pytest.fixture
def csrf_world(csrf_app: Flask):
    """A member with a pair, a passkey, a recovery code and a usable sign-in link, committed to the
    CSRF app's own database."""
    with committed_session(csrf_app) as session:
        pair = PairFactory()
        member = pair.mentor
        world = {
            "member": member,
            "pair": pair,
            "passkey": add_passkey(session, member),
            "device": add_push_subscription(session, member),
            "code": add_recovery_code(session, member),
            "token": add_link(session, member),
            "clause": add_clause(session, pair),
            "content": add_pair_content(session, pair, member),
        }
        session.commit()
        yield world


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every table: a refused request must leave all of them exactly as they were."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables
        }


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(csrf_app, csrf_world):
    member = csrf_world["member"]
    params = {
        "pair_id": csrf_world["pair"].id,
        "passkey_id": csrf_world["passkey"].id,
        "device_id": csrf_world["device"].id,
        "token": csrf_world["token"],
        "clause_id": csrf_world["clause"].id,
        # Matching's proposal routes: refused before any proposal is looked up.
        "proposal_id": 1,
        # Removing a program's admin: refused before anyone is looked up.
        "user_id": member.id,
        **csrf_world["content"],
    }
    # A body that would change something if it got through: a refusal must be the CSRF check's.
    form = {
        "email": member.email,
        "code": csrf_world["code"],
        "nickname": "Renamed by another site",
        "next": "/",
    }

    anonymous = csrf_app.test_client()
    anonymous_token = csrf_token_of(anonymous.get("/auth/sign-in").text)
    signed_in = csrf_app.test_client()
    sign_in(signed_in, member)
    page = signed_in.get("/account/passkeys")
    assert page.status_code == 200, "the member's session should be valid for this test"
    signed_in_token = csrf_token_of(page.text)

    # (description, client, a genuine token minted for the *other* session)
    identities = [("signed in", signed_in, anonymous_token), ("anonymous", anonymous, signed_in_token)]

    def attempts(other_session_token: str):
        yield "no token", {"data": form}
        yield "wrong csrf_token field", {"data": {**form, "csrf_token": FAKE_TOKEN}}
        yield "wrong X-CSRFToken header", {"data": form, "headers": {"X-CSRFToken": FAKE_TOKEN}}
        yield "another session's csrf_token field", {"data": {**form, "csrf_token": other_session_token}}
        yield "another session's X-CSRFToken header", {"data": form, "headers": {"X-CSRFToken": other_session_token}}
        yield "JSON body, no token", {"json": {}, "headers": {"Accept": "application/json"}}
        json_headers = {"Accept": "application/json", "X-CSRFToken": FAKE_TOKEN}
        yield "JSON body, wrong header", {"json": {}, "headers": json_headers}

    rules = [rule for rule in rules_with(csrf_app, UNSAFE_METHODS) if rule.endpoint not in CSRF_EXEMPT]
    endpoints = {rule.endpoint for rule in rules}
    # The crawl really reached the state-changing routes (a broken crawl must not pass quietly).
    assert {"auth.email_link", "auth.use_link", "auth.sign_out", "account.rename_passkey"} <= endpoints

    before = snapshot(csrf_app)
    failures = []
    for rule in rules:
        url = build(csrf_app, rule, params)
        for method in sorted((rule.methods or set()) & UNSAFE_METHODS):
            for who, client, other_token in identities:
                # Private routes send anonymous people to sign in first, which is also a refusal.
                if who == "anonymous" and not is_public(csrf_app, rule.endpoint):
                    continue
                for attempt, kwargs in attempts(other_token):
                    response = client.open(url, method=method, **kwargs)
                    label = f"{method} {url} ({rule.endpoint}), {who}, {attempt}"
                    if response.status_code != 400:
                        failures.append(f"{label}: {response.status_code}, not 400")
                    elif "json" in kwargs:
                        body = response.get_json(silent=True) or {}
                        if CSRF_REFUSAL not in body.get("error", ""):
                            failures.append(f"{label}: 400 but not the CSRF refusal: {response.text[:200]!r}")
                    elif CSRF_REFUSAL not in html.unescape(response.text):
                        failures.append(f"{label}: 400 but not the CSRF refusal page")
    assert failures == []
    assert snapshot(csrf_app) == before, "a request without a valid CSRF token changed the database"
    # Still signed in: the refused sign-out did nothing.
    assert signed_in.get("/account/passkeys").status_code == 200


def test_the_pages_own_token_is_accepted(csrf_app, csrf_world):
    """The control for the test above: with the token from its own page, the same request goes through."""
    client = csrf_app.test_client()
    sign_in(client, csrf_world["member"])
    token = csrf_token_of(client.get("/account/passkeys").text)
    passkey_id = csrf_world["passkey"].id

    renamed = client.post(f"/account/passkeys/{passkey_id}/rename", data={"nickname": "Desk", "csrf_token": token})
    assert renamed.status_code == 303
    via_header = client.post(
        f"/account/passkeys/{passkey_id}/rename", data={"nickname": "Desk phone"}, headers={"X-CSRFToken": token}
    )
    assert via_header.status_code == 303
    assert "Desk phone" in client.get("/account/passkeys").text


# --- response headers ----------------------------------------------------------------------------


def assert_common_headers(response) -> None:
    directives = csp_directives(response)
    assert "'self'" in directives.get("script-src", []), directives
    assert directives.get("object-src") == ["'none'"], directives
    assert directives.get("base-uri") == ["'none'"], directives
    assert directives.get("frame-ancestors") == ["'none'"], directives
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy")
    assert "hx-request" in {value.lower() for value in response.vary}


def test_headers_on_a_public_page(client):
    response = client.get("/auth/sign-in")
    assert response.status_code == 200
    assert_common_headers(response)
    # The sign-in page holds a CSRF token bound to this browser's session.
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_headers_on_signed_in_pages(client, login, session):
    pair = PairFactory()
    login(pair.mentor)
    for url in ("/", f"/pairs/{pair.id}", f"/pairs/{pair.id}/journal", "/account/passkeys", "/account/recovery-codes"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_common_headers(response)
        assert "no-store" in response.headers.get("Cache-Control", ""), url


def test_sign_in_link_pages_are_never_stored(client, session):
    user = UserFactory()
    token = add_link(session, user)
    usable = client.get(f"/auth/link/{token}")
    assert usable.status_code == 200
    unusable = client.get(f"/auth/link/{secrets.token_urlsafe(32)}")
    assert unusable.status_code == 410
    for response in (usable, unusable):
        assert_common_headers(response)
        assert "no-store" in response.headers.get("Cache-Control", "")


def test_htmx_fragments_carry_the_same_headers(htmx_client, login, session):
    """A fragment answers on the same URL as a page, so it needs the same protections."""
    user = UserFactory()
    login(user, on=htmx_client)
    passkey = add_passkey(session, user)
    response = htmx_client.post(
        f"/account/passkeys/{passkey.id}/rename",
        data={"nickname": "Phone"},
        headers={"HX-Target": f"passkey_row-{passkey.id}"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text  # a fragment, not a page
    assert_common_headers(response)
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite_lax(client, session):
    user = UserFactory()
    token = add_link(session, user)
    response = client.post(f"/auth/link/{token}")
    assert response.status_code == 303
    cookie = set_cookie(response, "twoway")
    assert cookie is not None, response.headers.getlist("Set-Cookie")
    assert "httponly" in cookie
    assert cookie.get("samesite", "").lower() == "lax"
    assert cookie.get("path") == "/"
    assert "domain" not in cookie


def test_https_deployment_uses_a_host_prefixed_secure_cookie(tmp_path):
    app = make_app(migrated_sqlite(tmp_path / "https.sqlite3"), environ={"BASE_URL": "https://twoway.example.org"})
    with app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
    with session:
        user = User(name="Noor Haddad", email="noor@example.org")
        session.add(user)
        session.flush()
        token = add_link(session, user)
        session.commit()

    client = app.test_client()
    origin = "https://twoway.example.org"
    page = client.get(f"{origin}/auth/sign-in")
    signed_in = client.post(f"{origin}/auth/link/{token}")
    assert signed_in.status_code == 303
    for response in (page, signed_in):
        assert set_cookie(response, "twoway") is None
        cookie = set_cookie(response, "__Host-twoway")
        assert cookie is not None, response.headers.getlist("Set-Cookie")
        assert "secure" in cookie
        assert "httponly" in cookie
        assert cookie.get("path") == "/"
        assert "domain" not in cookie
        assert cookie.get("samesite", "").lower() == "lax"
        assert "max-age=" in response.headers.get("Strict-Transport-Security", "")
    assert "Noor" in client.get(f"{origin}/").text


# --- crawling every GET route --------------------------------------------------------------------


@pytest.fixture
def people(session):
    """An anonymous visitor, a pair member, someone outside the pair and a program admin, with
    values for every URL parameter a GET route can take."""
    pair = PairFactory()
    member = pair.mentor
    outsider = UserFactory()
    admin = AdminFactory()
    add_passkey(session, member)
    params = {
        "pair_id": pair.id,
        "passkey_id": add_passkey(session, member).id,
        "token": add_link(session, member),
        "filename": "css/app.css",
        "clause_id": add_clause(session, pair).id,
        **add_pair_content(session, pair, member),
    }
    return {"anonymous": None, "member": member, "outsider": outsider, "admin": admin}, params


def get_routes(app: Flask):
    return rules_with(app, {"GET"})


def test_no_page_has_inline_scripts_or_styles(app, client, login, people):
    identities, params = people
    pages = 0
    problems = []
    for who in ("anonymous", "member", "admin"):
        visitor = app.test_client()
        if identities[who] is not None:
            login(identities[who], on=visitor)
        urls = [build(app, rule, params) for rule in get_routes(app)]
        # Pages only shown in particular states: a used-up link, an unknown page, the sign-in page with a next.
        urls += [f"/auth/link/{secrets.token_urlsafe(32)}", "/no-such-page", "/auth/sign-in?next=/account/passkeys"]
        for url in urls:
            response = visitor.get(url, follow_redirects=True)
            assert response.status_code != 500, url
            if response.mimetype != "text/html":
                continue
            pages += 1
            problems += [f"{who} {url}: {problem}" for problem in inline_code_in(response.text)]
    assert pages >= 15, "the crawl should have seen the pages of all three visitors"
    assert problems == []


def test_page_scan_finds_inline_code():
    """The scanner itself: each kind of inline code is caught, external scripts are not."""
    assert inline_code_in('<script src="/static/js/app.js" defer></script><p class="x">ok</p>') == []
    assert len(inline_code_in("<script>alert(1)</script>")) == 1
    assert len(inline_code_in('<p style="color:red">x</p>')) == 1
    assert len(inline_code_in("<style>p{}</style>")) == 1
    assert len(inline_code_in('<img src="x" onerror="alert(1)">')) == 1
    assert len(inline_code_in('<button hx-on:click="alert(1)">x</button>')) == 1
    assert len(inline_code_in('<a href="javascript:alert(1)">x</a>')) == 1


def test_no_get_request_writes_to_the_database(app, login, people, queries):
    identities, params = people
    requests_made = 0
    writes = []
    for who, person in identities.items():
        visitor = app.test_client()
        if person is not None:
            login(person, on=visitor)
        for rule in get_routes(app):
            url = build(app, rule, params)
            with queries() as log:
                response = visitor.get(url)
            assert response.status_code != 500, f"{who} GET {url}"
            requests_made += 1
            # The one write a GET may make: the admin log's record that the page was read
            # (downloading the dashboard, reading requests for help). It changes nothing anyone sees.
            writes += [
                f"{who} GET {url}: {statement}"
                for statement in log.writes
                if not (who == "admin" and statement.lstrip().startswith("INSERT INTO audit_event"))
            ]
    assert requests_made >= 4 * 10
    assert writes == []
    # Opening a sign-in link only looks at it: it can still be used afterwards.
    assert app.test_client().get(f"/auth/link/{params['token']}").status_code == 200


def test_the_write_log_sees_a_write(client, login, session, queries):
    """Control for the crawl: a request that does write shows up in the same log."""
    user = UserFactory()
    login(user)
    passkey = add_passkey(session, user)
    with queries() as log:
        client.post(f"/account/passkeys/{passkey.id}/rename", data={"nickname": "Phone"})
    assert any(statement.lstrip().upper().startswith("UPDATE") for statement in log.writes)


def test_writes_from_another_origin_are_refused(client, session, login):
    person = UserFactory()
    login(person)
    assert client.post("/auth/sign-out", headers={"Origin": "https://evil.example"}).status_code == 400
    assert client.post("/auth/sign-out", headers={"Referer": "https://evil.example/page"}).status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/auth/sign-out", headers={"Origin": "http://localhost:5000"}).status_code == 303


def test_oversized_requests_are_refused_readably(client):
    response = client.post("/auth/sign-in/link", data={"email": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "Too much at once" in response.get_data(as_text=True)


def test_a_script_told_of_a_stale_token_is_told_so_and_a_fresh_page_token_works(csrf_app):
    """The passkey script (app/static/js/passkeys.js) takes a fresh token and tries once more
    only when the answer says the token was stale; a person sees the words either way."""
    client = csrf_app.test_client()
    stale = client.post("/auth/passkey/options", json={}, headers={"X-CSRFToken": "from-an-older-cookie"})
    assert stale.status_code == 400
    assert stale.json["stale_token"] is True and "Your sign-in changed" in stale.json["error"]
    page = client.get("/auth/sign-in").text
    token = page.split('<meta name="csrf-token" content="', 1)[1].split('"', 1)[0]
    fresh = client.post("/auth/passkey/options", json={}, headers={"X-CSRFToken": token})
    assert fresh.status_code == 200
    # A person's own form gets the page, not JSON.
    assert "stale_token" not in client.post("/auth/sign-out", data={"csrf_token": "x"}).text
