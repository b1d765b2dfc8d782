"""Retention: a program's pairs' words are deleted once its end plus its retention has passed,
on schedule (driven here through the ending pass's ``at``), leaving counts only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import JSON, String, Text, func, select
from support.pages import words
from support.records import add_clause, add_pair_content, add_prompt_set

from app.ending import passes, retention
from app.extensions import db
from app.models import (
    ClosingReflection,
    FeedbackAnswer,
    FeedbackSubmission,
    Goal,
    GoalStatus,
    IdempotencyKey,
    Intake,
    Meeting,
    Pair,
    PairMember,
    PairStatus,
    PairTally,
    Participant,
    Program,
    PromptKind,
    Reflection,
    Topic,
    utcnow,
)

TODAY = date.today()
MARKERS = (
    "Ibis-notes-3c1d",
    "Ibis-reflection-8e2f",
    "Ibis-closing-55a0",
    "Ibis-clause-a9b7",
    "Ibis-intake-0f6c",
    "Ibis-remembered-71d2",
)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)


def run(app, session, day: date) -> passes.Outcome:
    session.flush()
    with app.app_context():
        return passes.run(at(day))


def holding(connection, needle: str) -> list[str]:
    tables = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.c if isinstance(c.type, String | Text | JSON)]
        if not columns:
            continue
        for row in connection.execute(select(*columns)):
            if any(needle in (v if isinstance(v, str) else json.dumps(v)) for v in row if v is not None):
                tables.append(table.name)
                break
    return tables


def close_at_end(app, session, program: Program) -> None:
    """The pass of the day after the program's end: its pairs close (their words stay)."""
    assert run(app, session, program.ends_on + timedelta(days=1)).pairs_deleted == 0


def fill(session, pair: Pair) -> None:
    """A pair that did a lot: two meetings, a goal done, a covered topic, ground rules, words everywhere."""
    content = add_pair_content(session, pair, pair.mentor)
    meeting = session.get(Meeting, content["meeting_id"])
    meeting.notes, meeting.length_minutes = MARKERS[0], 40
    session.add(
        Meeting(pair_id=pair.id, held_on=TODAY - timedelta(days=3), author_id=pair.mentee.id, length_minutes=20)
    )
    session.get(Topic, content["topic_id"]).meeting_id = meeting.id
    session.get(Goal, content["goal_id"]).status = GoalStatus.DONE
    session.add(Reflection(meeting_id=meeting.id, pair_id=pair.id, author_id=pair.mentor.id, body=MARKERS[1]))
    session.add(ClosingReflection(pair_id=pair.id, author_id=pair.mentee.id, learned=MARKERS[2]))
    add_clause(session, pair, body=MARKERS[3])
    participant = session.get(Participant, content["participant_id"])
    session.add(Intake(participant_id=participant.id, interests=MARKERS[4]))
    [prompt] = add_prompt_set(session, pair.program_id, ("How was it?", PromptKind.SCALE))
    session.add(
        IdempotencyKey(
            user_id=pair.mentee.id, key="k", status=200, body=MARKERS[5], created_at=utcnow() - timedelta(days=2)
        )
    )
    session.add(FeedbackSubmission(pair_id=pair.id, round_key="end", user_id=pair.mentor.id))
    session.add(FeedbackAnswer(pair_id=pair.id, round_key="end", prompt_id=prompt.id, user_id=pair.mentor.id, score=4))
    session.flush()


@pytest.fixture
def program(session):
    return ProgramFactory(starts_on=TODAY - timedelta(days=200), ends_on=TODAY + timedelta(days=10))


