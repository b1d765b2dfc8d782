"""Everything the admin area reads comes from here, and only as counts.

No function in this module selects a text column written by a pair member. Program names and
dates are the admin's own settings, so they may be shown. The one exception is ``help_requests``:
a message a participant chose to send *to* the admin, with their name (see the end of the file).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, func, select

from app.extensions import db
from app.models import Pair, Program


@dataclass(frozen=True)
class ProgramSummary:
    id: int
    name: str
    starts_on: date
    ends_on: date
    privacy_threshold: int
    pairs: int  # the pairs the admin made: their number is the admin's own set-up, not a measure


def program_summaries(which: ColumnElement[bool]) -> list[ProgramSummary]:
    """Each program ``which`` picks (those the admin administers) with how many pairs it has,
    newest first, in one query. Everything measured about the pairs is on the dashboard, under
    its privacy rules."""
    rows = db.session.execute(
        select(
            Program.id,
            Program.name,
            Program.starts_on,
            Program.ends_on,
            Program.privacy_threshold,
            func.count(Pair.id),
        )
        .outerjoin(Pair, Pair.program_id == Program.id)
        .where(which)
        .group_by(Program.id)
        .order_by(Program.starts_on.desc(), Program.id.desc())
    )
    return [ProgramSummary(*row) for row in rows]


# --- The program dashboard ---------------------------------------------------------------------
#
# The suppression rule (k is the program's privacy threshold):
#
# 1. While the program has fewer than k pairs, no program-level figure is shown at all.
# 2. Every count of pairs is a cell of a breakdown that splits a shown total into parts: the
#    meetings-per-pair buckets, pairs by department, and for single figures such as "active pairs"
#    the two parts "active" and "not active" (showing 11 of 12 would single out the one pair that
#    is not). A cell under k pairs is hidden, zero included: it describes fewer than k pairs.
# 3. The differencing guard: when a breakdown has hidden cells and either exactly one is hidden or
#    the hidden cells together hold fewer than k pairs, the smallest visible cell is hidden too, and
#    so on until neither holds. So no hidden cell can be worked out by subtracting what is shown
#    from the total, and the shown cells never sum to the total minus fewer than k.
# 4. A figure that is not a count of pairs (goals done, an average score) is shown only when it
#    comes from at least k pairs. Scores are shown by month only, with no all-time figure beside
#    them, so a hidden month cannot be recovered from an overall average.
#
# The queries select counts, averages, dates, enum values and the admin's own words (program name,
# prompt text): never a column a pair member wrote. tests/test_aggregates.py checks every statement.

ACTIVE_DAYS = 30
MEETING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("No meetings", 0, 0),
    ("1–2 meetings", 1, 2),
    ("3–5 meetings", 3, 5),
    ("6 or more", 6, None),
)
NO_DEPARTMENT = "Not given"


class Hidden(enum.StrEnum):
    """Which rule hid a figure, so the page can say why in words that are true."""

    # Rules 1, 2 and 4: the figure itself describes fewer than k pairs.
    FEW_PAIRS = "few pairs"
    # Rule 3: the figure is large enough, but shown it would let a hidden one be worked out.
    DIFFERENCING = "differencing"


@dataclass(frozen=True)
class Cell:
    """One figure of a breakdown; ``value`` is None when it is hidden, and ``reason`` says why."""

    label: str
    value: int | float | None
    reason: Hidden | None = None

    @property
    def hidden(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Breakdown:
    title: str
    cells: list[Cell]

    @property
    def largest(self) -> int:
        return max((int(c.value) for c in self.cells if not c.hidden), default=0)


@dataclass(frozen=True)
class MonthlyScores:
    """The average of one scale question, month by month (hidden months under k pairs)."""

    question: str
    months: list[Cell]


@dataclass(frozen=True)
class Dashboard:
    program_id: int
    program_name: str
    k: int
    # None while the program has fewer than k pairs: then nothing below is shown either.
    pairs: int | None
    active: Cell
    agreed: Cell
    goals_done: Cell
    goals_in_progress: Cell
    meetings: Breakdown
    departments: Breakdown
    scores: list[MonthlyScores]

    @property
    def hidden_entirely(self) -> bool:
        return self.pairs is None


def suppress(counts: list[tuple[str, int]], k: int) -> list[Cell]:
    """Cells of a breakdown whose parts sum to a shown total, with the rule above applied; each
    hidden cell carries the rule that hid it."""
    too_few = {label for label, n in counts if n < k}
    hidden = set(too_few)
    while hidden:
        hidden_sum = sum(n for label, n in counts if label in hidden)
        if len(hidden) > 1 and hidden_sum >= k:
            break
        visible = [(n, i, label) for i, (label, n) in enumerate(counts) if label not in hidden]
        if not visible:
            break
        hidden.add(min(visible)[2])
    return [
        Cell(label, n)
        if label not in hidden
        else Cell(label, None, Hidden.FEW_PAIRS if label in too_few else Hidden.DIFFERENCING)
        for label, n in counts
    ]


def _share(label: str, part: int, total: int, k: int) -> Cell:
    """A count of pairs out of the program's pairs: a breakdown of two cells, this one and the rest."""
    return suppress([(label, part), ("rest", total - part)], k)[0]


