"""The partner's changes, live (app/pairs/changes.py): one count per pair that every write moves,
one probe that answers 204 while it hasn't moved, and nothing private that moves the partner's."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from support.pages import text
from test_goals import add_goal, add_milestone, goal_titled, milestones_of, move, save_goal, tick
from test_journal import edit, items_of, log, only_meeting, reflect
from test_next_meeting import plan
from test_program_page import ask

from app.extensions import db
from app.models import Agreement, Clause, ClauseKind, Goal, Pair, PairMember, Topic
from app.pairs import changes

HTMX = {"HX-Request": "true"}


def count(client, pair) -> int:
    """What the person's pages are drawn at now (the probe's answer to a count it can't have)."""
    response = client.get(f"/pairs/{pair.id}/changes?since={10**9}")
    assert response.status_code == 200
    return int(response.text)


def probe(client, pair, since: int):
    return client.get(f"/pairs/{pair.id}/changes?since={since}")


def drawn_at(page_html: str) -> int:
    return int(re.search(r'data-changes="(\d+)"', page_html).group(1))


def stored(session, pair) -> tuple[int, dict[int, int]]:
    row = session.execute(select(Pair.change_count).where(Pair.id == pair.id)).scalar_one()
    rows = session.execute(select(PairMember.user_id, PairMember.change_count).where(PairMember.pair_id == pair.id))
    members = {row.user_id: row.change_count for row in rows}
    return row, members


def add_topic(client, pair, words: str = "How I run a board meeting"):
    return client.post(f"/pairs/{pair.id}/topics", data={"text": words}, headers={**HTMX, "HX-Target": "topics"})


def test_the_probe_is_a_cheap_204_until_the_partner_writes(mentor, mentee, pair, queries):
    home = mentor.get(f"/pairs/{pair.id}")
    since = drawn_at(home.text)
    with queries() as log_:
        quiet = probe(mentor, pair, since)
    assert quiet.status_code == 204 and quiet.data == b""
    assert quiet.headers["Cache-Control"] == "no-store"
    # One read: the membership with the pair (whose count it reads), which also proves the session
    # (the person, their cookie's generation, an active account, no admin): nothing else.
    assert log_.count == 1 and log_.writes == []

    assert add_topic(mentee, pair, "Using Teams channels well").status_code == 200
    with queries() as log_:
        news = probe(mentor, pair, since)
    assert news.status_code == 200 and int(news.text) == since + 1
    assert log_.count == 1 and log_.writes == []
    # The page drawn now shows the topic, at the count the probe gave.
    again = mentor.get(f"/pairs/{pair.id}")
    assert "Using Teams channels well" in text(again) and drawn_at(again.text) == since + 1
    assert probe(mentor, pair, since + 1).status_code == 204


def test_every_pair_page_carries_its_count_and_the_probe(mentor, pair):
    for section in ("", "/goals", "/journal", "/ground-rules", "/feedback", "/next-meeting"):
        page = mentor.get(f"/pairs/{pair.id}{section}").text
        assert f'data-changes-url="/pairs/{pair.id}/changes"' in page, section
        assert drawn_at(page) == 0, section
    # The live parts of home, goals and journal are marked; the ground rules have their own probe.
    home = mentor.get(f"/pairs/{pair.id}").text
    for block in ("next_meeting", "topics", "actions", "goals", "ground_rules_status", "recap"):
        assert f'<section id="{block}" data-live' in home, block
    assert '<div id="board" class="goal-board" data-live>' in mentor.get(f"/pairs/{pair.id}/goals").text
    assert '<div id="entries" class="entries" data-live>' in mentor.get(f"/pairs/{pair.id}/journal").text


# --- every write moves the count -----------------------------------------------------------


def _goal(mentor, pair, session, title: str = "Learn Figma") -> Goal:
    add_goal(mentor, f"/pairs/{pair.id}/goals", title=title)
    return goal_titled(session, pair, title)


def _milestone(mentor, pair, session):
    goal = _goal(mentor, pair, session)
    add_milestone(mentor, f"/pairs/{pair.id}/goals", goal, "Open a file")
    return milestones_of(session, goal)[0]


def _meeting(mentor, pair, session, **values):
    log(mentor, f"/pairs/{pair.id}/journal", notes="We met", **values)
    return only_meeting(session, pair)


