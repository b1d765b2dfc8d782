"""Real worker and beat processes, started as the Procfile starts them: beat driving the reminder
pass over the embedded SQLite broker with no other service (what `make run` does), and a worker
killed with SIGKILL in the middle of a send, which must not lead to a second copy."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from factories import PairFactory, UserFactory
from sqlalchemy import select, update
from support.apps import committed_session, own_app
from support.limits import REDIS_URL, require_storage
from support.mailbox import Inbox, free_port
from support.processes import beat, environment, worker
from test_queue import RUN_QUEUE, queued_app, stuck_broker

from app.config import celery_settings
from app.extensions import db
from app.models import Delivery, Kind, NextMeeting, State, utcnow
from app.reminders import outbox, passes

# Two real Celery processes each: on the xdist worker that runs the browser tests, one at a time.
pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.long]


def test_beat_and_a_worker_send_reminders_over_the_embedded_broker(tmp_path):
    """`make run`'s three processes without a mail server: the reminder lands in the worker's log."""
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    with own_app(tmp_path, CELERY=celery_settings(broker, tmp_path)) as app:
        with committed_session(app) as session:
            pair = PairFactory(mentor=UserFactory(name="Aisha Khan"), mentee=UserFactory(name="Margaret Holloway"))
            # Planned just now for two hours ahead: the day-before reminder is due at once.
            session.add(NextMeeting(pair_id=pair.id, starts_at=utcnow() + timedelta(hours=2), place="Room 4.12"))
            session.commit()
        env = environment(
            app.config["SQLALCHEMY_DATABASE_URI"],
            broker,
            f"twoway-test-{uuid.uuid4().hex[:8]}",
            # A pass expires after one period, and the embedded broker is polled once a second, so
            # at one second nearly every pass arrived expired and was dropped (one in eight ran).
            REMINDER_PASS_SECONDS="2",
        )
        # Beat first, as the Procfile starts all three at once: the two start up side by side, and
        # a pass beat queues before the worker is ready waits in the broker for it.
        with beat(env, tmp_path / "beat-schedule"), worker(env) as working:
            # "today", or "tomorrow" when the two hours cross midnight.
            working.wait_for("Subject: You meet Margaret Holloway to")
            working.wait_for("Subject: You meet Aisha Khan to")
            assert "Room 4.12" in working.output()
            _wait_until(app, lambda: db.session.scalars(select(Delivery.state)).all() == [State.SENT, State.SENT])


def test_a_worker_killed_mid_send_leaves_a_reported_claim_and_no_second_copy(tmp_path):
    require_storage(REDIS_URL)
    queue = RUN_QUEUE
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with stuck_broker() as stalling_port, queued_app(tmp_path, REDIS_URL) as app:
            url = app.config["SQLALCHEMY_DATABASE_URI"]
            with committed_session(app) as session:
                first, second = UserFactory(name="Aisha Khan"), UserFactory(name="Margaret Holloway")
                session.commit()
                first_id, second_id, second_email = first.id, second.id, second.email

            # A mail server that accepts the connection and never says a word: the worker is stuck
            # in the middle of the send, where it is killed.
            stalled_env = environment(url, REDIS_URL, queue, MAIL_URL=f"smtp://127.0.0.1:{stalling_port}")
            with worker(stalled_env) as doomed:
                with app.app_context():
                    stuck = outbox.deliver_now(
                        first_id, Kind.SECURITY, "passkey:1", what="passkey", nickname="Phone", at=utcnow().isoformat()
                    )
                _wait_for_state(app, stuck, State.SENDING)
                doomed.kill()

            # A new worker, a mail server that works, and a sweep long after: nothing resends it.
            working_env = environment(url, REDIS_URL, queue, MAIL_URL=f"smtp://127.0.0.1:{smtp.port}")
            with worker(working_env):
                with app.app_context():
                    db.session.execute(update(Delivery).values(claimed_at=utcnow() - passes.SWEEP_AFTER * 2))
                    db.session.commit()
                    passes.run(utcnow())
                    # Queued after everything else: once it arrives, the worker has seen all before it.
                    last = outbox.deliver_now(
                        second_id,
                        Kind.SECURITY,
                        "passkey:2",
                        what="passkey",
                        nickname="Laptop",
                        at=utcnow().isoformat(),
                    )
                [envelope] = inbox.wait_for(1, 30)
                assert envelope.rcpt_tos == [second_email]
                _wait_for_state(app, last, State.SENT)
            with app.app_context():
                assert db.session.get(Delivery, stuck).state == State.SENDING
                assert [d.id for d in passes.failed()] == [stuck]
            assert len(inbox.envelopes) == 1
    finally:
        smtp.stop()


def _wait_until(app, condition, seconds: float = 30) -> None:
    """Until ``condition()``, asked in an app context on fresh reads, holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            db.session.expire_all()
            if condition():
                return
        time.sleep(0.05)
    raise AssertionError(f"{condition} never held within {seconds} s")


def _wait_for_state(app, delivery_id: int, state: State) -> None:
    _wait_until(app, lambda: db.session.get(Delivery, delivery_id).state == state)
