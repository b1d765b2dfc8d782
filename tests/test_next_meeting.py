"""Planning the next meeting, calendars, keeping the agreed pace, and the topics box on the pair's home."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from factories import PairFactory
from icalendar import Calendar
from sqlalchemy import func, select
from support.apps import clients_of, committed_pair, own_app
from support.pages import inline_code_in, text, words
from support.parallel import at_once
from support.records import add_prompt_set

from app.extensions import db
from app.models import Cadence, CalendarFeed, Meeting, NextMeeting, PromptKind, Rhythm, Role, Topic
from app.next_meeting.pace import pace, suggest_next

FORTNIGHTLY = Rhythm(cadence=Cadence.FORTNIGHTLY, custom="", length_minutes=45, midpoint=None, ends_on=None)
NO_RHYTHM = Rhythm(cadence=None, custom="", length_minutes=None, midpoint=None, ends_on=None)
TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("days_ago", "state"),
    [(0, "on-track"), (13, "on-track"), (14, "due"), (20, "due"), (21, "overdue"), (60, "overdue")],
)
def test_pace_against_a_fortnightly_rhythm(days_ago, state):
    assert pace(FORTNIGHTLY, TODAY - timedelta(days=days_ago), TODAY).state == state


def test_pace_without_meetings_or_without_a_rhythm():
    assert pace(FORTNIGHTLY, None, TODAY).state == "new"
    assert pace(NO_RHYTHM, TODAY - timedelta(days=40), TODAY).state == "unknown"


def test_the_cadence_suggests_the_next_date():
    assert suggest_next(FORTNIGHTLY, date(2026, 11, 16), TODAY) == date(2026, 11, 30)
    assert suggest_next(FORTNIGHTLY, date(2026, 10, 1), TODAY) == TODAY  # overdue: today, never the past
    assert suggest_next(NO_RHYTHM, None, TODAY) == TODAY + timedelta(days=7)


# Always ahead, and in winter, so the offsets below hold whenever the suite runs (three weeks into
# next January: never in the past, never more than two years ahead).
DAY = date(date.today().year + 1, 1, 21)


def plan(client, pair, version="0", **values):
    data = {
        "version": version,
        "day": DAY.isoformat(),
        "time": "08:30",
        "length_minutes": "45",
        "format": "video",
        "place": "Teams",
        "timezone": "Europe/London",
    } | values
    return client.post(f"/pairs/{pair.id}/next-meeting", data=data)


def test_each_person_sees_the_plan_on_their_own_clock(mentee, mentor, pair, session):
    pair.mentee.time_zone, pair.mentor.time_zone = "America/New_York", "Europe/Berlin"
    response = plan(mentee, pair, timezone="America/New_York")
    assert response.status_code == 303 and response.location.endswith("#next_meeting")
    stored = session.get(NextMeeting, pair.id)
    assert stored.starts_at == datetime.combine(DAY, time(13, 30), tzinfo=UTC)  # 08:30 in New York
    weekday = f"{DAY:%A} {DAY.day} {DAY:%B} {DAY.year}"
    assert f"{weekday}, 08:30 (America/New York)" in words(mentee.get(f"/pairs/{pair.id}"))
    home = words(mentor.get(f"/pairs/{pair.id}"))
    assert f"{weekday}, 14:30 (Europe/Berlin)" in home  # the same moment on Aisha's clock
    assert "Add to calendar" in home
    # Aisha's form shows it on her clock too, so saving it unchanged moves nothing.
    form = mentor.get(f"/pairs/{pair.id}/next-meeting").text
    assert 'value="14:30"' in form and 'name="timezone" type="hidden" value="Europe/Berlin"' in form
    assert plan(mentor, pair, version="1", time="14:30", timezone="Europe/Berlin").status_code == 303
    unchanged = session.get(NextMeeting, pair.id, populate_existing=True)
    assert unchanged.starts_at == stored.starts_at and unchanged.version == 1  # calendars see no change


def test_without_javascript_the_time_means_the_persons_own_zone(mentee, pair, session):
    """A browser without JavaScript sends no zone: 09:00 is 09:00 on the person's clock, not UTC."""
    pair.mentee.time_zone = "Europe/Berlin"
    page = mentee.get(f"/pairs/{pair.id}/next-meeting")
    assert 'name="timezone" type="hidden" value="Europe/Berlin"' in page.text
    assert "Times are on your own clock (Europe/Berlin)" in words(page)
    plan(mentee, pair, time="09:00", timezone="")
    assert session.get(NextMeeting, pair.id).starts_at == datetime.combine(DAY, time(8, 0), tzinfo=UTC)


