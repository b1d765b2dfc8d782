"""Everything the admin area reads comes from here, and only as counts.

No function in this module selects a text column written by a pair member. Program names and
dates are the admin's own settings, so they may be shown. The one exception is ``help_requests``:
a message a participant chose to send *to* the admin, with their name (see the end of the file).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

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
# The dashboard shows published snapshots only (app/admin/snapshots.py computes them, with noise,
# once a week and once a month): reading it computes no figure, so reloading, changing the
# program's dates or k, or downloading the CSV tells nothing new. The suppression rules below are
# applied when a snapshot is published, to its noisy counts:
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
# 4. A figure that is not a count of pairs (an average score) is shown only when the noisy count
#    of pairs it comes from is at least k. Scores are shown by month only.
#
# The noise is what protects a pair against an admin who knows every other pair; the rules keep
# small, very noisy figures off the page. Snapshots carry counts and averages, dates and the
# admin's own words (program name, prompt text): never a column a pair member wrote.

ACTIVE_DAYS = 30
MEETING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("No meetings", 0, 0),
    ("1–2 meetings", 1, 2),
    ("3–5 meetings", 3, 5),
    ("6 or more", 6, None),
)
NO_DEPARTMENT = "Not given"
# How many monthly snapshots the dashboard shows scores from.
MONTHS_SHOWN = 12


class Hidden(enum.StrEnum):
    """Which rule hid a figure, so the page can say why in words that are true."""

    # Rules 1, 2 and 4: the figure itself describes fewer than k pairs.
    FEW_PAIRS = "few pairs"
    # Rule 3: the figure is large enough, but shown it would let a hidden one be worked out.
    DIFFERENCING = "differencing"


@dataclass(frozen=True)
class Cell:
    """One figure of a breakdown; ``value`` is None when it is hidden, and ``reason`` says why.
    ``give_or_take`` is how far the noise may have moved it (9 times in 10); None for an exact
    figure."""

    label: str
    value: int | float | None
    reason: Hidden | None = None
    give_or_take: int | float | None = None

    @property
    def hidden(self) -> bool:
        return self.value is None

    @classmethod
    def stored(cls, data: dict[str, Any]) -> Cell:
        reason = data.get("reason")
        return cls(data["label"], data.get("value"), Hidden(reason) if reason else None, data.get("give_or_take"))


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
class Budget:
    """The program's privacy budget for the current calendar year."""

    year: int
    spent: float
    cap: float
    per_release: float

    @property
    def exhausted(self) -> bool:
        return self.spent + self.per_release > self.cap + 1e-9

    @property
    def best_guess(self) -> int:
        """What ε per snapshot means in words: out of 100 tries, how often at best someone who
        knows every other pair tells from one snapshot which of two things a pair did (e^ε/(1+e^ε),
        rounded up, so the page never claims less than the bound)."""
        import math

        return math.ceil(100 * math.exp(self.per_release) / (1 + math.exp(self.per_release)))


@dataclass(frozen=True)
class Release:
    """When a snapshot's figures were measured and published."""

    period: str
    as_of: date
    released_at: datetime


_NOTHING = Cell("", None)


@dataclass(frozen=True)
class Dashboard:
    program_id: int
    program_name: str
    k: int
    budget: Budget
    # The day the first snapshot comes, while none has been published (None: none will, the
    # program having ended).
    first_release: date | None = None
    weekly: Release | None = None
    monthly: Release | None = None
    # None while the program had fewer than k pairs: then nothing below is shown either.
    pairs: int | None = None
    active: Cell = _NOTHING
    agreed: Cell = _NOTHING
    goal_done: Cell = _NOTHING
    meetings: Breakdown = Breakdown("Meetings per pair", [])
    departments: Breakdown = Breakdown("Pairs by department", [])
    active_by_department: Breakdown = Breakdown("Active pairs by department", [])
    agreed_by_department: Breakdown = Breakdown("Ground rules agreed by department", [])
    scores: list[MonthlyScores] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.weekly is not None or self.monthly is not None

    @property
    def hidden_entirely(self) -> bool:
        return self.published and self.pairs is None


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


def _cells(stored: list[dict[str, Any]]) -> list[Cell]:
    return [Cell.stored(cell) for cell in stored]


