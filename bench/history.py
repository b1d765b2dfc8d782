"""How a pair's pages weigh and time as its history grows, in-process, and where their time goes.

    python bench/history.py [DATABASE_URL] [--requests 20] [--profile]

Seeds the demo and gives its first pair 2,000 meetings (an action item each, one in four still
open), 500 goals (three milestones each, across the four columns) and 2,000 open topics, then asks
for the home, the goal board, the meeting form and the journal through the test client, signed
in as the pair's mentee: the median time, the size of the page and its query count. With
``--profile``, cProfile over the same requests on the demo's ordinary data, the top functions by
cumulative time. Default database: a SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app import demo as demo_data  # noqa: E402
from app.auth import links  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ActionItem, Goal, GoalStatus, Meeting, Milestone, Role, Topic  # noqa: E402

MEETINGS, GOALS, TOPICS = 2_000, 500, 2_000
PAGES = {"home": "", "goal board": "/goals", "meeting form": "/journal/new", "journal": "/journal"}


def grow(pair) -> None:
    start = date.today() - timedelta(days=MEETINGS + 10)
    meetings = [
        Meeting(
            pair_id=pair.id, held_on=start + timedelta(days=n), notes=f"Notes of meeting {n}", author_id=pair.mentor.id
        )
        for n in range(MEETINGS)
    ]
    db.session.add_all(meetings)
    db.session.flush()
    db.session.add_all(
        ActionItem(pair_id=pair.id, meeting_id=m.id, text=f"Action of meeting {n}", done=n % 4 != 0)
        for n, m in enumerate(meetings)
    )
    goals = [
        Goal(
            pair_id=pair.id,
            learner=(Role.MENTEE, Role.MENTOR)[n % 2],
            title=f"Goal number {n}",
            why="Because it matters to how we work.",
            status=list(GoalStatus)[n % 4],
            created_by_id=pair.mentor.id,
            updated_by_id=pair.mentor.id,
        )
        for n in range(GOALS)
    ]
    db.session.add_all(goals)
    db.session.flush()
    db.session.add_all(
        Milestone(goal_id=g.id, pair_id=pair.id, title=f"Step {k}", position=k, done=k == 0)
        for g in goals
        for k in range(3)
    )
    db.session.add_all(
        Topic(pair_id=pair.id, text=f"Open topic {n}", added_by_id=pair.mentee.id, added_by_role=Role.MENTEE)
        for n in range(TOPICS)
    )
    db.session.commit()


def signed_in_client(app, user_id: int):
    from app.models import User

    with app.app_context():
        url = links.issue(db.session.get(User, user_id))
        db.session.commit()
    client = app.test_client()
    path = url.removeprefix(app.config["BASE_URL"])
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post(path, data={"csrf_token": token}).status_code in (302, 303)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="profile the pages on the demo's ordinary data")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="twoway-history-"))
    url = args.database_url or f"sqlite:///{scratch}/history.sqlite3"
    app = create_app(
        environ={
            "SECRET_KEY": "history-bench",
            "DATABASE_URL": url,
            "BASE_URL": "http://localhost",
            "CELERY_BROKER_URL": f"sqla+sqlite:///{scratch}/broker.sqlite3",
        }
    )
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        upgrade()
        _, pairs = demo_data.create_program(1, suffix="history")
        db.session.commit()
        pair_id, mentee_id = pairs[0].id, pairs[0].mentee.id
        if not args.profile:
            grow(pairs[0])
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = signed_in_client(app, mentee_id)
    try:
        if args.profile:
            profile(client, pair_id, args.requests)
        else:
            time_pages(client, pair_id, args.requests, statements)
    finally:
        if args.database_url:
            with app.app_context():
                downgrade(revision="base")


def time_pages(client, pair_id: int, requests: int, statements: list) -> None:
    print(f"{MEETINGS:,} meetings, {GOALS} goals, {TOPICS:,} open topics in one pair; median of {requests} requests")
    print("| page | ms | KB | queries |\n|---|---|---|---|")
    for name, path in PAGES.items():
        url = f"/pairs/{pair_id}{path}"
        client.get(url)
        times = []
        for _ in range(requests):
            statements.clear()
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        kb = len(response.data) / 1024
        print(f"| {name} | {statistics.median(times):.1f} | {kb:,.0f} | {len(statements)} |")


def profile(client, pair_id: int, requests: int) -> None:
    for name, path in PAGES.items():
        url = f"/pairs/{pair_id}{path}"
        client.get(url)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(requests):
            client.get(url)
        profiler.disable()
        print(f"\n=== {name}: {(time.perf_counter() - started) / requests * 1000:.1f} ms a request under the profiler")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