def test_an_unknown_time_zone_falls_back_to_the_persons_own(mentee, pair, session):
    pair.mentee.time_zone = "Asia/Tokyo"
    plan(mentee, pair, timezone="Mars/Olympus_Mons")
    assert session.get(NextMeeting, pair.id).starts_at == datetime.combine(DAY, time(8, 30), tzinfo=UTC) - timedelta(
        hours=9
    )


def test_a_first_plan_tells_the_server_the_planners_zone(mentee, pair, session):
    assert pair.mentee.time_zone is None
    plan(mentee, pair, timezone="Europe/Berlin")
    session.refresh(pair.mentee)
    assert pair.mentee.time_zone == "Europe/Berlin"


def test_two_people_changing_the_plan_at_once(mentee, mentor, pair, session):
    plan(mentee, pair)
    assert plan(mentor, pair, version="1", time="10:00").status_code == 303
    stale = plan(mentee, pair, version="1", time="11:00", place="Room 4")
    assert stale.status_code == 409
    page = words(stale)
    assert "Aisha changed the plan while you were editing" in page
    day = f"{DAY:%A} {DAY.day} {DAY:%B} {DAY.year}"
    assert f"Aisha's plan, saved now: {day}, 10:00 (Europe/London) , 45 minutes, Teams." in page
    assert f"Your plan, still in the form below: {day}, 11:00 (Europe/London) , 45 minutes, Room 4." in page
    assert 'value="11:00"' in stale.text and 'value="Room 4"' in stale.text  # what you typed is kept
    assert 'name="version" type="hidden" value="2"' in stale.text
    assert session.get(NextMeeting, pair.id, populate_existing=True).starts_at.hour == 10
    # Saving it again, now over Aisha's version, replaces hers on purpose.
    assert plan(mentee, pair, version="2", time="11:00", place="Room 4").status_code == 303
    assert session.get(NextMeeting, pair.id, populate_existing=True).place == "Room 4"


def test_a_stale_save_with_htmx_shows_both_plans_in_place(mentee, mentor, pair, session):
    plan(mentee, pair)
    plan(mentor, pair, version="1", time="10:00")
    stale = mentee.post(
        f"/pairs/{pair.id}/next-meeting",
        data={"version": "1", "day": DAY.isoformat(), "time": "11:00", "format": "video", "place": "Room 4"},
        headers={"HX-Request": "true", "HX-Target": "plan_form"},
    )
    assert stale.status_code == 409
    assert stale.text.lstrip().startswith('<section id="plan_form"')
    page = words(stale)
    assert "Aisha's plan, saved now" in page and "10:00 (Europe/London)" in page and "11:00 (Europe/London)" in page
    assert 'value="11:00"' in stale.text and 'value="Room 4"' in stale.text


def test_two_first_plans_at_once_keep_both(mentee, mentor, pair, session):
    assert plan(mentor, pair, time="10:00").status_code == 303
    stale = plan(mentee, pair, version="0", time="11:00")
    assert stale.status_code == 409 and 'value="11:00"' in stale.text
    assert "Aisha's plan, saved now" in words(stale)


def test_bad_plans_are_explained_and_kept(mentee, pair):
    response = plan(mentee, pair, day="", place="<script>alert(1)</script>", length_minutes="5")
    assert response.status_code == 422
    page = text(response)
    assert "Pick the day you'll meet." in page and "Between 10 minutes and 8 hours." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text and inline_code_in(response.text) == []


