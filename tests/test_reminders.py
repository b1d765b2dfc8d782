"""Reminders: found by the pass for a driven moment, taken once under their key, held by quiet
hours, sent by the person's channel, and turned off with one click. The mail is caught where it
would reach the mail server (support.reminders.catch_mail); tasks run eagerly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import AdminFactory, PairFactory, UserFactory
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from support.apps import clients_of, committed_session, own_app
from support.mailbox import text_of
from support.parallel import at_once
from support.reminders import deliveries, run_pass, to

from app import queue
from app.extensions import db
from app.models import (
    Channel,
    Delivery,
    HelpRequest,
    Kind,
    MeetingFormat,
    NextMeeting,
    NotificationPreference,
    Pair,
    PairStatus,
    Role,
    State,
    Topic,
    User,
)
from app.reminders import outbox, passes, preferences, sending
from app.reminders.kinds import optional_kinds

BERLIN, KOLKATA, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


@pytest.fixture
def people(session):
    """Aisha in Kolkata and Margaret in New York, three days before they meet."""
    mentor = UserFactory(name="Aisha Khan", time_zone="Asia/Kolkata")
    mentee = UserFactory(name="Margaret Holloway", time_zone="America/New_York")
    return People(PairFactory(mentor=mentor, mentee=mentee).id, mentor, mentee)


@dataclass(frozen=True)
class People:
    """The pair's id and its two people (held here: expiring the session must not make the test
    load a relationship)."""

    id: int
    mentor: User
    mentee: User


def plan(
    session, pair, starts_at: datetime, place: str = "Room 4.12", planned_at: datetime | None = None
) -> NextMeeting:
    planned = session.get(NextMeeting, pair.id)
    if planned is None:
        planned = NextMeeting(pair_id=pair.id)
        session.add(planned)
    planned.starts_at = starts_at
    planned.place = place
    planned.format = MeetingFormat.IN_PERSON
    planned.updated_at = planned_at or datetime.now(UTC) - timedelta(days=2)
    session.flush()
    return planned


def meeting_day() -> date:
    return date.today() + timedelta(days=3)


def test_the_day_before_at_nine_on_each_persons_own_clock(app, session, people, sent_mail):
    pair = people
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, starts)
    aisha_nine = local(meeting_day() - timedelta(days=1), 9, 0, KOLKATA)
    margaret_nine = local(meeting_day() - timedelta(days=1), 9, 0, NEW_YORK)

    run_pass(app, session, aisha_nine - timedelta(minutes=1))
    assert sent_mail == []
    run_pass(app, session, aisha_nine)
    [aisha_mail] = sent_mail
    assert aisha_mail["To"] == pair.mentor.email
    assert aisha_mail["Subject"] == "You meet Margaret Holloway tomorrow"
    body = text_of(aisha_mail)
    # On her own clock: 15:00 UTC is 20:30 in Kolkata.
    assert "at 20:30 (IST)" in body and "Room 4.12" in body and "in person" in body

    run_pass(app, session, aisha_nine)  # the same moment again: a second beat, a re-run
    run_pass(app, session, margaret_nine - timedelta(seconds=1))
    assert len(sent_mail) == 1
    run_pass(app, session, margaret_nine)
    assert [m["To"] for m in sent_mail] == [pair.mentor.email, pair.mentee.email]
    assert "at 10:00 (EST)" in text_of(sent_mail[1])
    run_pass(app, session, margaret_nine + timedelta(minutes=1))
    assert len(sent_mail) == 2
    assert {(d.user_id, d.kind, d.state) for d in deliveries(session)} == {
        (pair.mentor.id, Kind.MEETING_DAY_BEFORE, State.SENT),
        (pair.mentee.id, Kind.MEETING_DAY_BEFORE, State.SENT),
    }


def test_an_hour_before_and_never_what_the_pair_wrote(app, session, people, sent_mail):
    pair = people
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, starts, place="Café Nero, Bank St")
    session.add(Topic(pair_id=pair.id, text="My manager keeps interrupting me", added_by_role=Role.MENTEE))
    run_pass(app, session, starts - timedelta(hours=2))
    sent_mail.clear()  # the day-before ones
    run_pass(app, session, starts - timedelta(hours=1, seconds=1))
    assert sent_mail == []
    run_pass(app, session, starts - timedelta(hours=1))
    assert sorted(m["Subject"] for m in sent_mail) == [
        "You meet Aisha Khan in an hour",
        "You meet Margaret Holloway in an hour",
    ]
    for message in sent_mail:
        whole = message.as_string()
        assert "Café Nero, Bank St" in text_of(message)
        assert "interrupting" not in whole
    run_pass(app, session, starts - timedelta(minutes=30))
    assert len(sent_mail) == 2


def test_a_meeting_planned_after_the_reminders_moment_is_reminded_of_at_once_and_only_once(
    app, session, people, sent_mail
):
    pair = people
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    evening = local(meeting_day() - timedelta(days=1), 18, 0, KOLKATA)  # after Aisha's 09:00
    run_pass(app, session, evening - timedelta(minutes=10))
    plan(session, pair, starts, planned_at=evening)
    run_pass(app, session, evening + timedelta(minutes=1))
    assert [m["To"] for m in sent_mail] == [pair.mentor.email]
    # Changing the place later is not a new meeting: no second reminder.
    plan(session, pair, starts, place="Room 2.01", planned_at=evening + timedelta(hours=1))
    run_pass(app, session, evening + timedelta(hours=1, minutes=1))
    assert [m["To"] for m in sent_mail] == [pair.mentor.email]


def test_a_meeting_planned_within_the_hour_gets_only_the_hour_before_reminder(app, session, people, sent_mail):
    pair = people
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=40)
    plan(session, pair, starts, planned_at=starts - timedelta(minutes=40))
    run_pass(app, session, starts - timedelta(minutes=39))
    assert sorted(m["Subject"] for m in sent_mail) == [
        "You meet Aisha Khan in an hour",
        "You meet Margaret Holloway in an hour",
    ]


def test_a_meeting_planned_for_today_is_not_called_tomorrow(app, session, people, sent_mail):
    pair = people
    starts = local(meeting_day(), 20, 0, KOLKATA)
    planned_at = local(meeting_day(), 10, 0, KOLKATA)  # that same morning, after her 09:00
    plan(session, pair, starts, planned_at=planned_at)
    run_pass(app, session, planned_at + timedelta(minutes=1))
    [message] = to(sent_mail, pair.mentor.email)
    assert message["Subject"] == "You meet Margaret Holloway today"


def test_a_moved_meeting_is_reminded_of_at_its_new_time_and_never_at_the_old(app, session, people, sent_mail):
    pair = people
    old = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, old)
    # Margaret keeps quiet hours over her 09:00, so her reminder is held...
    margaret = pair.mentee
    margaret.quiet_from, margaret.quiet_until = time(8, 0), time(9, 30)
    nine = local(meeting_day() - timedelta(days=1), 9, 0, NEW_YORK)
    run_pass(app, session, nine)
    [held] = [d for d in deliveries(session) if d.user_id == margaret.id]
    assert held.state == State.HELD and held.send_after == local(meeting_day() - timedelta(days=1), 9, 30, NEW_YORK)
    # ...and meanwhile the meeting moves to the day after.
    plan(session, pair, old + timedelta(days=1), planned_at=nine + timedelta(minutes=5))
    run_pass(app, session, nine + timedelta(minutes=30))
    assert to(sent_mail, margaret.email) == []
    session.refresh(held)
    assert held.state == State.DROPPED and held.error == "no longer true"


def test_a_meeting_reminder_held_while_the_pair_ended_is_never_sent(app, session, people, sent_mail):
    """Held by quiet hours, then the pair ends: the plan is still stored, but the reminder (with
    its time and place) is no longer true, as for every other kind of pair reminder."""
    pair = people
    plan(session, pair, local(meeting_day(), 15, 0, ZoneInfo("UTC")))
    margaret = pair.mentee
    margaret.quiet_from, margaret.quiet_until = time(8, 0), time(9, 30)
    nine = local(meeting_day() - timedelta(days=1), 9, 0, NEW_YORK)
    run_pass(app, session, nine)
    [held] = [d for d in deliveries(session) if d.user_id == margaret.id]
    assert held.state == State.HELD
    session.get(Pair, pair.id).status = PairStatus.ENDED
    run_pass(app, session, nine + timedelta(minutes=30))
    assert to(sent_mail, margaret.email) == []
    session.refresh(held)
    assert held.state == State.DROPPED and held.error == "no longer true"


def test_quiet_hours_hold_through_the_hour_that_comes_twice_when_clocks_go_back(app, session, people, sent_mail):
    """On 31 October 2027 Berlin's clocks go back from 03:00 to 02:00, so 02:10 comes twice.
    Quiet hours 01:00-02:30 hold a reminder due at the second 02:10 until the second 02:30 (the
    clock on the wall), not until the first one, half an hour earlier, as if they had ended."""
    pair = people
    margaret = pair.mentee
    margaret.time_zone = "Europe/Berlin"
    margaret.quiet_from, margaret.quiet_until = time(1, 0), time(2, 30)
    second_ten_past_two = datetime(2027, 10, 31, 1, 10, tzinfo=UTC)
    assert second_ten_past_two.astimezone(BERLIN).strftime("%H:%M %Z") == "02:10 CET"
    plan(session, pair, second_ten_past_two + timedelta(hours=1), planned_at=second_ten_past_two - timedelta(days=5))
    run_pass(app, session, second_ten_past_two)
    [held] = [d for d in deliveries(session) if d.user_id == margaret.id and d.kind == Kind.MEETING_HOUR_BEFORE]
    assert held.state == State.HELD
    assert held.send_after.astimezone(BERLIN).strftime("%d %H:%M %Z") == "31 02:30 CET"
    assert to(sent_mail, margaret.email) == []


def test_setting_ones_time_zone_after_the_reminder_came_does_not_bring_it_twice(app, session, people, sent_mail):
    """Margaret had no time zone (UTC), so her day-before reminder came at 09:00 UTC; she then
    sets New York, where 09:00 comes five hours later. "Each reminder kind arrives once"."""
    pair = people
    margaret = pair.mentee
    margaret.time_zone = None
    plan(session, pair, local(meeting_day(), 15, 0, ZoneInfo("UTC")))
    nine_utc = local(meeting_day() - timedelta(days=1), 9, 0, ZoneInfo("UTC"))
    run_pass(app, session, nine_utc)
    assert len(to(sent_mail, margaret.email)) == 1
    margaret.time_zone = "America/New_York"
    for minutes in range(60, 6 * 60, 60):
        run_pass(app, session, nine_utc + timedelta(minutes=minutes))
    assert len(to(sent_mail, margaret.email)) == 1
    again = [d for d in deliveries(session) if d.user_id == margaret.id and d.state == State.DROPPED]
    assert [d.error for d in again] == ["already sent under another moment"]


def test_quiet_hours_hold_a_reminder_until_they_end_or_drop_it_if_too_late(app, session, people, sent_mail):
    pair = people
    margaret = pair.mentee
    margaret.quiet_from, margaret.quiet_until = time(22, 0), time(7, 0)  # wraps past midnight
    early = local(meeting_day(), 7, 30, NEW_YORK)
    plan(session, pair, early)
    run_pass(app, session, early - timedelta(hours=2))  # both day-before reminders, long sent
    sent_mail.clear()
    run_pass(app, session, early - timedelta(hours=1))  # 06:30 in New York: quiet
    assert to(sent_mail, margaret.email) == []
    assert len(to(sent_mail, pair.mentor.email)) == 1  # Aisha keeps no quiet hours
    run_pass(app, session, early - timedelta(minutes=31))
    assert to(sent_mail, margaret.email) == []
    run_pass(app, session, local(meeting_day(), 7, 0, NEW_YORK))
    [message] = to(sent_mail, margaret.email)
    assert message["Subject"] == "You meet Aisha Khan in an hour"

    # A meeting at 06:30: its hour-before reminder would wait past the start, so it is dropped.
    session.delete(session.get(NextMeeting, pair.id))
    session.flush()
    too_early = local(meeting_day() + timedelta(days=1), 6, 30, NEW_YORK)
    plan(session, pair, too_early)
    run_pass(app, session, too_early - timedelta(hours=1))
    dropped = [
        d
        for d in deliveries(session)
        if d.user_id == margaret.id and d.kind == Kind.MEETING_HOUR_BEFORE and d.subject.endswith(f"{too_early:%H:%MZ}")
    ]
    assert [d.state for d in dropped] == [State.DROPPED]


def test_a_kind_turned_off_is_not_sent(app, session, people, sent_mail):
    pair = people
    session.add(NotificationPreference(user_id=pair.mentor.id, kind=Kind.MEETING_DAY_BEFORE, channel=Channel.OFF))
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, starts)
    run_pass(app, session, starts - timedelta(hours=2))
    assert [m["To"] for m in sent_mail] == [pair.mentee.email]


def test_after_downtime_the_pass_catches_up_a_day_and_drops_what_is_too_late(app, session, people, sent_mail):
    pair = people
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, starts)
    run_pass(app, session, starts - timedelta(days=3))
    # Down from three days before until half an hour after the meeting started.
    outcome = run_pass(app, session, starts + timedelta(minutes=30))
    assert outcome.since == starts + timedelta(minutes=30) - passes.CATCH_UP
    assert sent_mail == [] and outcome.planned == []


def test_a_delivery_is_claimed_once_however_many_workers_are_handed_it(app, session, people, sent_mail):
    pair = people
    with app.app_context():
        delivery_id = outbox.deliver_now(
            pair.mentor.id, Kind.SECURITY, "recovery-codes:x", what="codes", at=datetime.now(UTC).isoformat()
        )
        assert len(sent_mail) == 1
        # The same task delivered again (a retried publish, the sweep): nothing more goes out.
        assert sending.send_one(delivery_id) is None
        assert (
            outbox.deliver_now(
                pair.mentor.id, Kind.SECURITY, "recovery-codes:x", what="codes", at="2026-01-01T00:00:00+00:00"
            )
            is not None
        )
    assert len(sent_mail) == 2  # a new due moment is a new delivery; the same key never is
    [first, second] = deliveries(session)
    assert first.state == second.state == State.SENT and first.attempts == 1


def test_a_lost_task_is_queued_again_but_a_claimed_one_is_reported_not_resent(
    app, session, people, sent_mail, monkeypatch
):
    pair = people
    now = datetime.now(UTC)
    real_enqueue = queue.enqueue
    monkeypatch.setattr(queue, "enqueue", lambda *args, **kwargs: False)  # the broker is down
    with app.app_context():
        lost = outbox.deliver_now(
            pair.mentor.id, Kind.SECURITY, "passkey:1", what="passkey", nickname="Phone", at=now.isoformat()
        )
        stuck = outbox.deliver_now(
            pair.mentee.id, Kind.SECURITY, "passkey:2", what="passkey", nickname="Laptop", at=now.isoformat()
        )
        # Both were queued twenty minutes ago; a worker claimed the second and was killed mid-send.
        long_ago = now - timedelta(minutes=20)
        db.session.execute(db.update(Delivery).values(queued_at=long_ago))
        db.session.execute(
            db.update(Delivery).where(Delivery.id == stuck).values(state=State.SENDING, claimed_at=long_ago)
        )
        db.session.commit()
    assert sent_mail == []
    monkeypatch.setattr(queue, "enqueue", real_enqueue)  # the broker is back
    run_pass(app, session, now)
    assert [m["To"] for m in sent_mail] == [pair.mentor.email]
    states = {d.id: d.state for d in deliveries(session)}
    assert states == {lost: State.SENT, stuck: State.SENDING}
    with app.app_context():
        assert [d.id for d in passes.failed()] == [stuck]


def test_the_mail_has_text_and_html_a_preferences_link_and_one_click_unsubscribe_over_https(
    app, session, people, sent_mail, monkeypatch, client
):
    pair = people
    pair.mentee.name = "Margaret <b>Holloway</b>"
    monkeypatch.setitem(app.config, "BASE_URL", "https://twoway.example")
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, starts)
    run_pass(app, session, local(meeting_day() - timedelta(days=1), 9, 0, KOLKATA))
    [message] = to(sent_mail, pair.mentor.email)
    html = message.get_body(("html",)).get_content()
    assert "Margaret &lt;b&gt;Holloway&lt;/b&gt;" in html and "<b>Holloway" not in html
    assert "https://twoway.example/account/notifications" in text_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://twoway.example/notifications/unsubscribe/")
    path = url.removeprefix("https://twoway.example")

    # A link scanner (or a person) opening it unsubscribes nothing.
    page = client.get(path)
    assert page.status_code == 200 and "Stop “The day before a meeting”?" in page.text
    assert session.get(NotificationPreference, (pair.mentor.id, Kind.MEETING_DAY_BEFORE)) is None
    # The mail client's one-click POST: no cookie, no CSRF token.
    done = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Unsubscribed" in done.text
    session.expire_all()
    assert session.get(NotificationPreference, (pair.mentor.id, Kind.MEETING_DAY_BEFORE)).channel == Channel.OFF
    # The token turns off that one kind for that one person, and a tampered one nothing.
    assert session.get(NotificationPreference, (pair.mentor.id, Kind.MEETING_HOUR_BEFORE)) is None
    assert app.test_client().post(path[:-2] + "xx").status_code == 404


def test_no_unsubscribe_header_over_plain_http_and_none_on_sign_in_mail(app, session, people, sent_mail):
    pair = people
    starts = local(meeting_day(), 15, 0, ZoneInfo("UTC"))
    plan(session, pair, starts)
    run_pass(app, session, starts - timedelta(hours=2))
    assert all(m["List-Unsubscribe"] is None for m in sent_mail)
    assert "Stop these" in text_of(sent_mail[0])
    with app.app_context():
        outbox.deliver_now(
            pair.mentor.id, Kind.SIGN_IN, "sign-in:1", useful_until=datetime.now(UTC) + timedelta(minutes=15)
        )
    assert sent_mail[-1]["Subject"] == "Your Twoway sign-in link"
    assert "Stop these" not in text_of(sent_mail[-1]) and sent_mail[-1]["List-Unsubscribe"] is None


def test_an_expired_sign_in_mail_is_not_sent(app, session, people, sent_mail):
    with app.app_context():
        outbox.deliver_now(
            people.mentor.id, Kind.SIGN_IN, "sign-in:2", useful_until=datetime.now(UTC) - timedelta(seconds=1)
        )
    assert sent_mail == []
    assert [d.state for d in deliveries(session)] == [State.DROPPED]


def test_the_preferences_page_saves_channels_and_quiet_hours_and_keeps_bad_input(app, session, people, login):
    client = login(people.mentor)
    page = client.get("/account/notifications")
    assert page.status_code == 200
    assert (
        "The day before a meeting" in page.text
        and "Sign-in links and security notices always come by email" in page.text
    )
    # Every kind a person in a pair chooses a channel for.
    form = {f"kind_{k.value.replace('-', '_')}": "email" for k in optional_kinds("pair")}
    bad = client.post("/account/notifications", data={**form, "kind_meeting_hour_before": "off", "quiet_from": "22:00"})
    assert bad.status_code == 422
    assert "Give both times" in bad.text and 'value="22:00"' in bad.text
    ok = client.post(
        "/account/notifications",
        data={**form, "kind_meeting_hour_before": "off", "quiet_from": "22:00", "quiet_until": "07:00"},
    )
    assert ok.status_code == 303
    session.expire_all()
    with app.app_context():
        chosen = preferences.settings_for(db.session.get(type(people.mentor), people.mentor.id))
    assert chosen.channel(Kind.MEETING_HOUR_BEFORE) == Channel.OFF
    assert chosen.channel(Kind.MEETING_DAY_BEFORE) == Channel.EMAIL
    assert (chosen.quiet_from, chosen.quiet_until) == (time(22, 0), time(7, 0))
    assert 'value="22:00"' in client.get("/account/notifications").text
    # A made-up channel is refused with words, never stored.
    assert client.post("/account/notifications", data={**form, "kind_meeting_day_before": "pigeon"}).status_code == 422


def test_the_command_line_lists_what_is_due_and_what_failed(app, session, people):
    pair = people
    starts = local(meeting_day(), 12, 0, ZoneInfo("UTC"))
    plan(session, pair, starts)
    session.flush()
    runner = app.test_cli_runner()
    # 61 minutes before: Margaret's day-before (22 h before; Aisha's fell earlier), and not yet the
    # hour-before ones.
    at = (starts - timedelta(minutes=61)).strftime("%Y-%m-%dT%H:%M:%SZ")
    dry = runner.invoke(args=["reminders", "due", "--at", at, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"user {pair.mentee.id:<6} meeting-day-before" in dry.output
    assert "meeting-hour-before" not in dry.output and f"user {pair.mentor.id:<6}" not in dry.output
    assert "Dry run: nothing was queued." in dry.output
    assert deliveries(session) == []
    assert runner.invoke(args=["reminders", "due", "--at", "tomorrow"]).exit_code == 2
    assert "say which clock" in runner.invoke(args=["reminders", "due", "--at", "2026-12-02T09:00"]).output
    ok = runner.invoke(args=["reminders", "failed"])
    assert ok.exit_code == 0 and "Nothing failed." in ok.output
    session.add(
        Delivery(
            user_id=pair.mentor.id,
            kind=Kind.MEETING_HOUR_BEFORE,
            subject="meeting:x",
            due_at=starts,
            state=State.FAILED,
            attempts=6,
            error="SMTPServerDisconnected: gone",
        )
    )
    session.flush()
    failed = runner.invoke(args=["reminders", "failed"])
    assert failed.exit_code == 1 and "SMTPServerDisconnected: gone" in failed.output and "6 tries" in failed.output


def test_only_a_worker_speaks_to_the_mail_server():
    """No mail is sent inside a request: the one caller of ``mail.transmit`` is the worker's
    sending step, reached through a queued task (a page only queues)."""
    from pathlib import Path

    app_dir = Path(__file__).resolve().parent.parent / "app"
    callers = sorted(
        str(path.relative_to(app_dir))
        for path in app_dir.rglob("*.py")
        if "mail.transmit(" in path.read_text(encoding="utf-8")
        or "from app.mail import" in path.read_text(encoding="utf-8")
    )
    assert callers == ["reminders/sending.py"]


def test_a_page_that_mails_only_queues(app, session, people, monkeypatch, client):
    """Asking for a sign-in link queues a task and returns; the mail goes out when a worker runs it."""
    queued: list[tuple[str, tuple]] = []
    monkeypatch.setattr(queue, "enqueue", lambda task, *args, **kw: queued.append((task.name, args)) or True)
    transmitted = []
    monkeypatch.setattr("app.mail.transmit", transmitted.append)
    assert client.post("/auth/sign-in/link", data={"email": people.mentor.email}).status_code in (200, 303)
    assert transmitted == [] and [name for name, _ in queued] == ["twoway.mail_sign_in_link"]


def test_finished_deliveries_are_forgotten_after_a_month(app, session, people):
    now = datetime.now(UTC)
    old, recent = now - passes.KEEP_FINISHED - timedelta(hours=1), now - timedelta(days=2)
    for n, (created, state) in enumerate(
        [(old, State.SENT), (old, State.DROPPED), (recent, State.SENT), (old, State.HELD)]
    ):
        session.add(
            Delivery(
                user_id=people.mentor.id,
                kind=Kind.MEETING_HOUR_BEFORE,
                subject=f"meeting:{n}",
                due_at=created,
                created_at=created,
                state=state,
            )
        )
    run_pass(app, session, now)
    assert sorted((d.subject, d.state) for d in deliveries(session)) == [
        ("meeting:2", State.SENT),
        ("meeting:3", State.HELD),
    ]


def test_a_double_tapped_save_and_two_one_click_posts_at_once_are_each_one_choice(tmp_path):
    """A double tap on Save, or a mail client and a person unsubscribing at the same moment, run
    at once on their own connections: each answers as usual (never a 500) and one choice is stored."""
    with own_app(tmp_path) as app, committed_session(app) as session:
        pair = PairFactory()
        session.commit()
        mentor_id, mentee = pair.mentor.id, pair.mentee
        with app.app_context():
            token = preferences.unsubscribe_token(mentee, Kind.QUIET_PAIR)
        form = {f"kind_{k.value.replace('-', '_')}": "push" for k in optional_kinds("pair")}
        taps = clients_of(app, pair.mentor, pair.mentor, pair.mentor, pair.mentor)

        saved = at_once(
            lambda client: client.post("/account/notifications", data=form).status_code, [(c,) for c in taps]
        )
        unsubscribed = at_once(
            lambda client: client.post(f"/notifications/unsubscribe/{token}").status_code,
            [(app.test_client(),) for _ in range(4)],
        )

        assert saved == [303] * 4 and unsubscribed == [200] * 4
        with app.app_context():
            choices = db.session.execute(
                select(NotificationPreference.user_id, NotificationPreference.channel, func.count()).group_by(
                    NotificationPreference.user_id, NotificationPreference.channel
                )
            ).all()
        assert sorted(choices) == sorted(
            [(mentor_id, Channel.PUSH, len(optional_kinds("pair"))), (mentee.id, Channel.OFF, 1)]
        )


def _quiet_now(person: User) -> None:
    """Quiet hours from an hour ago until an hour from now, on ``person``'s clock."""
    now = datetime.now(person.zone)
    person.quiet_from = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    person.quiet_until = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)


