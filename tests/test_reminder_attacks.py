"""Reminders under attack: hostile names, hostile moments, a mail server that drops the line after
the message, and two reminder passes at the very same moment. The mail is caught where it would
reach the mail server (support.reminders.catch_mail) unless a test fakes the server itself."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import PairFactory, UserFactory
from sqlalchemy import func, select
from support.apps import committed_session, own_app
from support.parallel import at_once
from support.records import plan_in_person
from support.reminders import deliveries, run_pass

from app import mail
from app.extensions import db
from app.models import Delivery, Kind, State
from app.models.delivery import SUBJECT_MAX
from app.reminders import outbox, passes, sending

KOLKATA = ZoneInfo("Asia/Kolkata")
_NOW = datetime.now(UTC).isoformat()


def _nine_the_day_before(day: date) -> datetime:
    return datetime.combine(day - timedelta(days=1), time(9, 0), tzinfo=KOLKATA).astimezone(UTC)


def _plan(session, pair_id: int, starts_at: datetime) -> None:
    plan_in_person(session, pair_id, starts_at, planned_at=starts_at - timedelta(days=5))


def test_a_partner_named_with_line_breaks_cannot_add_headers_or_stop_the_reminder(app, session, sent_mail):
    """The admin types names (and a CSV cell can hold a line break): a name that carries CR/LF
    must neither add a header to the mail nor make the partner's reminder fail."""
    aisha = UserFactory(name="Aisha Khan", time_zone="Asia/Kolkata")
    hostile = UserFactory(name="Margaret\r\nBcc: spy@example.com\r\n Holloway", time_zone="Asia/Kolkata")
    pair = PairFactory(mentor=aisha, mentee=hostile)
    starts = datetime.combine(date.today() + timedelta(days=3), time(12, 0), tzinfo=UTC)
    _plan(session, pair.id, starts)

    run_pass(app, session, _nine_the_day_before(starts.astimezone(KOLKATA).date()))

    [to_aisha] = [m for m in sent_mail if m["To"] == aisha.email]
    assert to_aisha["Bcc"] is None
    assert "\r" not in to_aisha["Subject"] and "\n" not in to_aisha["Subject"]
    assert to_aisha["Subject"] == "You meet Margaret Bcc: spy@example.com Holloway tomorrow"
    assert "Bcc: spy" not in to_aisha.as_string().split("\n\n", 1)[0].replace(to_aisha["Subject"], "")
    states = {d.user_id: d.state for d in deliveries(session) if d.kind == Kind.MEETING_DAY_BEFORE}
    assert states[aisha.id] == State.SENT


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z", "9999-12-30T00:00:00Z"]
)
def test_a_moment_at_the_edge_of_the_calendar_is_refused_not_a_traceback(app, session, moment):
    runner = app.test_cli_runner()
    for extra in (["--dry-run"], []):
        result = runner.invoke(args=["reminders", "due", "--at", moment, *extra])
        assert result.exit_code == 2, result.output
        assert "between" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert deliveries(session) == []


class _DropsAfterTheMessage:
    """A mail server that takes the whole message, then the line goes before its "250 OK" arrives:
    the mail may well be on its way, and nobody can tell."""

    handed_over: list = []

    def __init__(self, *_args, **_kwargs) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        return None

    def ehlo(self) -> None:
        pass

    def has_extn(self, _name: str) -> bool:
        return False

    def send_message(self, message) -> None:
        self.handed_over.append(message)
        raise TimeoutError("timed out waiting for the reply to the message")


def test_a_mail_that_may_have_been_taken_is_reported_never_sent_twice(app, session, monkeypatch):
    """A timeout or a dropped line while the message itself is being handed over may come after
    the server took it: trying again could send a second copy. It is reported to operators."""
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://mail.invalid")
    monkeypatch.setattr(smtplib, "SMTP", _DropsAfterTheMessage)
    monkeypatch.setattr(_DropsAfterTheMessage, "handed_over", [])
    person = UserFactory()
    session.flush()
    with app.app_context():
        delivery_id = outbox.deliver_now(person.id, Kind.SECURITY, "passkey-added:1", what="passkey", at=_NOW)
        assert sending.send_one(delivery_id) is None  # the eager task already had it
    assert len(_DropsAfterTheMessage.handed_over) == 1
    [delivery] = deliveries(session)
    assert delivery.state == State.FAILED and delivery.attempts == 1
    assert "may have" in delivery.error
    with app.app_context():
        assert [d.id for d in passes.failed()] == [delivery.id]


