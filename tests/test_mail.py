"""Sign-in links by mail, through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from datetime import date

import pytest
from factories import UserFactory
from flask import Flask
from sqlalchemy.orm import Session
from support.apps import eager_tasks, make_app, migrated_sqlite, reset_schema
from support.mailbox import LINK, SENT_PAGE_TEXT, Inbox, free_port, smtp_inbox, text_of

from app.config import celery_settings
from app.extensions import db
from app.models import Participant, Program, User
from app.reminders import sending

# Far longer than a page takes even on a busy machine: an answer that waited for the mail server
# would take at least this long.
MAIL_SERVER_DELAY = 5


class SlowInbox(Inbox):
    """A mail server that takes its time, as a real one across the internet can."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(MAIL_SERVER_DELAY)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def smtp_server():
    with smtp_inbox() as server:
        yield server


@pytest.fixture(scope="module")
def mail_app(smtp_server, tmp_path_factory) -> Flask:
    controller, _inbox = smtp_server
    return make_app(
        migrated_sqlite(tmp_path_factory.mktemp("mail") / "mail.sqlite3"),
        environ={"MAIL_URL": f"smtp://{controller.hostname}:{controller.port}"},
    )


@pytest.fixture
def inbox(smtp_server) -> Inbox:
    _controller, inbox = smtp_server
    inbox.envelopes.clear()
    return inbox


_people = iter(range(10_000))


def add_person(app: Flask, name: str) -> User:
    with app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
    with session:
        user = User(name=name, email=f"mail-{next(_people)}@example.org")
        session.add(user)
        session.commit()
        return user


def without_tokens(page: str, email: str) -> str:
    """The page with the address typed and the per-request CSRF tokens taken out."""
    page = page.replace(email, "ADDRESS")
    page = re.sub(r'(csrf[-_]token"[^>]*?(?:content|value)=")[^"]*', r"\1", page)
    return re.sub(r'("X-CSRFToken": ")[^"]*', r"\1", page)


def test_a_sign_in_link_arrives_by_mail_and_signs_in(mail_app, inbox):
    person = add_person(mail_app, "Amara Okafor")
    client = mail_app.test_client()

    response = client.post("/auth/sign-in/link", data={"email": person.email.upper()}, follow_redirects=True)
    assert response.status_code == 200
    assert SENT_PAGE_TEXT in response.text

    assert len(inbox.wait_for(1)) == 1
    assert inbox.envelopes[0].rcpt_tos == [person.email]
    message = inbox.messages()[0]
    assert message["To"] == person.email
    assert message["Subject"] == "Your Twoway sign-in link"
    assert "no-reply@localhost" in message["From"]
    body = text_of(message)
    assert "Hi Amara" in body
    links = LINK.findall(body)
    assert len(links) == 1, body
    link = links[0]

    opened = client.get(link)
    assert opened.status_code == 200
    assert "Continue as Amara Okafor" in opened.text

    signed_in = client.post(link, follow_redirects=True)
    assert signed_in.status_code == 200
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Amara" in home.text

    # The link worked once; it can't sign anyone in again.
    assert client.get(link).status_code == 410


def test_an_unknown_address_gets_the_same_page_and_no_mail(mail_app, inbox):
    known = add_person(mail_app, "Tomás Ruiz")
    unknown = "nobody-here@example.org"
    client = mail_app.test_client()

    answers = {}
    for email in (known.email, unknown):
        response = client.post("/auth/sign-in/link", data={"email": email})
        assert response.status_code == 303
        page = client.get(response.headers["Location"])
        assert f"If {email} {SENT_PAGE_TEXT}" in page.text
        answers[email] = (response.status_code, without_tokens(page.text, email))
        fragment = client.post(
            "/auth/sign-in/link", data={"email": email}, headers={"HX-Request": "true", "HX-Target": "link_form"}
        )
        answers[email] += (fragment.status_code, without_tokens(fragment.text, email))

    assert answers[known.email] == answers[unknown]
    assert [envelope.rcpt_tos for envelope in inbox.envelopes] == [[known.email], [known.email]]


def test_a_switched_off_account_gets_no_mail(mail_app, inbox):
    person = add_person(mail_app, "Lena Park")
    with mail_app.app_context():
        db.session.get(User, person.id).active = False
        db.session.commit()
    response = mail_app.test_client().post("/auth/sign-in/link", data={"email": person.email}, follow_redirects=True)
    assert SENT_PAGE_TEXT in response.text
    assert inbox.envelopes == []


@pytest.fixture(scope="module")
def slow_mail_app(tmp_path_factory) -> Iterator[Flask]:
    with smtp_inbox(SlowInbox()) as (controller, _inbox):
        yield _slow_mail_app(tmp_path_factory, controller)