def test_the_notices_of_a_request_for_help_and_its_answer_wait_out_quiet_hours(app, session, people, login, sent_mail):
    """ "Nothing is sent between these times", the preferences page says, and only sign-in links
    and security notices are never held: the admin's notice that a request arrived and the
    sender's notice that it was answered wait for the end of their quiet hours, then go."""
    admin = AdminFactory(time_zone="Europe/Berlin")
    _quiet_now(admin)
    margaret = people.mentee
    _quiet_now(margaret)
    asked = login(margaret).post(f"/pairs/{people.id}/program/help", data={"message": "Can we switch?"})
    assert asked.status_code == 303
    request = session.scalars(select(HelpRequest)).one()
    answered = login(admin, on=app.test_client()).post(
        f"/admin/programs/{request.program_id}/help/{request.id}/answer",
        data={f"request-{request.id}-answer": "Let's talk on Thursday.", f"request-{request.id}-answered_at": ""},
    )
    assert answered.status_code == 303

    assert sent_mail == []
    held = {d.user_id: (d.kind, d.state) for d in deliveries(session)}
    assert held == {admin.id: (Kind.HELP_REQUEST, State.HELD), margaret.id: (Kind.HELP_ANSWER, State.HELD)}
    run_pass(app, session, datetime.now(UTC) + timedelta(hours=1, minutes=1))
    assert sorted(m["To"] for m in sent_mail) == sorted([admin.email, margaret.email])
    assert to(sent_mail, margaret.email)[0]["Subject"] == "The program admin answered your request"


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    ("Reverse mentoring works both ways. " * 3000)[:100_000],
    "07:00\x00",
    "07:00\u202e",
    "24:00",
    "-1:30",
    "07:00:00",
]


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_quiet_hours_and_channels_are_refused_with_words_and_nothing_stored(
    app, session, people, login, typed, htmx
):
    client = login(people.mentor)
    headers = {"HX-Request": "true", "HX-Target": "preferences_form"} if htmx else {}
    form = {f"kind_{k.value.replace('-', '_')}": "email" for k in optional_kinds("pair")}
    for data in (
        {**form, "quiet_from": typed, "quiet_until": "07:00"},
        {**form, "quiet_from": "22:00", "quiet_until": typed},
        {**form, "kind_quiet_pair": typed},
    ):
        response = client.post("/account/notifications", data=data, headers=headers)
        assert response.status_code == 422, (typed[:40], response.status_code)
        assert "<script>alert" not in response.text and "<img src=x" not in response.text
        assert "Not a valid time value." in response.text or "Not a valid choice." in response.text
    session.expire_all()
    assert session.scalars(select(NotificationPreference)).all() == []
    assert session.get(User, people.mentor.id).quiet_from is None


