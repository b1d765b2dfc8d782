"""A private reflection carries a version like every shared edit: a second tab saving over the
first gets the conflict view with both texts, and two first saves at once never fail. Both texts
are the author's own: the partner never sees either, and reflections never reach the pair's
history."""

from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from factories import PairFactory
from sqlalchemy import select
from support.apps import clients_of, committed_session, make_app, own_database
from support.pages import text
from support.parallel import at_once
from support.records import read_back

from app.extensions import db
from app.journal import meetings
from app.models import Meeting, PairHistory, Reflection

HTMX = {"HX-Request": "true"}
FIRST = "Tab one: I talked too much, Quokka41"
SECOND = "Tab two: next time ask first, Quokka42"


@pytest.fixture
def meeting(session, pair) -> Meeting:
    meeting = Meeting(pair_id=pair.id, held_on=date(2026, 3, 2), notes="Shared", author_id=pair.mentor.id)
    session.add(meeting)
    session.flush()
    return meeting


def _version_on_page(client, pair, meeting) -> str:
    page = client.get(f"/pairs/{pair.id}/journal/meetings/{meeting.id}").text
    field = re.search(rf'name="reflection-{meeting.id}-version" type="hidden" value="(\d+)"', page)
    return field.group(1)


def _reflect(client, pair_id: int, meeting_id: int, body: str, version: str, htmx: bool = True):
    headers = {**HTMX, "HX-Target": f"reflection-{meeting_id}"} if htmx else {}
    data = {f"reflection-{meeting_id}-body": body, f"reflection-{meeting_id}-version": version}
    return client.post(f"/pairs/{pair_id}/journal/meetings/{meeting_id}/reflection", data=data, headers=headers)


def _stored(session, meeting) -> list[str]:
    return read_back(session, select(Reflection.body).where(Reflection.meeting_id == meeting.id))


def test_a_second_tab_saving_over_the_first_gets_both_texts(mentor, session, pair, meeting):
    tab_one = _version_on_page(mentor, pair, meeting)
    tab_two = _version_on_page(mentor, pair, meeting)
    assert tab_one == tab_two == "0"
    assert _reflect(mentor, pair.id, meeting.id, FIRST, tab_one).status_code == 200
    clash = _reflect(mentor, pair.id, meeting.id, SECOND, tab_two)
    assert clash.status_code == 409
    shown = text(clash)
    assert "saved this reflection in another tab" in shown
    assert FIRST in shown  # the saved one…
    assert f"{SECOND}</textarea>" in clash.text  # …and the one typed here, still in the form
    assert _stored(session, meeting) == [FIRST]
    # Saving again from the conflict view is a deliberate choice over the saved version.
    retry = re.search(rf'name="reflection-{meeting.id}-version" type="hidden" value="(\d+)"', clash.text).group(1)
    assert retry == "1"
    assert _reflect(mentor, pair.id, meeting.id, SECOND, retry).status_code == 200
    assert _stored(session, meeting) == [SECOND]


def test_a_stale_edit_without_javascript_shows_the_conflict_on_the_entry_page(mentor, session, pair, meeting):
    assert _reflect(mentor, pair.id, meeting.id, FIRST, "0").status_code == 200
    stale = _version_on_page(mentor, pair, meeting)
    assert _reflect(mentor, pair.id, meeting.id, SECOND, stale).status_code == 200
    clash = _reflect(mentor, pair.id, meeting.id, "Third thoughts", stale, htmx=False)
    assert clash.status_code == 409 and "<html" in clash.text
    assert SECOND in text(clash) and "Third thoughts</textarea>" in clash.text
    # Clearing it from a stale tab removes nothing either.
    assert _reflect(mentor, pair.id, meeting.id, "", stale).status_code == 409
    assert _stored(session, meeting) == [SECOND]


def test_the_same_words_from_two_tabs_are_no_conflict(mentor, session, pair, meeting):
    assert _reflect(mentor, pair.id, meeting.id, FIRST, "0").status_code == 200
    assert _reflect(mentor, pair.id, meeting.id, FIRST, "0").status_code == 200
    assert _stored(session, meeting) == [FIRST]


def test_the_partner_never_sees_either_text_and_the_history_never_holds_them(mentor, mentee, session, pair, meeting):
    _reflect(mentor, pair.id, meeting.id, FIRST, "0")
    clash = _reflect(mentor, pair.id, meeting.id, SECOND, "0")
    assert clash.status_code == 409
    assert session.scalars(select(PairHistory).where(PairHistory.pair_id == pair.id)).all() == []
    for url in (
        f"/pairs/{pair.id}/journal",
        f"/pairs/{pair.id}/journal/meetings/{meeting.id}",
        f"/pairs/{pair.id}/journal/history",
        f"/pairs/{pair.id}/goals/history",
        f"/pairs/{pair.id}/journal/search?q=Quokka",
        f"/pairs/{pair.id}",
    ):
        page = mentee.get(url).text
        assert "talked too much" not in page and "ask first" not in page, url
        assert "Quokka41" not in page and "Quokka42" not in page, url
    # The partner's own save on the same meeting is their own reflection, not a conflict with it.
    assert _reflect(mentee, pair.id, meeting.id, "Margaret's view", "0").status_code == 200


@pytest.mark.parametrize("bodies", [(FIRST, SECOND), (FIRST, FIRST)], ids=["two texts", "a double tap"])
def test_two_first_saves_at_once_never_fail(tmp_path, monkeypatch, bodies):
    with own_database(tmp_path) as url:
        app = make_app(url)
        if url.startswith("postgresql"):
            # Make the race certain: both requests have looked for a reflection (and found none)
            # before either writes one. (SQLite takes the write lock up front: there one waits for
            # the other, and this would only deadlock.)
            looked = threading.Barrier(len(bodies))
            found = meetings.my_reflection

            def look_together(meeting_id: int):
                mine = found(meeting_id)
                looked.wait(timeout=10)
                return mine

            monkeypatch.setattr(meetings, "my_reflection", look_together)
        with committed_session(app) as session:
            pair = PairFactory()
            session.flush()
            meeting = Meeting(pair_id=pair.id, held_on=date(2026, 3, 2), notes="", author_id=pair.mentor.id)
            session.add(meeting)
            session.commit()
            pair_id, meeting_id, mentor = pair.id, meeting.id, pair.mentor
        clients = clients_of(app, *[mentor] * len(bodies))

        def send(client, body: str) -> int:
            return _reflect(client, pair_id, meeting_id, body, "0", htmx=False).status_code

        answers = at_once(send, list(zip(clients, bodies, strict=True)))
        with app.app_context():
            stored = list(db.session.scalars(select(Reflection.body).where(Reflection.meeting_id == meeting_id)))
            db.engine.dispose()
        if bodies[0] == bodies[1]:
            assert answers == [303, 303]
        else:
            assert sorted(answers) == [303, 409]
        assert len(stored) == 1 and stored[0] in bodies
