"""A program's join page: the only way in an admin hands out, and it signs nobody in by itself.

A person types their own address; if they take part in the program, a one-time link goes to that
address, and nowhere else. The page answers everyone the same way.
"""

from __future__ import annotations

import html
import re

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import func, select
from support.pages import comparable, inline_code_in, text

from app.models import Participant, Program, SignInLink, User

# What the join form names as its hx-target, as htmx sends it.
JOIN_FORM = {"HX-Target": "join_form"}


def take_part(session, program: Program, user: User) -> User:
    session.add(Participant(program_id=program.id, user_id=user.id))
    session.flush()
    return user


@pytest.fixture
def program(session):
    return ProgramFactory(name="Northwind cohort")


@pytest.fixture
def amara(session, program):
    return take_part(session, program, UserFactory(name="Amara Okafor", email="amara@northwind.example"))


def links_of(session, user: User) -> int:
    return session.scalar(select(func.count(SignInLink.id)).where(SignInLink.user_id == user.id))


def mailed_links(caplog) -> list[str]:
    return re.findall(r"http://localhost:5000(/auth/link/\S+)", caplog.text)


def test_the_join_page_names_the_program_and_nobody_in_it(client, program, amara):
    page = client.get(f"/join/{program.join_token}")
    assert page.status_code == 200
    assert "Join Northwind cohort" in text(page)
    assert "Amara" not in page.text and "amara@" not in page.text
    assert inline_code_in(page.text) == []
    assert client.get("/join/not-a-token").status_code == 404
    assert client.get(f"/join/{program.id}").status_code == 404  # the program's id is no way in
    assert client.get("/join/" + "x" * 5000).status_code == 404


def test_a_participant_gets_a_link_in_their_own_inbox_and_lands_in_their_pair(
    app, client, session, program, amara, caplog
):
    pair = PairFactory(program=program, mentee=amara)
    sent = client.post(f"/join/{program.join_token}", data={"email": " AMARA@Northwind.example "})
    assert sent.status_code == 303 and sent.location == f"/join/{program.join_token}"
    assert links_of(session, amara) == 1
    assert "To: amara@northwind.example" in caplog.text
    [path] = mailed_links(caplog)
    assert client.get("/").status_code == 302  # asking signed nobody in

    phone = app.test_client()
    continue_page = phone.get(path)
    assert "Continue as Amara Okafor" in text(continue_page)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', continue_page.text)[1])
    signed_in = phone.post(action)
    # No passkey yet: offered one first, then on to the pair.
    assert signed_in.location.startswith("/account/passkeys/offer")
    assert f"next=/pairs/{pair.id}" in signed_in.location
    assert phone.get(f"/pairs/{pair.id}").status_code == 200
    session.refresh(amara)
    assert amara.first_signed_in_at is not None


def test_everyone_gets_the_same_answer_and_only_participants_get_a_link(client, session, program, amara, caplog):
    elsewhere = take_part(session, ProgramFactory(), UserFactory(email="elsewhere@northwind.example"))
    stranger = UserFactory(email="stranger@northwind.example")
    admin = take_part(session, program, AdminFactory(email="admin@northwind.example"))  # slipped in by hand
    closed = take_part(session, program, UserFactory(email="closed@northwind.example", active=False))
    answers = {}
    for email in (amara.email, elsewhere.email, stranger.email, admin.email, closed.email, "nobody@northwind.example"):
        response = client.post(f"/join/{program.join_token}", data={"email": email}, follow_redirects=True)
        answers[email] = (response.status_code, comparable(response).replace(email, "EMAIL"))
    assert len(set(answers.values())) == 1, answers
    status, body = answers[amara.email]
    assert status == 200
    assert "If you're taking part in Northwind cohort, a sign-in link is on its way to EMAIL" in body
    assert [links_of(session, u) for u in (amara, elsewhere, stranger, admin, closed)] == [1, 0, 0, 0, 0]
    assert len(mailed_links(caplog)) == 1


def test_the_answer_comes_in_place_with_htmx(htmx_client, session, program, amara):
    response = htmx_client.post(f"/join/{program.join_token}", data={"email": amara.email}, headers=JOIN_FORM)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="join_form">')
    assert "a sign-in link is on its way" in response.text
    unknown = htmx_client.post(
        f"/join/{program.join_token}", data={"email": "nobody@northwind.example"}, headers=JOIN_FORM
    )
    assert unknown.status_code == 200
    assert unknown.text.replace("nobody@northwind.example", "E") == response.text.replace(amara.email, "E")


def test_a_mistyped_address_is_explained_and_kept(client, session, program):
    response = client.post(f"/join/{program.join_token}", data={"email": "amara@"})
    assert response.status_code == 422
    assert "doesn't look like an email address" in text(response)
    assert 'value="amara@"' in response.text
    assert session.scalar(select(func.count(SignInLink.id))) == 0


def test_the_admin_holding_the_join_link_is_signed_in_as_nobody(app, client, session, login, program, amara, caplog):
    admin = AdminFactory()
    login(admin)
    pair = PairFactory(program=program, mentee=amara)
    response = client.post(f"/join/{program.join_token}", data={"email": amara.email}, follow_redirects=True)
    assert response.status_code == 200
    # The link went to Amara's inbox; the admin's browser is still the admin, outside the pair.
    assert "/auth/link/" not in response.text
    assert client.get(f"/pairs/{pair.id}").status_code == 404
    assert amara.name not in client.get("/").text
