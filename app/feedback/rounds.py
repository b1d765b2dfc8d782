"""Feedback rounds: which check-ins a pair is asked, which are due for a person, answering one, and
what each person may read of the answers. Views call these; the ``pair`` blueprint has already
loaded the membership (or answered 404) and every query here is filtered by the pair.

Rounds are never stored. They follow from the program's cadences, the pair's meetings and the
dates in their ground rules, so opening a page never writes. Only the few most recent rounds are
open (``OPEN_ROUNDS``): an older one nobody answered lapses quietly rather than piling up.

Who may read which answers is decided in ``authz.readable_feedback`` and nowhere else: your own
answers always; your partner's only once you both submitted that round, and then only those
marked shared (a private answer is never even selected for anyone but its author).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, exists, func, literal, or_, select, true
from sqlalchemy.exc import IntegrityError

from app import authz
from app.dates import days_ago
from app.extensions import db
from app.ground_rules import agreement
from app.models import (
    Cadence,
    FeedbackAnswer,
    FeedbackSubmission,
    Meeting,
    Pair,
    PairMember,
    Program,
    Prompt,
    PromptKind,
    Rhythm,
)
from app.next_meeting.pace import Pace, pace

OPEN_ROUNDS = 3  # the most recent rounds one can still answer; older ones lapse
HISTORY = 5  # rounds one answered, shown with their answers

# When two rounds fall on the same day, one check-in is enough: the bigger occasion wins.
_WEIGHT = {"end": 3, "midpoint": 2, "week": 1, "meeting": 0}


@dataclass(frozen=True)
class Round:
    """One check-in both members are asked: ``key`` names it in the answers (``meeting-12``,
    ``week-3``, ``midpoint``, ``end``); ``on`` is the day it became due."""

    key: str
    kind: str  # "meeting", "week", "midpoint" or "end"
    on: date
    label: str


def _short(day: date, today: date) -> str:
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def _meeting_round(meeting_id: int, held_on: date | None, today: date) -> Round:
    label = f"After your meeting on {_short(held_on, today)}" if held_on else "After one of your meetings"
    return Round(f"meeting-{meeting_id}", "meeting", held_on or date.min, label)


@dataclass(frozen=True)
class Facts:
    """What rounds depend on besides the program: the ground rules' rhythm and dates, and the
    pair's latest meetings (id, held_on), newest first."""

    rhythm: Rhythm
    meetings: list[tuple[int, date]]
    # The day the pair closed, if it closed before its end: the closing check-in opens then.
    closed_on: date | None = None

    @property
    def last_met_on(self) -> date | None:
        return self.meetings[0][1] if self.meetings else None

    def end(self, program: Program) -> date:
        end = agreement.ends_on(program, self.rhythm)
        return min(end, self.closed_on) if self.closed_on else end


def facts(pair_id: int, today: date) -> Facts:
    """The ground rules' rhythm and dates and the latest meetings, in one query: the pair's home
    and this section's fragments both count their queries."""

    recent = (
        select(Meeting.id, Meeting.held_on)
        .where(Meeting.pair_id == pair_id, Meeting.held_on <= today)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(OPEN_ROUNDS)
        .subquery()
    )
    # One row even without meetings, so the clause fields always come back.
    one = select(literal(1).label("one")).subquery()
    ended_at = select(Pair.ended_at).where(Pair.id == pair_id).scalar_subquery()
    rows = db.session.execute(
        select(*agreement.rhythm_columns(pair_id), recent.c.id, recent.c.held_on, ended_at).select_from(
            one.outerjoin(recent, true())
        )
    ).all()
    rhythm_fields, dates_fields = (rows[0][0], rows[0][1]) if rows else (None, None)
    rhythm = Rhythm.from_fields(rhythm_fields, dates_fields)
    meetings = sorted(
        ((row[2], row[3]) for row in rows if row[2] is not None), key=lambda m: (m[1], m[0]), reverse=True
    )
    closed_at = rows[0][4] if rows else None
    return Facts(rhythm, meetings, closed_at.date() if closed_at else None)


