"""Check-in reminders: one when a check-in opens, and one gentle reminder before it lapses.

Rounds are never stored (``app.feedback.rounds``): the pass works them out for every pair as the
check-in page would, for the day ``--at`` falls on in UTC (the page's day), and reminds each person
of a round they haven't answered:

- **Opened** (``check-in-open``): at 09:00 on the person's clock on the round's day, or at once if
  the round opened later (a meeting logged in the afternoon, or days after it was held). Never
  before the round's day has begun in UTC, when the page starts showing it: far east of UTC, 09:00
  comes before that, and the reminder waits for it.
- **Lapsing** (``check-in-lapsing``): only ``OPEN_ROUNDS`` rounds are open; each new one pushes the
  oldest out. "Before it lapses" is the moment a round becomes the oldest open one: from then on,
  the next round to open closes it. The reminder comes when the newest of the rounds ahead of it
  opened for the person (09:00 on its day, or when its meeting was logged). A round that is
  already the oldest when it opens gets only the "opened" reminder.

Both keys carry the round (``check-in:<pair>:<round key>``) and the round's own 09:00, so each
person hears of a round at most once of each kind, however often the pass runs. Only for programs
with a prompt set: without questions there is nothing to answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, exists, literal, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.feedback import rounds
from app.ground_rules import agreement
from app.models import (
    Clause,
    ClauseKind,
    Delivery,
    FeedbackSubmission,
    Kind,
    Meeting,
    Pair,
    PairMember,
    PairStatus,
    Program,
    Rhythm,
    User,
    utcnow,
)
from app.models.ground_rules import halfway
from app.models.user import UTC_ZONE
from app.reminders import people
from app.reminders.messages import Message, partner_named
from app.reminders.outbox import Due
from app.urls import absolute_url


def _subject(pair_id: int, key: str) -> str:
    return f"check-in:{pair_id}:{key}"


def nominal(day: date, zone_name: str | None) -> datetime:
    """A round's moment for one person: 09:00 on their clock on its day, but not before the day
    has begun in UTC (the check-in page's day)."""
    return max(people.morning(day, zone_name), people.midnight(day))


@dataclass(frozen=True)
class _Person:
    pair_id: int
    user_id: int
    zone: str | None
    partner: str


def _pairs_with_prompts():
    return (
        select(Pair.id)
        .join(Program, Program.id == Pair.program_id)
        .where(Pair.status == PairStatus.ACTIVE, Program.prompt_set_id.is_not(None))
    )


def find(since: datetime, at: datetime) -> list[Due]:
    """Check-ins that opened for someone in (since, at], and those that became the oldest open
    one: both kinds at once, since they share the work of finding every pair's rounds (the spec
    of each names this search; the pass runs it once). Five queries, whatever the number of
    pairs: programs; the clocks in use where a program's round day is in the window; people with
    their pair's dates; latest meetings; answers to what is due."""
    today = at.astimezone(UTC_ZONE).date()
    programs = {
        program.id: program
        for program in db.session.scalars(
            select(Program).where(Program.prompt_set_id.is_not(None), Program.id.in_(select(Pair.program_id)))
        )
    }
    if not programs:
        return []
    maybe = _may_have_opened(programs.values(), since, at)
    _rhythm_fields, dates_fields = agreement.rhythm_columns(Pair.id)
    rows = db.session.execute(
        people.members().add_columns(Pair.program_id, dates_fields).where(Pair.program_id.in_(list(programs)), maybe)
    ).all()
    meetings = rounds.recent_meetings(_pairs_with_prompts().where(maybe), today)

    # Each pair's open rounds, worked out once for both of its people.
    open_by_pair: dict[int, list[rounds.Round]] = {}
    candidates: list[tuple[Kind, _Person, rounds.Round]] = []
    for pair_id, user_id, zone, partner, program_id, dates in rows:
        if pair_id not in open_by_pair:
            found = rounds.Facts(
                Rhythm.from_fields(None, dates), [(m_id, held_on) for m_id, held_on, _ in meetings.get(pair_id, [])]
            )
            open_by_pair[pair_id] = rounds.open_rounds(programs[program_id], found, today)
        if not open_by_pair[pair_id]:
            continue
        logged = {f"meeting-{m_id}": logged_at for m_id, _, logged_at in meetings.get(pair_id, [])}
        person = _Person(pair_id, user_id, zone, partner)
        for kind in (Kind.CHECK_IN_OPEN, Kind.CHECK_IN_LAPSING):
            candidates += [(kind, person, r) for r in _due(kind, open_by_pair[pair_id], zone, logged, since, at)]
    if not candidates:
        return []
    answered = _answered([r for _, _, r in candidates])
    found, told = [], set()
    for kind, person, r in candidates:
        if (person.pair_id, person.user_id, r.key) in answered:
            continue
        # Two rounds opening at once (two past meetings logged together): only the newest is
        # told of, as two mails saying the same would be noise; the page shows every open one.
        if kind == Kind.CHECK_IN_OPEN and (person.pair_id, person.user_id) in told:
            continue
        if kind == Kind.CHECK_IN_OPEN:
            told.add((person.pair_id, person.user_id))
        details = {"pair": person.pair_id, "round": r.key, "partner": person.partner}
        found.append(
            Due(person.user_id, kind, _subject(person.pair_id, r.key), nominal(r.on, person.zone), None, details)
        )
    return found


def _may_have_opened(programs: Iterable[Program], since: datetime, at: datetime) -> ColumnElement[bool]:
    """The pairs for which a round may have opened in (since, at], as a condition on ``Pair``:
    the rest need no working out, so the pass that runs every minute reads a few pairs, not all.

    A round opens for everyone on its day in UTC (``nominal`` falls within that day on every
    clock), or when its meeting was logged. So: the programs with a round every N weeks, the
    midpoint or the end on one of the window's days; pairs that held or logged a meeting then;
    and pairs with dates of their own (a handful, whose midpoint and end aren't the program's).
    Lapsing needs nothing more: a round comes up for it only when a newer one opens.

    Of a program with a round on one of those days, only the pairs with someone whose 09:00
    (``nominal``) on that day falls in the window: the pass that runs every minute on a check-in
    day reads the pairs on the clocks whose morning it is, not the whole program every minute."""
    first, last = since.astimezone(UTC_ZONE).date(), at.astimezone(UTC_ZONE).date()
    days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    program_days = {program.id: days & _program_days(program, first, last) for program in programs}
    program_days = {program_id: found for program_id, found in program_days.items() if found}
    met = exists().where(
        Meeting.pair_id == Pair.id,
        or_(Meeting.held_on.between(first, last), (Meeting.created_at > since) & (Meeting.created_at <= at)),
    )
    own_dates = exists().where(Clause.pair_id == Pair.id, Clause.kind == ClauseKind.DATES, Clause.removed.is_(False))
    return or_(*_mornings_in(program_days, since, at), met, own_dates)


# Its own names for the people of a pair, so the condition never correlates with the person of the
# query it is added to (``people.members`` joins ``PairMember`` and ``User`` too).
_member = aliased(PairMember)
_person = aliased(User)


def _mornings_in(program_days: dict[int, set[date]], since: datetime, at: datetime) -> list[ColumnElement[bool]]:
    """Conditions on ``Pair``: in one of these programs, with someone on a clock whose morning of
    one of the program's round days falls in (since, at]. One query for the clocks in use."""
    if not program_days:
        return []
    zones = db.session.scalars(
        select(User.time_zone)
        .distinct()
        .join(PairMember, PairMember.user_id == User.id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(Pair.program_id.in_(list(program_days)), Pair.status == PairStatus.ACTIVE)
    ).all()
    # Programs grouped by the clocks whose morning came: usually one group, all on the same day.
    by_zones: dict[frozenset, list[int]] = {}
    for program_id, found in program_days.items():
        woke = frozenset(zone for zone in zones if any(since < nominal(day, zone) <= at for day in found))
        if woke:
            by_zones.setdefault(woke, []).append(program_id)
    conditions = []
    for woke, program_ids in by_zones.items():
        named = [zone for zone in woke if zone is not None]
        on_clock = _person.time_zone.in_(named) if named else literal(False)
        if None in woke:
            on_clock = or_(on_clock, _person.time_zone.is_(None))
        someone = exists().where(
            _member.pair_id == Pair.id, _member.user_id == _person.id, _person.active.is_(True), on_clock
        )
        conditions.append(Pair.program_id.in_(program_ids) & someone)
    return conditions


def _program_days(program: Program, first: date, last: date) -> set[date]:
    """The days between ``first`` and ``last`` on which ``program`` opens a round for every pair
    that keeps its dates."""
    found = set()
    if program.feedback_at_midpoint:
        found.add(halfway(program.starts_on, program.ends_on))
    if program.feedback_at_end:
        found.add(program.ends_on)
    if program.feedback_every_weeks > 0:
        period = 7 * program.feedback_every_weeks
        n = max(1, -(-(first - program.starts_on).days // period))  # the first round on or after ``first``
        while (day := program.starts_on + timedelta(days=n * period)) <= min(last, program.ends_on):
            found.add(day)
            n += 1
    return found


def _due(
    wanted: Kind, open_now: list[rounds.Round], zone: str | None, logged: dict[str, datetime], since, at
) -> list[rounds.Round]:
    """Of a pair's open rounds (newest first), those ``wanted`` falls due for in (since, at] for
    a person on ``zone``'s clock."""
    if wanted == Kind.CHECK_IN_OPEN:
        return [r for r in open_now if since < _opened(r, zone, logged) <= at]
    if len(open_now) < rounds.OPEN_ROUNDS:
        return []
    # The oldest open round lapses when the next one opens: it became the oldest when the newest
    # of the rounds ahead of it opened.
    oldest = open_now[-1]
    pushed_at = max(_opened(r, zone, logged) for r in open_now[:-1])
    return [oldest] if pushed_at > _opened(oldest, zone, logged) and since < pushed_at <= at else []


def _opened(r: rounds.Round, zone: str | None, logged: dict[str, datetime]) -> datetime:
    """When ``r`` opened for a person on ``zone``'s clock: its moment, or when its meeting was
    logged if that came later."""
    moment = nominal(r.on, zone)
    logged_at = logged.get(r.key)
    return max(moment, logged_at) if logged_at is not None else moment


def _answered(due: list[rounds.Round]) -> set[tuple[int, int, str]]:
    """(pair, person, round) for every answer to one of the rounds ``due``, in one query. The
    week, midpoint and end keys are few and shared by every pair; a meeting's key is matched
    through the meetings held since the oldest one due, so the statement's size doesn't grow with
    the number of pairs."""
    shared = sorted({r.key for r in due if r.kind != "meeting"})
    met_since = min((r.on for r in due if r.kind == "meeting"), default=None)
    conditions = []
    if shared:
        conditions.append(FeedbackSubmission.round_key.in_(shared))
    if met_since is not None:
        conditions.append(
            FeedbackSubmission.round_key.in_(
                select(literal("meeting-") + cast(Meeting.id, String)).where(
                    Meeting.pair_id == FeedbackSubmission.pair_id, Meeting.held_on >= met_since
                )
            )
        )
    return {
        (pair_id, user_id, key)
        for pair_id, user_id, key in db.session.execute(
            select(FeedbackSubmission.pair_id, FeedbackSubmission.user_id, FeedbackSubmission.round_key).where(
                FeedbackSubmission.pair_id.in_(_pairs_with_prompts()), or_(*conditions)
            )
        )
    }


def compose(delivery: Delivery, user: User, settings) -> Message | None:
    """The words, from the rounds as they are now: None once the person answered, the round
    lapsed, the pair ended or the program's questions were taken away."""
    pair_id, key = delivery.details["pair"], delivery.details["round"]
    program = db.session.scalar(
        select(Program)
        .join(Pair, Pair.program_id == Program.id)
        .where(
            Pair.id == pair_id,
            Pair.status == PairStatus.ACTIVE,
            exists().where(PairMember.pair_id == pair_id, PairMember.user_id == user.id),
        )
    )
    if program is None or program.prompt_set_id is None:
        return None
    today = utcnow().date()
    current = next((r for r in rounds.open_rounds(program, rounds.facts(pair_id, today), today) if r.key == key), None)
    if current is None:
        return None
    done = db.session.scalar(
        select(
            exists().where(
                FeedbackSubmission.pair_id == pair_id,
                FeedbackSubmission.round_key == key,
                FeedbackSubmission.user_id == user.id,
            )
        )
    )
    if done:
        return None
    partner = partner_named(delivery)
    url = absolute_url("pair.feedback.index", pair_id=pair_id, round=key)
    if delivery.kind == Kind.CHECK_IN_LAPSING:
        return Message(
            delivery.kind,
            f"There's still time for your check-in with {partner}",
            [
                f"{current.label} is still open. It closes when the next check-in opens, so now is a good moment.",
                "It takes a couple of minutes, and it helps you both see what's working.",
            ],
            url=url,
            action="Answer the check-in",
        )
    return Message(
        delivery.kind,
        f"A check-in with {partner} is open",
        [
            f"{current.label}: a few quick questions on how things are going with {partner}.",
            f"{partner} sees the answers you share once you have both answered; private ones stay yours.",
        ],
        url=url,
        action="Answer the check-in",
    )
