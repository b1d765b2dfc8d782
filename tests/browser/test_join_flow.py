"""Joining a program as a person does it: the admin's kick-off link, my own address, the link in my
inbox, a passkey, and my pair. And the admin holding that kick-off link gets into nobody's account."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect
from support.mailbox import text_of

from app import mail
from app.extensions import db

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Cohort:
    program_id: int
    pair_id: int
    mentor: tuple[str, str]  # name, email
    mentee: tuple[str, str]


@pytest.fixture
def outbox(live_server, monkeypatch) -> list[EmailMessage]:
    """Mail the live server sends, caught where it would go to the SMTP server: the real
    deliveries and their tasks run, only the hand-over to the mail server is replaced."""
    sent: list[EmailMessage] = []
    monkeypatch.setitem(live_server.app.config, "MAIL_URL", "smtp://mail.invalid")
    # The live server runs tasks eagerly, so the outbox is complete when a page shows.
    monkeypatch.setattr(mail, "_deliver", lambda _url, message: sent.append(message))
    return sent


def make_cohort(live_server, n: int) -> Cohort:
    """A program with two participants the admin added and paired, as the admin pages do it."""
    from app.models import Pair, Participant, Program, User

    with live_server.app.app_context():
        program = Program(
            name=f"Join cohort {n}", starts_on=date.today() - timedelta(days=7), ends_on=date.today() + timedelta(90)
        )
        mentor = User(name="Zanele Dube", email=f"zanele{n}@northwind.example")
        mentee = User(name="Geoffrey Hale", email=f"geoffrey{n}@northwind.example")
        pair = Pair.create(program, mentor=mentor, mentee=mentee)
        db.session.add(pair)
        db.session.flush()
        db.session.add_all(Participant(program_id=program.id, user_id=u.id) for u in (mentor, mentee))
        db.session.commit()
        return Cohort(program.id, pair.id, (mentor.name, mentor.email), (mentee.name, mentee.email))


def make_admin(live_server):
    from app.models import User

    person = live_server.create_user("Ruth Adeyemi")
    with live_server.app.app_context():
        user = db.session.get(User, person.id)
        user.is_admin = user.is_owner = True
        db.session.commit()
    return person


def kick_off_link(admin_page: Page, program_id: int) -> str:
    """What the admin copies from the participants page (the QR code carries the same URL)."""
    admin_page.goto(f"/admin/programs/{program_id}/participants")
    expect(admin_page.get_by_role("heading", name="How people join")).to_be_visible()
    expect(admin_page.get_by_role("img", name=re.compile("QR code of the join page"))).to_be_visible()
    url = admin_page.get_by_role("textbox", name="Join link to copy").input_value()
    assert re.fullmatch(r"http://localhost:\d+/join/[\w-]+", url), url
    return url


def link_in(outbox: list[EmailMessage], to: str) -> str:
    [message] = [m for m in outbox if m["To"] == to]
    return re.search(r"http://localhost:\d+/auth/link/\S+", text_of(message))[0]


def test_a_participant_joins_from_the_kick_off_link_adds_a_passkey_and_lands_in_their_pair(
    page: Page, page_errors, live_server, phone, outbox, attach_authenticator
):
    cohort = make_cohort(live_server, 1)
    admin = phone(make_admin(live_server))
    join_url = kick_off_link(admin.page, cohort.program_id)
    name, email = cohort.mentee

    # Geoffrey scans the QR code at the kick-off, on his own phone.
    page.goto(join_url)
    expect(page.get_by_role("heading", name="Join Join cohort 1")).to_be_visible()
    page.get_by_role("textbox", name="Your work email").fill(email.upper())
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way to")

    # The link is in his inbox, and only there.
    page.goto(link_in(outbox, email))
    page.get_by_role("button", name=f"Continue as {name}").click()
    expect(page.get_by_role("heading", name="Welcome, Geoffrey")).to_be_visible()
    authenticator = attach_authenticator(page)
    page.get_by_role("button", name="Add a passkey").click()

    expect(page).to_have_url(f"{live_server.url}/pairs/{cohort.pair_id}")
    expect(page.get_by_role("heading", level=1, name=f"You and {cohort.mentor[0]}")).to_be_visible()
    assert len(authenticator.credentials()) == 1
    # He is told by mail that a passkey was added.
    assert any(m["Subject"] == "A passkey was added to your Twoway account" for m in outbox if m["To"] == email)

    # The admin's page now says he has joined, and his partner hasn't.
    admin.page.reload()
    rows = admin.page.get_by_role("row")
    expect(rows.filter(has_text=name)).to_contain_text("Joined")
    expect(rows.filter(has_text=cohort.mentor[0])).to_contain_text("Not joined yet")
    assert page_errors == [], "\n".join(page_errors)
    assert admin.errors == [], "\n".join(admin.errors)


def test_the_admin_opening_the_join_link_is_signed_in_as_nobody(page: Page, live_server, phone, outbox):
    cohort = make_cohort(live_server, 2)
    admin = phone(make_admin(live_server))
    join_url = kick_off_link(admin.page, cohort.program_id)
    name, email = cohort.mentee

    # Signed in as herself, the admin types Geoffrey's address on the join page.
    admin.page.goto(join_url)
    admin.page.get_by_role("textbox", name="Your work email").fill(email)
    admin.page.get_by_role("button", name="Email me a sign-in link").click()
    expect(admin.page.get_by_role("status")).to_contain_text("a sign-in link is on its way to")
    assert "/auth/link/" not in admin.page.content()
    # The link went to Geoffrey's inbox; the admin's browser is still the admin, outside the pair.
    assert [m["To"] for m in outbox] == [email]
    admin.page.goto(f"/pairs/{cohort.pair_id}")
    expect(admin.page.get_by_role("heading", name=f"You and {cohort.mentor[0]}")).to_have_count(0)
    admin.page.goto("/")
    expect(admin.page.get_by_role("heading", name="Hello, Ruth")).to_be_visible()
    expect(admin.page.get_by_text(name)).to_have_count(0)

    # And in a fresh browser with no session at all, the join page signs nobody in either.
    page.goto(join_url)
    page.get_by_role("textbox", name="Your work email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way to")
    page.goto(f"/pairs/{cohort.pair_id}")
    expect(page).to_have_url(re.compile(r"/auth/sign-in"))
