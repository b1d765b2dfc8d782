"""The per-address limit on sign-in mails: counted in the database by a keyed hash of the cleaned,
normalised address, so it holds however the address is typed, for known and unknown addresses
alike, on every worker and host, with or without Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import UserFactory
from sqlalchemy import func, select, update
from support.limits import build_limited_app

from app.auth import links
from app.models import SignInLink, utcnow
from app.models.sign_in_attempt import SignInAttempt

LIMIT = links.MAILS_PER_ADDRESS


@pytest.fixture
def limits_on(app, monkeypatch):
    """The shared app with the per-address limit on. Flask-Limiter stays off (it was switched off
    when the app was built), so whatever is refused here was counted in the database."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)


def ask(client, email: str) -> int:
    return client.post("/auth/sign-in/link", data={"email": email}).status_code


def links_for(session, user) -> int:
    return session.scalar(select(func.count(SignInLink.id)).where(SignInLink.user_id == user.id))


def test_control_characters_and_case_make_no_fresh_counter(limits_on, client, session):
    person = UserFactory(email="sam@example.org")
    typed = ["sam@example.org", "\x01sam@example.org", "\x02\x03SAM@example.org", "\x7fSam@Example.Org"]
    typed += [f"{chr(1) * n}sam@example.org" for n in range(2, 8)]
    statuses = [ask(client, email) for email in typed]
    assert statuses == [303] * LIMIT + [429] * (len(typed) - LIMIT)
    assert links_for(session, person) == LIMIT


def test_another_worker_sees_the_same_count(connection, session):
    """Each worker keeps its own per-client counters in memory; the per-address count is shared."""
    person = UserFactory(email="kim@example.org")
    with build_limited_app(connection) as first_worker:
        assert [ask(first_worker.test_client(), person.email) for _ in range(LIMIT)] == [303] * LIMIT
    with build_limited_app(connection) as second_worker:  # a fresh limiter: memory counters empty
        assert ask(second_worker.test_client(), person.email) == 429
    assert links_for(session, person) == LIMIT


def test_unknown_addresses_are_limited_alike_and_never_stored(app, limits_on, client, session):
    assert [ask(client, "\x01Nobody@example.org") for _ in range(LIMIT + 1)] == [303] * LIMIT + [429]
    keys = session.scalars(select(SignInAttempt.address_key)).all()
    with app.app_context():
        assert keys == [links.address_key("nobody@example.org")] * LIMIT
    assert all("nobody" not in key for key in keys)


def test_a_refused_request_is_not_recorded_and_the_window_moves_on(app, limits_on, client, session):
    email = "lee@example.org"
    for _ in range(LIMIT + 2):
        ask(client, email)
    assert session.scalar(select(func.count(SignInAttempt.id))) == LIMIT
    session.execute(update(SignInAttempt).values(created_at=utcnow() - links.MAIL_WINDOW - timedelta(seconds=1)))
    assert ask(client, email) == 303


def test_old_attempts_are_pruned_a_batch_at_a_time(limits_on, client, session):
    old = utcnow() - links.MAIL_WINDOW - timedelta(minutes=1)
    session.add_all(SignInAttempt(address_key=f"{n:064x}", created_at=old) for n in range(links.PRUNE_BATCH + 5))
    session.add(SignInAttempt(address_key="f" * 64, created_at=utcnow()))
    session.flush()
    assert ask(client, "first@example.org") == 303
    assert (
        session.scalar(
            select(func.count(SignInAttempt.id)).where(SignInAttempt.created_at < utcnow() - links.MAIL_WINDOW)
        )
        == 5
    )
    assert ask(client, "second@example.org") == 303
    remaining = session.scalar(select(func.count(SignInAttempt.id)))
    assert remaining == 3  # the recent one and the two just asked for: nothing expired is left


def test_an_invalid_address_counts_for_nothing(limits_on, client, session):
    assert [ask(client, "not an address") for _ in range(LIMIT + 2)] == [422] * (LIMIT + 2)
    assert session.scalar(select(func.count(SignInAttempt.id))) == 0


def test_the_join_page_and_the_sign_in_page_share_one_count(limits_on, client, session):
    from factories import ProgramFactory

    from app.models import Participant

    program = ProgramFactory()
    person = UserFactory(email="ana@example.org")
    session.add(Participant(program_id=program.id, user_id=person.id))
    session.flush()
    join = [client.post(f"/join/{program.join_token}", data={"email": person.email}).status_code for _ in range(2)]
    sign_in = [ask(client, person.email) for _ in range(2)]
    assert join + sign_in == [303, 303, 303, 429]
    assert links_for(session, person) == LIMIT
