"""How long the reminder pass takes, and how many queries it sends, for 10,000 pairs.

A script, not a test: it seeds a fresh database in bulk with pairs as they are a few months into
a program (people on clocks around the world, meetings logged and planned, action items, ground
rules with rhythms and signatures, check-ins answered), then runs the reminder pass once for a
moment at which a day's worth of everything falls due: a check-in opening for every pair, meeting
and action reminders, ground rules waiting, quiet pairs. It prints the number of statements the
pass sent (a SQLAlchemy ``before_cursor_execute`` listener) and its time, then runs the same
moment again (everything already taken: nothing new), and the pass a minute later, as beat runs
it all day long.

    .venv/bin/python bench/reminders.py                        # a fresh SQLite file
    .venv/bin/python bench/reminders.py postgresql://postgres@127.0.0.1:5432/postgres
    BENCH_DATABASE_URL=postgresql://... .venv/bin/python bench/reminders.py

With a PostgreSQL URL the script creates its own database on that server and drops it afterwards.
Tasks go to Kombu's in-memory transport: the pass is measured, not the sending. The goal: a fixed
number of queries (the same at 1,000 pairs as at 10,000, but for the INSERT batches of many
deliveries) and under 10 s on both databases.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from _common import insert_pairs, insert_returning_ids, insert_rows, main, make_app, recorded_statements
from sqlalchemy import text

from app.extensions import db
from app.feedback.prompts import create_default_set
from app.models import (
    ActionItem,
    Agreement,
    AgreementSignature,
    Cadence,
    Channel,
    Clause,
    ClauseKind,
    FeedbackSubmission,
    Kind,
    Meeting,
    MeetingFormat,
    NextMeeting,
    NotificationPreference,
    Program,
    User,
)
from app.next_meeting.pace import grace_days
from app.reminders import passes

ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Singapore",
    "Australia/Sydney",
    "America/Sao_Paulo",
    None,  # not known yet: UTC
]
CADENCES = [Cadence.WEEKLY, Cadence.FORTNIGHTLY, Cadence.MONTHLY, Cadence.CUSTOM]
EVERY = {Cadence.WEEKLY: 7, Cadence.FORTNIGHTLY: 14, Cadence.MONTHLY: 30}
MINUTE = timedelta(minutes=1)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def seed(pair_count: int, today: date) -> None:
    """A program 12 weeks in, asking every four weeks (its week-3 check-in opens today), after
    each meeting, at the midpoint and at the end; ``pair_count`` pairs in it."""
    program = Program(
        name="Bench cohort",
        starts_on=today - timedelta(days=84),
        ends_on=today + timedelta(days=96),
        feedback_after_meeting=True,
        feedback_every_weeks=4,
        feedback_at_midpoint=True,
        feedback_at_end=True,
    )
    db.session.add(program)
    db.session.flush()
    create_default_set(program)

    user_ids = insert_returning_ids(
        User,
        [
            {
                "name": f"Person {n}",
                "email": f"person{n}@bench.example",
                "webauthn_user_handle": uuid.uuid4().bytes * 2,
                "time_zone": ZONES[n % len(ZONES)],
                # One in nine keeps quiet hours over the night.
                **({"quiet_from": clock(22, 0), "quiet_until": clock(7, 0)} if n % 9 == 0 else {}),
            }
            for n in range(2 * pair_count)
        ],
    )
    pair_ids = insert_pairs(
        [{"program_id": program.id, "created_at": _at(program.starts_on, 10)} for _ in range(pair_count)], user_ids
    )
    insert_rows(
        NotificationPreference,
        [
            {"user_id": user_ids[n], "kind": kind, "channel": channel}
            for n in range(0, 2 * pair_count, 5)
            for kind, channel in ((Kind.QUIET_PAIR, Channel.PUSH), (Kind.MEETING_HOUR_BEFORE, Channel.OFF))
        ],
    )

    # Ground rules: a rhythm (the cadences in turn), three clauses of their own words, agreed dates
    # for one pair in ten; version 1 or 2.
    cadence_of = [CADENCES[i % len(CADENCES)] for i in range(pair_count)]
    insert_rows(Agreement, [{"pair_id": p, "version": 1 + i % 2} for i, p in enumerate(pair_ids)])
    clauses = []
    for i, p in enumerate(pair_ids):
        clauses.append(
            {
                "pair_id": p,
                "kind": ClauseKind.RHYTHM,
                "title": "How often we meet",
                "fields": {"cadence": cadence_of[i].value, "custom": "", "length_minutes": 45},
                "position": 0,
            }
        )
        clauses += [
            {"pair_id": p, "kind": ClauseKind.TEXT, "title": f"Clause {c}", "body": "Our words.", "position": c}
            for c in (1, 2, 3)
        ]
        if i % 10 == 0:
            clauses.append(
                {
                    "pair_id": p,
                    "kind": ClauseKind.DATES,
                    "title": "Our dates",
                    "fields": {"midpoint": (today + timedelta(days=3)).isoformat(), "end": ""},
                    "position": 4,
                }
            )
    insert_rows(Clause, clauses)
    # Signatures: in one pair of four the mentee agreed two days ago and the mentor hasn't yet;
    # in another both agreed; the rest haven't signed.
    two_days_ago = _at(today - timedelta(days=2), 6, 30)
    insert_rows(
        AgreementSignature,
        [
            {"pair_id": p, "user_id": user_ids[2 * i + r], "agreement_version": 1 + i % 2, "agreed_at": two_days_ago}
            for i, p in enumerate(pair_ids)
            for r in ((1,) if i % 4 == 0 else (0, 1) if i % 4 == 1 else ())
        ],
    )

    # Meetings: up to six, a fortnight apart. One pair in seven last met exactly a rhythm and its
    # grace ago (they fall quiet today); one in five held a meeting today, logged this afternoon.
    meetings = []
    for i, p in enumerate(pair_ids):
        every = EVERY.get(cadence_of[i])
        if i % 7 == 0 and every:
            newest = today - timedelta(days=every + grace_days(every))
        elif i % 5 == 0:
            newest = today
        else:
            newest = today - timedelta(days=1 + i % 12)
        for j in range(1 + i % 6):
            held_on = newest - timedelta(days=14 * j)
            logged = _at(held_on, 14) if held_on == today else _at(held_on, 18)
            meetings.append(
                {
                    "pair_id": p,
                    "held_on": held_on,
                    "notes": "Notes",
                    "author_id": user_ids[2 * i],
                    "created_at": logged,
                    "updated_at": logged,
                }
            )
    meeting_ids = insert_returning_ids(Meeting, meetings)
    # Actions: two per meeting; the newest meeting's first action is due tomorrow for every
    # other pair (the mentor's, the mentee's or both's), some are done.
    actions = []
    seen: set[int] = set()
    for meeting_id, row in zip(meeting_ids, meetings, strict=True):
        p = row["pair_id"]
        i = p - pair_ids[0]
        first = p not in seen
        seen.add(p)
        for a in range(2):
            due = today + timedelta(days=1) if first and a == 0 and i % 2 == 0 else row["held_on"] + timedelta(days=7)
            owner = (user_ids[2 * i], user_ids[2 * i + 1], None)[(i + a) % 3]
            actions.append(
                {
                    "pair_id": p,
                    "meeting_id": meeting_id,
                    "text": "Something to do",
                    "owner_id": owner,
                    "due_on": due,
                    "done": (i + a) % 5 == 0,
                    "created_at": row["created_at"],
                }
            )
    insert_rows(ActionItem, actions)
    # The next meeting: planned for tomorrow afternoon by one pair in three.
    insert_rows(
        NextMeeting,
        [
            {
                "pair_id": p,
                "starts_at": _at(today + timedelta(days=1), 8 + i % 10),
                "timezone": "UTC",
                "length_minutes": 45,
                "format": MeetingFormat.VIDEO,
                "place": "Room 4.12",
                "updated_at": _at(today - timedelta(days=3), 12),
            }
            for i, p in enumerate(pair_ids)
            if i % 3 == 0
        ],
    )
    # Check-ins answered: both earlier four-weekly rounds by most, today's by a few early birds.
    insert_rows(
        FeedbackSubmission,
        [
            {"pair_id": p, "round_key": key, "user_id": user_ids[2 * i + r], "submitted_at": _at(today, 1)}
            for i, p in enumerate(pair_ids)
            for r in (0, 1)
            for key in ("week-1", "week-2", "week-3")
            if (key != "week-3" and (i + r) % 4) or (key == "week-3" and (i + r) % 10 == 0)
        ],
    )
    db.session.commit()


def run(url: str, args: argparse.Namespace) -> None:
    pair_count = args.pairs
    # The pass publishes its tasks; nothing here consumes them.
    app = make_app(url, CELERY_BROKER_URL="memory://")
    today = datetime.now(UTC).date()
    # Late in the UTC day: the first pass covers the 24 hours before, in which 09:00 came on
    # every clock from UTC-14 to UTC+9, and the week-3 check-in opened for everyone.
    at = _at(today, 23, 30)
    with app.app_context():
        started = time.perf_counter()
        seed(pair_count, today)
        # Statistics, as a database that has been in use has them (autovacuum's, or SQLite's
        # ANALYZE): without them, a freshly bulk-loaded PostgreSQL plans the window query over
        # meetings as if the tables were empty.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"seeded {pair_count:,} pairs in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})")
        engine = db.engine
        for label, moment in (("first pass", at), ("same moment again", at), ("a minute later", at + MINUTE)):
            with recorded_statements(engine) as statements:
                started, cpu = time.perf_counter(), time.process_time()
                outcome = passes.run(moment)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            inserts = sum(1 for s in statements if s.lstrip().upper().startswith("INSERT INTO DELIVERY"))
            print(
                f"{label:>18}: {seconds:5.2f} s (this process's CPU: {cpu:5.2f} s), {len(statements)} queries ({inserts} of them INSERTs of deliveries),"
                f" {len(outcome.planned):,} due, {outcome.added:,} new"
            )
            if label == "first pass":
                kinds = Counter(p.due.kind.value for p in outcome.planned)
                states = Counter(p.state.value for p in outcome.planned)
                print("                    by kind: " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))
                print("                    by state: " + ", ".join(f"{k} {n:,}" for k, n in sorted(states.items())))
            db.session.remove()
        db.engine.dispose()


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=int, default=10_000)


if __name__ == "__main__":
    main(__doc__, run, "reminders", arguments)