def test_words_are_deleted_the_day_retention_runs_out_and_counts_remain(app, session, connection, program):
    pair = PairFactory(program=program)
    fill(session, pair)
    participants = session.scalar(
        select(func.count()).select_from(Participant).where(Participant.program_id == program.id)
    )
    for marker in MARKERS:
        assert holding(connection, marker), marker
    deletes_on = retention.add_months(program.ends_on, 12)
    assert retention.deletes_on(program) == deletes_on

    close_at_end(app, session, program)
    assert run(app, session, deletes_on - timedelta(days=1)).pairs_deleted == 0
    for marker in MARKERS:
        assert holding(connection, marker), f"{marker} went before its time"

    outcome = run(app, session, deletes_on)
    assert (outcome.pairs_deleted, outcome.programs_finished) == (1, 1)
    for marker in MARKERS:
        assert holding(connection, marker) == [], marker
    for table in retention.content_tables():
        left = connection.execute(select(func.count()).select_from(table).where(table.c.pair_id == pair.id)).scalar()
        assert left == 0, table.name
    session.expire_all()
    tally = session.get(PairTally, pair.id)
    assert (tally.meetings, tally.meeting_minutes, tally.goals, tally.goals_done, tally.topics_covered) == (
        2,
        60,
        1,
        1,
        1,
    )
    assert (tally.action_items, tally.check_ins) == (1, 1)
    # The admin's set-up stays: the program, its pairs and who was in them, its participants.
    assert session.get(Pair, pair.id).status == PairStatus.ENDED
    assert session.scalar(select(func.count()).select_from(PairMember).where(PairMember.pair_id == pair.id)) == 2
    assert (
        session.scalar(select(func.count()).select_from(Participant).where(Participant.program_id == program.id))
        == participants
    )
    assert session.get(Program, program.id).content_deleted_at is not None


def test_a_run_deletes_a_bounded_batch_and_finishes_later(app, session, program, monkeypatch):
    pairs = [PairFactory(program=program) for _ in range(3)]
    for pair in pairs:
        session.add(Topic(pair_id=pair.id, text="Ibis-topic", added_by_role="mentee"))
    monkeypatch.setattr(retention, "RETENTION_BATCH", 2)
    close_at_end(app, session, program)
    day = retention.add_months(program.ends_on, 12) + timedelta(days=3)
    first = run(app, session, day)
    assert (first.pairs_deleted, first.programs_finished) == (2, 0)
    assert session.scalar(select(func.count()).select_from(Topic).where(Topic.pair_id.in_([p.id for p in pairs]))) == 1
    second = run(app, session, day)
    assert (second.pairs_deleted, second.programs_finished) == (1, 1)
    assert run(app, session, day + timedelta(days=1)).pairs_deleted == 0  # nothing left: nothing done


def test_each_program_keeps_its_own_retention(app, session, program):
    short = ProgramFactory(starts_on=program.starts_on, ends_on=program.ends_on, retention_months=1)
    kept, gone = PairFactory(program=program), PairFactory(program=short)
    for pair in (kept, gone):
        session.add(Topic(pair_id=pair.id, text="Ibis-topic", added_by_role="mentee"))
    close_at_end(app, session, program)
    # A month after the end, and four weeks after the pairs closed.
    run(app, session, retention.add_months(program.ends_on, 1) + timedelta(days=1))
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Topic).where(Topic.pair_id == gone.id)) == 0
    assert session.scalar(select(func.count()).select_from(Topic).where(Topic.pair_id == kept.id)) == 1


def test_the_closed_home_still_tells_what_they_did_after_the_words_are_gone(app, session, program, login, client):
    pair = PairFactory(program=program)
    fill(session, pair)
    run(app, session, retention.add_months(program.ends_on, 12))
    login(pair.mentee)
    page = words(client.get(f"/pairs/{pair.id}"))
    assert "2 meetings (60 minutes)" in page and "1 goal done" in page and "1 topic covered" in page


def test_the_program_page_says_when_the_words_go(app, session, program, login, client):
    pair = PairFactory(program=program)
    login(pair.mentee)
    deletes_on = retention.add_months(program.ends_on, 12)
    page = words(client.get(f"/pairs/{pair.id}/program"))
    assert f"is kept until {deletes_on.day} {deletes_on:%b %Y}, 12 months after the program's end" in page