def test_the_calendar_file_carries_the_right_time_and_nothing_private(mentee, pair, session):
    session.add(Topic(pair_id=pair.id, text="Secret topic", added_by_id=pair.mentee.id, added_by_role=Role.MENTEE))
    plan(mentee, pair)
    response = mentee.get(f"/pairs/{pair.id}/next-meeting/meeting.ics")
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    [event] = Calendar.from_ical(response.data).walk("VEVENT")
    assert event.decoded("dtstart") == datetime.combine(DAY, time(8, 30), tzinfo=UTC)  # London in January is UTC
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=45)
    assert str(event["summary"]) == "Reverse mentoring: Aisha and Margaret"
    assert str(event["location"]) == "Teams"
    assert "Secret topic" not in response.get_data(as_text=True)


def test_no_calendar_file_without_a_plan(mentee, pair):
    assert mentee.get(f"/pairs/{pair.id}/next-meeting/meeting.ics").status_code == 404


def feed_url(client, pair) -> str:
    page = client.post(f"/pairs/{pair.id}/next-meeting/feed").text
    url = page.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    assert url.startswith("http://localhost:5000/calendar/")
    return url.removeprefix("http://localhost:5000")


def test_a_private_calendar_feed_follows_the_plan_and_can_be_revoked(app, mentee, pair, session):
    path = feed_url(mentee, pair)
    anyone = app.test_client()  # a calendar app: no cookie, only the secret address
    [calendar] = [Calendar.from_ical(anyone.get(path).data)]
    assert calendar.walk("VEVENT") == []
    plan(mentee, pair)
    [event] = Calendar.from_ical(anyone.get(path).data).walk("VEVENT")
    assert event.decoded("dtstart") == datetime.combine(DAY, time(8, 30), tzinfo=UTC)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert all(token not in h for h in session.scalars(select(CalendarFeed.token_hash)))

    # A new address kills the old one; turning it off kills both.
    newer = feed_url(mentee, pair)
    assert anyone.get(path).status_code == 404
    assert anyone.get(newer).status_code == 200
    mentee.post(f"/pairs/{pair.id}/next-meeting/feed/revoke")
    assert anyone.get(newer).status_code == 404


def test_a_feed_dies_with_the_membership(app, mentee, pair, session):
    from app.models import PairMember

    path = feed_url(mentee, pair)
    session.execute(PairMember.__table__.delete().where(PairMember.user_id == pair.mentee.id))
    assert app.test_client().get(path).status_code == 404


def test_the_plan_page_suggests_a_date_from_the_ground_rules(mentee, pair, session):
    mentee.post(f"/pairs/{pair.id}/ground-rules/start")
    session.add(Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=3), author_id=pair.mentee.id))
    assert "You last met 3 days ago. On track: you agreed to meet every two weeks." in words(
        mentee.get(f"/pairs/{pair.id}")
    )
    page = words(mentee.get(f"/pairs/{pair.id}/next-meeting"))
    suggested = date.today() + timedelta(days=11)
    assert (
        f"Your ground rules say you meet every two weeks, so we've suggested {suggested.day} {suggested:%b %Y}" in page
    )
    assert "You last met 3 days ago. On track: you agreed to meet every two weeks." in page


