"""Hostile and odd input in every text field of the foundation, and in sign-in's ``next``.

Whatever arrives: never a 500, never markup that runs, a clear message when it can't be used, the
form keeps what the person typed, and ``next`` never leads to another site.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from factories import UserFactory
from sqlalchemy import select
from support.apps import sign_in
from support.authenticator import SoftAuthenticator
from support.pages import inline_code_in
from support.records import add_link, add_passkey, add_recovery_code

from app.models import Passkey

ORIGIN = "http://localhost:5000"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# Roughly 100 KB of ordinary prose: well under the 1 MB request limit, far over any field's length.
HUGE = ("Reverse mentoring works both ways. " * 3000)[:100_000]
ODD = {
    "rtl-override": "Pixel \u202eenohp\u202c",
    "zero-width-joiner": "\U0001f469\u200d\U0001f4bb laptop",
    "combining-marks": "Zo\u0065\u0301 phone\u0308",
    "emoji": "\U0001f4f1 Pixel \U0001f680",
}
NUL = "Phone\x00 7"
RAW_MARKUP = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")


# --- helpers -------------------------------------------------------------------------------------


class Inputs(HTMLParser):
    """The value attribute of every <input> by name, as the browser would read it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.values.setdefault(attributes["name"], []).append(attributes.get("value") or "")
        if tag == "a" and attributes.get("href") is not None:
            self.links.append(attributes["href"])

    handle_startendtag = handle_starttag


def parse(page: str) -> Inputs:
    inputs = Inputs()
    inputs.feed(page)
    inputs.close()
    return inputs


# The hx-target each form names, which htmx sends as HX-Target: it picks the block that answers.
FORM_TARGETS = (
    (re.compile(r"/auth/sign-in/link"), "link_form"),
    (re.compile(r"/auth/recovery"), "recovery_form"),
    (re.compile(r"/join/[^/]+"), "join_form"),
    (re.compile(r"/account/passkeys/(\d+)/rename"), r"passkey_row-\1"),
)


def send(client, method: str, url: str, **kwargs):
    """Make the request as the page's form would (htmx's target included); an exception inside
    the app is what a person would see as a 500."""
    if client.environ_base.get("HTTP_HX_REQUEST") and method == "POST":
        for pattern, target in FORM_TARGETS:
            if pattern.fullmatch(url):
                kwargs["headers"] = {"HX-Target": pattern.sub(target, url), **kwargs.get("headers", {})}
    try:
        response = client.open(url, method=method, **kwargs)
    except Exception as error:  # noqa: BLE001  (TESTING propagates errors that would be a 500 page)
        pytest.fail(f"{method} {url} with {kwargs} crashed the app (a 500 for the person): {error!r}")
    assert response.status_code < 500, f"{method} {url} answered {response.status_code}"
    return response


def assert_no_live_markup(response) -> None:
    for raw in RAW_MARKUP:
        assert raw not in response.text, f"unescaped {raw!r} in the response"
    assert inline_code_in(response.text) == []


def off_site(target: str, base: str = f"{ORIGIN}/auth/sign-in") -> bool:
    """Whether a browser following ``target`` from ``base`` would leave Twoway. Read as the WHATWG
    URL parser does: surrounding control characters and spaces dropped, tabs and newlines removed
    anywhere, backslashes taken as slashes."""
    cleaned = target.strip("".join(map(chr, range(0x21))))
    for ignored in "\t\n\r":
        cleaned = cleaned.replace(ignored, "")
    resolved = urlsplit(urljoin(base, cleaned.replace("\\", "/")))
    return (resolved.scheme, resolved.netloc) != ("http", "localhost:5000")


def test_off_site_reads_urls_like_a_browser():
    assert not off_site("/account/passkeys")
    assert not off_site("/pairs/3?tab=goals")
    for target in ("//evil.example", "https://evil.example", "/\\evil.example", "/\t/evil.example", " //evil.example"):
        assert off_site(target), target