def test_the_admin_sets_the_retention(app, session, program, login, client):
    login(AdminFactory())
    form = {
        "name": program.name,
        "starts_on": program.starts_on.isoformat(),
        "ends_on": program.ends_on.isoformat(),
        "feedback_every_weeks": "4",
        "privacy_threshold": "5",
        "retention_months": "6",
    }
    response = client.post(f"/admin/programs/{program.id}/settings", data=form)
    assert response.status_code in (200, 303)
    session.expire_all()
    assert session.get(Program, program.id).retention_months == 6
    bad = client.post(f"/admin/programs/{program.id}/settings", data=form | {"retention_months": "0"})
    assert bad.status_code == 422 and "from 1 to 120" in bad.text


def test_the_cli_drives_time(app, session, program):
    pair = PairFactory(program=program, mentor=UserFactory())
    session.add(Topic(pair_id=pair.id, text="Ibis-topic", added_by_role="mentee"))
    close_at_end(app, session, program)
    day = retention.add_months(program.ends_on, 12)
    result = app.test_cli_runner().invoke(args=["ending", "run", "--at", f"{day.isoformat()}T03:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "pairs whose words were deleted: 1; programs finished: 1" in result.output


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_months_are_calendar_months(day, months, expected):
    assert retention.add_months(day, months) == expected


def test_an_end_date_moved_into_the_past_never_deletes_words_the_pairs_had_no_time_to_keep(
    app, session, program, login, client
):
    """An end date typed a year or two in the past (2024 for 2026) makes the program's retention
    run out at once. The pairs close, as at any end, but their words stay for weeks after: time for
    the closing check-in, the closing reflections and an export; the program page says until when."""
    pair = PairFactory(program=program)
    fill(session, pair)
    program.ends_on = TODAY - timedelta(days=800)
    program.starts_on = program.ends_on - timedelta(days=200)
    session.flush()
    assert retention.deletes_on(program) < TODAY

    outcome = run(app, session, TODAY)
    assert outcome.closed_notices == 2 and outcome.pairs_deleted == 0
    session.refresh(pair, ["status"])
    assert pair.status == PairStatus.ENDED
    assert run(app, session, TODAY + timedelta(days=27)).pairs_deleted == 0
    for marker in MARKERS[:4]:
        assert holding(session.connection(), marker), f"{marker} went before its time"
    login(pair.mentee)
    kept_until = TODAY + retention.KEPT_AFTER_CLOSING
    page = words(client.get(f"/pairs/{pair.id}/program"))
    assert f"is kept until {kept_until.day} {kept_until:%b %Y}" in page

    assert run(app, session, TODAY + timedelta(days=28)).pairs_deleted == 1
    for marker in MARKERS:
        assert holding(session.connection(), marker) == [], marker


def test_a_retention_run_that_fails_half_way_leaves_all_or_nothing_and_the_next_one_finishes(
    app, session, program, monkeypatch
):
    pair = PairFactory(program=program)
    fill(session, pair)
    close_at_end(app, session, program)
    day = retention.add_months(program.ends_on, 12)

    def dropped(program_id):
        raise RuntimeError("connection dropped after the pairs, before the program")

    real = retention._delete_program_data
    monkeypatch.setattr(retention, "_delete_program_data", dropped)
    with pytest.raises(RuntimeError):
        run(app, session, day)
    session.expire_all()
    assert session.get(PairTally, pair.id) is None
    assert holding(session.connection(), MARKERS[0])  # the meeting's notes: not half deleted

    monkeypatch.setattr(retention, "_delete_program_data", real)
    assert run(app, session, day).pairs_deleted == 1
    assert holding(session.connection(), MARKERS[0]) == []
    assert session.get(PairTally, pair.id) is not None


def test_a_pair_closed_before_closings_had_a_moment_is_deleted_on_its_programs_day(app, session, program):
    """Pairs ended before the day pairs began to record when they closed (``ended_at`` empty) are
    not kept for ever: their words go on the program's day."""
    pair = PairFactory(program=program)
    session.add(Topic(pair_id=pair.id, text="Ibis-topic-old", added_by_role="mentee"))
    pair.status = PairStatus.ENDED
    session.flush()
    assert pair.ended_at is None
    assert retention.pair_deletes_on(pair) == retention.deletes_on(program)
    assert run(app, session, retention.deletes_on(program)).pairs_deleted == 1