def test_an_unsubscribe_token_turns_off_its_one_kind_for_an_open_account_and_nothing_else(app, session, people):
    """Replayed, it changes nothing more; for a switched-off account, a kind that can't be turned
    off, or signed with the same key for another purpose, it does nothing at all."""
    margaret, aisha = people.mentee, people.mentor
    with app.app_context():
        token = preferences.unsubscribe_token(margaret, Kind.QUIET_PAIR)
        sign_in_token = preferences.unsubscribe_token(margaret, Kind.SIGN_IN)
        other_purpose = URLSafeSerializer(app.config["SECRET_KEY"], salt="twoway other").dumps(
            [margaret.id, Kind.QUIET_PAIR.value]
        )
        closed_token = preferences.unsubscribe_token(aisha, Kind.QUIET_PAIR)
    aisha.active = False
    session.flush()
    anyone = app.test_client()
    for refused in (sign_in_token, other_purpose, closed_token):
        assert anyone.post(f"/notifications/unsubscribe/{refused}").status_code == 404
        assert anyone.get(f"/notifications/unsubscribe/{refused}").status_code == 404
    for _ in range(2):
        assert anyone.post(f"/notifications/unsubscribe/{token}").status_code == 200
    session.expire_all()
    assert [(p.user_id, p.kind, p.channel) for p in session.scalars(select(NotificationPreference))] == [
        (margaret.id, Kind.QUIET_PAIR, Channel.OFF)
    ]