def words_of(page: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_topics_for_next_time_from_the_home_page(app, mentor, mentee, pair, session, login):
    htmx = {"HX-Request": "true", "HX-Target": "topics"}
    first = mentor.post(f"/pairs/{pair.id}/topics", data={"text": "How I prepare a board paper"}, headers=htmx)
    assert first.status_code == 200 and first.text.lstrip().startswith('<section id="topics"')
    mentee.post(f"/pairs/{pair.id}/topics", data={"text": "Using Teams channels well"})
    page = text(mentor.get(f"/pairs/{pair.id}"))
    # The mentee leads: their topic comes first though it was added later.
    assert page.index("Using Teams channels well") < page.index("How I prepare a board paper")
    assert "Using Teams channels well · Margaret" in words_of(page) and "How I prepare a board paper · You" in words_of(
        page
    )

    empty = mentee.post(f"/pairs/{pair.id}/topics", data={"text": "  "}, headers=htmx)
    assert empty.status_code == 422 and "Write the topic first." in text(empty)
    huge = "x" * 400
    too_long = mentee.post(f"/pairs/{pair.id}/topics", data={"text": huge}, headers=htmx)
    assert too_long.status_code == 422 and huge in too_long.text

    topic = session.scalar(select(Topic).where(Topic.text == "Using Teams channels well"))
    mentor.post(f"/pairs/{pair.id}/topics/{topic.id}/remove", headers=htmx)
    assert session.scalar(select(func.count(Topic.id))) == 1

    outsider_pair = PairFactory()
    outsider = login(outsider_pair.mentor, on=app.test_client())
    other = session.scalar(select(Topic))
    assert outsider.post(f"/pairs/{outsider_pair.id}/topics/{other.id}/remove").status_code == 404
    assert session.scalar(select(func.count(Topic.id))) == 1


@pytest.mark.parametrize(
    "hostile", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "\u202eevil\u200d🎉"]
)
def test_hostile_topics_are_harmless(mentee, pair, hostile):
    mentee.post(f"/pairs/{pair.id}/topics", data={"text": hostile})
    page = mentee.get(f"/pairs/{pair.id}")
    assert page.status_code == 200 and inline_code_in(page.text) == []


def test_the_home_page_stays_within_budget_as_the_pair_grows(mentee, pair, session, queries):
    from app.models import ActionItem, Goal, GoalStatus, Milestone

    def grow(n: int) -> None:
        for i in range(n):
            meeting = Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=i), notes=f"Notes {i}")
            session.add(meeting)
            session.flush()
            session.add(ActionItem(pair_id=pair.id, meeting_id=meeting.id, text=f"Do {i}", owner_id=pair.mentee.id))
            session.add(
                Topic(pair_id=pair.id, text=f"Topic {i}", added_by_id=pair.mentor.id, added_by_role=Role.MENTOR)
            )
            goal = Goal(pair_id=pair.id, learner=Role.MENTEE, title=f"Goal {i}", status=GoalStatus.IN_PROGRESS)
            session.add(goal)
            session.flush()
            session.add(Milestone(goal_id=goal.id, pair_id=pair.id, title="Step", done=i % 2 == 0))

    counts = []
    for n in (2, 2, 4):
        grow(n)
        session.flush()
        with queries() as log:
            page = mentee.get(f"/pairs/{pair.id}")
        assert page.status_code == 200
        counts.append(log.count)
    assert counts == [7, 7, 7]
    assert "Notes 0" in text(page)  # where you left off: the latest meeting's notes


def test_home_asks_for_a_check_in_after_a_meeting_within_budget(mentee, pair, session, queries):
    [prompt] = add_prompt_set(session, pair.program.id, ("How useful was our last meeting?", PromptKind.SCALE))
    pair.program.feedback_every_weeks = 0
    pair.program.feedback_at_midpoint = pair.program.feedback_at_end = False
    pair.program.prompt_set_id = prompt.prompt_set_id
    assert "A quick check-in" not in text(mentee.get(f"/pairs/{pair.id}"))

    for days_ago in (20, 6):
        session.add(Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=days_ago), notes="Notes"))
    session.flush()
    with queries() as log:
        page = text(mentee.get(f"/pairs/{pair.id}"))
    assert log.count == 8
    assert "A quick check-in" in page and "and 1 more is open" in page
    assert "/feedback?round=meeting-" in page


def test_a_feed_stops_when_the_pair_ends(app, mentee, pair, session):
    from app.models import PairStatus

    path = feed_url(mentee, pair)
    pair.status = PairStatus.ENDED
    session.flush()
    assert app.test_client().get(path).status_code == 404


