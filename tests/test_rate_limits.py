"""Rate limits on the sign-in routes, and what a person sees when they hit one."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from factories import UserFactory
from support.limits import STORAGES, build_limited_app, require_storage

from app.auth.links import MAILS_PER_ADDRESS
from app.auth.views import LINK_REQUEST_LIMIT
from app.extensions import limiter

PER_ADDRESS = MAILS_PER_ADDRESS  # 3 per 15 minutes, counted in the database
PER_CLIENT = int(LINK_REQUEST_LIMIT.split()[0])  # a flood guard: offices share one address
PASSKEY_OPTIONS = 30  # PASSKEY_OPTIONS_LIMIT: "30 per minute"


@pytest.fixture(params=STORAGES, ids=["memory", "redis"])
def limited_app(request, connection):
    """The rate-limited app, its per-client counters in this worker's memory or in Redis."""
    require_storage(request.param)
    with build_limited_app(connection, request.param) as app:
        yield app


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._in.append(tag)

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] == "h1":
            self.title += data
        self.parts.append(data)


def request_links(client, email: str, times: int) -> list[int]:
    return [client.post("/auth/sign-in/link", data={"email": email}).status_code for _ in range(times)]


def assert_readable_429(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    text = Text()
    text.feed(response.text)
    assert text.title.strip() == "Too many tries"
    assert "Wait a few minutes, then try again" in html.unescape(response.text)
    assert "Traceback" not in response.text
    assert "RateLimitExceeded" not in response.text
    assert "<html" in response.text  # the site's own page, with its header and a way back
    assert 'href="/auth/sign-in"' in response.text


def test_sign_in_links_for_one_address_stop_after_a_few(limited_app, session):
    person = UserFactory(name="Sam Whitfield", email="sam@example.org")
    client = limited_app.test_client()
    statuses = request_links(client, person.email, PER_ADDRESS + 1)
    assert statuses == [303] * PER_ADDRESS + [429]
    assert_readable_429(client.post("/auth/sign-in/link", data={"email": person.email}))
    # The same address typed differently is the same inbox.
    assert client.post("/auth/sign-in/link", data={"email": "  SAM@Example.org "}).status_code == 429
    # Another address from the same place still works: the per-address limit is per address.
    assert client.post("/auth/sign-in/link", data={"email": "someone-else@example.org"}).status_code == 303


def test_htmx_gets_the_same_refusal(limited_app):
    client = limited_app.test_client()
    statuses = [
        client.post(
            "/auth/sign-in/link",
            data={"email": "kim@example.org"},
            headers={"HX-Request": "true", "HX-Target": "link_form"},
        ).status_code
        for _ in range(PER_ADDRESS + 1)
    ]
    assert statuses == [200] * PER_ADDRESS + [429]


def test_one_client_cannot_request_links_for_many_addresses(limited_app):
    client = limited_app.test_client()
    statuses = [
        client.post("/auth/sign-in/link", data={"email": f"person{n}@example.org"}).status_code
        for n in range(PER_CLIENT + 1)
    ]
    assert statuses == [303] * PER_CLIENT + [429]
    # Someone else, at another address, is not affected.
    other = limited_app.test_client()
    response = other.post(
        "/auth/sign-in/link", data={"email": "fresh@example.org"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert response.status_code == 303


def test_passkey_options_answer_json_when_limited(limited_app):
    client = limited_app.test_client()
    headers = {"Accept": "application/json"}
    responses = [client.post("/auth/passkey/options", json={}, headers=headers) for _ in range(PASSKEY_OPTIONS + 1)]
    assert [r.status_code for r in responses[:PASSKEY_OPTIONS]] == [200] * PASSKEY_OPTIONS
    limited = responses[-1]
    assert limited.status_code == 429
    assert limited.mimetype == "application/json"
    body = limited.get_json()
    assert set(body) == {"error"}
    assert "Wait a few minutes" in body["error"]


def test_switching_the_limiter_back_off_frees_the_other_apps(limited_app, client, session):
    """Control for the fixture's teardown: once ``enabled`` is put back, the shared test app (built
    with RATELIMIT_ENABLED=False) takes any number of requests again."""
    limiter.enabled = False  # what the fixture's teardown does, done early to check it suffices
    statuses = request_links(client, "repeat@example.org", PER_ADDRESS + 2)
    assert 429 not in statuses


@pytest.mark.parametrize(("storage", "shared"), [(STORAGES[0], False), (STORAGES[1], True)], ids=["memory", "redis"])
def test_per_client_counters_are_shared_by_workers_only_in_redis(connection, storage, shared):
    """What the README promises: with Redis every worker sees the same per-client count; with
    memory:// each worker process counts on its own."""
    require_storage(storage)
    with build_limited_app(connection, storage) as first_worker:
        client = first_worker.test_client()
        assert {client.post("/auth/passkey/options").status_code for _ in range(PASSKEY_OPTIONS)} == {200}
        # A second worker: the same configuration, a limiter storage object of its own.
        first_worker_storage = limiter.storage
        limiter.init_app(first_worker)
        assert limiter.storage is not first_worker_storage
        expected = 429 if shared else 200
        assert first_worker.test_client().post("/auth/passkey/options").status_code == expected


def test_no_pair_page_is_rate_limited_so_the_limiter_may_skip_them(app):
    """The limiter skips pair GETs answered from the light read (app/pairs/views.py): that holds
    only while no pair route carries a limit of its own, or a default limit exists."""
    from flask_limiter.util import get_qualified_name

    assert not app.config.get("RATELIMIT_DEFAULT") and not app.config.get("RATELIMIT_APPLICATION")
    pair_views = [
        app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules() if rule.endpoint.startswith("pair.")
    ]
    assert pair_views
    limited = [view for view in pair_views if get_qualified_name(view) in limiter._marked_for_limiting]
    assert limited == []
    # The check can see a limit: the sign-in views carry theirs.
    assert get_qualified_name(app.view_functions["auth.email_link"]) in limiter._marked_for_limiting