def recent_meetings(pair_ids: Select, today: date) -> dict[int, list[tuple[int, date, datetime]]]:
    """``facts``' meetings for many pairs in one query: each pair's latest ``OPEN_ROUNDS`` meetings
    held by ``today`` as (id, held_on, logged at), newest first, keyed by pair. ``pair_ids`` is a
    SELECT of pair ids (the reminder pass's active pairs)."""
    ranked = (
        select(
            Meeting.pair_id,
            Meeting.id,
            Meeting.held_on,
            Meeting.created_at,
            func.row_number()
            .over(partition_by=Meeting.pair_id, order_by=(Meeting.held_on.desc(), Meeting.id.desc()))
            .label("n"),
        )
        .where(Meeting.pair_id.in_(pair_ids), Meeting.held_on <= today)
        .subquery()
    )
    found: dict[int, list[tuple[int, date, datetime]]] = {}
    for pair_id, meeting_id, held_on, logged_at in db.session.execute(
        select(ranked.c.pair_id, ranked.c.id, ranked.c.held_on, ranked.c.created_at)
        .where(ranked.c.n <= OPEN_ROUNDS)
        .order_by(ranked.c.pair_id, ranked.c.n)
    ):
        found.setdefault(pair_id, []).append((meeting_id, held_on, logged_at))
    return found


def open_rounds(program: Program, found: Facts, today: date) -> list[Round]:
    """The most recent rounds whose day has come (at most ``OPEN_ROUNDS``), newest first."""
    midpoint, end = agreement.midpoint(program, found.rhythm), found.end(program)
    candidates: list[Round] = []
    if program.feedback_after_meeting:
        candidates += [_meeting_round(meeting_id, held_on, today) for meeting_id, held_on in found.meetings]
    if program.feedback_at_midpoint and midpoint <= today:
        candidates.append(Round("midpoint", "midpoint", midpoint, f"Halfway check-in ({_short(midpoint, today)})"))
    if program.feedback_at_end and end <= today:
        candidates.append(Round("end", "end", end, f"Closing check-in ({_short(end, today)})"))
    if program.feedback_every_weeks > 0:
        candidates += _week_rounds(
            program, today, end, taken={r.on for r in candidates if r.kind in ("midpoint", "end")}
        )
    candidates.sort(key=lambda r: (r.on, _WEIGHT[r.kind], r.key), reverse=True)
    return candidates[:OPEN_ROUNDS]


def _week_rounds(program: Program, today: date, end: date, taken: set[date]) -> list[Round]:
    period = 7 * program.feedback_every_weeks
    last = (min(today, end) - program.starts_on).days // period
    rounds = []
    for n in range(max(1, last - OPEN_ROUNDS + 1), last + 1):
        on = program.starts_on + timedelta(days=n * period)
        if on not in taken:
            rounds.append(_week_round(program, n, today))
    return rounds


def _week_round(program: Program, n: int, today: date) -> Round:
    on = program.starts_on + timedelta(days=n * 7 * program.feedback_every_weeks)
    return Round(f"week-{n}", "week", on, f"Check-in, week {n * program.feedback_every_weeks} ({_short(on, today)})")


def answerable(program: Program, pair_id: int, found: Facts, key: str, today: date) -> Round | None:
    """The round ``key`` names, if this pair's members may still answer it: an open round, or one
    that was open for this pair and has lapsed since (newer rounds came along while the form was
    being filled in). A lapsed round is one whose day has come under the program's cadences: a
    meeting of this pair held by today, week N once its day has come (before the end, and not on
    the midpoint's or end's day), the midpoint or the end once reached. Lapsing stops the asking,
    never an answer typed for it. None for anything else (a garbled key, another pair's meeting,
    a cadence the program doesn't use, a round whose day hasn't come)."""
    if program.prompt_set_id is None:
        return None
    current = next((r for r in open_rounds(program, found, today) if r.key == key), None)
    if current is not None:
        return current
    midpoint, end = agreement.midpoint(program, found.rhythm), found.end(program)
    if key == "midpoint" and program.feedback_at_midpoint and midpoint <= today:
        return Round(key, "midpoint", midpoint, f"Halfway check-in ({_short(midpoint, today)})")
    if key == "end" and program.feedback_at_end and end <= today:
        return Round(key, "end", end, f"Closing check-in ({_short(end, today)})")
    kind, _, number = key.partition("-")
    # Ids and week numbers that fit the database's integers, written the one way keys are written.
    if not (number.isdigit() and number == str(int(number)) and 0 < int(number) < 2**31):
        return None
    if kind == "meeting" and program.feedback_after_meeting:
        held_on = db.session.scalar(
            select(Meeting.held_on).where(
                Meeting.id == int(number), Meeting.pair_id == pair_id, Meeting.held_on <= today
            )
        )
        return _meeting_round(int(number), held_on, today) if held_on is not None else None
    if kind == "week" and program.feedback_every_weeks > 0:
        lapsed = _week_round(program, int(number), today)
        taken = {
            day for day, asked in ((midpoint, program.feedback_at_midpoint), (end, program.feedback_at_end)) if asked
        }
        if lapsed.on <= min(today, end) and lapsed.on not in taken:
            return lapsed
    return None