def kept(shown: str, typed: str) -> bool:
    """The form shows what the person typed; a NUL (which nobody types, and PostgreSQL can't store)
    may have been dropped on the way."""
    return shown in (typed, typed.replace("\x00", ""))


def shown_text(response) -> str:
    """The response as the person reads it: character references turned back into characters."""
    return html.unescape(response.text)


# --- the sign-in email field ---------------------------------------------------------------------

BAD_EMAILS = {
    "script": SCRIPT,
    "img": IMG,
    "rtl-override": "ada\u202e@example.org",
    "zero-width-joiner": "ada\u200d@example.org",
}
# Unusual but valid addresses (internationalised local parts): accepted, and shown back exactly.
ODD_VALID_EMAILS = {
    "combining-marks": "zoe\u0301@example.org",
    "emoji": "\U0001f4f1@example.org",
}


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("typed", BAD_EMAILS.values(), ids=BAD_EMAILS.keys())
def test_email_field_refuses_bad_addresses_and_keeps_them(client, htmx_client, typed, htmx):
    response = send(htmx_client if htmx else client, "POST", "/auth/sign-in/link", data={"email": typed})
    assert response.status_code == 422
    assert_no_live_markup(response)
    assert "doesn't look like an email address" in shown_text(response)
    assert parse(response.text).values["email"] == [typed]
    if htmx:
        assert "<html" not in response.text


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_email_with_a_nul_byte_is_refused_or_cleaned(client, htmx_client, htmx):
    typed = "ada\x00@example.org"
    response = send(htmx_client if htmx else client, "POST", "/auth/sign-in/link", data={"email": typed})
    if response.status_code == 422:
        assert "doesn't look like an email address" in shown_text(response)
        assert [kept(value, typed) for value in parse(response.text).values["email"]] == [True]
    else:
        if not htmx:
            assert response.status_code == 303
            response = send(client, "GET", response.headers["Location"])
        assert "If ada@example.org belongs to someone in Twoway" in shown_text(response)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_email_field_refuses_100kb_with_a_clear_message(client, htmx_client, htmx):
    response = send(htmx_client if htmx else client, "POST", "/auth/sign-in/link", data={"email": HUGE})
    assert response.status_code == 422
    assert "longer than any email address can be" in shown_text(response)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("typed", ODD_VALID_EMAILS.values(), ids=ODD_VALID_EMAILS.keys())
def test_email_field_accepts_unusual_valid_addresses(client, htmx_client, typed, htmx):
    if htmx:
        response = send(htmx_client, "POST", "/auth/sign-in/link", data={"email": typed})
        assert response.status_code == 200
    else:
        response = send(client, "POST", "/auth/sign-in/link", data={"email": typed})
        assert response.status_code == 303
        response = send(client, "GET", response.headers["Location"])
    assert f"If {typed} belongs to someone in Twoway" in shown_text(response)


# --- a program's join page: the same email field, the same answers ---------------------------------


@pytest.fixture
def join_url(session):
    from factories import ProgramFactory

    return f"/join/{ProgramFactory(name='Northwind cohort').join_token}"


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("typed", [*BAD_EMAILS.values(), HUGE], ids=[*BAD_EMAILS.keys(), "100kb"])
def test_join_email_field_refuses_bad_addresses_and_keeps_them(client, htmx_client, join_url, typed, htmx):
    response = send(htmx_client if htmx else client, "POST", join_url, data={"email": typed})
    assert response.status_code == 422
    assert_no_live_markup(response)
    expected = "longer than any email address can be" if typed == HUGE else "doesn't look like an email address"
    assert expected in shown_text(response)
    if typed != HUGE:
        assert parse(response.text).values["email"] == [typed]
    if htmx:
        assert "<html" not in response.text


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize(
    "typed",
    ["ada\x00@example.org", "ada\x07\x1b@example.org", *ODD_VALID_EMAILS.values()],
    ids=["nul", "bell-esc", *ODD_VALID_EMAILS.keys()],
)
def test_join_email_field_cleans_control_characters_and_accepts_odd_valid_addresses(
    client, htmx_client, join_url, typed, htmx
):
    response = send(htmx_client if htmx else client, "POST", join_url, data={"email": typed})
    if not htmx:
        assert response.status_code == 303
        response = send(client, "GET", response.headers["Location"])
    assert response.status_code == 200
    assert_no_live_markup(response)
    cleaned = "".join(ch for ch in typed if ch.isprintable())
    assert f"a sign-in link is on its way to {cleaned}" in shown_text(response)


