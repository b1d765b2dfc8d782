"""The pair's other reminders: a check-in opened or about to close, an action due tomorrow, ground
rules waiting for you, and a quiet pair. Each drives ``--at`` across its moment on each person's
own clock: exactly one delivery, none on a second run, and none for whom it isn't for. The mail
is caught where it would reach the mail server; tasks run eagerly."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import PairFactory, ProgramFactory, UserFactory
from support.mailbox import text_of
from support.records import add_ground_rules, give_prompts
from support.reminders import deliveries, run_pass, to

from app.feedback import rounds
from app.models import (
    ActionItem,
    Agreement,
    AgreementSignature,
    Clause,
    FeedbackSubmission,
    Kind,
    Meeting,
    NextMeeting,
    Pair,
    PairStatus,
    Program,
    State,
    User,
)
from app.reminders import checkins
from app.reminders.kinds import SPECS

KOLKATA, NEW_YORK = ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")
TODAY = datetime.now(UTC).date()  # the check-in page's day
MINUTE = timedelta(minutes=1)
SCRIPT = "<script>alert('pwned')</script> Wombat-secret-4e2a"


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def nine(day: date, zone: ZoneInfo) -> datetime:
    return local(day, 9, 0, zone)


@dataclass(frozen=True)
class People:
    """A pair's id and its two people (held here: expiring the session must not make the test
    load a relationship)."""

    id: int
    program: Program
    mentor: User
    mentee: User


def make_pair(session, program: Program | None = None, **names: str) -> People:
    program = program or ProgramFactory(
        starts_on=TODAY - timedelta(days=100), ends_on=TODAY + timedelta(days=100), no_rounds=True
    )
    mentor = UserFactory(name=names.get("mentor", "Aisha Khan"), time_zone="Asia/Kolkata")
    mentee = UserFactory(name=names.get("mentee", "Margaret Holloway"), time_zone="America/New_York")
    return People(PairFactory(program=program, mentor=mentor, mentee=mentee).id, program, mentor, mentee)


@pytest.fixture
def people(session) -> People:
    """Aisha in Kolkata and Margaret in New York."""
    return make_pair(session)


def answer(session, pair: People, user: User, key: str) -> None:
    session.add(FeedbackSubmission(pair_id=pair.id, round_key=key, user_id=user.id))
    session.flush()


def meet(session, pair: People, held_on: date, logged_at: datetime | None = None) -> Meeting:
    meeting = Meeting(
        pair_id=pair.id,
        held_on=held_on,
        author_id=pair.mentor.id,
        notes=SCRIPT,
        created_at=logged_at or local(held_on, 18, 0, KOLKATA),
    )
    session.add(meeting)
    session.flush()
    return meeting


def of_kind(session, kind: Kind):
    return [d for d in deliveries(session) if d.kind == kind]


def assert_nothing_written_by_the_pair(messages) -> None:
    for message in messages:
        whole = message.as_string()
        assert "Wombat-secret" not in whole and "<script>" not in whole


# --- check-ins -----------------------------------------------------------------------------------


@pytest.fixture
def every_four_weeks(session, people) -> People:
    """A program asking every four weeks, whose first check-in (week-1) opens today."""
    program = people.program
    program.starts_on = TODAY - timedelta(days=28)
    program.feedback_every_weeks = 4
    give_prompts(session, program)
    return people


def test_a_check_in_opens_at_nine_on_each_persons_clock_once(app, session, every_four_weeks, sent_mail):
    pair = every_four_weeks
    aisha_nine, margaret_nine = nine(TODAY, KOLKATA), nine(TODAY, NEW_YORK)

    run_pass(app, session, aisha_nine - MINUTE)
    assert sent_mail == []
    run_pass(app, session, aisha_nine)
    [aisha_mail] = sent_mail
    assert aisha_mail["To"] == pair.mentor.email
    assert aisha_mail["Subject"] == "A check-in with Margaret Holloway is open"
    body = text_of(aisha_mail)
    assert "Check-in, week 4" in body and f"/pairs/{pair.id}/feedback?round=week-1" in body

    run_pass(app, session, aisha_nine)  # a second beat, a re-run
    run_pass(app, session, margaret_nine - MINUTE)
    assert len(sent_mail) == 1
    run_pass(app, session, margaret_nine)
    assert [m["To"] for m in sent_mail] == [pair.mentor.email, pair.mentee.email]
    assert sent_mail[1]["Subject"] == "A check-in with Aisha Khan is open"
    run_pass(app, session, margaret_nine + timedelta(hours=3))
    assert len(sent_mail) == 2
    assert {(d.user_id, d.state) for d in of_kind(session, Kind.CHECK_IN_OPEN)} == {
        (pair.mentor.id, State.SENT),
        (pair.mentee.id, State.SENT),
    }


def test_two_past_meetings_logged_together_open_one_reminder_for_the_newest(app, session, people, sent_mail):
    """Catching up on the journal: two meetings logged in one sitting open two check-ins at once.
    Each person hears of the newest once; the older one is on the check-in page, never mailed later."""
    pair = people
    pair.program.feedback_after_meeting = True
    give_prompts(session, pair.program)
    logged_at = local(TODAY, 15, 0, KOLKATA)
    run_pass(app, session, logged_at - timedelta(minutes=10))
    meet(session, pair, TODAY - timedelta(days=9), logged_at=logged_at)
    newest = meet(session, pair, TODAY - timedelta(days=2), logged_at=logged_at)

    for moment in (
        logged_at + MINUTE,
        logged_at + 2 * MINUTE,
        nine(TODAY, NEW_YORK),
        nine(TODAY + timedelta(1), NEW_YORK),
    ):
        run_pass(app, session, moment)
    assert sorted(m["To"] for m in sent_mail) == sorted([pair.mentor.email, pair.mentee.email])
    assert all(f"round=meeting-{newest.id}" in text_of(m) for m in sent_mail)
    assert {d.subject for d in of_kind(session, Kind.CHECK_IN_OPEN)} == {f"check-in:{pair.id}:meeting-{newest.id}"}


def test_who_answered_already_is_not_reminded_even_while_held(app, session, every_four_weeks, sent_mail):
    pair = every_four_weeks
    answer(session, pair, pair.mentee, "week-1")
    # Aisha keeps quiet hours over her 09:00: the reminder waits, and she answers meanwhile.
    aisha = pair.mentor
    aisha.quiet_from, aisha.quiet_until = time(8, 0), time(10, 0)
    run_pass(app, session, nine(TODAY, KOLKATA))
    [held] = of_kind(session, Kind.CHECK_IN_OPEN)
    assert held.user_id == aisha.id and held.state == State.HELD
    answer(session, pair, aisha, "week-1")
    run_pass(app, session, nine(TODAY, NEW_YORK) + MINUTE)
    assert sent_mail == []
    [dropped] = of_kind(session, Kind.CHECK_IN_OPEN)
    assert dropped.state == State.DROPPED and dropped.error == "no longer true"


def test_a_meeting_logged_in_the_afternoon_opens_its_check_in_at_once(app, session, people, sent_mail):
    pair = people
    pair.program.feedback_after_meeting = True
    give_prompts(session, pair.program)
    logged_at = local(TODAY, 15, 0, KOLKATA)  # after Aisha's 09:00, before Margaret's
    run_pass(app, session, logged_at - timedelta(minutes=10))
    meeting = meet(session, pair, TODAY, logged_at=logged_at)
    run_pass(app, session, logged_at - MINUTE)
    assert sent_mail == []
    run_pass(app, session, logged_at + MINUTE)
    [aisha_mail] = sent_mail
    assert aisha_mail["To"] == pair.mentor.email and f"round=meeting-{meeting.id}" in text_of(aisha_mail)
    run_pass(app, session, nine(TODAY, NEW_YORK))
    assert [m["To"] for m in sent_mail] == [pair.mentor.email, pair.mentee.email]
    run_pass(app, session, nine(TODAY, NEW_YORK) + timedelta(hours=1))
    assert len(sent_mail) == 2
    assert_nothing_written_by_the_pair(sent_mail)


def test_before_a_check_in_lapses_one_gentle_reminder_to_whoever_has_not_answered(app, session, people, sent_mail):
    pair = people
    pair.program.feedback_after_meeting = True
    give_prompts(session, pair.program)
    oldest = meet(session, pair, TODAY - timedelta(days=20))
    meet(session, pair, TODAY - timedelta(days=10))
    answer(session, pair, pair.mentor, f"meeting-{oldest.id}")
    # The third meeting, held today and logged the evening before (Kolkata's): from its 09:00 on,
    # the oldest round is the last one open.
    newest = meet(session, pair, TODAY, logged_at=local(TODAY - timedelta(days=1), 20, 0, KOLKATA))

    run_pass(app, session, nine(TODAY, NEW_YORK) - MINUTE)
    assert [(m["To"], m["Subject"]) for m in sent_mail] == [
        (pair.mentor.email, "A check-in with Margaret Holloway is open"),
    ]
    run_pass(app, session, nine(TODAY, NEW_YORK))
    assert sorted((m["To"], m["Subject"]) for m in sent_mail[1:]) == [
        (pair.mentee.email, "A check-in with Aisha Khan is open"),
        (pair.mentee.email, "There's still time for your check-in with Aisha Khan"),
    ]
    [lapsing] = [m for m in sent_mail if m["Subject"].startswith("There's still time")]
    assert f"round=meeting-{oldest.id}" in text_of(lapsing)
    assert f"round=meeting-{newest.id}" not in text_of(lapsing)
    run_pass(app, session, nine(TODAY, NEW_YORK) + timedelta(hours=2))
    assert len(sent_mail) == 3
    # Aisha answered the oldest round: never told it is closing.
    assert [d.user_id for d in of_kind(session, Kind.CHECK_IN_LAPSING)] == [pair.mentee.id]
    assert_nothing_written_by_the_pair(sent_mail)


def test_no_check_in_reminders_without_prompts_or_for_an_ended_pair(app, session, every_four_weeks, sent_mail):
    pair = every_four_weeks
    # Another program, asking every four weeks too but with no questions to ask.
    bare = ProgramFactory(starts_on=TODAY - timedelta(days=28), ends_on=TODAY + timedelta(days=100))
    bare.feedback_every_weeks = 4
    make_pair(session, bare, mentor="Noor Ali", mentee="Bill Stone")
    session.get(Pair, pair.id).status = PairStatus.ENDED
    run_pass(app, session, nine(TODAY, NEW_YORK) + MINUTE)
    assert sent_mail == []
    assert of_kind(session, Kind.CHECK_IN_OPEN) == []


# --- actions -------------------------------------------------------------------------------------


def action(
    session, pair: People, owner: User | None, due_on: date, meeting: Meeting | None = None, **values
) -> ActionItem:
    meeting = meeting or meet(session, pair, TODAY - timedelta(days=3))
    item = ActionItem(pair_id=pair.id, meeting_id=meeting.id, text=SCRIPT, owner_id=owner.id if owner else None)
    item.due_on = due_on
    for name, value in values.items():
        setattr(item, name, value)
    session.add(item)
    session.flush()
    return item


def test_an_action_due_tomorrow_reaches_only_its_owner_at_nine_the_day_before(app, session, people, sent_mail):
    pair = people
    due_on = TODAY + timedelta(days=2)
    action(session, pair, pair.mentor, due_on)
    aisha_nine = nine(due_on - timedelta(days=1), KOLKATA)
    run_pass(app, session, aisha_nine - MINUTE)
    assert sent_mail == []
    run_pass(app, session, aisha_nine)
    [mail] = sent_mail
    assert mail["To"] == pair.mentor.email and mail["Subject"] == "An action is due tomorrow"
    body = text_of(mail)
    assert "from your meeting with Margaret Holloway on" in body and f"/pairs/{pair.id}/journal" in body
    run_pass(app, session, aisha_nine)
    # Margaret's 09:00 comes, and the action isn't hers.
    run_pass(app, session, nine(due_on - timedelta(days=1), NEW_YORK) + MINUTE)
    assert len(sent_mail) == 1
    assert [d.user_id for d in of_kind(session, Kind.ACTION_DUE)] == [pair.mentor.id]
    assert_nothing_written_by_the_pair(sent_mail)


def test_an_action_for_both_reaches_both_and_a_done_one_nobody(app, session, people, sent_mail):
    pair = people
    due_on = TODAY + timedelta(days=2)
    action(session, pair, None, due_on)
    action(session, pair, pair.mentee, due_on, done=True, done_at=datetime.now(UTC))
    margaret_nine = nine(due_on - timedelta(days=1), NEW_YORK)
    run_pass(app, session, margaret_nine - MINUTE)
    assert [m["To"] for m in sent_mail] == [pair.mentor.email]
    assert "You and Margaret Holloway have an action due tomorrow" in text_of(sent_mail[0])
    run_pass(app, session, margaret_nine)
    assert [m["To"] for m in sent_mail] == [pair.mentor.email, pair.mentee.email]
    run_pass(app, session, margaret_nine + timedelta(hours=1))
    assert len(sent_mail) == 2


def test_a_changed_due_date_is_a_new_reminder_and_the_old_one_is_never_sent(app, session, people, sent_mail):
    pair = people
    aisha = pair.mentor
    aisha.quiet_from, aisha.quiet_until = time(8, 0), time(10, 0)
    first_due = TODAY + timedelta(days=2)
    item = action(session, pair, aisha, first_due)
    run_pass(app, session, nine(first_due - timedelta(days=1), KOLKATA))
    [held] = of_kind(session, Kind.ACTION_DUE)
    assert held.state == State.HELD
    item = session.get(ActionItem, item.id)
    item.due_on = first_due + timedelta(days=1)
    run_pass(app, session, local(first_due - timedelta(days=1), 10, 1, KOLKATA))
    assert sent_mail == []
    assert [d.state for d in of_kind(session, Kind.ACTION_DUE)] == [State.DROPPED]
    # At 10:00 the day before the new date (after her quiet hours): one reminder.
    run_pass(app, session, local(first_due, 10, 0, KOLKATA))
    assert [m["To"] for m in sent_mail] == [aisha.email]
    run_pass(app, session, local(first_due, 10, 30, KOLKATA))
    assert len(sent_mail) == 1


# --- ground rules --------------------------------------------------------------------------------


def agree(session, pair: People, user: User, version: int, at: datetime) -> None:
    session.add(AgreementSignature(pair_id=pair.id, user_id=user.id, agreement_version=version, agreed_at=at))
    session.flush()


@pytest.fixture
def rules(session, people) -> People:
    session.add(Agreement(pair_id=people.id, version=1))
    session.flush()
    session.add(Clause(pair_id=people.id, title=SCRIPT, body=SCRIPT, position=0))
    session.flush()
    return people


def test_ground_rules_wait_two_days_after_the_partner_agreed(app, session, rules, sent_mail):
    pair = rules
    agreed_at = local(TODAY - timedelta(days=1), 16, 0, NEW_YORK)  # Margaret agrees
    agree(session, pair, pair.mentee, 1, agreed_at)
    # 16:00 in New York is 02:30 the next day in Kolkata: two days on from that day.
    aisha_day = agreed_at.astimezone(KOLKATA).date() + timedelta(days=2)
    run_pass(app, session, nine(aisha_day, KOLKATA) - MINUTE)
    assert sent_mail == []
    run_pass(app, session, nine(aisha_day, KOLKATA))
    [mail] = sent_mail
    assert mail["To"] == pair.mentor.email and mail["Subject"] == "Margaret Holloway agreed to your ground rules"
    assert f"/pairs/{pair.id}/ground-rules" in text_of(mail)
    run_pass(app, session, nine(aisha_day, KOLKATA) + MINUTE)
    # Margaret agreed: nothing for her, at her own 09:00 or later.
    run_pass(app, session, nine(aisha_day, NEW_YORK) + timedelta(days=1))
    assert len(sent_mail) == 1
    assert [d.user_id for d in of_kind(session, Kind.GROUND_RULES_WAITING)] == [pair.mentor.id]
    assert_nothing_written_by_the_pair(sent_mail)


def test_no_ground_rules_reminder_once_you_agreed_or_when_the_rules_changed(app, session, rules, sent_mail):
    pair = rules
    agreed_at = local(TODAY - timedelta(days=1), 10, 0, KOLKATA)  # Aisha agrees
    agree(session, pair, pair.mentor, 1, agreed_at)
    margaret_day = agreed_at.astimezone(NEW_YORK).date() + timedelta(days=2)
    # Margaret keeps quiet hours over her 09:00, and meanwhile the rules change: version 2.
    margaret = pair.mentee
    margaret.quiet_from, margaret.quiet_until = time(8, 0), time(10, 0)
    run_pass(app, session, nine(margaret_day, NEW_YORK))
    [held] = of_kind(session, Kind.GROUND_RULES_WAITING)
    assert held.state == State.HELD and held.subject == f"ground-rules:{pair.id}:v1"
    session.get(Agreement, pair.id).version = 2
    run_pass(app, session, local(margaret_day, 10, 1, NEW_YORK))
    assert sent_mail == []
    assert [d.state for d in of_kind(session, Kind.GROUND_RULES_WAITING)] == [State.DROPPED]

    # Aisha agrees to version 2, and Margaret agrees too before the two days are up.
    agree(session, pair, pair.mentor, 2, local(margaret_day, 12, 0, KOLKATA))
    agree(session, pair, margaret, 2, local(margaret_day + timedelta(days=1), 12, 0, NEW_YORK))
    run_pass(app, session, nine(margaret_day + timedelta(days=2), NEW_YORK) - timedelta(hours=12))
    run_pass(app, session, nine(margaret_day + timedelta(days=2), NEW_YORK) + MINUTE)
    assert sent_mail == []
    assert len(of_kind(session, Kind.GROUND_RULES_WAITING)) == 1


# --- quiet pairs ---------------------------------------------------------------------------------


def test_a_quiet_pair_gets_one_warm_nudge_each_at_nine(app, session, people, sent_mail):
    pair = people
    add_ground_rules(session, pair, cadence="weekly")
    # Weekly, with three days' grace: overdue ten days after they last met, which was yesterday.
    meet(session, pair, TODAY - timedelta(days=11))
    quiet_on = TODAY - timedelta(days=1)
    run_pass(app, session, nine(quiet_on, KOLKATA) - MINUTE)
    assert sent_mail == []
    run_pass(app, session, nine(quiet_on, KOLKATA))
    [mail] = sent_mail
    assert mail["To"] == pair.mentor.email and mail["Subject"] == "Time to catch up with Margaret Holloway?"
    body = text_of(mail)
    assert "It's been a while since you and Margaret Holloway met: shall we pick a time?" in body
    assert f"/pairs/{pair.id}/next-meeting" in body
    for word in ("missed", "failed", "overdue", "behind"):
        assert word not in body.lower()
    run_pass(app, session, nine(quiet_on, NEW_YORK) - MINUTE)
    assert len(sent_mail) == 1
    run_pass(app, session, nine(quiet_on, NEW_YORK))
    assert [m["To"] for m in sent_mail] == [pair.mentor.email, pair.mentee.email]
    # However long they stay quiet, this spell brings no second nudge.
    for days in range(1, 4):
        run_pass(app, session, nine(quiet_on + timedelta(days=days), NEW_YORK))
    assert len(sent_mail) == 2
    assert_nothing_written_by_the_pair(sent_mail)


def test_no_nudge_for_a_pair_with_a_meeting_planned_or_an_ended_pair(app, session, people, sent_mail):
    planned = people
    ended = make_pair(session, mentor="Noor Ali", mentee="Bill Stone")
    for pair in (planned, ended):
        add_ground_rules(session, pair, cadence="weekly")
        meet(session, pair, TODAY - timedelta(days=11))
    session.add(NextMeeting(pair_id=planned.id, starts_at=datetime.now(UTC) + timedelta(days=2)))
    session.get(Pair, ended.id).status = PairStatus.ENDED
    quiet_on = TODAY - timedelta(days=1)
    run_pass(app, session, nine(quiet_on, NEW_YORK) + MINUTE)
    assert to(sent_mail, planned.mentor.email) == [] and sent_mail == []


def test_a_nudge_waiting_in_quiet_hours_is_dropped_once_they_meet(app, session, people, sent_mail):
    pair = people
    add_ground_rules(session, pair, cadence="weekly")
    meet(session, pair, TODAY - timedelta(days=11))
    quiet_on = TODAY - timedelta(days=1)
    margaret = pair.mentee
    margaret.quiet_from, margaret.quiet_until = time(8, 0), time(10, 0)
    run_pass(app, session, nine(quiet_on, NEW_YORK))
    sent_mail.clear()  # Aisha's
    meet(session, pair, quiet_on)
    run_pass(app, session, local(quiet_on, 10, 1, NEW_YORK))
    assert sent_mail == []
    assert {d.user_id: d.state for d in of_kind(session, Kind.QUIET_PAIR)}[margaret.id] == State.DROPPED


# --- the cost of finding -------------------------------------------------------------------------


def busy_pairs(session, count: int) -> None:
    """Pairs with something of every kind about them: rules, meetings, actions, signatures."""
    program = ProgramFactory(
        starts_on=TODAY - timedelta(days=28), ends_on=TODAY + timedelta(days=100), feedback_every_weeks=4
    )
    give_prompts(session, program)
    for n in range(count):
        pair = make_pair(session, program, mentor=f"Mentor {n}", mentee=f"Mentee {n}")
        add_ground_rules(session, pair, cadence="weekly")
        met = meet(session, pair, TODAY - timedelta(days=11))
        action(session, pair, None, TODAY + timedelta(days=1), meeting=met)
        # Noon UTC two days back, not "now": from 18:30 UTC that moment is already the next day on
        # the mentor's clock in Kolkata, which moved the reminder past the window's end.
        agree(session, pair, pair.mentee, 1, datetime.combine(TODAY - timedelta(days=2), time(12), tzinfo=UTC))


def test_each_kind_finds_what_is_due_in_a_fixed_number_of_queries(app, session, queries):
    """Three pairs or twelve: each kind's search costs the same statements (bench/reminders.py
    holds the same at 10,000 pairs)."""
    at = datetime.combine(TODAY, time(23, 59), tzinfo=UTC)
    since = at - timedelta(hours=48)

    def search() -> tuple[list[int], Counter[Kind]]:
        statements, found = [], Counter()
        for find in dict.fromkeys(spec.find for spec in SPECS.values() if spec.find):
            with app.app_context(), queries() as log:
                found.update(due.kind for due in find(since, at))
            statements.append(log.count)
        return statements, found

    busy_pairs(session, 3)
    few, found_few = search()
    busy_pairs(session, 9)
    many, found_many = search()
    assert few == many
    # The check-ins' five (``checkins.find``) are the most.
    assert all(count <= 5 for count in many), many
    # The searches found real work, four times as much the second time.
    for kind in (
        Kind.CHECK_IN_OPEN,
        Kind.ACTION_DUE,
        Kind.GROUND_RULES_WAITING,
        Kind.QUIET_PAIR,
    ):
        assert found_few[kind] > 0 and found_many[kind] == 4 * found_few[kind], kind


def test_a_hostile_or_huge_name_is_escaped_in_the_mail_and_breaks_nothing(app, session, sent_mail):
    hostile = "<img src=x onerror=alert(1)> \u202eZoe\u0301 \U0001f469\u200d\U0001f4bb"
    pair = make_pair(session, mentor="Aisha Khan", mentee=hostile)
    session.get(User, pair.mentee.id).name = (hostile + "x" * 120)[:120]  # as long as a name may be
    add_ground_rules(session, pair, cadence="weekly")
    meet(session, pair, TODAY - timedelta(days=11))
    run_pass(app, session, nine(TODAY - timedelta(days=1), KOLKATA))
    [mail] = to(sent_mail, pair.mentor.email)
    html = mail.get_body(("html",)).get_content()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert [d.state for d in of_kind(session, Kind.QUIET_PAIR) if d.user_id == pair.mentor.id] == [State.SENT]


def test_the_pass_every_minute_works_out_only_the_pairs_whose_morning_it_is(app, session, monkeypatch):
    """On a program's check-in day beat's pass runs every minute: it reads the pairs with someone
    on a clock where 09:00 just came, not the whole program each minute, and still reminds each
    person at their own 09:00."""
    tokyo, new_york = ZoneInfo("Asia/Tokyo"), NEW_YORK
    program = ProgramFactory(
        starts_on=TODAY - timedelta(days=28), ends_on=TODAY + timedelta(days=100), feedback_every_weeks=4
    )
    give_prompts(session, program)
    east = PairFactory(
        program=program, mentor=UserFactory(time_zone="Asia/Tokyo"), mentee=UserFactory(time_zone="Asia/Tokyo")
    ).id
    west = PairFactory(
        program=program,
        mentor=UserFactory(time_zone="America/New_York"),
        mentee=UserFactory(time_zone="America/New_York"),
    ).id
    worked_out: list[int] = []
    real = rounds.open_rounds
    monkeypatch.setattr(rounds, "open_rounds", lambda *args: worked_out.append(args) or real(*args))

    def minute_to(moment: datetime) -> set[int]:
        worked_out.clear()
        with app.app_context():
            found = checkins.find(moment - MINUTE, moment)
        assert len(worked_out) == len({due.details["pair"] for due in found})
        return {due.details["pair"] for due in found if due.kind == Kind.CHECK_IN_OPEN}

    # Tokyo's 09:00 is midnight UTC, when the round's day begins.
    assert minute_to(max(nine(TODAY, tokyo), datetime.combine(TODAY, time(0), tzinfo=UTC))) == {east}
    assert minute_to(nine(TODAY, new_york)) == {west}
    # An hour later nobody's morning came: nothing is worked out at all.
    assert minute_to(nine(TODAY, new_york) + timedelta(hours=1)) == set()
    assert worked_out == []