def round_for_key(program: Program, key: str, today: date, held_on: date | None) -> Round:
    """A label for a round answered earlier, which may have lapsed from the open ones since."""
    kind, _, number = key.partition("-")
    if kind == "meeting":
        return _meeting_round(int(number) if number.isdigit() else 0, held_on, today)
    if kind == "week" and number.isdigit():
        on = program.starts_on + timedelta(days=int(number) * 7 * max(program.feedback_every_weeks, 1))
        return Round(key, "week", on, f"Check-in ({_short(on, today)})")
    if key == "midpoint":
        return Round(key, "midpoint", date.min, "Halfway check-in")
    return Round(key, "end", date.min, "Closing check-in")


def due_for(membership: PairMember, today: date | None = None, found: Facts | None = None) -> list[Round]:
    """The open rounds ``membership``'s person hasn't answered yet, newest first (for the pair's
    home). Two queries at most, one when the caller already has the ``Facts``; none when the
    program has no prompts."""
    today = today or date.today()
    program = membership.pair.program
    if program.prompt_set_id is None:
        return []
    rounds = open_rounds(program, found or facts(membership.pair_id, today), today)
    if not rounds:
        return []
    answered = set(
        db.session.scalars(
            select(FeedbackSubmission.round_key).where(
                FeedbackSubmission.pair_id == membership.pair_id,
                FeedbackSubmission.user_id == membership.user_id,
                FeedbackSubmission.round_key.in_([r.key for r in rounds]),
            )
        )
    )
    return [r for r in rounds if r.key not in answered]


# --- the rhythm question -------------------------------------------------------------------------


def rhythm_words(rhythm: Rhythm, found_pace: Pace, partner_name: str) -> str | None:
    """ "You and Sam agreed to meet every two weeks; you last met 5 days ago.", or None when the
    ground rules say nothing about how often."""
    if rhythm.cadence is None:
        return None
    if rhythm.cadence == Cadence.CUSTOM:
        agreed = (
            f"You and {partner_name} agreed: “{rhythm.custom}”"
            if rhythm.custom
            else f"You and {partner_name} agreed a rhythm of your own"
        )
    else:
        agreed = f"You and {partner_name} agreed to meet {Cadence(rhythm.cadence).label}"
    if found_pace.days_since is None:
        return f"{agreed}. You haven't logged a meeting yet."
    return f"{agreed}; you last met {days_ago(found_pace.days_since)}."


# --- prompts, submissions and answers ------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """The program's prompts, and whether each member already answered the round being asked."""

    prompts: list[Prompt]
    i_answered: bool
    partner_answered: bool


def asked(membership: PairMember, round_key: str) -> Asked:
    """The active prompt set with both members' state for ``round_key``, in one query."""
    program = membership.pair.program
    if program.prompt_set_id is None:
        return Asked([], False, False)

    def answered(user_id: int):
        return exists().where(
            FeedbackSubmission.pair_id == membership.pair_id,
            FeedbackSubmission.round_key == round_key,
            FeedbackSubmission.user_id == user_id,
        )

    rows = db.session.execute(
        select(Prompt, answered(membership.user_id), answered(membership.partner().user_id))
        .where(Prompt.prompt_set_id == program.prompt_set_id)
        .order_by(Prompt.position, Prompt.id)
    ).all()
    if not rows:
        return Asked([], False, False)
    return Asked([row[0] for row in rows], bool(rows[0][1]), bool(rows[0][2]))


