"""Recovery codes: ten, shown once, each signs in once, a new set voids the old."""

from __future__ import annotations

import re

import pytest
from factories import UserFactory
from sqlalchemy import func, select
from support.faults import lost_at
from support.pages import text

from app.models import RecoveryCode

CODE = re.compile(r"<code>([a-z0-9]{4}(?:-[a-z0-9]{4}){3})</code>")


@pytest.fixture
def person(session, login):
    user = UserFactory(name="Helen Castellano")
    login(user)
    return user


def make_codes(client) -> list[str]:
    page = client.post("/account/recovery-codes")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    return CODE.findall(page.text)


def test_ten_codes_shown_once_and_stored_hashed(client, session, person):
    codes = make_codes(client)
    assert len(codes) == len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not any(code.replace("-", "") in h for code in codes for h in stored)
    later = client.get("/account/recovery-codes").text
    assert "10</strong> unused codes" in later
    assert not any(code in later for code in codes)


def test_each_code_signs_in_once(client, person):
    codes = make_codes(client)
    client.post("/auth/sign-out")

    # People copy codes by hand: case, spaces and dashes don't matter.
    typed = codes[3].upper().replace("-", " ")
    response = client.post("/auth/recovery", data={"code": typed}, follow_redirects=True)
    assert "9 unused codes left" in response.text
    assert "Helen" in client.get("/").text

    client.post("/auth/sign-out")
    reused = client.post("/auth/recovery", data={"code": codes[3]})
    assert reused.status_code == 422
    assert "doesn't match an unused recovery code" in text(reused)
    assert codes[3] in reused.text  # what was typed stays in the field
    assert client.get("/").status_code == 302


def test_new_codes_void_the_old_ones(client, session, person):
    old = make_codes(client)
    new = make_codes(client)
    assert not set(old) & set(new)
    assert session.scalar(select(func.count(RecoveryCode.id))) == 10
    client.post("/auth/sign-out")
    assert client.post("/auth/recovery", data={"code": old[0]}).status_code == 422
    assert client.post("/auth/recovery", data={"code": new[0]}).status_code == 303


def test_one_persons_code_never_signs_in_another(client, login, person):
    codes = make_codes(client)
    login(UserFactory(name="Graham Whitfield"))
    client.post("/auth/sign-out")
    client.post("/auth/recovery", data={"code": codes[0]})
    assert "Helen" in client.get("/").text


def test_making_codes_needs_a_recent_sign_in_and_tells_the_owner(client, session, person, caplog):
    from datetime import timedelta

    from support.apps import sign_in

    from app.models import utcnow

    sign_in(client, person, signed_in_at=utcnow() - timedelta(minutes=11))
    assert "sign in again first" in client.get("/account/recovery-codes").text
    refused = client.post("/account/recovery-codes")
    assert refused.status_code == 303
    assert refused.location == "/auth/sign-in?again=1&next=/account/recovery-codes"
    assert session.scalar(select(func.count(RecoveryCode.id))) == 0
    assert "Subject: New recovery codes" not in caplog.text

    sign_in(client, person)
    assert len(make_codes(client)) == 10
    assert f"To: {person.email}" in caplog.text
    assert "Subject: New recovery codes for your Twoway account" in caplog.text
    assert "If it wasn't you, sign in and make a new set" in caplog.text


def test_a_new_set_is_never_made_without_its_security_notice(connection, client, session, person):
    """A new set is a new way into the account, which its owner always hears of: a request lost as
    it writes the notice leaves the codes as they were."""
    make_codes(client)
    before = set(session.scalars(select(RecoveryCode.code_hash)))

    with lost_at(connection, "INSERT INTO delivery"):
        client.post("/account/recovery-codes")
    session.expire_all()
    assert set(session.scalars(select(RecoveryCode.code_hash))) == before