def dashboard(program_id: int, today: date | None = None) -> Dashboard | None:
    """The program's dashboard from its published snapshots (the latest weekly one for the
    headline, the latest monthly one for the rest, and the last MONTHS_SHOWN months of scores);
    None when there is no such program. A fixed few queries, and no figure computed."""
    from app.admin.snapshots import next_release
    from app.models import PrivacyBudgetYear, Snapshot, SnapshotKind

    program = db.session.execute(
        select(
            Program.id,
            Program.name,
            Program.privacy_threshold,
            Program.starts_on,
            Program.ends_on,
            Program.epsilon_per_release,
            Program.epsilon_per_year,
        ).where(Program.id == program_id)
    ).one_or_none()
    if program is None:
        return None
    today = today or date.today()
    spent = db.session.scalar(
        select(PrivacyBudgetYear.spent).where(
            PrivacyBudgetYear.program_id == program_id, PrivacyBudgetYear.year == today.year
        )
    )
    budget = Budget(today.year, float(spent or 0.0), program.epsilon_per_year, program.epsilon_per_release)
    columns = (Snapshot.kind, Snapshot.period, Snapshot.as_of, Snapshot.released_at, Snapshot.k, Snapshot.figures)
    weekly = db.session.execute(
        select(*columns)
        .where(Snapshot.program_id == program_id, Snapshot.kind == SnapshotKind.WEEKLY)
        .order_by(Snapshot.as_of.desc())
        .limit(1)
    ).one_or_none()
    monthly = db.session.execute(
        select(*columns)
        .where(Snapshot.program_id == program_id, Snapshot.kind == SnapshotKind.MONTHLY)
        .order_by(Snapshot.as_of.desc())
        .limit(MONTHS_SHOWN)
    ).all()
    base = {"program_id": program.id, "program_name": program.name, "budget": budget}
    if weekly is None and not monthly:
        first = next_release(today, program.starts_on)
        # The last weekly snapshot a program gets is the one of the week it ends in.
        if first > program.ends_on + timedelta(days=7 - program.ends_on.weekday()):
            first = None
        return Dashboard(**base, k=program.privacy_threshold, first_release=first)

    # The threshold the shown figures were suppressed with, so the words about hidden ones stay
    # true after k is raised (the next snapshots will use the new one).
    board: dict[str, Any] = {"k": max(row.k for row in [weekly, *monthly] if row is not None)}
    if weekly is not None:
        board["weekly"] = Release(weekly.period, weekly.as_of, weekly.released_at)
        figures = weekly.figures
        if not figures.get("hidden_entirely"):
            board["pairs"] = figures["pairs"]
            board["active"] = Cell.stored(figures["active"])
            board["agreed"] = Cell.stored(figures["agreed"])
    if monthly:
        latest = monthly[0]
        board["monthly"] = Release(latest.period, latest.as_of, latest.released_at)
        figures = latest.figures
        if not figures.get("hidden_entirely"):
            board.setdefault("pairs", figures["pairs"])
            board["goal_done"] = Cell.stored(figures["goal_done"])
            board["meetings"] = Breakdown("Meetings per pair", _cells(figures["meetings"]))
            board["departments"] = Breakdown("Pairs by department", _cells(figures["departments"]))
            board["active_by_department"] = Breakdown(
                "Active pairs by department", _cells(figures["active_by_department"])
            )
            board["agreed_by_department"] = Breakdown(
                "Ground rules agreed by department", _cells(figures["agreed_by_department"])
            )
        scores: dict[str, MonthlyScores] = {}
        for row in reversed(monthly):
            for entry in row.figures.get("scores", []):
                scores.setdefault(entry["question"], MonthlyScores(entry["question"], [])).months.append(
                    Cell.stored(entry["cell"])
                )
        board["scores"] = list(scores.values())
    return Dashboard(**base, **board)


def hidden_reason(cell: Cell, k: int) -> str:
    """Why ``cell`` is hidden, in the words the dashboard, its CSV and the participants' page use."""
    if cell.reason is Hidden.DIFFERENCING:
        return "hidden so that a smaller hidden figure can't be worked out from the others"
    return f"hidden: fewer than {k} pairs"


def in_words(cell: Cell, k: int) -> str:
    """A figure as the CSV and the digest write it: "about 12, give or take 2", or why it is hidden."""
    if cell.hidden:
        return hidden_reason(cell, k)
    if cell.give_or_take:
        return f"about {cell.value}, give or take {cell.give_or_take}"
    return str(cell.value)


def dashboard_rows(board: Dashboard) -> list[tuple[str, str, str, str]]:
    """The dashboard as (section, item, value, give or take) rows for the CSV download and the
    digest: the published figures, hidden ones in the same words as on the page."""

    def row(section: str, cell: Cell) -> tuple[str, str, str, str]:
        if cell.hidden:
            return (section, cell.label, hidden_reason(cell, board.k), "")
        slack = "" if cell.give_or_take is None else str(cell.give_or_take)
        return (section, cell.label, str(cell.value), slack)

    if not board.published:
        if board.first_release is None:
            return [("Program", "Pairs", "no figures were published while the program ran", "")]
        return [("Program", "Pairs", f"the first figures come on {board.first_release:%-d %B %Y}", "")]
    if board.hidden_entirely:
        return [("Program", "Pairs", hidden_reason(Cell("Pairs", None, Hidden.FEW_PAIRS), board.k), "")]
    rows = [("Program", "Pairs", str(board.pairs), "")]
    rows += [row("Program", cell) for cell in (board.active, board.agreed, board.goal_done) if cell.label]
    for breakdown in (board.meetings, board.departments, board.active_by_department, board.agreed_by_department):
        rows += [row(breakdown.title, cell) for cell in breakdown.cells]
    for question in board.scores:
        rows += [row(f"Average score: {question.question}", cell) for cell in question.months]
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


def digest_programs(today: date, which: ColumnElement[bool] | None = None) -> list[DigestProgram]:
    """The programs a weekly digest is about: those running at some point of the last week, and
    any other with requests for help still open; with how many are open. ``which`` narrows them
    to the programs one admin administers. One query."""
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
        .where(running | (open_requests.c.open > 0), *([which] if which is not None else []))
        .order_by(Program.starts_on.desc(), Program.id.desc())
    )
    return [DigestProgram(*row) for row in rows]


def help_sender(request_id: int) -> int | None:
    """Who sent request ``request_id``: the person the admin's answer concerns."""
    from app.models import HelpRequest

    return db.session.scalar(select(HelpRequest.sender_id).where(HelpRequest.id == request_id))


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