@dataclass(frozen=True)
class Answer:
    prompt_text: str
    kind: PromptKind
    position: int
    score: int | None
    yes: bool | None
    text: str
    shared: bool


@dataclass
class Answered:
    """A round one answered: one's own answers, and the partner's shared ones once both did."""

    round: Round
    partner_answered: bool
    mine: list[Answer] = field(default_factory=list)
    theirs: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    rounds: list[Round]  # open rounds, newest first
    due: list[Round]  # those the viewer hasn't answered
    partner_answered: set[str]  # round keys the partner submitted (among those read)
    answered: list[Answered]  # the viewer's latest answered rounds, newest first
    rhythm: Rhythm
    pace: Pace


def page(membership: PairMember, today: date) -> Page:
    """Everything the feedback page shows but the prompts: open and due rounds, and the rounds
    the viewer answered with what they may read of them. Three queries, however long the pair
    has been going."""
    program = membership.pair.program
    pair_id, me = membership.pair_id, membership.user_id
    found = facts(pair_id, today)
    rounds = open_rounds(program, found, today) if program.prompt_set_id is not None else []
    my_latest = (
        select(FeedbackSubmission.round_key)
        .where(FeedbackSubmission.pair_id == pair_id, FeedbackSubmission.user_id == me)
        .order_by(FeedbackSubmission.submitted_at.desc(), FeedbackSubmission.id.desc())
        .limit(HISTORY)
    )
    held_on = (
        select(Meeting.held_on)
        .where(
            Meeting.pair_id == pair_id, literal("meeting-") + cast(Meeting.id, String) == FeedbackSubmission.round_key
        )
        .scalar_subquery()
    )
    submissions = db.session.execute(
        select(FeedbackSubmission.round_key, FeedbackSubmission.user_id, FeedbackSubmission.submitted_at, held_on)
        .where(
            FeedbackSubmission.pair_id == pair_id,
            or_(FeedbackSubmission.round_key.in_([r.key for r in rounds]), FeedbackSubmission.round_key.in_(my_latest)),
        )
        .order_by(FeedbackSubmission.submitted_at.desc(), FeedbackSubmission.id.desc())
    ).all()
    mine = [row for row in submissions if row.user_id == me]
    partner_keys = {row.round_key for row in submissions if row.user_id != me}
    mine_keys = {row.round_key for row in mine}
    by_key = {r.key: r for r in rounds}
    answered = [
        Answered(
            by_key.get(row.round_key) or round_for_key(program, row.round_key, today, row[3]),
            row.round_key in partner_keys,
        )
        for row in mine[:HISTORY]
    ]
    if answered:
        keys = [a.round.key for a in answered]
        revealed = {key for key in keys if key in partner_keys}
        index = {a.round.key: a for a in answered}
        for answer, text, kind, position in db.session.execute(authz.readable_feedback(membership, keys, revealed)):
            entry = Answer(text, kind, position, answer.score, answer.yes, answer.text, answer.shared)
            target = index[answer.round_key]
            (target.mine if answer.user_id == me else target.theirs).append(entry)
    return Page(
        rounds=rounds,
        due=[r for r in rounds if r.key not in mine_keys],
        partner_answered=partner_keys,
        answered=answered,
        rhythm=found.rhythm,
        pace=pace(found.rhythm, found.last_met_on, today),
    )


# --- answering -----------------------------------------------------------------------------------


def submit(membership: PairMember, round_key: str, answers: list[dict[str, Any]]) -> bool:
    """Store the viewer's answers to ``round_key`` and mark it answered. False (and nothing
    written) when they had already answered it: a double tap, or a second tab."""
    try:
        with db.session.begin_nested():
            db.session.add(
                FeedbackSubmission(pair_id=membership.pair_id, round_key=round_key, user_id=membership.user_id)
            )
            db.session.flush()
            for values in answers:
                db.session.add(
                    FeedbackAnswer(
                        pair_id=membership.pair_id, round_key=round_key, user_id=membership.user_id, **values
                    )
                )
            db.session.flush()
    except IntegrityError:
        return False
    return True
