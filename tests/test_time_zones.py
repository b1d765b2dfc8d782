"""Each person's time zone: taken from the browser on a first visit, changed on the account page,
and what every time they type or read means. Plans are refused, clearly and keeping what was
typed, when they are in the past, too far ahead, or at the ends of the calendar; nothing stored
can break a calendar file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from support.pages import inline_code_in, text, words

from app.models import NextMeeting, utcnow


def _plan(client, pair, **values):
    data = {
        "version": "0",
        "day": (date.today() + timedelta(days=10)).isoformat(),
        "time": "09:00",
        "length_minutes": "45",
        "format": "video",
        "place": "Teams",
        "timezone": "",
    } | values
    return client.post(f"/pairs/{pair.id}/next-meeting", data=data)


# --- the person's zone -----------------------------------------------------------------------------


def test_a_first_visit_asks_the_browser_once_and_never_overrides_a_chosen_zone(mentee, pair, session):
    page = mentee.get(f"/pairs/{pair.id}").text
    assert 'data-time-zone-url="/account/time-zone"' in page  # app.js posts the browser's zone
    assert mentee.post("/account/time-zone", data={"time_zone": "Europe/Berlin", "detected": "1"}).status_code == 204
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone == "Europe/Berlin"
    assert "data-time-zone-url" not in mentee.get(f"/pairs/{pair.id}").text  # asked once
    # Another browser's guess (a trip, a second laptop) never replaces it.
    assert mentee.post("/account/time-zone", data={"time_zone": "Asia/Tokyo", "detected": "1"}).status_code == 204
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    "sent", ["Local/Nowhere", "<script>alert(1)</script>", "Europe/Berlin" * 9000, "", "localtime", "Factory"]
)
def test_a_garbled_browser_zone_changes_nothing(mentee, pair, session, sent):
    assert mentee.post("/account/time-zone", data={"time_zone": sent, "detected": "1"}).status_code == 204
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone is None


def test_the_hosts_own_clock_is_no_zone_anyone_can_pick(mentee, pair, session):
    """ "localtime" is whichever clock the host serving the request runs on: with several hosts
    the same person would see the same meeting at different times."""
    page = mentee.get("/account/time-zone").text
    assert '<option value="localtime">' not in page and '<option value="Factory">' not in page
    for zone in ("localtime", "Factory"):
        assert mentee.post("/account/time-zone", data={"time_zone": zone}).status_code == 422
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone is None


def test_the_account_page_changes_the_zone(mentee, pair, session):
    assert "We don't know your time zone yet" in words(mentee.get("/account/passkeys"))
    page = mentee.get("/account/time-zone")
    assert page.status_code == 200 and '<option value="Europe/Berlin">' in page.text
    saved = mentee.post("/account/time-zone", data={"time_zone": " America/Sao_Paulo "})
    assert saved.status_code == 303 and saved.location.endswith("/account/time-zone")
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone == "America/Sao_Paulo"
    assert "Saved: times are now shown on America/Sao Paulo time." in words(mentee.get(saved.location))
    assert "Times are shown on America/Sao Paulo time." in words(mentee.get("/account/passkeys"))


@pytest.mark.parametrize(
    "typed",
    [
        "Mars/Olympus_Mons",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "Europe/Berlin\u202e",
        "\U0001f30d/\u200d",
        ("Europe/Berlin " * 8000)[:100_000],
        "../../etc/passwd",
        "",
    ],
    ids=["unknown", "script", "img", "rtl", "emoji", "huge", "path", "empty"],
)
def test_a_zone_that_does_not_exist_is_refused_clearly_and_kept(mentee, pair, session, typed):
    for headers in ({}, {"HX-Request": "true", "HX-Target": "time_zone_form"}):
        refused = mentee.post("/account/time-zone", data={"time_zone": typed}, headers=headers)
        assert refused.status_code == 422
        page = words(refused)
        assert "That is not a time zone we know" in page or "Pick your time zone" in page
        assert inline_code_in(refused.text) == [] and "<script>alert" not in refused.text
        if typed.strip() and len(typed) < 1000:
            assert f'value="{typed.strip()}"' in text(refused)  # what was typed is still there
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone is None


# --- plans in the past, too far ahead, at the ends of the calendar ---------------------------------


def test_a_past_day_is_refused_and_the_plan_kept(mentee, pair, session):
    refused = _plan(mentee, pair, day=(date.today() - timedelta(days=1)).isoformat(), place="Room 4")
    assert refused.status_code == 422
    assert "That day has passed: pick today or a day ahead." in words(refused)
    assert 'value="Room 4"' in refused.text and (date.today() - timedelta(days=1)).isoformat() in refused.text
    assert session.get(NextMeeting, pair.id) is None


def test_an_earlier_hour_today_is_refused(mentee, pair, session):
    pair.mentee.time_zone = "Pacific/Kiritimati"  # UTC+14: always a later local day than the server's
    zone = ZoneInfo("Pacific/Kiritimati")
    now = utcnow().astimezone(zone)
    earlier = now - timedelta(minutes=2)
    refused = _plan(mentee, pair, day=earlier.date().isoformat(), time=f"{earlier:%H:%M}")
    assert refused.status_code == 422
    expected = (
        "That time has passed today: pick a later time, or another day."
        if earlier.date() == now.date()
        else "That day has passed: pick today or a day ahead."
    )
    assert expected in words(refused)
    assert session.get(NextMeeting, pair.id) is None
    later = now + timedelta(hours=1)
    assert _plan(mentee, pair, day=later.date().isoformat(), time=f"{later:%H:%M}").status_code == 303


def test_more_than_two_years_ahead_is_refused(mentee, pair, session):
    refused = _plan(mentee, pair, day=(date.today() + timedelta(days=3 * 365)).isoformat())
    assert refused.status_code == 422 and "Pick a day within the next two years." in words(refused)
    assert session.get(NextMeeting, pair.id) is None


@pytest.mark.parametrize(
    ("zone", "day", "at"),
    [
        ("America/Los_Angeles", "9999-12-31", "23:30"),
        ("Asia/Tokyo", "0001-01-01", "00:00"),
        ("UTC", "9999-12-31", "23:59"),
    ],
)
def test_the_ends_of_the_calendar_are_refused_never_a_500(mentee, pair, session, zone, day, at):
    pair.mentee.time_zone = zone
    for headers in ({}, {"HX-Request": "true", "HX-Target": "plan_form"}):
        refused = mentee.post(
            f"/pairs/{pair.id}/next-meeting",
            data={"version": "0", "day": day, "time": at, "format": "video", "place": "", "timezone": zone},
            headers=headers,
        )
        assert refused.status_code == 422
        page = words(refused)
        assert "Pick a day within the next two years." in page or "That day has passed" in page
        assert f'value="{day}"' in refused.text
    assert session.get(NextMeeting, pair.id) is None


def _feed_path(client, pair) -> str:
    page = client.post(f"/pairs/{pair.id}/next-meeting/feed").text
    return (
        page.split('id="feed-url" type="text" readonly value="')[1].split('"')[0].removeprefix("http://localhost:5000")
    )


def _events(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def test_the_furthest_accepted_plan_makes_a_good_calendar_file(app, mentee, pair, session):
    pair.mentee.time_zone = "Pacific/Kiritimati"
    last = utcnow().astimezone(ZoneInfo("Pacific/Kiritimati")) + timedelta(days=2 * 366 - 1)
    place = ("Room 4; line\r\nBEGIN:VEVENT\r\nSUMMARY:x, \\ \u202e\U0001f680 " * 10)[:200]
    saved = _plan(mentee, pair, day=last.date().isoformat(), time="23:59", length_minutes="480", place=place)
    assert saved.status_code == 303
    starts_at = datetime.combine(last.date(), time(23, 59), tzinfo=ZoneInfo("Pacific/Kiritimati")).astimezone(UTC)
    for body in (
        mentee.get(f"/pairs/{pair.id}/next-meeting/meeting.ics").data,
        app.test_client().get(_feed_path(mentee, pair)).data,
    ):
        [event] = _events(body)
        assert event.decoded("dtstart") == starts_at
        assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=8)
        assert str(event["location"]) == " ".join(place.split())  # one line, as typed otherwise
        assert body.split(b"\r\n").count(b"BEGIN:VEVENT") == 1  # the place's words stay inside its line


def test_no_stored_plan_can_break_a_calendar_or_a_page(app, mentee, pair, session):
    """A plan stored before these checks (or by hand) at the very end of the calendar."""
    pair.mentee.time_zone = "Asia/Tokyo"
    path = _feed_path(mentee, pair)
    session.add(
        NextMeeting(
            pair_id=pair.id,
            starts_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
            timezone="Asia/Tokyo",
            length_minutes=480,
            place="End of time",
        )
    )
    session.flush()
    for body in (mentee.get(f"/pairs/{pair.id}/next-meeting/meeting.ics").data, app.test_client().get(path).data):
        [event] = _events(body)
        assert event.decoded("dtstart") == datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
        assert event.decoded("dtend") >= event.decoded("dtstart")
    home = mentee.get(f"/pairs/{pair.id}")
    assert home.status_code == 200 and "Friday 31 December 9999, 23:59 UTC" in words(home)
    assert mentee.get(f"/pairs/{pair.id}/next-meeting").status_code == 200