# --- the recovery code field ---------------------------------------------------------------------

CODES = {"script": SCRIPT, "img": IMG, **ODD, "nul": NUL}


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("typed", CODES.values(), ids=CODES.keys())
def test_recovery_field_refuses_unknown_codes_and_keeps_them(client, htmx_client, session, typed, htmx):
    add_recovery_code(session, UserFactory())  # there are codes; this isn't one of them
    response = send(htmx_client if htmx else client, "POST", "/auth/recovery", data={"code": typed})
    assert response.status_code == 422
    assert_no_live_markup(response)
    assert "doesn't match an unused recovery code" in shown_text(response)
    assert [kept(value, typed) for value in parse(response.text).values["code"]] == [True]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_recovery_field_refuses_100kb_with_a_clear_message(client, htmx_client, htmx):
    response = send(htmx_client if htmx else client, "POST", "/auth/recovery", data={"code": HUGE})
    assert response.status_code == 422
    assert "Recovery codes are 16 letters and digits" in shown_text(response)


# --- the passkey nickname ------------------------------------------------------------------------

NICKNAMES = {"script": SCRIPT, "img": IMG, **ODD}


def stored_nickname(session, passkey_id: int) -> str:
    query = select(Passkey.nickname).where(Passkey.id == passkey_id).execution_options(populate_existing=True)
    return session.scalar(query)


@pytest.fixture
def owner(login, client, htmx_client):
    user = UserFactory()
    login(user)
    login(user, on=htmx_client)
    return user


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("typed", NICKNAMES.values(), ids=NICKNAMES.keys())
def test_nickname_is_stored_exactly_and_shown_escaped(client, htmx_client, session, owner, typed, htmx):
    passkey = add_passkey(session, owner)
    url = f"/account/passkeys/{passkey.id}/rename"
    if htmx:
        response = send(htmx_client, "POST", url, data={"nickname": typed})
        assert response.status_code == 200
        assert_no_live_markup(response)
        assert parse(response.text).values["nickname"] == [typed]
    else:
        response = send(client, "POST", url, data={"nickname": typed})
        assert response.status_code == 303
    assert stored_nickname(session, passkey.id) == typed

    page = send(client, "GET", "/account/passkeys")
    assert_no_live_markup(page)
    assert parse(page.text).values["nickname"] == [typed]
    assert f"Remove “{typed}”" in html.unescape(page.text)


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_nickname_of_100kb_is_refused_with_a_clear_message(client, htmx_client, session, owner, htmx):
    passkey = add_passkey(session, owner, nickname="Work laptop")
    visitor = htmx_client if htmx else client
    response = send(visitor, "POST", f"/account/passkeys/{passkey.id}/rename", data={"nickname": HUGE})
    assert response.status_code == 422
    assert "Keep the name to 60 characters or fewer" in shown_text(response)
    assert stored_nickname(session, passkey.id) == "Work laptop"


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_nickname_with_a_nul_byte_is_never_stored_with_it(client, htmx_client, session, owner, htmx):
    """A NUL can't be stored in PostgreSQL text and can't be shown; it is refused (422, with a
    message) or dropped, on every database: never a 500, never stored."""
    passkey = add_passkey(session, owner, nickname="Work laptop")
    visitor = htmx_client if htmx else client
    response = send(visitor, "POST", f"/account/passkeys/{passkey.id}/rename", data={"nickname": NUL})
    assert response.status_code in (200, 303, 422)
    assert "\x00" not in stored_nickname(session, passkey.id)
    if response.status_code == 422:
        assert parse(response.text).values["nickname"] and "field-error" in response.text


