"""What the program admin is sent: that a request for help arrived (never its words or who sent
it), and a weekly digest on Monday at 09:00 on the admin's clock, made of the dashboard's own
figures with the same suppression under k. Mail is caught where it would reach the mail server."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import AdminFactory, PairFactory, ProgramAdminFactory, ProgramFactory, UserFactory
from sqlalchemy import select
from support.mailbox import text_of
from support.reminders import deliveries, run_pass
from support.snapshots import publish_exact

from app.models import Channel, HelpRequest, Kind, Meeting, NotificationPreference, Participant, State
from app.reminders import admin as admin_reminders

BERLIN, TOKYO, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
SECRET = "My mentor keeps cancelling and I feel awkward about it"


def ask(client, pair, message: str = SECRET, **extra):
    return client.post(f"/pairs/{pair.id}/program/help", data={"message": message, **extra})


# --- a new request for help ---------------------------------------------------------------------


def test_the_programs_admins_are_told_that_a_request_arrived_never_its_words_or_sender(app, session, login, sent_mail):
    """Its admins and the owners; not the admin of another program, nor an admin who left."""
    program = ProgramFactory(name="Spring cohort")
    pair = PairFactory(program=program, mentor=UserFactory(name="Aisha Khan"), mentee=UserFactory(name="Dev Patel"))
    ruth = AdminFactory(email="ruth@example.org")  # an owner
    sam = ProgramAdminFactory(name="Sam Ortiz", email="sam@example.org", program=program)
    AdminFactory(email="gone@example.org", active=False)
    ProgramAdminFactory(email="elsewhere@example.org", program=ProgramFactory())
    in_pair = [pair.mentor.email, pair.mentee.email]
    client = login(pair.mentee)

    assert ask(client, pair, tell_partner="y").status_code == 303

    assert sorted(m["To"] for m in sent_mail) == [ruth.email, sam.email]
    request_id = session.scalar(select(HelpRequest.id))
    for message in sent_mail:
        assert message["Subject"] == "A participant in Spring cohort asked for help"
        whole = message.as_string() + text_of(message)
        assert "cancelling" not in whole and "awkward" not in whole
        assert "Dev" not in whole and "Patel" not in whole and "Aisha" not in whole
        assert f"http://localhost:5000/admin/programs/{program.id}/help" in text_of(message)
    assert {(d.user_id, d.kind, d.subject, d.state) for d in deliveries(session)} == {
        (ruth.id, Kind.HELP_REQUEST, f"help-request:{request_id}", State.SENT),
        (sam.id, Kind.HELP_REQUEST, f"help-request:{request_id}", State.SENT),
    }
    # Nobody in the pair hears of it by this (the partner sees it on the page, as before).
    assert [m for m in sent_mail if m["To"] in in_pair] == []


def test_a_double_tap_makes_one_request_and_one_notice_per_admin(app, session, login, sent_mail):
    pair = PairFactory()
    AdminFactory()
    client = login(pair.mentee)
    key = "double-tap-key-0123456789"
    first = ask(client, pair, idempotency_key=key)
    again = ask(client, pair, idempotency_key=key)
    assert first.status_code == again.status_code == 303
    assert len(session.scalars(select(HelpRequest)).all()) == 1
    assert len(sent_mail) == 1


def test_a_refused_request_tells_nobody(app, session, login, sent_mail):
    pair = PairFactory()
    AdminFactory()
    assert ask(login(pair.mentee), pair, message="   ").status_code == 422
    assert sent_mail == [] and deliveries(session) == []


def test_an_admin_who_turned_it_off_is_not_told(app, session, login, sent_mail):
    pair = PairFactory()
    ruth, sam = AdminFactory(email="ruth@example.org"), AdminFactory(email="sam@example.org")
    session.add(NotificationPreference(user_id=sam.id, kind=Kind.HELP_REQUEST, channel=Channel.OFF))
    ask(login(pair.mentee), pair)
    assert [m["To"] for m in sent_mail] == [ruth.email]


def test_the_admin_chooses_its_channel_and_a_participant_does_not_see_the_admin_kinds(app, session, login):
    admin = login(AdminFactory(), on=app.test_client())
    page = admin.get("/account/notifications").text
    assert "A new request for help" in page and "The weekly digest" in page
    assert "An answer to your request for help" not in page
    person = login(PairFactory().mentee, on=app.test_client()).get("/account/notifications").text
    assert "An answer to your request for help" in person
    assert "A new request for help" not in person and "The weekly digest" not in person


# --- the weekly digest ----------------------------------------------------------------------------


def next_monday() -> date:
    today = date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def nine_on(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=zone).astimezone(UTC)


def digests(sent_mail):
    return [m for m in sent_mail if m["Subject"] == "Your week in Twoway"]


def test_the_digest_comes_on_monday_at_nine_on_each_admins_clock_once(app, session, sent_mail):
    ProgramFactory()
    ruth = AdminFactory(email="ruth@example.org", time_zone="Europe/Berlin")
    sam = AdminFactory(email="sam@example.org", time_zone="America/New_York")
    monday = next_monday()
    ruth_nine, sam_nine = nine_on(monday, BERLIN), nine_on(monday, NEW_YORK)

    run_pass(app, session, ruth_nine - timedelta(minutes=1))
    assert digests(sent_mail) == []
    run_pass(app, session, ruth_nine)
    assert [m["To"] for m in digests(sent_mail)] == [ruth.email]
    run_pass(app, session, ruth_nine)  # a second beat, a re-run
    run_pass(app, session, sam_nine - timedelta(seconds=1))
    assert len(digests(sent_mail)) == 1
    run_pass(app, session, sam_nine)
    run_pass(app, session, sam_nine + timedelta(hours=3))
    run_pass(app, session, sam_nine + timedelta(days=1))
    assert [m["To"] for m in digests(sent_mail)] == [ruth.email, sam.email]
    year, week, _ = monday.isocalendar()
    assert {(d.user_id, d.subject, d.due_at) for d in deliveries(session) if d.kind == Kind.ADMIN_DIGEST} == {
        (ruth.id, f"admin-digest:{year}-W{week:02d}", ruth_nine),
        (sam.id, f"admin-digest:{year}-W{week:02d}", sam_nine),
    }
    # The Monday after: the next week's digest, once.
    run_pass(app, session, nine_on(monday + timedelta(days=7), BERLIN))
    assert [m["To"] for m in digests(sent_mail)] == [ruth.email, sam.email, ruth.email]


def test_one_digest_a_week_even_after_moving_to_a_later_time_zone(app, session, sent_mail):
    ProgramFactory()
    ruth = AdminFactory(time_zone="Asia/Tokyo")
    monday = next_monday()
    run_pass(app, session, nine_on(monday, TOKYO))
    assert len(digests(sent_mail)) == 1
    ruth.time_zone = "America/New_York"
    session.flush()
    run_pass(app, session, nine_on(monday, NEW_YORK))
    assert len(digests(sent_mail)) == 1


def test_the_digest_waits_out_the_admins_quiet_hours(app, session, sent_mail):
    ProgramFactory()
    AdminFactory(time_zone="Europe/Berlin", quiet_from=time(8, 0), quiet_until=time(10, 0))
    monday = next_monday()
    run_pass(app, session, nine_on(monday, BERLIN))
    assert digests(sent_mail) == []
    [held] = deliveries(session)
    assert held.state == State.HELD
    run_pass(app, session, nine_on(monday, BERLIN) + timedelta(hours=1))
    assert len(digests(sent_mail)) == 1


def test_no_digest_while_no_program_is_running(app, session, sent_mail):
    ProgramFactory(starts_on=date.today() - timedelta(days=200), ends_on=date.today() - timedelta(days=30))
    AdminFactory()
    run_pass(app, session, nine_on(next_monday(), ZoneInfo("UTC")))
    assert sent_mail == [] and deliveries(session) == []


@pytest.fixture
def programs(session):
    """Six pairs in a program with k = 5, most of them meeting once or twice (so some buckets are
    hidden), a three-pair one showing nothing, and two open requests for help."""
    big = ProgramFactory(name="Spring cohort", privacy_threshold=5)
    small = ProgramFactory(name="Pilot", privacy_threshold=5)
    pairs = [PairFactory(program=big, mentee=UserFactory(name=f"Mentee Number{i}")) for i in range(6)]
    for i, pair in enumerate(pairs):
        session.add(Participant(program_id=big.id, user_id=pair.mentee.id, department="Secret Ops"))
        for n in range(1 if i < 5 else 3):
            session.add(
                Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=3 + n), author_id=pair.mentor.id)
            )
    for _ in range(3):
        PairFactory(program=small)
    for pair in pairs[:2]:
        session.add(HelpRequest(program_id=big.id, sender_id=pair.mentee.id, pair_id=pair.id, message=SECRET))
    session.flush()
    return big, small, pairs


def dashboard_csv(client, program) -> list[tuple[str, str, str]]:
    response = client.get(f"/admin/programs/{program.id}/dashboard.csv")
    assert response.status_code == 200
    return [tuple(row) for row in csv.reader(io.StringIO(response.text))][1:]


def test_the_digest_s_figures_are_the_dashboard_s_and_what_it_hides_stays_hidden(
    app, session, login, sent_mail, programs
):
    big, small, pairs = programs
    ruth = AdminFactory(time_zone="UTC")
    admin = login(ruth, on=app.test_client())
    for program in (big, small):
        publish_exact(app, session, program)
    run_pass(app, session, nine_on(next_monday(), ZoneInfo("UTC")))
    [digest] = digests(sent_mail)
    body = text_of(digest)

    for program, expected_hidden in ((big, True), (small, True)):
        # The snapshots were published exact here, so no figure has a give-or-take.
        shown = [row[:3] for row in dashboard_csv(admin, program) if row[0] in admin_reminders.DIGEST_SECTIONS]
        with app.app_context():
            assert admin_reminders.digest_figures(program.id) == shown
        paragraph = next(line for line in body.splitlines() if line.startswith(f"{program.name}. "))
        for _section, item, value in shown:
            assert f"{item}: {value}" in paragraph
        assert ("hidden: fewer than 5 pairs" in paragraph) is expected_hidden

    big_line = next(line for line in body.splitlines() if line.startswith("Spring cohort. "))
    assert "Pairs: 6" in big_line and "1–2 meetings: hidden" in big_line
    assert "2 open requests for help" in big_line
    small_line = next(line for line in body.splitlines() if line.startswith("Pilot. "))
    assert small_line == "Pilot. Pairs: hidden: fewer than 5 pairs. 0 open requests for help."
    assert body.startswith("Your week in Twoway\n\n2 programs, 2 open requests for help.")
    # Counts only: no person, department or request is named.
    whole = digest.as_string() + body
    for pair in pairs:
        assert pair.mentee.name not in whole and pair.mentor.name not in whole
    assert "Secret Ops" not in whole and "cancelling" not in whole
    assert "http://localhost:5000/admin" in body


def test_a_figure_hidden_for_differencing_stays_hidden_in_the_digest(app, session, sent_mail):
    # Seven pairs that met, none that didn't: "not active" (0 < k) is hidden, and a lone hidden
    # cell takes the next smallest with it, or 7 of 7 would tell the hidden one is 0.
    program = ProgramFactory(name="Autumn", privacy_threshold=5)
    for _ in range(7):
        pair = PairFactory(program=program)
        session.add(Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=2), author_id=pair.mentor.id))
    AdminFactory(time_zone="UTC")
    publish_exact(app, session, program)
    run_pass(app, session, nine_on(next_monday(), ZoneInfo("UTC")))
    line = next(line for line in text_of(digests(sent_mail)[0]).splitlines() if line.startswith("Autumn. "))
    assert "Active pairs: hidden so that a smaller hidden figure can't be worked out from the others" in line
    assert "Active pairs: 7" not in line


def test_the_digest_pass_costs_the_same_few_queries_for_many_admins(app, session, queries):
    ProgramFactory()
    AdminFactory(time_zone="Europe/Berlin")
    at = nine_on(next_monday(), BERLIN)
    with app.app_context(), queries() as few:
        assert len(admin_reminders.find_digest(at - timedelta(minutes=1), at)) == 1
    for zone in ("Europe/Berlin", "Asia/Tokyo", "America/New_York") * 10:
        AdminFactory(time_zone=zone)
    session.flush()
    with app.app_context(), queries() as many:
        assert len(admin_reminders.find_digest(at - timedelta(minutes=1), at)) == 11
    assert many.count == few.count <= 3
