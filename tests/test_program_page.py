"""The participants' side of the program: what the admin sees, and asking the program for help."""

from __future__ import annotations

import re

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import select
from support.pages import inline_code_in, text, words
from support.snapshots import publish_exact

from app.models import HELP_MAX, HelpRequest, Participant


@pytest.fixture
def program(session):
    return ProgramFactory(privacy_threshold=5)


@pytest.fixture
def pair(session, program):
    pair = PairFactory(program=program)
    for other in [PairFactory(program=program) for _ in range(11)][:6]:
        session.add(Participant(program_id=program.id, user_id=other.mentee.id, department="Sales"))
    session.add(Participant(program_id=program.id, user_id=pair.mentee.id, department="Legal"))
    session.flush()
    return pair


def figures(page_html: str) -> str:
    return re.search(r'<div id="program-figures">(.*)<!-- /program-figures -->', page_html, re.DOTALL).group(1)


def test_the_page_shows_exactly_what_the_admin_sees(app, client, login, session, pair, program):
    publish_exact(app, session, program)
    login(pair.mentee)
    page = client.get(f"/pairs/{pair.id}/program")
    assert page.status_code == 200
    admin = login(AdminFactory(), on=app.test_client())
    dashboard = admin.get(f"/admin/programs/{program.id}/dashboard")

    assert figures(text(page)) == figures(text(dashboard))
    shown = words(page)
    assert "Pairs 12" in shown
    assert "Sales 6" in shown and "Legal fewer than 5 pairs: hidden" in shown
    assert "They can't see anything you and" in shown
    assert inline_code_in(page.get_data(as_text=True)) == []


def test_the_page_says_the_admin_sees_who_has_joined(client, login, pair):
    login(pair.mentee)
    shown = words(client.get(f"/pairs/{pair.id}/program"))
    assert "They can see who has joined: whether each person has signed in to Twoway at least once." in shown


def test_a_small_program_says_so(app, client, login, session):
    pair = PairFactory(program=ProgramFactory(privacy_threshold=5))
    publish_exact(app, session, pair.program)
    login(pair.mentor)
    shown = words(client.get(f"/pairs/{pair.id}/program"))
    assert "fewer than 5 pairs, so no figures are shown" in shown
    assert "Pairs 1" not in shown


def test_people_outside_the_pair_get_404(app, client, login, session, pair):
    for outsider in (UserFactory(), AdminFactory(), PairFactory(program=pair.program).mentor):
        other = login(outsider, on=app.test_client())
        assert other.get(f"/pairs/{pair.id}/program").status_code == 404
        assert other.post(f"/pairs/{pair.id}/program/help", data={"message": "hello"}).status_code == 404
    assert client.get(f"/pairs/{pair.id}/program").status_code == 302  # not signed in: to sign-in
    assert session.scalars(select(HelpRequest)).all() == []


def ask(client, pair, message: str, tell: bool = False, htmx: bool = False):
    data = {"message": message} | ({"tell_partner": "y"} if tell else {})
    headers = {"HX-Request": "true", "HX-Target": "help"} if htmx else {}
    return client.post(f"/pairs/{pair.id}/program/help", data=data, headers=headers)


def test_help_reaches_the_admin_with_the_sender_s_name_only(app, client, login, session, pair, program):
    login(pair.mentee)
    response = ask(client, pair, "We keep cancelling. Could someone help us reset?")
    assert response.status_code == 303
    assert "Sent." in words(client.get(response.headers["Location"]))

    [stored] = session.scalars(select(HelpRequest)).all()
    assert (stored.sender_id, stored.pair_id, stored.program_id, stored.partner_told) == (
        pair.mentee.id,
        pair.id,
        program.id,
        False,
    )

    admin = login(AdminFactory(), on=app.test_client())
    page = words(admin.get(f"/admin/programs/{program.id}/help"))
    assert "We keep cancelling. Could someone help us reset?" in page
    assert pair.mentee.name in page
    assert pair.mentor.name not in page  # the partner is not named

    # The partner is not told: nothing on their page says anyone asked.
    partner = login(pair.mentor, on=app.test_client())
    assert "asked the program for help on" not in words(partner.get(f"/pairs/{pair.id}/program"))
    assert "You asked on" in words(client.get(f"/pairs/{pair.id}/program"))


def test_the_partner_is_told_when_the_sender_chooses(app, client, login, session, pair):
    login(pair.mentee)
    response = ask(client, pair, "Could we talk about changing pairs?", tell=True, htmx=True)
    assert response.status_code == 200
    assert 'id="help"' in response.get_data(as_text=True) and "<html" not in response.get_data(as_text=True)
    assert session.scalars(select(HelpRequest.partner_told)).one() is True

    partner = words(login(pair.mentor, on=app.test_client()).get(f"/pairs/{pair.id}/program"))
    assert f"{pair.mentee.first_name} asked the program for help on" in partner
    assert "Could we talk about changing pairs?" not in partner  # only that they asked


def test_the_tell_box_starts_unticked(client, login, pair):
    login(pair.mentee)
    box = re.search(
        r'<input[^>]*name="tell_partner"[^>]*>', client.get(f"/pairs/{pair.id}/program").get_data(as_text=True)
    ).group(0)
    assert "checked" not in box
    assert f"Tell {pair.mentor.first_name} I asked" in words(client.get(f"/pairs/{pair.id}/program"))


@pytest.mark.parametrize("message", ["", "   ", "x" * (HELP_MAX + 1)])
def test_an_empty_or_too_long_message_is_refused_and_kept(client, login, session, pair, message):
    login(pair.mentee)
    response = ask(client, pair, message, htmx=True)
    assert response.status_code == 422
    assert session.scalars(select(HelpRequest)).all() == []
    if message.strip():
        assert message in text(response)


def test_hostile_input_in_a_message_is_harmless(app, client, login, session, pair, program):
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> {{ 7*7 }} \x00\x1b[31m'
    login(pair.mentee)
    assert ask(client, pair, hostile).status_code == 303
    stored = session.scalars(select(HelpRequest.message)).one()
    assert "\x00" not in stored and "\x1b" not in stored

    admin = login(AdminFactory(), on=app.test_client())
    page = admin.get(f"/admin/programs/{program.id}/help").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page and "49" not in page.split("help-message", 1)[1].split("</p>", 1)[0]
    assert inline_code_in(page) == []


def test_the_admin_marks_a_request_handled(app, client, login, session, pair, program):
    login(pair.mentee)
    ask(client, pair, "Please help")
    request = session.scalars(select(HelpRequest)).one()
    admin = login(AdminFactory(), on=app.test_client())

    other_program = ProgramFactory()
    assert admin.post(f"/admin/programs/{other_program.id}/help/{request.id}/handled").status_code == 404
    response = admin.post(f"/admin/programs/{program.id}/help/{request.id}/handled")
    assert response.status_code == 303
    session.refresh(request)
    assert request.handled_at is not None
    page = words(admin.get(response.headers["Location"]))
    assert "Handled on" in page and "Mark as handled" not in page
    assert "handled" in words(client.get(f"/pairs/{pair.id}/program"))

    # A participant cannot mark anything.
    assert client.post(f"/admin/programs/{program.id}/help/{request.id}/handled").status_code == 404
