"""The task queue for real: a Celery worker taking tasks from Redis (and from the embedded SQLite
broker), mailing through a real SMTP server; and a broker that is down or stuck, which must never
stop a page from answering. The rest of the suite runs tasks eagerly (support.apps.eager_tasks)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import kombu.transport.sqlalchemy
import pytest
from aiosmtpd.controller import Controller
from celery import signals
from celery.beat import ScheduleEntry, Scheduler
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy import create_engine, select, text
from support.apps import committed_session, own_app, run_name
from support.limits import REDIS_URL, require_storage
from support.mailbox import LINK, SENT_PAGE_TEXT, Inbox, free_port, smtp_inbox, text_of

from app import sealed
from app.auth import links
from app.config import BROKER_TIMEOUT_SECONDS, celery_settings
from app.models import ReminderRun, User
from app.queue import purge_consumed_messages
from app.reminders import outbox

# A queue of this run's and this xdist worker's own, so parallel workers, runs (or a stray Celery
# worker) on the same Redis never meet.
RUN_QUEUE = run_name("queue")
WAIT_SECONDS = 20


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    with smtp_inbox() as server:
        yield server


@contextmanager
def queued_app(
    tmp_path, broker_url: str, smtp: Controller | None = None, timeout_seconds: float = BROKER_TIMEOUT_SECONDS
) -> Iterator[Flask]:
    """An app whose tasks really go through ``broker_url`` (on this run's own queue), each wait
    for Redis bounded by ``timeout_seconds``."""
    settings = {
        **celery_settings(broker_url, tmp_path, timeout_seconds=timeout_seconds),
        "task_default_queue": RUN_QUEUE,
    }
    mail_url = f"smtp://{smtp.hostname}:{smtp.port}" if smtp else None
    with own_app(tmp_path, CELERY=settings, MAIL_URL=mail_url) as app:
        yield app


def _short_drain(self, connection, timeout=None):
    return _SQLALCHEMY_DRAIN(self, connection, timeout=0.1 if timeout is None else min(timeout, 0.1))


_SQLALCHEMY_DRAIN = kombu.transport.sqlalchemy.Transport.drain_events


@contextmanager
def worker_of(app: Flask):
    """A real Celery worker (in a thread of this process) consuming the app's queue.

    Its loop looks at its stop flag between two waits for the broker, and on Redis it closes by
    reading the answer to the wait in flight: one second each by default,
    two on the embedded broker (Celery's loop for a transport that polls). With waits of 0.1 s
    the thread ends at once instead of after one to four seconds; what it does with a task is
    unchanged."""
    celery = app.extensions["celery"]
    if celery.conf.broker_url.startswith("redis"):
        # Kombu's Redis transport takes its BRPOP timeout from this option.
        celery.conf.broker_transport_options = {**celery.conf.broker_transport_options, "polling_interval": 0.1}
    with (
        mock.patch.object(kombu.transport.sqlalchemy.Transport, "drain_events", _short_drain),
        start_worker(celery, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=15),
    ):
        yield


@contextmanager
def published() -> Iterator[list[tuple[str, list]]]:
    """The (task name, arguments) of every task published meanwhile, as the broker receives them."""
    seen: list[tuple[str, list]] = []

    def record(sender=None, body=None, **_kwargs) -> None:
        args = body[0] if isinstance(body, tuple | list) else body.get("args")
        seen.append((sender, list(args)))

    signals.before_task_publish.connect(record, weak=False)
    try:
        yield seen
    finally:
        signals.before_task_publish.disconnect(record)


def add_person(app: Flask, name: str, email: str) -> None:
    with committed_session(app) as session:
        session.add(User(name=name, email=email))
        session.commit()


def ask_for_link(app: Flask, email: str) -> None:
    response = app.test_client().post("/auth/sign-in/link", data={"email": email}, follow_redirects=True)
    assert response.status_code == 200
    assert SENT_PAGE_TEXT in response.text


@pytest.fixture
def redis_broker() -> str:
    require_storage(REDIS_URL)
    return REDIS_URL


def test_a_worker_on_redis_mails_the_sign_in_link(tmp_path, redis_broker, smtp):
    controller, inbox = smtp
    with queued_app(tmp_path, redis_broker, controller) as app, worker_of(app):
        add_person(app, "Amara Okafor", "amara@example.org")
        ask_for_link(app, "AMARA@Example.org")
        [envelope] = inbox.wait_for(1, WAIT_SECONDS)
        assert envelope.rcpt_tos == ["amara@example.org"]
        [message] = inbox.messages()
        assert message["Subject"] == "Your Twoway sign-in link"
        [link] = LINK.findall(text_of(message))
        # The link the worker issued is a working one.
        assert "Continue as Amara Okafor" in app.test_client().get(link).text


def test_known_and_unknown_addresses_queue_the_same_task(tmp_path, redis_broker, smtp):
    """The request can't tell who is known, so it can't behave differently: both queue the sign-in
    task with the typed address sealed (the broker never holds an address), and only the worker
    finds out there is nobody to mail. What the worker then queues carries delivery ids only."""
    controller, inbox = smtp
    with queued_app(tmp_path, redis_broker, controller) as app, worker_of(app):
        add_person(app, "Tomás Ruiz", "tomas@example.org")
        with published() as seen:
            ask_for_link(app, "Tomas@Example.org")
            ask_for_link(app, "nobody-here@example.org")
            [envelope] = inbox.wait_for(1, WAIT_SECONDS)
        with app.app_context():
            asked = [
                sealed.unseal(links.SEALED_PURPOSE, args[0])
                for name, args in seen
                if name == "twoway.mail_sign_in_link"
            ]
    assert envelope.rcpt_tos == ["tomas@example.org"]
    assert asked == [
        {"email": "tomas@example.org", "next": None, "program": None},
        {"email": "nobody-here@example.org", "next": None, "program": None},
    ]
    # Nothing on the broker reads as an address or a link.
    assert "example.org" not in repr(seen) and "/auth/link/" not in repr(seen)
    # Then, in the worker, one delivery for the known address, and none for the unknown one.
    sends = [args for name, args in seen if name == "twoway.send_deliveries"]
    assert len(sends) == 1 and all(isinstance(i, int) for i in sends[0][0])
    assert len(seen) == 3


def test_the_embedded_sqlite_broker_carries_tasks_and_forgets_them(tmp_path, smtp, monkeypatch):
    controller, inbox = smtp
    # A worker polls the embedded broker once a second, so each task (the sign-in, then its mail)
    # would wait up to a second here. Not through broker_transport_options: that transport hands
    # them to create_engine, which refuses the key.
    monkeypatch.setattr(kombu.transport.sqlalchemy.Transport, "polling_interval", 0.05)
    broker_file = tmp_path / "celery-broker.sqlite3"
    with queued_app(tmp_path, f"sqla+sqlite:///{broker_file}", controller) as app, worker_of(app):
        add_person(app, "Lena Park", "lena@example.org")
        ask_for_link(app, "lena@example.org")
        [envelope] = inbox.wait_for(1, WAIT_SECONDS)
        assert envelope.rcpt_tos == ["lena@example.org"]

        # Kombu's SQLAlchemy transport keeps what it handed out, link and all, until it is purged.
        broker = create_engine(f"sqlite:///{broker_file}")
        with broker.connect() as connection:
            kept = connection.scalar(text("SELECT count(*) FROM kombu_message WHERE NOT visible"))
        assert kept == 2  # the sign-in task and its mail
        with app.app_context():
            assert purge_consumed_messages.run() == 2
        with broker.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM kombu_message")) == 0
        broker.dispose()


@contextmanager
def refused_port() -> Iterator[int]:
    """A port nothing listens on: a Redis that is down."""
    yield free_port()


@contextmanager
def stuck_broker() -> Iterator[int]:
    """A port that accepts connections and never says a word: a Redis that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def broken_broker(kind: str, tmp_path) -> Iterator[str]:
    if kind == "embedded file lost":
        yield f"sqla+sqlite:///{tmp_path}/no-such-folder/celery-broker.sqlite3"
        return
    with refused_port() if kind == "redis down" else stuck_broker() as port:
        yield f"redis://127.0.0.1:{port}/0"


# The broken-broker tests wait this long for Redis instead of production's 0.5 s: the bound they
# prove comes from the same settings (app.config.celery_settings), only each wait is shorter.
STUCK_TIMEOUT_SECONDS = 0.1


@pytest.mark.parametrize("broker", ["redis down", "redis stuck", "embedded file lost"])
def test_a_broker_that_is_down_or_stuck_never_stops_the_sign_in_page(tmp_path, broker):
    """The page answers as usual, in bounded time; the mail is not sent and the error is logged
    (the person can ask again)."""
    log = Recorded()
    with broken_broker(broker, tmp_path) as broker_url:
        with queued_app(tmp_path, broker_url, timeout_seconds=STUCK_TIMEOUT_SECONDS) as app:
            # Attached after the migrations ran: they rebuild the root logger's handlers.
            app.logger.disabled = False
            app.logger.addHandler(log)
            add_person(app, "Ines Duarte", "ines@example.org")
            started = time.monotonic()
            try:
                ask_for_link(app, "ines@example.org")
            finally:
                app.logger.removeHandler(log)
            took = time.monotonic() - started
    # Bounded: three tries of 0.1 s timeouts (0.5 s in production, under 2 s) make well under a
    # second; without those bounds a stuck Redis holds the request for good. The margin is for a
    # busy machine, never for a hang.
    assert took < 10, f"the sign-in page took {took:.1f} s with the broker {broker}"
    assert log.lines == ["The task queue is unreachable: twoway.mail_sign_in_link was not queued"]


@pytest.mark.parametrize("broker", ["redis down", "redis stuck"])
def test_a_pass_whose_broker_is_stuck_tries_once_and_leaves_the_rest_to_the_sweep(tmp_path, broker):
    """A pass that found a thousand deliveries hands them over in ten tasks. With the broker stuck
    each try costs its timeouts: after the first refusal the pass stops trying (the rows stay
    queued, and a later pass's sweep hands them over), so the worker is free again within
    seconds, not after ten times the wait, and the log says so once."""
    log = Recorded()
    with (
        broken_broker(broker, tmp_path) as broker_url,
        queued_app(tmp_path, broker_url, timeout_seconds=STUCK_TIMEOUT_SECONDS) as app,
    ):
        app.logger.disabled = False
        app.logger.addHandler(log)
        started = time.monotonic()
        try:
            with app.app_context():
                outbox.queue_sending(list(range(1, 10 * outbox.TASK_BATCH + 1)))
        finally:
            app.logger.removeHandler(log)
        took = time.monotonic() - started
    assert log.lines == ["The task queue is unreachable: twoway.send_deliveries was not queued"]
    # One try costs about 0.25 s here (its timeouts, and 0.2 s between its retries); ten cost at
    # least 2 s, the retry policy's sleeps alone.
    assert took < 1.5, f"handing over ten tasks took {took:.1f} s with the broker {broker}"


def test_passes_beat_queued_while_no_worker_ran_are_skipped_not_run_in_a_row(tmp_path, redis_broker, smtp):
    """Beat publishes a pass every period whether a worker is up or not. After an outage the
    worker must not run hours of stale passes back to back ahead of a sign-in mail: a pass that
    waited longer than its period is skipped (the next one covers its window, from the last
    pass's moment), and the sign-in link queued behind them goes out at once."""
    controller, inbox = smtp
    period = 0.5
    settings = {**celery_settings(redis_broker, tmp_path, pass_seconds=period), "task_default_queue": RUN_QUEUE}
    with own_app(tmp_path, CELERY=settings, MAIL_URL=f"smtp://{controller.hostname}:{controller.port}") as app:
        celery_app = app.extensions["celery"]
        entry = ScheduleEntry(name="reminders-due", app=celery_app, **celery_app.conf.beat_schedule["reminders-due"])
        scheduler = Scheduler(celery_app, lazy=True)
        for _ in range(5):  # beat, while the worker is down
            scheduler.apply_async(entry)
        stale_from = time.monotonic() + period
        while time.monotonic() < stale_from:  # the outage outlasts a period
            time.sleep(0.05)
        add_person(app, "Ada Mensah", "ada@example.org")
        with worker_of(app):
            ask_for_link(app, "ada@example.org")
            [envelope] = inbox.wait_for(1, WAIT_SECONDS)
        assert envelope.rcpt_tos == ["ada@example.org"]
        with committed_session(app) as session:
            assert session.scalars(select(ReminderRun)).all() == []
