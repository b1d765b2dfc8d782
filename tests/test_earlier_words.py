"""A partner's words are never erased for good: what is overwritten, removed, or loses a conflict
stays in the pair's history ("earlier words"), which the pair alone can read, escaped, a page at a
time. Private reflections never go there."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from factories import PairFactory
from sqlalchemy import select
from support.pages import text
from support.records import read_back

from app.models import Goal, Meeting, Milestone, PairHistory, Topic

HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert('pwned')</script>"


def _goal(session, pair, **values) -> Goal:
    values = {"why": "", "success": "", **values}
    goal = Goal(pair_id=pair.id, learner="mentee", title="Post on LinkedIn", version=1, **values)
    session.add(goal)
    session.flush()
    return goal


def _meeting(session, pair, notes: str) -> Meeting:
    meeting = Meeting(pair_id=pair.id, held_on=date(2026, 3, 2), notes=notes, author_id=pair.mentor.id, version=1)
    session.add(meeting)
    session.flush()
    return meeting


def _save_goal(client, pair, goal: Goal, version: int, **values):
    stored = {"learner": "mentee", "title": goal.title, "why": "", "success": "", "target_on": "", **values}
    data = {f"goal-{goal.id}-{key}": value for key, value in stored.items()}
    data[f"goal-{goal.id}-version"] = str(version)
    headers = {**HTMX, "HX-Target": f"goal-{goal.id}"}
    return client.post(f"/pairs/{pair.id}/goals/{goal.id}", data=data, headers=headers)


def _save_notes(client, pair, meeting: Meeting, notes: str, version: int):
    data = {"held_on": "2026-03-02", "length_minutes": "", "format": "video", "notes": notes, "version": str(version)}
    headers = {**HTMX, "HX-Target": f"entry-{meeting.id}"}
    return client.post(f"/pairs/{pair.id}/journal/meetings/{meeting.id}", data=data, headers=headers)


def _history(session, pair) -> list[tuple[str, str, dict]]:
    rows = read_back(session, select(PairHistory).where(PairHistory.pair_id == pair.id).order_by(PairHistory.id))
    return [(row.subject.value, row.action.value, row.snapshot) for row in rows]


def test_overwritten_goal_words_stay_readable_by_the_partner(mentor, mentee, session, pair):
    goal = _goal(session, pair, why="Margaret wrote: our speakers are all on LinkedIn.")
    saved = _save_goal(mentor, pair, goal, 1, why="Aisha's shorter words", success="Three posts")
    assert saved.status_code == 200
    assert _history(session, pair) == [
        (
            "goal",
            "edited",
            {"title": "Post on LinkedIn", "why": "Margaret wrote: our speakers are all on LinkedIn."},
        )
    ]
    page = mentee.get(f"/pairs/{pair.id}/goals/history")
    assert page.status_code == 200
    shown = text(page)
    assert "Aisha changed a goal" in shown and "Margaret wrote: our speakers are all on LinkedIn." in shown
    # The goal page points to it.
    assert f'href="/pairs/{pair.id}/goals/history"' in mentee.get(f"/pairs/{pair.id}/goals").text


def test_a_target_date_change_keeps_no_words_because_none_were_lost(mentor, session, pair):
    goal = _goal(session, pair)
    assert _save_goal(mentor, pair, goal, 1, target_on="2027-01-31").status_code == 200
    assert _history(session, pair) == []


def test_a_removed_milestone_is_kept(mentor, mentee, session, pair):
    goal = _goal(session, pair)
    milestone = Milestone(goal_id=goal.id, pair_id=pair.id, title="Ask Sam for three names", position=0)
    session.add(milestone)
    session.flush()
    headers = {**HTMX, "HX-Target": f"goal-{goal.id}"}
    assert mentor.post(f"/pairs/{pair.id}/goals/milestones/{milestone.id}/remove", headers=headers).status_code == 200
    assert _history(session, pair) == [
        ("milestone", "removed", {"title": "Ask Sam for three names", "goal": "Post on LinkedIn"})
    ]
    shown = text(mentee.get(f"/pairs/{pair.id}/goals/history"))
    assert "Aisha removed a milestone" in shown and "Ask Sam for three names" in shown


def test_a_removed_topic_is_kept_in_the_journal(mentor, mentee, session, pair):
    topic = Topic(
        pair_id=pair.id, text="How promotions really happen", added_by_id=pair.mentee.id, added_by_role="mentee"
    )
    session.add(topic)
    session.flush()
    removed = mentor.post(f"/pairs/{pair.id}/topics/{topic.id}/remove", headers={**HTMX, "HX-Target": "topics"})
    assert removed.status_code == 200 and "earlier words" in text(removed)
    assert session.scalar(select(Topic).where(Topic.id == topic.id).execution_options(populate_existing=True)) is None
    assert _history(session, pair) == [("topic", "removed", {"text": "How promotions really happen"})]
    shown = text(mentee.get(f"/pairs/{pair.id}/journal/history"))
    assert "Aisha removed a topic" in shown and "How promotions really happen" in shown
    assert f'href="/pairs/{pair.id}/journal/history"' in mentee.get(f"/pairs/{pair.id}/journal").text


def test_edited_meeting_notes_are_kept(mentor, mentee, session, pair):
    meeting = _meeting(session, pair, "First notes, by Aisha")
    assert _save_notes(mentor, pair, meeting, "Second notes", 1).status_code == 200
    assert _history(session, pair) == [
        ("meeting", "edited", {"notes": "First notes, by Aisha", "held_on": "2026-03-02"})
    ]
    assert "First notes, by Aisha" in text(mentee.get(f"/pairs/{pair.id}/journal/history"))


def test_the_text_that_loses_a_goal_conflict_is_stored_and_still_in_the_form(mentor, mentee, session, pair):
    goal = _goal(session, pair)
    assert _save_goal(mentee, pair, goal, 1, why="Margaret's reason").status_code == 200
    lost = _save_goal(mentor, pair, goal, 1, why="Aisha typed this reason at the same time")
    assert lost.status_code == 409
    shown = text(lost)
    assert "Margaret's reason" in shown  # the saved text…
    assert "Aisha typed this reason at the same time</textarea>" in lost.text  # …and the typed one, kept in the form
    assert (
        "goal",
        "lost in a conflict",
        {"title": "Post on LinkedIn", "why": "Aisha typed this reason at the same time"},
    ) in _history(session, pair)
    history_page = text(mentee.get(f"/pairs/{pair.id}/goals/history"))
    assert "Aisha typed this over a goal someone had just saved" in history_page
    assert "Aisha typed this reason at the same time" in history_page


def test_the_text_that_loses_a_notes_conflict_is_stored_and_still_in_the_form(mentor, session, pair, app, login):
    meeting = _meeting(session, pair, "Notes")
    assert _save_notes(mentor, pair, meeting, "Saved from the laptop", 1).status_code == 200
    lost = _save_notes(mentor, pair, meeting, "Typed on the phone", 1)
    assert lost.status_code == 409
    assert "Saved from the laptop" in text(lost) and "Typed on the phone</textarea>" in lost.text
    assert _history(session, pair)[-1] == (
        "meeting",
        "lost in a conflict",
        {"notes": "Typed on the phone", "held_on": "2026-03-02"},
    )


def test_earlier_words_are_escaped(mentor, mentee, session, pair):
    topic = Topic(pair_id=pair.id, text=SCRIPT, added_by_id=pair.mentee.id, added_by_role="mentee")
    session.add(topic)
    session.flush()
    mentor.post(f"/pairs/{pair.id}/topics/{topic.id}/remove")
    page = mentee.get(f"/pairs/{pair.id}/journal/history").text
    assert SCRIPT not in page and "&lt;script&gt;alert(" in page


def test_earlier_words_are_the_pairs_alone(mentor, session, pair, app, login):
    topic = Topic(pair_id=pair.id, text="Only the two of us", added_by_id=pair.mentee.id, added_by_role="mentee")
    session.add(topic)
    session.flush()
    mentor.post(f"/pairs/{pair.id}/topics/{topic.id}/remove")
    other = PairFactory()
    outsider = login(other.mentor, on=app.test_client())
    assert outsider.get(f"/pairs/{pair.id}/journal/history").status_code == 404
    assert "Only the two of us" not in outsider.get(f"/pairs/{other.id}/journal/history").text


def test_earlier_words_come_a_page_at_a_time(mentor, mentee, session, pair, queries):
    topics = [
        Topic(pair_id=pair.id, text=f"Topic number {n:02}", added_by_id=pair.mentee.id, added_by_role="mentee")
        for n in range(25)
    ]
    session.add_all(topics)
    session.flush()
    for topic in topics:
        mentor.post(f"/pairs/{pair.id}/topics/{topic.id}/remove")
    with queries() as log:
        first = mentee.get(f"/pairs/{pair.id}/journal/history")
    assert log.count == 3 + 1  # the person, the membership with both people, one page of history; the tab bar
    shown = re.findall(r"Topic number (\d\d)", text(first))
    assert shown == [f"{n:02}" for n in range(24, 4, -1)]  # the newest twenty
    assert 'href="?page=2"' in first.text
    second = re.findall(r"Topic number (\d\d)", text(mentee.get(f"/pairs/{pair.id}/journal/history?page=2")))
    assert second == ["04", "03", "02", "01", "00"]
    assert "Nothing older." in text(mentee.get(f"/pairs/{pair.id}/journal/history?page=9"))


HOSTILE = {
    "script": SCRIPT,
    "img": '"><img src=x onerror=alert(1)>',
    "rtl-override": "Pixel \u202eenohp\u202c",
    "zero-width-joiner": "\U0001f469\u200d\U0001f4bb laptop",
    "combining-marks": "Zo\u0065\u0301 phone\u0308",
}


@pytest.mark.parametrize("typed", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_words_are_kept_exactly_and_shown_harmless(mentor, mentee, session, pair, typed):
    goal = _goal(session, pair, why=typed)
    assert _save_goal(mentee, pair, goal, 1, why="Plain words").status_code == 200
    lost = _save_goal(mentor, pair, goal, 1, why=typed + " again")
    assert lost.status_code == 409
    assert [snapshot["why"] for _, _, snapshot in _history(session, pair)] == [typed, typed + " again"]
    page = mentee.get(f"/pairs/{pair.id}/goals/history")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert html.escape(typed, quote=False) in page.text or typed in text(page)


def test_100kb_of_words_is_refused_and_kept_in_the_form_not_the_history(mentor, session, pair):
    goal = _goal(session, pair, why="Short")
    huge = ("Reverse mentoring works both ways. " * 3000)[:100_000]
    refused = _save_goal(mentor, pair, goal, 1, why=huge)
    assert refused.status_code == 422 and "Keep it under 10,000 characters" in text(refused)
    assert huge in refused.text
    assert _history(session, pair) == []
