"""iCalendar files for the next meeting: a one-off download and each person's private feed.

What goes into a calendar leaves Twoway (calendar providers store it), so an event carries only
the two names, the time, the format and the place: never topics, notes or goals.
"""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event

from app.models import MEETING_FORMAT_LABELS, NextMeeting, Pair, utcnow

PRODID = "-//Twoway//Reverse mentoring//EN"


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
    item.add("dtend", meeting.starts_at + timedelta(minutes=meeting.length_minutes))
    item.add("summary", f"Reverse mentoring: {pair.mentor.first_name} and {pair.mentee.first_name}")
    if meeting.place:
        item.add("location", meeting.place)
    item.add("description", f"{MEETING_FORMAT_LABELS[meeting.format]}. Agenda and notes in Twoway: {url}")
    item.add("url", url)
    return item


def ics(meeting: NextMeeting | None, pair: Pair, host: str, url: str) -> bytes:
    calendar = _calendar(f"Twoway: {pair.mentor.first_name} and {pair.mentee.first_name}")
    if meeting is not None:
        calendar.add_component(event(meeting, pair, host, url))
    return calendar.to_ical()
