"""One-time sign-in links: opening one changes nothing, the button signs in, once, within 15 minutes."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from factories import UserFactory
from flask import Flask
from sqlalchemy import func, select, update
from support.pages import comparable, text

from app.auth import links
from app.models import Passkey, SignInLink, User, utcnow


def issue_link(app: Flask, user: User) -> str:
    with app.app_context():
        from app.extensions import db

        url = links.issue(user)
        db.session.commit()
    assert url.startswith("http://localhost:5000/auth/link/")
    return url.removeprefix("http://localhost:5000")


@pytest.fixture
def person(session):
    return UserFactory(name="Kwame Mensah")


def test_opening_a_link_asks_before_signing_in(app, client, session, person):
    path = issue_link(app, person)
    page = client.get(path)
    assert page.status_code == 200
    assert "Continue as Kwame Mensah" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    # A mail scanner opening the link twice uses nothing up and signs nobody in.
    assert client.get(path).status_code == 200
    assert client.get("/").status_code == 302
    assert session.scalar(select(SignInLink.used_at)) is None


def test_the_button_signs_in_once(app, client, session, person):
    path = issue_link(app, person)
    response = client.post(path)
    assert response.status_code == 303
    assert "Kwame" in client.get("/").text
    session.refresh(person)
    assert person.last_signed_in_at is not None

    client.post("/auth/sign-out")
    again = client.post(path, follow_redirects=True)
    assert "expired or was already used" in again.text
    assert client.get("/").status_code == 302
    assert client.get(path).status_code == 410


def test_without_a_passkey_the_first_sign_in_offers_one(app, client, person):
    response = client.post(issue_link(app, person))
    assert response.location.startswith("/account/passkeys/offer")
    offer = client.get(response.location)
    assert "Add a passkey" in offer.text
    assert 'href="/"' in offer.text and "Not now" in offer.text


def test_with_a_passkey_the_link_goes_straight_home(app, client, session, person):
    session.add(Passkey(user_id=person.id, credential_id=b"c", public_key=b"k", aaguid="0" * 36, nickname="Phone"))
    response = client.post(issue_link(app, person))
    assert response.location == "/"


def test_an_admins_home_says_nothing_about_pairs(app, client, session):
    """Admins are never in a pair: "You're not in a pair yet" is not for them."""
    from factories import AdminFactory

    admin = AdminFactory()
    client.post(issue_link(app, admin))
    home = client.get("/").text
    assert "not in a pair yet" not in home and 'href="/admin"' in home
    client.post("/auth/sign-out")
    participant = UserFactory()
    client.post(issue_link(app, participant))
    assert "not in a pair yet" in client.get("/").text


def test_a_link_expires_after_fifteen_minutes(app, client, session, person):
    path = issue_link(app, person)
    link = session.scalar(select(SignInLink))
    assert timedelta(minutes=14, seconds=55) < link.expires_at - utcnow() <= timedelta(minutes=15)
    session.execute(update(SignInLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(path).status_code == 410
    client.post(path)
    assert client.get("/").status_code == 302


def test_only_a_hash_of_the_token_is_stored(app, session, person):
    path = issue_link(app, person)
    token = path.rsplit("/", 1)[1]
    stored = session.scalar(select(SignInLink.token_hash))
    assert token not in stored and len(stored) == 64


def test_a_switched_off_person_cannot_use_their_link(app, client, session, person):
    path = issue_link(app, person)
    session.execute(update(User).where(User.id == person.id).values(active=False))
    assert client.get(path).status_code == 410
    client.post(path)
    assert client.get("/").status_code == 302


def test_asking_for_a_link_says_the_same_whether_or_not_the_address_is_known(client, session, person):
    typed = person.email.upper()
    known = client.post("/auth/sign-in/link", data={"email": typed}, follow_redirects=True)
    unknown = client.post("/auth/sign-in/link", data={"email": "nobody@example.org"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert f"If {typed} belongs to someone in Twoway, a sign-in link is on its way" in text(known)
    assert comparable(known).replace(typed, "EMAIL") == comparable(unknown).replace("nobody@example.org", "EMAIL")
    # Only the known person got a link, matched case-insensitively.
    assert session.scalar(select(func.count(SignInLink.id)).where(SignInLink.user_id == person.id)) == 1
    assert session.scalar(select(func.count(SignInLink.id))) == 1


def test_asking_with_htmx_answers_in_place(htmx_client, person):
    response = htmx_client.post("/auth/sign-in/link", data={"email": person.email}, headers={"HX-Target": "link_form"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="link_form">')
    assert "a sign-in link is on its way" in response.text


def test_a_mistyped_address_is_explained_and_kept(htmx_client):
    response = htmx_client.post(
        "/auth/sign-in/link", data={"email": "margaret.holloway@"}, headers={"HX-Target": "link_form"}
    )
    assert response.status_code == 422
    assert "doesn't look like an email address" in text(response)
    assert 'value="margaret.holloway@"' in response.text


def test_sign_in_by_email_continues_where_the_person_was_going(app, client, session, person, caplog):
    session.add(Passkey(user_id=person.id, credential_id=b"c", public_key=b"k", aaguid="0" * 36, nickname="Phone"))
    first = client.get("/account/recovery-codes")
    assert first.location == "/auth/sign-in?next=/account/recovery-codes"
    assert 'name="next" type="hidden" value="/account/recovery-codes"' in client.get(first.location).text

    client.post("/auth/sign-in/link", data={"email": person.email, "next": "/account/recovery-codes"})
    [url] = re.findall(r"http://localhost:5000(/auth/link/\S+)", caplog.text)
    page = client.get(url)
    assert "Continue as Kwame Mensah" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    assert client.post(html.unescape(action)).location == "/account/recovery-codes"


def test_in_production_a_missing_mail_server_never_puts_the_link_in_the_log(client, app, person, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "TESTING", False)
    client.post("/auth/sign-in/link", data={"email": person.email})
    assert "MAIL_URL is not set" in caplog.text
    assert "/auth/link/" not in caplog.text
