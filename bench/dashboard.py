"""How long making a dashboard snapshot takes, and rendering the dashboard, for 10,000 pairs.

A script, not a test: it seeds a fresh database in bulk (pairs with meetings, goals, ground-rule
signatures, departments and feedback scores), times publishing the weekly and the monthly
snapshot (measuring, noising, spending and storing; each timed run is rolled back, then both are
published for real), signs an admin in with Flask's test client and prints the median time of
several renders of the dashboard and of its CSV download, which only read the stored figures.

    .venv/bin/python bench/dashboard.py                        # a fresh SQLite file
    .venv/bin/python bench/dashboard.py postgresql://postgres@127.0.0.1:5432/postgres

With a PostgreSQL URL the script creates its own database on that server and drops it afterwards.
The goal: a render well under 100 ms (a read of stored figures); a snapshot is made once a week.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from _common import (
    insert_pairs,
    insert_returning_ids,
    insert_rows,
    main,
    make_app,
    recorded_statements,
    signed_in_client,
    time_get,
)

from app.admin import snapshots
from app.extensions import db
from app.models import (
    Agreement,
    AgreementSignature,
    FeedbackAnswer,
    Goal,
    GoalStatus,
    Meeting,
    Participant,
    Program,
    Prompt,
    PromptKind,
    PromptSet,
    Role,
    User,
)

DEPARTMENTS = ["Sales", "Engineering", "Finance", "People", "Legal", "Operations", "Marketing", "Support"]
GOAL_STATUSES = [GoalStatus.NOT_STARTED, GoalStatus.IN_PROGRESS, GoalStatus.DONE, GoalStatus.DROPPED]


def seed(pair_count: int) -> tuple[int, int]:
    """A program of ``pair_count`` pairs and an admin; returns (program id, admin id)."""
    today = date.today()
    now = datetime.now(UTC)
    program = Program(
        name="Bench cohort",
        starts_on=today - timedelta(days=180),
        ends_on=today + timedelta(days=180),
        privacy_threshold=5,
        # Room for the timed runs (each rolled back) and the two real snapshots.
        epsilon_per_year=1000.0,
    )
    admin = User(name="Bench Admin", email="bench-admin@example.org", is_admin=True, is_owner=True)
    db.session.add_all([program, admin])
    db.session.flush()
    prompt_set = PromptSet(program_id=program.id, name="Default")
    db.session.add(prompt_set)
    db.session.flush()
    prompts = [
        Prompt(prompt_set_id=prompt_set.id, position=i, text=words, kind=PromptKind.SCALE)
        for i, words in enumerate(
            ("How useful was our last meeting?", "I felt safe to be candid", "I learned something new from my partner")
        )
    ]
    db.session.add_all(prompts)
    db.session.flush()

    user_ids = insert_returning_ids(
        User,
        [
            {"name": f"Person {i}", "email": f"person{i}@bench.example", "webauthn_user_handle": uuid.uuid4().bytes * 2}
            for i in range(2 * pair_count)
        ],
    )
    pair_ids = insert_pairs([{"program_id": program.id} for _ in range(pair_count)], user_ids)
    insert_rows(
        Participant,
        [
            {
                "program_id": program.id,
                "user_id": user_ids[2 * i + r],
                "department": DEPARTMENTS[(i * 7 + r) % len(DEPARTMENTS)],
            }
            for i in range(pair_count)
            for r in (0, 1)
        ],
    )
    insert_rows(
        Meeting,
        [
            {
                "pair_id": p,
                "held_on": today - timedelta(days=(i % 40) + 14 * j),
                "notes": "Notes",
                "author_id": user_ids[2 * i],
            }
            for i, p in enumerate(pair_ids)
            for j in range(i % 8)
        ],
    )
    insert_rows(
        Goal,
        [
            {
                "pair_id": p,
                "learner": (Role.MENTOR, Role.MENTEE)[j % 2],
                "title": "A goal",
                "status": GOAL_STATUSES[(i + j) % 4],
            }
            for i, p in enumerate(pair_ids)
            for j in range(i % 4)
        ],
    )
    insert_rows(Agreement, [{"pair_id": p, "version": 2} for p in pair_ids])
    insert_rows(
        AgreementSignature,
        [
            {"pair_id": p, "user_id": user_ids[2 * i + r], "agreement_version": version}
            for i, p in enumerate(pair_ids)
            for version in (1, 2)[: 1 + i % 2]
            for r in ((0, 1) if i % 3 else (0,))
        ],
    )
    insert_rows(
        FeedbackAnswer,
        [
            {
                "pair_id": p,
                "round_key": f"week-{month}",
                "prompt_id": prompt.id,
                "user_id": user_ids[2 * i + r],
                "score": 1 + (i + month + r + n) % 5,
                "created_at": now - timedelta(days=30 * month + i % 25),
            }
            for i, p in enumerate(pair_ids)
            for month in range(6)
            for r in (0, 1)
            for n, prompt in enumerate(prompts)
            if (i + month) % 3
        ],
    )
    db.session.commit()
    return program.id, admin.id


def time_snapshots(program_id: int, runs: int) -> None:
    """Publish each kind of snapshot ``runs`` times, rolled back, then once for real."""
    today = date.today()
    for period in (snapshots.last_closed_week(today), snapshots.last_closed_month(today)):
        timings = []
        for _ in range(runs):
            program = db.session.get(Program, program_id)
            started = time.perf_counter()
            assert snapshots.publish_one(program, period).outcome == "published"
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        program = db.session.get(Program, program_id)
        with recorded_statements(db.engine) as statements:
            snapshots.publish_one(program, period)
        db.session.commit()
        print(
            f"{period.kind.value + ' snapshot':>16}: median {statistics.median(timings):6.1f} ms"
            f"  (min {min(timings):.1f}, max {max(timings):.1f}, {runs} runs; {len(statements)} queries)"
        )


def count_queries(app, client, url: str) -> int:
    """How many statements one request sends: the same at 10,000 pairs as at 100 (the suite pins
    it at 100 and 200; this is the same check at full size)."""
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def run(url: str, args: argparse.Namespace) -> None:
    pair_count, runs = args.pairs, args.runs
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        program_id, admin_id = seed(pair_count)
        print(f"seeded {pair_count:,} pairs in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})")
        time_snapshots(program_id, runs)
    client = signed_in_client(app, admin_id)
    for label, path in (("dashboard", "dashboard"), ("CSV download", "dashboard.csv")):
        timings = time_get(client, f"/admin/programs/{program_id}/{path}", runs)
        statements = count_queries(app, client, f"/admin/programs/{program_id}/{path}")
        print(
            f"{label:>16}: median {statistics.median(timings):6.1f} ms  (min {min(timings):.1f}, max {max(timings):.1f},"
            f" {runs} runs; {statements} queries)"
        )
    with app.app_context():
        db.engine.dispose()


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=9)


if __name__ == "__main__":
    main(__doc__, run, "dashboard", arguments)