def test_a_mail_server_that_refuses_before_the_message_is_still_tried_again(app, session, monkeypatch):
    """Refusals are certain: nothing was taken, so the usual retry stands."""
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://mail.invalid")

    def refused(*_args, **_kwargs):
        raise ConnectionRefusedError("nobody listening")

    monkeypatch.setattr(smtplib, "SMTP", refused)
    monkeypatch.setattr(sending, "MAX_ATTEMPTS", 2)
    person = UserFactory()
    session.flush()
    with app.app_context():
        outbox.deliver_now(person.id, Kind.SECURITY, "passkey-added:2", what="passkey", at=_NOW)
    [delivery] = deliveries(session)
    # Tried again at once (tasks run eagerly here), then failed after the last try.
    assert delivery.state == State.FAILED and delivery.attempts == 2
    assert "ConnectionRefusedError" in delivery.error
    assert issubclass(ConnectionRefusedError, mail.TRANSIENT)


def passes_at_once(app, at: datetime, count: int = 4) -> list:
    """``count`` reminder passes for the moment ``at``, each in its own thread and session, all at
    once: how many deliveries each added (or what it raised)."""

    def one_pass() -> int | None:
        with app.app_context():
            try:
                return passes.run(at).added
            finally:
                db.session.remove()

    return at_once(one_pass, [()] * count)


def test_two_passes_at_the_same_moment_on_their_own_connections_send_each_reminder_once(tmp_path, monkeypatch):
    """Two beats (or a beat and `reminders due`) at once, each in its own thread and session, on
    a database whose commits are real: each reminder is one delivery, handed over once."""
    handed_over: list = []
    monkeypatch.setattr(mail, "_deliver", lambda _url, message: handed_over.append(message["To"]))
    with own_app(tmp_path, MAIL_URL="smtp://mail.invalid") as app, committed_session(app) as session:
        starts = datetime.combine(date.today() + timedelta(days=3), time(12, 0), tzinfo=UTC)
        pairs = [
            PairFactory(mentor=UserFactory(time_zone="Asia/Kolkata"), mentee=UserFactory(time_zone="Asia/Kolkata"))
            for _ in range(5)
        ]
        session.flush()
        for pair in pairs:
            _plan(session, pair.id, starts)
        session.commit()
        at = _nine_the_day_before(starts.astimezone(KOLKATA).date())
        results = passes_at_once(app, at)

        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(results) == 10
        assert sorted(handed_over) == sorted([p.mentor.email for p in pairs] + [p.mentee.email for p in pairs])
        keys = session.execute(
            select(Delivery.user_id, Delivery.kind, Delivery.subject, Delivery.due_at, func.count())
            .group_by(Delivery.user_id, Delivery.kind, Delivery.subject, Delivery.due_at)
            .execution_options(populate_existing=True)
        ).all()
        assert len(keys) == 10 and {row[-1] for row in keys} == {1}
        states = session.scalars(select(Delivery.state).execution_options(populate_existing=True)).all()
        assert set(states) == {State.SENT}


def test_the_first_passes_ever_at_the_same_moment_all_finish(tmp_path):
    """On a fresh database nothing records the last run yet: passes started together (beat, and
    an operator's `reminders due`) each find no record and must not trip over each other's."""
    with own_app(tmp_path) as app:
        at = datetime.now(UTC)
        results = passes_at_once(app, at)

        assert results == [0, 0, 0, 0]
        with app.app_context():
            assert db.session.get(passes.ReminderRun, passes.RUN_NAME).covered_until == at