def _at_least_k_pairs(label: str, value: float | None, pairs: int, k: int) -> Cell:
    if pairs >= k and value is not None:
        return Cell(label, value)
    return Cell(label, None, Hidden.FEW_PAIRS)


def _month(column):
    """The UTC month of a timestamp as "2026-11"."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    # SQLite keeps UTC timestamps as "2026-11-22 12:00:00": the month is its first seven characters,
    # and slicing is much cheaper than strftime over every answer of a large program.
    return func.substr(column, 1, 7)


def dashboard(program_id: int, today: date | None = None) -> Dashboard | None:
    """The program's dashboard, already suppressed; None when there is no such program."""
    from datetime import timedelta

    from app.models import (
        AgreementSignature,
        FeedbackAnswer,
        Goal,
        GoalStatus,
        Meeting,
        PairMember,
        Participant,
        Prompt,
        PromptKind,
        PromptSet,
        Role,
    )

    program = db.session.execute(
        select(Program.id, Program.name, Program.privacy_threshold).where(Program.id == program_id)
    ).one_or_none()
    if program is None:
        return None
    k = program.privacy_threshold
    today = today or date.today()

    # One row per pair: how many meetings, and whether one was in the last 30 days.
    per_pair = (
        select(
            Pair.id.label("pair_id"),
            func.count(Meeting.id).label("meetings"),
            func.max(Meeting.held_on).label("last_met"),
        )
        .outerjoin(Meeting, Meeting.pair_id == Pair.id)
        .where(Pair.program_id == program_id)
        .group_by(Pair.id)
        .subquery()
    )
    bucket_columns = [
        func.coalesce(
            func.sum(
                case(
                    (per_pair.c.meetings >= low, 1) if high is None else (per_pair.c.meetings.between(low, high), 1),
                    else_=0,
                )
            ),
            0,
        )
        for _label, low, high in MEETING_BUCKETS
    ]
    cutoff = today - timedelta(days=ACTIVE_DAYS)
    active_column = func.coalesce(func.sum(case((per_pair.c.last_met >= cutoff, 1), else_=0)), 0)
    pairs, active, *buckets = db.session.execute(
        select(func.count(), active_column, *bucket_columns).select_from(per_pair)
    ).one()

    empty = Cell("", None)
    if pairs < k:
        return Dashboard(
            program.id,
            program.name,
            k,
            None,
            empty,
            empty,
            empty,
            empty,
            Breakdown("Meetings per pair", []),
            Breakdown("Pairs by department", []),
            [],
        )

    # Pairs where both people agreed to the same version of their ground rules.
    both_agreed = (
        select(AgreementSignature.pair_id)
        .join(Pair, Pair.id == AgreementSignature.pair_id)
        .where(Pair.program_id == program_id)
        .group_by(AgreementSignature.pair_id, AgreementSignature.agreement_version)
        .having(func.count(func.distinct(AgreementSignature.user_id)) >= 2)
        .subquery()
    )
    agreed = db.session.scalar(select(func.count(func.distinct(both_agreed.c.pair_id))))

    goals = {
        status: (count, pair_count)
        for status, count, pair_count in db.session.execute(
            select(Goal.status, func.count(Goal.id), func.count(func.distinct(Goal.pair_id)))
            .join(Pair, Pair.id == Goal.pair_id)
            .where(Pair.program_id == program_id, Goal.status.in_([GoalStatus.DONE, GoalStatus.IN_PROGRESS]))
            .group_by(Goal.status)
        )
    }

    # A pair's department is its mentee's, as the admin recorded it for this program.
    department = func.coalesce(func.nullif(Participant.department, ""), NO_DEPARTMENT)
    by_department = db.session.execute(
        select(department, func.count(Pair.id))
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.role == Role.MENTEE))
        .outerjoin(
            Participant, (Participant.user_id == PairMember.user_id) & (Participant.program_id == Pair.program_id)
        )
        .where(Pair.program_id == program_id)
        .group_by(department)
        .order_by(department)
    ).all()

    month = _month(FeedbackAnswer.created_at)
    score_rows = db.session.execute(
        select(
            Prompt.id,
            Prompt.text,
            month,
            func.avg(FeedbackAnswer.score),
            func.count(func.distinct(FeedbackAnswer.pair_id)),
        )
        .select_from(Prompt)
        .join(PromptSet, PromptSet.id == Prompt.prompt_set_id)
        # From the program's questions to their answers, along the (prompt_id, created_at) index.
        .join(FeedbackAnswer, FeedbackAnswer.prompt_id == Prompt.id)
        .where(PromptSet.program_id == program_id, Prompt.kind == PromptKind.SCALE, FeedbackAnswer.score.is_not(None))
        # Grouping by the prompt's key is enough for its text and position (both databases allow it).
        .group_by(Prompt.id, month)
        .order_by(Prompt.position, Prompt.id, month)
    ).all()
    scores: dict[int, MonthlyScores] = {}
    for prompt_id, question, month_key, average, pair_count in score_rows:
        entry = scores.setdefault(prompt_id, MonthlyScores(question, []))
        value = round(float(average), 1) if average is not None else None
        entry.months.append(_at_least_k_pairs(_month_label(month_key), value, pair_count, k))

    done, done_pairs = goals.get(GoalStatus.DONE, (0, 0))
    doing, doing_pairs = goals.get(GoalStatus.IN_PROGRESS, (0, 0))
    return Dashboard(
        program_id=program.id,
        program_name=program.name,
        k=k,
        pairs=pairs,
        active=_share("Active pairs", active, pairs, k),
        agreed=_share("Ground rules agreed by both", agreed, pairs, k),
        goals_done=_at_least_k_pairs("Goals done", done, done_pairs, k),
        goals_in_progress=_at_least_k_pairs("Goals in progress", doing, doing_pairs, k),
        meetings=Breakdown(
            "Meetings per pair",
            suppress([(label, int(n)) for (label, _l, _h), n in zip(MEETING_BUCKETS, buckets, strict=True)], k),
        ),
        departments=Breakdown("Pairs by department", suppress([(name, n) for name, n in by_department], k)),
        scores=list(scores.values()),
    )