def _slow_mail_app(tmp_path_factory, controller) -> Flask:
    folder = tmp_path_factory.mktemp("slow-mail")
    # Tasks really queued (on the embedded broker, with no worker): the request does only its own work.
    queued = celery_settings(f"sqla+sqlite:///{folder}/broker.sqlite3", folder)
    return make_app(
        migrated_sqlite(folder / "mail.sqlite3"),
        environ={"MAIL_URL": f"smtp://{controller.hostname}:{controller.port}"},
        CELERY=queued,
    )


def _answer_time(client, url: str, email: str) -> float:
    started = time.monotonic()
    response = client.post(url, data={"email": email})
    assert response.status_code == 303
    return time.monotonic() - started


def test_how_long_the_answer_takes_does_not_tell_who_is_known(slow_mail_app):
    """Only known addresses get a mail, so waiting for the mail server before answering would tell
    anyone timing the answer (on the sign-in page, or a join page the admin holds) who takes part."""
    with slow_mail_app.app_context():
        session = Session(bind=db.engine, expire_on_commit=False)
        program = Program(
            name="Timed", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), join_token="timed-join-token"
        )
        person = User(name="Kwame Asante", email="kwame@example.org")
        session.add_all([program, person])
        session.flush()
        session.add(Participant(program_id=program.id, user_id=person.id))
        session.commit()
    client = slow_mail_app.test_client()
    # The first task queued makes the embedded broker's tables: not part of what is measured.
    _answer_time(client, "/auth/sign-in/link", "warming-up@example.org")
    for url in ("/auth/sign-in/link", f"/join/{program.join_token}"):
        known = _answer_time(client, url, person.email)
        unknown = _answer_time(client, url, "nobody-here@example.org")
        assert known < MAIL_SERVER_DELAY / 2 and unknown < MAIL_SERVER_DELAY / 2, (url, known, unknown)


@pytest.fixture
def app_log():
    """The app's logger, switched back on if running the migrations in this process silenced it
    (see test_running_the_migrations_leaves_the_app_log_on, which covers that bug by itself)."""
    logger = logging.getLogger("app")
    was_disabled = logger.disabled
    logger.disabled = False
    yield logger
    logger.disabled = was_disabled


def test_running_the_migrations_leaves_the_app_log_on(tmp_path):
    """Mail without MAIL_URL, and mail that can't be delivered, exist only in the app's log. Running
    the migrations in a process (as reset_schema, or any in-process upgrade, does) must not
    switch that log off."""
    logger = logging.getLogger("app")
    was_disabled = logger.disabled
    logger.disabled = False
    try:
        reset_schema(make_app(f"sqlite:///{tmp_path}/log.sqlite3"))
        assert not logger.disabled, "after the migrations ran, the app's log messages go nowhere"
    finally:
        logger.disabled = was_disabled


def test_without_mail_url_the_mail_goes_to_the_log(app, client, session, caplog, app_log):
    assert app.config["MAIL_URL"] is None
    person = UserFactory(name="Kofi Mensah")
    with caplog.at_level(logging.WARNING):
        response = client.post("/auth/sign-in/link", data={"email": person.email}, follow_redirects=True)
    assert response.status_code == 200
    assert SENT_PAGE_TEXT in response.text

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "MAIL_URL is not set" in logged
    assert f"To: {person.email}" in logged
    links = LINK.findall(logged)
    assert len(links) == 1
    # The logged link is a working one: that is how development runs without a mail server.
    assert "Continue as Kofi Mensah" in client.get(links[0]).text


@pytest.fixture
def unreachable_mail_app(tmp_path) -> Flask:
    # Run at once, and each retry at once too: errors are the task's to handle, not the caller's.
    retried_at_once = {**eager_tasks(), "task_eager_propagates": False}
    return make_app(
        migrated_sqlite(tmp_path / "down.sqlite3"),
        environ={"MAIL_URL": f"smtp://127.0.0.1:{free_port()}"},  # nothing listens there
        CELERY=retried_at_once,
    )


def test_a_mail_server_that_is_down_is_tried_again_then_given_up_on(unreachable_mail_app, caplog, app_log):
    """Delivery is retried (with backoff, in a worker), then the failure is logged, without the
    link; the person sees the usual answer, not an error."""
    person = add_person(unreachable_mail_app, "Ines Duarte")
    with caplog.at_level(logging.WARNING):
        response = unreachable_mail_app.test_client().post(
            "/auth/sign-in/link", data={"email": person.email}, follow_redirects=True
        )
        assert response.status_code == 200
    assert SENT_PAGE_TEXT in response.text
    logged = [record.getMessage() for record in caplog.records]
    assert sum("not sent yet" in line for line in logged) == sending.MAX_ATTEMPTS - 1
    [given_up] = [line for line in logged if "failed after" in line]
    assert f"(sign-in) failed after {sending.MAX_ATTEMPTS} tries" in given_up
    assert "/auth/link/" not in "\n".join(logged)
