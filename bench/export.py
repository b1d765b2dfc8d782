"""How long a person's data export takes, how big it is and how much memory building it needs,
for a long-running pair: 2,000 meetings (each with notes and both people's reflections), 500
goals with three milestones each, 2,000 topics and 2,000 action items.

A script, not a test: it seeds a fresh database in bulk and builds the mentee's export as the
worker does (``app.export.builder.build``), printing the time, the ZIP's size, the peak of
Python's memory while building (tracemalloc) and the number of queries. ``--scale 2`` doubles
every count: the queries stay the same, and the memory should barely move.

    .venv/bin/python bench/export.py                        # a fresh SQLite file
    .venv/bin/python bench/export.py postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/export.py --scale 2

With a PostgreSQL URL the script creates its own database on that server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path

from _common import insert_returning_ids, main, make_app
from sqlalchemy import event

from app.export import builder
from app.extensions import db
from app.models import (
    EXPORT_KEPT_FOR,
    ActionItem,
    Agreement,
    AgreementSignature,
    Clause,
    DataExport,
    Goal,
    Meeting,
    Milestone,
    Pair,
    PairMember,
    Program,
    Reflection,
    Role,
    Topic,
    User,
    utcnow,
)

WORDS = (
    "we went through the new expense tool together practised approval flow team channel onboarding "
    "feedback candid kind next time deck share slides manager hire culture promotion learned taught"
).split()


def prose(seed: int, words: int) -> str:
    """Words in an order of their own for each seed, so the ZIP compresses like real notes."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed(meetings: int, goals: int, topics: int) -> int:
    """One pair with a long history; returns the mentee's id."""
    today = date.today()
    program = Program(name="Bench cohort", starts_on=today - timedelta(days=3000), ends_on=today + timedelta(days=30))
    mentor = User(name="Aisha Khan", email="aisha@bench.example", webauthn_user_handle=uuid.uuid4().bytes * 2)
    mentee = User(name="Margaret Holloway", email="margaret@bench.example", webauthn_user_handle=uuid.uuid4().bytes * 2)
    db.session.add_all([program, mentor, mentee])
    db.session.flush()
    pair = Pair(program_id=program.id)
    db.session.add(pair)
    db.session.flush()
    db.session.add_all(
        [
            PairMember(pair_id=pair.id, user_id=mentor.id, role=Role.MENTOR),
            PairMember(pair_id=pair.id, user_id=mentee.id, role=Role.MENTEE),
            Agreement(pair_id=pair.id, version=3),
        ]
    )
    db.session.flush()
    insert_returning_ids(
        Clause,
        [
            {"pair_id": pair.id, "title": f"Clause {n}", "body": "We agree to be candid and kind. " * 5, "position": n}
            for n in range(8)
        ],
    )
    insert_returning_ids(
        AgreementSignature,
        [{"pair_id": pair.id, "user_id": who, "agreement_version": 3} for who in (mentor.id, mentee.id)],
    )
    goal_ids = insert_returning_ids(
        Goal,
        [
            {
                "pair_id": pair.id,
                "learner": (Role.MENTOR, Role.MENTEE)[n % 2],
                "title": f"Goal {n}: run a channel people read",
                "why": "Because the team lives there. " * 4,
            }
            for n in range(goals)
        ],
    )
    insert_returning_ids(
        Milestone,
        [
            {"goal_id": g, "pair_id": pair.id, "title": f"Milestone {m}", "position": m, "done": m == 0}
            for g in goal_ids
            for m in range(3)
        ],
    )
    start = today - timedelta(days=meetings)
    meeting_ids = insert_returning_ids(
        Meeting,
        [
            {
                "pair_id": pair.id,
                "held_on": start + timedelta(days=n),
                "notes": prose(n, 150),
                "author_id": (mentor.id, mentee.id)[n % 2],
                "length_minutes": 45,
            }
            for n in range(meetings)
        ],
    )
    insert_returning_ids(
        Topic,
        [
            {
                "pair_id": pair.id,
                "text": f"Topic {n}: how new hires see onboarding",
                "added_by_id": mentee.id,
                "added_by_role": Role.MENTEE,
                "meeting_id": meeting_ids[n % len(meeting_ids)] if n % 20 else None,
            }
            for n in range(topics)
        ],
    )
    insert_returning_ids(
        ActionItem,
        [
            {"pair_id": pair.id, "meeting_id": m, "text": "Share the deck with the team", "owner_id": mentee.id}
            for m in meeting_ids
        ],
    )
    insert_returning_ids(
        Reflection,
        [
            {"meeting_id": m, "pair_id": pair.id, "author_id": who, "body": prose(m * 2 + who, 100)}
            for m in meeting_ids
            for who in (mentor.id, mentee.id)
        ],
    )
    db.session.commit()
    return mentee.id


def measure(app, user_id: int, runs: int) -> None:
    """``runs`` timed builds, then one more under tracemalloc (which slows Python down) for memory."""
    folder = Path(tempfile.mkdtemp(prefix="twoway-bench-exports-"))
    statements: list[int] = []

    def listener(*_args) -> None:
        statements.append(1)

    with app.app_context():
        rows = builder.count_rows(user_id)
        print(f"rows counted: {rows:,} (built by the request up to {app.config['EXPORT_IN_REQUEST_ROWS']:,})")

        def build(traced: bool) -> tuple[float, int, int, int]:
            # Loaded again after the last run's rollback, before the queries are counted.
            user = db.session.get(User, user_id)
            now = utcnow()
            export = DataExport(user_id=user_id, rows=rows, created_at=now, expires_at=now + EXPORT_KEPT_FOR)
            db.session.add(export)
            db.session.flush()
            statements.clear()
            event.listen(db.engine, "before_cursor_execute", listener)
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            size = builder.build(export, user, folder)
            took = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if traced else 0
            if traced:
                tracemalloc.stop()
            event.remove(db.engine, "before_cursor_execute", listener)
            (folder / export.file_name).unlink()
            db.session.rollback()
            return took, size, peak, len(statements)

        timings = []
        for _ in range(runs):
            took, size, _peak, queries = build(traced=False)
            timings.append(took)
        _took, _size, peak, _queries = build(traced=True)
        print(
            f"export: median {statistics.median(timings):.2f} s (min {min(timings):.2f}, max {max(timings):.2f},"
            f" {runs} runs); ZIP {size / 1e6:.2f} MB; peak Python memory {peak / 1e6:.1f} MB; {queries} queries"
        )
    folder.rmdir()


def run(url: str, args: argparse.Namespace) -> None:
    scale, runs = args.scale, args.runs
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        user_id = seed(2_000 * scale, 500 * scale, 2_000 * scale)
        print(
            f"seeded {2_000 * scale:,} meetings, {500 * scale:,} goals, {2_000 * scale:,} topics"
            f" in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})"
        )
    measure(app, user_id, runs)
    with app.app_context():
        db.engine.dispose()


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale", type=int, default=1, help="multiply every count (2: twice the history)")
    parser.add_argument("--runs", type=int, default=3)


if __name__ == "__main__":
    main(__doc__, run, "export", arguments)