def test_two_first_plans_made_at_the_same_moment_keep_both(tmp_path):
    """Both people plan the first meeting at once, on a database of their own (PostgreSQL too):
    one plan is saved, the other person gets the conflict view with theirs kept, nobody a 500."""
    with own_app(tmp_path) as app:
        pair = committed_pair(app)
        pair_id, people = pair.id, (pair.mentor, pair.mentee)

        def send(client, at: str) -> tuple[int, str]:
            data = {
                "version": "0",
                "day": DAY.isoformat(),
                "time": at,
                "format": "video",
                "place": at,
                "timezone": "UTC",
            }
            response = client.post(f"/pairs/{pair_id}/next-meeting", data=data)
            return response.status_code, response.get_data(as_text=True)

        answers = at_once(send, zip(clients_of(app, *people), ("10:00", "11:00"), strict=True))
        with app.app_context():
            assert sorted(status for status, _ in answers) == [303, 409]
            [refused] = [body for status, body in answers if status == 409]
            stored = db.session.get(NextMeeting, pair_id)
            lost = "11:00" if stored.place == "10:00" else "10:00"
            assert f'value="{lost}"' in refused and "changed the plan while you were editing" in refused


@pytest.mark.parametrize("place", [("Room 4 " * 20000)[:100_000], '"><img src=x onerror=alert(1)>'])
def test_a_hostile_place_is_refused_or_kept_harmless(mentee, pair, session, place):
    response = plan(mentee, pair, place=place)
    if len(place) > 200:
        assert response.status_code == 422 and "Keep it under 200 characters." in words(response)
        assert session.get(NextMeeting, pair.id) is None
    else:
        assert response.status_code == 303
        page = mentee.get(f"/pairs/{pair.id}")
        assert page.status_code == 200 and inline_code_in(page.text) == [] and "<img src=x" not in page.text


# Next year's nights the clocks change: always ahead, never more than two years away.
NEXT_YEAR = date.today().year + 1
SPRING_FORWARD_BERLIN = max(date(NEXT_YEAR, 3, d) for d in range(25, 32) if date(NEXT_YEAR, 3, d).weekday() == 6)
FALL_BACK_NEW_YORK = min(date(NEXT_YEAR, 11, d) for d in range(1, 8) if date(NEXT_YEAR, 11, d).weekday() == 6)


def test_a_time_the_clocks_skip_is_refused_with_the_plan_kept(mentor, pair, session):
    pair.mentor.time_zone = "Europe/Berlin"
    refused = plan(mentor, pair, day=SPRING_FORWARD_BERLIN.isoformat(), time="02:30", timezone="Europe/Berlin")
    assert refused.status_code == 422
    assert "The clocks go forward that night in Europe/Berlin, so 02:30 never happens" in words(refused)
    assert 'value="02:30"' in refused.text and 'value="Teams"' in refused.text
    assert session.get(NextMeeting, pair.id) is None
    # The hour after is there as usual.
    assert (
        plan(mentor, pair, day=SPRING_FORWARD_BERLIN.isoformat(), time="03:30", timezone="Europe/Berlin").status_code
        == 303
    )
    assert session.get(NextMeeting, pair.id).starts_at == datetime.combine(
        SPRING_FORWARD_BERLIN, time(1, 30), tzinfo=UTC
    )


def test_saving_a_plan_at_a_time_the_clocks_show_twice_never_moves_it(mentee, mentor, pair, session):
    pair.mentee.time_zone, pair.mentor.time_zone = "America/New_York", "Europe/Berlin"
    # 07:30 in Berlin is the second 01:30 in New York that night (after the clocks went back).
    day = FALL_BACK_NEW_YORK.isoformat()
    assert plan(mentor, pair, day=day, time="07:30", timezone="Europe/Berlin").status_code == 303
    moment = datetime.combine(FALL_BACK_NEW_YORK, time(6, 30), tzinfo=UTC)
    assert session.get(NextMeeting, pair.id).starts_at == moment
    form = mentee.get(f"/pairs/{pair.id}/next-meeting").text
    assert 'value="01:30"' in form
    fold = re.search(r'name="fold" type="hidden" value="(\d)"', form).group(1)
    # Margaret only changes the room: the meeting stays at the same moment.
    saved = plan(
        mentee, pair, version="1", day=day, time="01:30", timezone="America/New_York", fold=fold, place="Room 9"
    )
    assert saved.status_code == 303
    stored = session.get(NextMeeting, pair.id, populate_existing=True)
    assert (stored.starts_at, stored.place) == (moment, "Room 9")
    assert "07:30 (Europe/Berlin)" in words(mentor.get(f"/pairs/{pair.id}"))
