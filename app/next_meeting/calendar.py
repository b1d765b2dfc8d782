"""iCalendar files for the next meeting: a one-off download and each person's private feed.

What goes into a calendar leaves Twoway (calendar providers store it), so an event carries only
the two names, the time, the format and the place: never topics, notes or goals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from app.models import MeetingFormat, NextMeeting, Pair, utcnow

PRODID = "-//Twoway//Reverse mentoring//EN"
LONGEST = timedelta(hours=24)


def ends_at(meeting: NextMeeting) -> datetime:
    """When the meeting ends, kept within a day of its start and within the calendar, so no
    stored plan (however old or odd) can make a file that calendars refuse."""
    length = min(max(timedelta(minutes=meeting.length_minutes or 0), timedelta(minutes=1)), LONGEST)
    try:
        return meeting.starts_at + length
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def event(meeting: NextMeeting, pair: Pair, host: str, url: str) -> Event:
    item = Event()
    # One UID per pair: calendars update the same event when the meeting moves (SEQUENCE goes up).
    item.add("uid", f"next-meeting-pair-{pair.id}@{host}")
    item.add("sequence", meeting.version)
    item.add("dtstamp", utcnow())
    item.add("dtstart", meeting.starts_at)
    item.add("dtend", ends_at(meeting))
    item.add("summary", f"Reverse mentoring: {pair.mentor.first_name} and {pair.mentee.first_name}")
    if meeting.place:
        item.add("location", meeting.place)
    item.add("description", f"{MeetingFormat(meeting.format).label}. Agenda and notes in Twoway: {url}")
    item.add("url", url)
    return item


def ics(meeting: NextMeeting | None, pair: Pair, host: str, url: str) -> bytes:
    calendar = _calendar(f"Twoway: {pair.mentor.first_name} and {pair.mentee.first_name}")
    if meeting is not None:
        calendar.add_component(event(meeting, pair, host, url))
    return calendar.to_ical()
