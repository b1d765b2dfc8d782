"""SQLite under several workers: WAL, a busy timeout, and writes that never fail with "database is locked"."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text
from support.apps import make_app, reset_schema

from app.extensions import db
from app.models import User

WRITERS = 4
WRITES_EACH = 25


def test_read_then_write_transactions_from_parallel_workers_all_succeed(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/busy.sqlite3")
    reset_schema(app)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def worker(n: int) -> None:
        start.wait()
        for i in range(WRITES_EACH):
            # A POST that reads first and writes afterwards: the pattern that fails with a plain
            # deferred BEGIN as soon as another worker commits in between.
            with app.test_request_context("/", method="POST"):
                try:
                    db.session.scalar(select(func.count(User.id)))
                    time.sleep(0.002)
                    db.session.add(User(name=f"Writer {n}", email=f"w{n}-{i}@example.org"))
                    db.session.commit()
                except BaseException as error:  # noqa: BLE001  (any failure is the finding)
                    errors.append(error)
                    db.session.rollback()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == WRITERS * WRITES_EACH
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