def _month_label(key: str) -> str:
    """ "2026-11" as "Nov 2026"."""
    return datetime.strptime(key, "%Y-%m").strftime("%b %Y")


def hidden_reason(cell: Cell, k: int) -> str:
    """Why ``cell`` is hidden, in the words the dashboard, its CSV and the participants' page use."""
    if cell.reason is Hidden.DIFFERENCING:
        return "hidden so that a smaller hidden figure can't be worked out from the others"
    return f"hidden: fewer than {k} pairs"


def dashboard_rows(board: Dashboard) -> list[tuple[str, str, str]]:
    """The dashboard as (section, item, value) rows for the CSV download: the same suppressions."""

    def show(cell: Cell) -> str:
        return hidden_reason(cell, board.k) if cell.hidden else str(cell.value)

    if board.hidden_entirely:
        return [("Program", "Pairs", hidden_reason(Cell("Pairs", None, Hidden.FEW_PAIRS), board.k))]
    rows = [
        ("Program", "Pairs", str(board.pairs)),
        ("Program", board.active.label, show(board.active)),
        ("Program", board.agreed.label, show(board.agreed)),
        ("Program", board.goals_done.label, show(board.goals_done)),
        ("Program", board.goals_in_progress.label, show(board.goals_in_progress)),
    ]
    for breakdown in (board.meetings, board.departments):
        rows += [(breakdown.title, cell.label, show(cell)) for cell in breakdown.cells]
    for question in board.scores:
        rows += [(f"Average score: {question.question}", cell.label, show(cell)) for cell in question.months]
    return rows