def _clause(mentor, pair, session) -> Clause:
    mentor.post(f"/pairs/{pair.id}/ground-rules/start")
    query = select(Clause).where(Clause.pair_id == pair.id, Clause.kind == ClauseKind.TEXT).order_by(Clause.position)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def _remove_topic(mentor, mentee, pair, session):
    add_topic(mentor, pair, "To go")
    topic = session.scalar(select(Topic).where(Topic.pair_id == pair.id))
    return lambda: mentee.post(f"/pairs/{pair.id}/topics/{topic.id}/remove", headers={**HTMX, "HX-Target": "topics"})


def _tick_action(mentor, mentee, pair, session):
    _meeting(mentor, pair, session, **{"actions-0-text": "Book the review"})
    [item] = items_of(session, pair)
    base = f"/pairs/{pair.id}/journal"
    return lambda: mentee.post(
        f"{base}/actions/{item.id}/toggle", data={"done": "1"}, headers={**HTMX, "HX-Target": f"action-{item.id}"}
    )


def _cover_topic(mentor, mentee, pair, session):
    add_topic(mentor, pair, "Covered by the log")
    topic = session.scalar(select(Topic).where(Topic.pair_id == pair.id))
    return lambda: log(mentee, f"/pairs/{pair.id}/journal", covered=str(topic.id))


def _edit_notes(mentor, mentee, pair, session):
    meeting = _meeting(mentee, pair, session)  # only its author edits an entry
    return lambda: edit(mentee, f"/pairs/{pair.id}/journal", meeting, meeting.version, notes="Better notes")


def _save_clause(mentor, mentee, pair, session):
    clause = _clause(mentor, pair, session)
    data = {"title": clause.title, "version": str(clause.version), "body": "We meet on Fridays."}
    url = f"/pairs/{pair.id}/ground-rules/clauses/{clause.id}"
    return lambda: mentee.post(url, data=data, headers={**HTMX, "HX-Target": f"clause-{clause.id}"})


def _agree(mentor, mentee, pair, session):
    _clause(mentor, pair, session)
    version = session.get(Agreement, pair.id, populate_existing=True).version
    url = f"/pairs/{pair.id}/ground-rules/agree"
    return lambda: mentee.post(url, data={"version": str(version)}, headers={**HTMX, "HX-Target": "agreement_status"})


def _replan(mentor, mentee, pair, session):
    plan(mentor, pair)
    return lambda: plan(mentee, pair, version="1", time="09:30")