def test_a_refused_rename_leaves_the_other_passkeys_alone(client, session, owner):
    """Without htmx the whole page comes back: the error and the typed text belong to the row that
    was renamed, not to every row."""
    renamed = add_passkey(session, owner, nickname="Work laptop")
    other = add_passkey(session, owner, nickname="Home tablet")
    too_long = "A name that is far too long for a passkey, sixty-one chars!!!"
    assert len(too_long) == 61
    response = send(client, "POST", f"/account/passkeys/{renamed.id}/rename", data={"nickname": too_long})
    assert response.status_code == 422
    values = parse(response.text).values["nickname"]
    assert values == [too_long, "Home tablet"], "each row's field shows its own passkey"
    assert shown_text(response).count("Keep the name to 60 characters or fewer") == 1
    assert stored_nickname(session, other.id) == "Home tablet"


# --- the `next` parameter of sign-in -------------------------------------------------------------

OFF_SITE_NEXT = {
    "protocol-relative": "//evil.example",
    "absolute": "https://evil.example",
    "backslash": "/\\evil.example",
    # Browsers drop tabs and newlines inside URLs, which turns these into //evil.example.
    "tab": "/\t/evil.example",
    "newline": "/\n/evil.example",
}
MARKUP_NEXT = {"script": "/" + SCRIPT, "img": "/" + IMG}
HOSTILE_NEXT = {**OFF_SITE_NEXT, **MARKUP_NEXT}
ODD_NEXT = {"huge": "/" + HUGE, **{name: "/" + value for name, value in ODD.items()}, "nul": "/" + NUL}


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("target", OFF_SITE_NEXT.values(), ids=OFF_SITE_NEXT.keys())
def test_signed_in_sign_in_page_never_redirects_off_site(client, htmx_client, owner, target, htmx):
    response = send(htmx_client if htmx else client, "GET", "/auth/sign-in", query_string={"next": target})
    if htmx:
        assert response.status_code == 204
        location = response.headers["HX-Redirect"]
    else:
        assert response.status_code == 303
        location = response.headers["Location"]
    assert not off_site(location), f"next={target!r} sends the person to {location!r}"