# --- Requests for help -------------------------------------------------------------------------
#
# The one place the admin reads words: a message a participant wrote *to* the admin, with the
# sender's name. Nothing else of the pair comes with it (not even which pair it is).


@dataclass(frozen=True)
class HelpRequestView:
    id: int
    sender_name: str
    message: str
    created_at: datetime
    handled_at: datetime | None
    # The admin's own answer, read by the sender alone (see authz.help_answers_to).
    answer: str = ""
    answered_at: datetime | None = None


def _help_request_rows():
    from app.models import HelpRequest, User

    return select(
        HelpRequest.id,
        User.name,
        HelpRequest.message,
        HelpRequest.created_at,
        HelpRequest.handled_at,
        HelpRequest.answer,
        HelpRequest.answered_at,
    ).join(User, User.id == HelpRequest.sender_id)


def help_requests(program_id: int) -> list[HelpRequestView]:
    """Requests for help sent to this program, open ones first, newest first."""
    from app.models import HelpRequest

    rows = db.session.execute(
        _help_request_rows()
        .where(HelpRequest.program_id == program_id)
        .order_by(HelpRequest.handled_at.is_not(None), HelpRequest.created_at.desc(), HelpRequest.id.desc())
    )
    return [HelpRequestView(*row) for row in rows]


def help_request(program_id: int, request_id: int) -> HelpRequestView | None:
    """One of this program's requests for help, or None when it has no such request."""
    from app.models import HelpRequest

    row = db.session.execute(
        _help_request_rows().where(HelpRequest.id == request_id, HelpRequest.program_id == program_id)
    ).one_or_none()
    return HelpRequestView(*row) if row is not None else None


class Answered(enum.Enum):
    SAVED = "saved"
    UNCHANGED = "unchanged"  # the same words as stored: a double tap, or nothing edited
    CONFLICT = "conflict"  # another admin answered since this one opened the form


def answer_help_request(
    request: HelpRequestView, text: str, *, base: datetime | None, admin_id: int, now: datetime
) -> Answered:
    """Store ``text`` as the answer to ``request`` (the caller commits). One answer per request,
    which can be amended: ``base`` is the answered_at the admin's form was drawn with, and the
    write is one conditional UPDATE on it, so of two admins answering at once one wins and the
    other is told, never silently overwritten."""
    from sqlalchemy import update

    from app.models import HelpRequest

    if text == request.answer:
        return Answered.UNCHANGED
    same_base = HelpRequest.answered_at.is_(None) if base is None else HelpRequest.answered_at == base
    saved = db.session.execute(
        update(HelpRequest)
        .where(HelpRequest.id == request.id, same_base)
        .values(answer=text, answered_at=now, answered_by_id=admin_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return Answered.SAVED if saved == 1 else Answered.CONFLICT


@dataclass(frozen=True)
class DigestProgram:
    id: int
    name: str
    open_requests: int


def digest_programs(today: date) -> list[DigestProgram]:
    """The programs a weekly digest is about: those running at some point of the last week, and
    any other with requests for help still open; with how many are open. One query."""
    from datetime import timedelta

    from app.models import HelpRequest

    open_requests = (
        select(HelpRequest.program_id, func.count(HelpRequest.id).label("open"))
        .where(HelpRequest.handled_at.is_(None))
        .group_by(HelpRequest.program_id)
        .subquery()
    )
    running = (Program.starts_on <= today) & (Program.ends_on >= today - timedelta(days=7))
    rows = db.session.execute(
        select(Program.id, Program.name, func.coalesce(open_requests.c.open, 0))
        .outerjoin(open_requests, open_requests.c.program_id == Program.id)
        .where(running | (open_requests.c.open > 0))
        .order_by(Program.starts_on.desc(), Program.id.desc())
    )
    return [DigestProgram(*row) for row in rows]


def mark_handled(program_id: int, request_id: int) -> bool:
    """Mark one of this program's requests handled (the caller commits); False if there is none."""
    from app.models import HelpRequest, utcnow

    request = db.session.scalar(
        select(HelpRequest).where(HelpRequest.id == request_id, HelpRequest.program_id == program_id)
    )
    if request is None:
        return False
    if request.handled_at is None:
        request.handled_at = utcnow()
    return True


def program_name(program_id: int) -> str | None:
    """The program's name (the admin's own words), or None when there is no such program."""
    return db.session.scalar(select(Program.name).where(Program.id == program_id))