ODD = [
    "NULL",
    "null",
    '"quoted", {braced}, back\\slash',
    "Zoë ‮evil‬ 😀 \u2028 line\u2029",
    "\u0000 nul",
    "",
    "ﷺ" * 40,
]


ROWS = 3_000


def test_thousands_of_deliveries_with_nulls_odd_unicode_and_the_longest_subject_in_one_insert(app, session):
    """The pass's insert (on PostgreSQL, one array per column): every row stored as given, NULL
    moments as NULL, JSON details with quotes, braces, the word NULL, NUL and RTL marks intact,
    a subject of SUBJECT_MAX characters kept whole, and a key taken twice in one batch stored once.

    3,000 rows: on SQLite that is three of SQLAlchemy's insertmanyvalues pages of 1,000, the
    repeated keys in another page than their first; bench/reminders.py sends 49,360 through the
    same insert (10,000 here cost over a second of every run)."""
    person = UserFactory()
    session.flush()
    now = datetime.now(UTC).replace(microsecond=0)
    longest = "s" * (SUBJECT_MAX - 6)
    dues = [
        outbox.Due(
            person.id,
            Kind.MEETING_HOUR_BEFORE,
            f"{longest}{n:06d}",
            now,
            None if n % 2 else now + timedelta(hours=1),
            {"partner": ODD[n % len(ODD)], "pair": n, "shared": None},
        )
        for n in range(ROWS)
    ]
    with app.app_context():
        rows = [
            outbox.row(due, state=State.HELD, send_after=None if n % 3 else now, now=now) for n, due in enumerate(dues)
        ]
        added = outbox.add(rows + rows[:5])
        again = outbox.add(rows[:5])
        db.session.commit()
    assert len(added) == ROWS and again == []
    stored = {d.subject: d for d in deliveries(session)}
    assert len(stored) == ROWS
    for n in (0, 1, 2, 3, 4, 5, 6, 999, 1_000, ROWS - 1):
        d = stored[dues[n].subject]
        assert len(d.subject) == SUBJECT_MAX
        assert d.details == {"partner": ODD[n % len(ODD)], "pair": n, "shared": None}
        assert d.useful_until == dues[n].useful_until and d.send_after == (None if n % 3 else now)
        assert d.state == State.HELD and d.queued_at is None


def test_a_pass_that_fails_halfway_leaves_nothing_taken_and_the_next_covers_its_window(tmp_path, monkeypatch):
    """The database drops the line after the deliveries were inserted, before the commit: the
    pass fails, no delivery is taken and the window is not marked covered, so the next pass
    finds the same reminders and sends each once."""
    handed_over: list = []
    monkeypatch.setattr(mail, "_deliver", lambda _url, message: handed_over.append(message["To"]))
    with own_app(tmp_path, MAIL_URL="smtp://mail.invalid") as app, committed_session(app) as session:
        starts = datetime.combine(date.today() + timedelta(days=3), time(12, 0), tzinfo=UTC)
        pair = PairFactory(mentor=UserFactory(time_zone="Asia/Kolkata"), mentee=UserFactory(time_zone="Asia/Kolkata"))
        session.flush()
        _plan(session, pair.id, starts)
        session.commit()
        at = _nine_the_day_before(starts.astimezone(KOLKATA).date())

        def line_dropped(_now) -> None:
            raise ConnectionResetError("server closed the connection unexpectedly")

        with monkeypatch.context() as broken:
            broken.setattr(passes, "_forget_finished", line_dropped)
            with app.app_context(), pytest.raises(ConnectionResetError):
                passes.run(at)
        with app.app_context():
            assert db.session.scalars(select(Delivery)).all() == []
            assert db.session.get(passes.ReminderRun, passes.RUN_NAME) is None
        assert handed_over == []

        with app.app_context():
            assert passes.run(at + timedelta(minutes=1)).added == 2
            assert passes.run(at + timedelta(minutes=2)).added == 0
        assert sorted(handed_over) == sorted([pair.mentor.email, pair.mentee.email])