@pytest.mark.parametrize("target", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_sign_in_page_carries_next_safely(client, target):
    """Anonymous: the page keeps ``next`` for later, escaped, and links nowhere else."""
    response = send(client, "GET", "/auth/sign-in", query_string={"next": target})
    assert response.status_code == 200
    assert_no_live_markup(response)
    page = parse(response.text)
    assert page.values["next"] == [target]
    assert not [link for link in page.links if off_site(link)]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("target", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_link_request_with_next_stays_on_site(client, htmx_client, session, target, htmx):
    user = UserFactory()
    response = send(
        htmx_client if htmx else client, "POST", "/auth/sign-in/link", data={"email": user.email, "next": target}
    )
    assert_no_live_markup(response)
    if htmx:
        assert response.status_code == 200
        assert parse(response.text).values["next"] == [target]
    else:
        assert response.status_code == 303
        assert not off_site(response.headers["Location"])
        page = send(client, "GET", response.headers["Location"])
        assert_no_live_markup(page)
        assert parse(page.text).values["next"] == [target]


@pytest.mark.parametrize("has_passkey", [False, True], ids=["first-sign-in", "with-passkey"])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("target", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_sign_in_link_with_next_never_leaves_the_site(client, htmx_client, session, target, htmx, has_passkey):
    user = UserFactory()
    if has_passkey:
        add_passkey(session, user)
    token = add_link(session, user)
    visitor = htmx_client if htmx else client
    response = send(visitor, "POST", f"/auth/link/{token}", query_string={"next": target}, data={"next": target})
    location = response.headers["HX-Redirect" if htmx else "Location"]
    assert not off_site(location), f"next={target!r} sends the person to {location!r}"
    # People without a passkey are offered one first; its "Not now" link must stay on the site too.
    landing = send(visitor, "GET", location)
    assert_no_live_markup(landing)
    assert not [link for link in parse(landing.text).links if off_site(link)]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("target", ODD_NEXT.values(), ids=ODD_NEXT.keys())
def test_odd_or_huge_next_is_harmless(client, htmx_client, session, target, htmx):
    """Odd characters and 100 KB in ``next``: carried along or dropped, never a crash, never off-site."""
    visitor = htmx_client if htmx else client
    page = send(visitor, "GET", "/auth/sign-in", query_string={"next": target})
    assert page.status_code == 200
    assert [kept(value, target) for value in parse(page.text).values["next"]] == [True]

    requested = send(visitor, "POST", "/auth/sign-in/link", data={"email": UserFactory().email, "next": target})
    assert requested.status_code == (200 if htmx else 303)

    token = add_link(session, UserFactory())
    signed_in = send(visitor, "POST", f"/auth/link/{token}", query_string={"next": target})
    assert not off_site(signed_in.headers["HX-Redirect" if htmx else "Location"])
    again = send(visitor, "GET", "/auth/sign-in", query_string={"next": target})
    assert not off_site(again.headers["HX-Redirect" if htmx else "Location"])


@pytest.mark.parametrize("target", HOSTILE_NEXT.values(), ids=HOSTILE_NEXT.keys())
def test_offer_page_not_now_link_stays_on_site(client, owner, target):
    response = send(client, "GET", "/account/passkeys/offer", query_string={"next": target})
    assert response.status_code == 200
    assert_no_live_markup(response)
    links = parse(response.text).links
    assert links, "the page has its links"
    assert not [link for link in links if off_site(link)], links


@pytest.mark.parametrize("target", OFF_SITE_NEXT.values(), ids=OFF_SITE_NEXT.keys())
def test_passkey_ceremonies_never_send_the_browser_off_site(app, client, session, target):
    """The passkey script goes wherever the JSON ``redirect`` says, after adding a passkey and after
    signing in with one."""
    user = UserFactory()
    session.flush()
    sign_in(client, user)
    authenticator = SoftAuthenticator(origin=ORIGIN)
    headers = {"Accept": "application/json"}

    options = send(client, "POST", "/account/passkeys/options", json={}, headers=headers).get_json()
    added = send(
        client,
        "POST",
        "/account/passkeys",
        query_string={"next": target},
        json=authenticator.create(options),
        headers=headers,
    )
    assert added.status_code == 200, added.text
    assert not off_site(added.get_json()["redirect"]), added.get_json()

    visitor = app.test_client()
    options = send(visitor, "POST", "/auth/passkey/options", json={}, headers=headers).get_json()
    signed_in = send(
        visitor,
        "POST",
        "/auth/passkey/verify",
        query_string={"next": target},
        data=json.dumps(authenticator.get(options)),
        content_type="application/json",
        headers=headers,
    )
    assert signed_in.status_code == 200, signed_in.text
    assert not off_site(signed_in.get_json()["redirect"]), signed_in.get_json()


def test_control_characters_are_dropped_without_piling_up_filters(app):
    from app.auth.forms import RenamePasskeyForm

    with app.test_request_context(method="POST", data={"nickname": "Desk\x00 phone\x07"}):
        forms = [RenamePasskeyForm() for _ in range(5)]
        assert forms[-1].nickname.data == "Desk phone"
        assert len(forms[-1].nickname.filters) == 1
