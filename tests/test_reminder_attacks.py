"""Reminders under attack: hostile names, hostile moments, a mail server that drops the line after
the message, and two reminder passes at the very same moment. The mail is caught where it would
reach the mail server (support.reminders.catch_mail) unless a test fakes the server itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import PairFactory, UserFactory
from support.reminders import deliveries, run_pass

from app.models import Kind, MeetingFormat, NextMeeting, State

KOLKATA = ZoneInfo("Asia/Kolkata")
_NOW = datetime.now(UTC).isoformat()


def _nine_the_day_before(day: date) -> datetime:
    return datetime.combine(day - timedelta(days=1), time(9, 0), tzinfo=KOLKATA).astimezone(UTC)


def _plan(session, pair_id: int, starts_at: datetime) -> None:
    session.add(
        NextMeeting(
            pair_id=pair_id,
            starts_at=starts_at,
            place="Room 4.12",
            format=MeetingFormat.IN_PERSON,
            updated_at=starts_at - timedelta(days=5),
        )
    )
    session.flush()


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