# Each: what the mentor did before (not measured), then the mentee's write (measured).
WRITES = {
    "add a topic": lambda mentor, mentee, pair, session: lambda: add_topic(mentee, pair),
    "remove a topic": _remove_topic,
    "add a goal": lambda mentor, mentee, pair, session: lambda: add_goal(mentee, f"/pairs/{pair.id}/goals"),
    "change a goal": lambda mentor, mentee, pair, session: (
        lambda goal: lambda: save_goal(mentee, f"/pairs/{pair.id}/goals", goal, why="Because")
    )(_goal(mentor, pair, session)),
    "move a goal": lambda mentor, mentee, pair, session: (
        lambda goal: lambda: move(mentee, f"/pairs/{pair.id}/goals", goal, "in-progress")
    )(_goal(mentor, pair, session)),
    "add a milestone": lambda mentor, mentee, pair, session: (
        lambda goal: lambda: add_milestone(mentee, f"/pairs/{pair.id}/goals", goal, "Step")
    )(_goal(mentor, pair, session)),
    "tick a milestone": lambda mentor, mentee, pair, session: (
        lambda milestone: lambda: tick(mentee, f"/pairs/{pair.id}/goals", milestone)
    )(_milestone(mentor, pair, session)),
    "remove a milestone": lambda mentor, mentee, pair, session: (
        lambda milestone: (
            lambda: mentee.post(
                f"/pairs/{pair.id}/goals/milestones/{milestone.id}/remove",
                headers={**HTMX, "HX-Target": f"goal-{milestone.goal_id}"},
            )
        )
    )(_milestone(mentor, pair, session)),
    "log a meeting": lambda mentor, mentee, pair, session: lambda: log(mentee, f"/pairs/{pair.id}/journal"),
    "log a meeting covering a topic": _cover_topic,
    "edit a meeting's notes": _edit_notes,
    "tick an action item": _tick_action,
    "plan the next meeting": lambda mentor, mentee, pair, session: lambda: plan(mentee, pair),
    "change the next meeting": _replan,
    "start the ground rules": lambda mentor, mentee, pair, session: (
        lambda: mentee.post(f"/pairs/{pair.id}/ground-rules/start")
    ),
    "add a clause": lambda mentor, mentee, pair, session: (
        lambda _clause_: (
            lambda: mentee.post(
                f"/pairs/{pair.id}/ground-rules/clauses",
                data={"title": "Coffee", "body": "At the café."},
                headers={**HTMX, "HX-Target": "clauses"},
            )
        )
    )(_clause(mentor, pair, session)),
    "change a clause": _save_clause,
    "agree to the ground rules": _agree,
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_moves_the_partners_count_once(write, mentor, mentee, pair, session, queries):
    act = WRITES[write](mentor, mentee, pair, session)
    before = count(mentor, pair)
    assert probe(mentor, pair, before).status_code == 204
    with queries() as log_:
        response = act()
    assert response.status_code in (200, 303), response.text[:300]
    # One bump per commit, as the last statement before it.
    bumps = [s for s in log_.writes if s.lstrip().startswith("UPDATE pair SET change_count")]
    assert len(bumps) == 1 and log_.writes[-1] == bumps[0], log_.writes
    assert count(mentor, pair) == before + 1
    assert probe(mentor, pair, before).status_code == 200
    assert count(mentee, pair) == count(mentor, pair)


def test_looking_moves_nothing(mentor, mentee, pair, session):
    _meeting(mentor, pair, session, **{"actions-0-text": "Book the review"})
    before = count(mentor, pair)
    for section in ("", "/goals", "/journal", "/journal/history", "/ground-rules", "/feedback", "/next-meeting"):
        assert mentee.get(f"/pairs/{pair.id}{section}").status_code == 200
    assert count(mentor, pair) == before


def test_a_refused_write_moves_nothing(mentor, mentee, pair, session):
    goal = _goal(mentor, pair, session)
    save_goal(mentor, f"/pairs/{pair.id}/goals", goal, why="First")
    before = count(mentor, pair)
    assert add_topic(mentee, pair, "   ").status_code == 422
    assert move(mentee, f"/pairs/{pair.id}/goals", goal, "done", shown="dropped").status_code == 409
    assert count(mentor, pair) == before


def test_a_statement_the_session_rolls_back_is_never_counted(app, pair, session):
    before = stored(session, pair)
    with app.app_context():
        db.session.execute(update(Goal).where(Goal.pair_id == pair.id).values(why="never"))
        db.session.rollback()
        db.session.commit()  # a later commit with nothing in it bumps nothing
    session.expire_all()
    assert stored(session, pair) == before


def test_an_update_that_does_not_name_the_pair_is_counted_too(app, mentor, pair, session):
    """A statement whose WHERE doesn't pin the pair: the pairs it touches are looked up first."""
    goal = _goal(mentor, pair, session)
    before = count(mentor, pair)
    with app.app_context():
        db.session.execute(update(Goal).where(Goal.id == goal.id).values(why="Found"))
        db.session.execute(update(Goal).where(Goal.id == -1).values(why="Nobody"))  # no row: no count
        db.session.commit()
    assert count(mentor, pair) == before + 1


def test_the_writers_own_answer_says_how_far_the_count_moved(mentee, pair):
    before = count(mentee, pair)
    response = add_topic(mentee, pair)
    assert response.headers["Twoway-Changes"] == f"{before} {before + 1}"
    # Looking, or a write that was refused, says nothing.
    assert "Twoway-Changes" not in mentee.get(f"/pairs/{pair.id}").headers
    assert "Twoway-Changes" not in add_topic(mentee, pair, "").headers


# --- what one person alone sees ------------------------------------------------------------


def test_a_private_reflection_never_moves_the_partners_count(mentor, mentee, pair, session):
    meeting = _meeting(mentor, pair, session)
    base = f"/pairs/{pair.id}/journal"
    margaret, aisha = pair.mentee.id, pair.mentor.id
    hers, his = count(mentee, pair), count(mentor, pair)
    shared_before, members_before = stored(session, pair)
    assert reflect(mentor, base, meeting, "Only Aisha reads this").status_code == 200
    assert reflect(mentor, base, meeting, "Only Aisha reads this, edited").status_code == 200
    assert reflect(mentor, base, meeting, "").status_code == 200  # and removed
    # Margaret's probe stays quiet: she can't tell that anything happened, or when.
    assert probe(mentee, pair, hers).status_code == 204
    session.expire_all()
    shared, members = stored(session, pair)
    assert shared == shared_before and members[margaret] == members_before[margaret]
    # Aisha's own pages move on, so a page cache keyed on her count never shows her an old one.
    assert count(mentor, pair) == his + 3 and members[aisha] == members_before[aisha] + 3


def test_a_reflection_written_with_a_shared_log_moves_both_and_shows_only_to_its_author(mentor, mentee, pair, session):
    hers = count(mentee, pair)
    log(mentor, f"/pairs/{pair.id}/journal", notes="Shared notes", reflection="Aisha's secret thought")
    assert probe(mentee, pair, hers).status_code == 200  # the meeting is shared
    page = mentee.get(f"/pairs/{pair.id}/journal")
    assert "Shared notes" in text(page) and "secret thought" not in page.text


def test_a_calendar_feed_is_its_owners_alone(mentor, mentee, pair):
    plan(mentor, pair)
    hers = count(mentee, pair)
    his = count(mentor, pair)
    assert mentor.post(f"/pairs/{pair.id}/next-meeting/feed").status_code in (200, 303)
    assert probe(mentee, pair, hers).status_code == 204
    assert count(mentor, pair) > his


def test_another_pair_never_moves(app, mentor, pair, session, login):
    from factories import PairFactory

    other = PairFactory()
    theirs = login(other.mentee, on=app.test_client())
    before = count(theirs, other)
    add_topic(mentor, pair)
    assert count(theirs, other) == before
    # And a count asked of a pair one isn't in is a 404, like every pair page.
    assert probe(theirs, pair, 0).status_code == 404


def test_a_plan_in_the_past_is_refused_and_moves_nothing(mentee, pair):
    before = count(mentee, pair)
    past = (date.today() - timedelta(days=3)).isoformat()
    assert plan(mentee, pair, day=past).status_code == 422
    assert count(mentee, pair) == before


def test_every_table_of_pair_content_is_decided_on():
    """Shared by default; a new table with ``pair_id`` is added here on purpose, once it is clear
    whether the partner sees it (and if not, it goes in ``changes.PRIVATE``)."""
    tables = {table.name for table in db.Model.metadata.sorted_tables if "pair_id" in table.c}
    private = {model.__tablename__ for model in changes.PRIVATE}
    assert changes.ELSEWHERE == {"match_proposal"}
    tables -= changes.ELSEWHERE
    assert private == {"reflection", "calendar_feed", "help_request", "closing_reason", "closing_reflection"}
    assert tables - private == {
        "agreement",
        "agreement_signature",
        "clause",
        "clause_conflict",
        "clause_revision",
        "feedback_answer",
        "feedback_submission",
        "goal",
        "meeting",
        "milestone",
        "next_meeting",
        "pair_history",
        "pair_member",
        "pair_tally",
        "topic",
        "action_item",
    }


def test_a_help_request_the_partner_was_not_told_of_stays_with_its_sender(mentor, mentee, pair):
    hers, his = count(mentee, pair), count(mentor, pair)
    assert ask(mentor, pair, "We keep missing each other.").status_code in (200, 303)
    assert probe(mentee, pair, hers).status_code == 204
    assert count(mentor, pair) == his + 1
    # Told of, it is the pair's: the partner's page moves on (it says that help was asked).
    assert ask(mentor, pair, "Could the program suggest a rhythm?", tell=True).status_code in (200, 303)
    assert probe(mentee, pair, hers).status_code == 200


def test_an_executemany_update_counts_each_pair_it_names(app, mentor, pair, session):
    from factories import PairFactory
    from sqlalchemy import bindparam

    other = PairFactory()
    mine, theirs = _goal(mentor, pair, session, "Mine"), Goal(pair_id=other.id, learner="mentee", title="Theirs")
    session.add(theirs)
    session.flush()
    before = stored(session, pair)[0], stored(session, other)[0]
    with app.app_context():
        table = Goal.__table__
        db.session.execute(
            table.update().where(table.c.id == bindparam("goal")).values(why=bindparam("why")),
            [{"goal": mine.id, "why": "One"}, {"goal": theirs.id, "why": "Two"}],
        )
        db.session.commit()
    session.expire_all()
    assert (stored(session, pair)[0], stored(session, other)[0]) == (before[0] + 1, before[1] + 1)
