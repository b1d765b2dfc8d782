"""Dashboard snapshots: the program's figures measured once, with calibrated noise, and stored.

Why: figures recomputed at every visit let an admin compare two visits and see one pair's
meeting; exact figures let an admin who padded a program with pairs of their own subtract them
and read the one real pair's answers. So the dashboard, its CSV, the participants' program page
and the weekly digest read only what this module published, and each published figure carries
noise from OpenDP (pure ε-differential privacy: discrete Laplace on counts, Laplace on sums).

What is private, and what is not. The roster (who takes part, who is paired with whom, each
person's department) is the admin's own set-up, shown on their pages as it is: the number of
pairs and pairs by department are published exactly. What pairs *do* (meetings, ground rules
agreed, goals, feedback scores) is private: every figure about it is noised.

Sensitivity (how much one person can move a figure). One person's activity can change every pair
they are in, and a mentor may be in several pairs (matching allows up to three), so a person
counts in each of their pairs: the bound is per person, not per pair. With ``c`` the most pairs
any one person of the program is in (read from the roster, which the admin knows, so using it
leaks nothing), the L1 sensitivities are:

- a count of pairs (active, ground rules agreed, with a goal done): ``c``, since each of a
  person's pairs can go in or out once;
- a count per department (active pairs, ground rules agreed): ``c``, as a pair counts in one
  department (its mentee's);
- meetings per pair, a breakdown where each pair is in exactly one bucket: ``2c`` (a pair leaves
  one bucket for another);
- feedback, per question for the month: each pair's answers are averaged into one value, clamped
  to the 1–5 scale and centred on 3 (so in [-2, 2]); the count of pairs that answered moves by
  at most ``c`` per question, the centred sum by at most ``4c`` (from -2 to 2). Over ``q``
  questions: ``q·c`` and ``4·q·c``.

Each snapshot spends the program's ε per release, split over its figures (sequential composition:
the snapshot as a whole is ε-DP), from a yearly budget that can't be passed (one conditional
UPDATE). A mean is a noisy sum over a noisy count and is clamped to the scale; counts are whole,
clamped to [0, the pairs they are counted over]. The k threshold is applied to the noisy counts
(deciding on the true ones would itself leak), and then the differencing guard of
``aggregates.suppress``: both are post-processing, which costs no privacy.

Schedule: a weekly snapshot of the headline counts once each ISO week has ended, and a monthly
one of the rest (meetings per pair, the department breakdowns, goals, scores of that month) once
each month has closed. Beat runs ``publish_due`` every hour; ``flask dashboard publish --at``
runs it for any moment. A second run for the same period does nothing (unique key).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import click
from celery import shared_task
from flask.cli import AppGroup
from sqlalchemy import and_, case, func, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from app.admin.aggregates import ACTIVE_DAYS, MEETING_BUCKETS, NO_DEPARTMENT, Cell, Hidden, suppress
from app.extensions import db
from app.models import (
    AgreementSignature,
    FeedbackAnswer,
    Goal,
    GoalStatus,
    Meeting,
    Pair,
    PairMember,
    Participant,
    PrivacyBudgetYear,
    Program,
    Prompt,
    PromptKind,
    PromptSet,
    Role,
    Snapshot,
    SnapshotKind,
    utcnow,
)

SCALE_LOW, SCALE_HIGH = 1, 5
SCALE_MIDDLE = 3
# How sure "give or take" is: the noise stays inside it 9 times in 10.
CONFIDENCE = 0.9
# Within a weekly snapshot: the share of its ε each headline count gets. Active pairs gets most,
# as it is the figure people read first (in a program of 20 pairs it lands within 3 of the truth
# 9 times in 10 with the default ε).
WEEKLY_SHARES = {"active": 0.75, "agreed": 0.25}
# Float tolerance when comparing what was spent with the cap.
BUDGET_SLACK = 1e-9


# --- Noise ---------------------------------------------------------------------------------------


class Noise(Protocol):
    """Adds noise calibrated so that a change of ``l1`` in the inputs costs at most ``epsilon``."""

    def counts(self, values: Sequence[int], l1: int, epsilon: float) -> list[int]: ...

    def sums(self, values: Sequence[float], l1: float, epsilon: float) -> list[float]: ...

    def count_slack(self, l1: int, epsilon: float) -> int | None:
        """How far the noise on such a count may move it, 9 times in 10 (None: not at all)."""

    def sum_slack(self, l1: float, epsilon: float) -> float | None:
        """The same for a sum."""


@functools.cache
def _opendp():
    import opendp.prelude as dp

    # make_laplace on vectors is among OpenDP's "contrib" (community-vetted) constructors.
    dp.enable_features("contrib")
    return dp


def _calibrated(make: Callable[[float], Any], l1: float, epsilon: float):
    """The measurement with the smallest scale OpenDP itself certifies as ``epsilon``-DP for an
    input change of ``l1`` (its float accounting rounds up, so start at l1/ε and widen)."""
    scale = l1 / epsilon
    while True:
        measurement = make(scale)
        if measurement.map(l1) <= epsilon:
            return measurement, scale
        scale *= 1 + 1e-9


@functools.lru_cache(maxsize=256)
def _integer_laplace(l1: int, epsilon: float):
    dp = _opendp()
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    return _calibrated(lambda scale: dp.m.make_laplace(*space, scale=scale), l1, epsilon)


@functools.lru_cache(maxsize=256)
def _float_laplace(l1: float, epsilon: float):
    dp = _opendp()
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    return _calibrated(lambda scale: dp.m.make_laplace(*space, scale=scale), l1, epsilon)


class OpenDPNoise:
    """The noise every snapshot is published with."""

    def counts(self, values: Sequence[int], l1: int, epsilon: float) -> list[int]:
        if not values:
            return []
        measurement, _scale = _integer_laplace(int(l1), epsilon)
        return list(measurement([int(v) for v in values]))

    def sums(self, values: Sequence[float], l1: float, epsilon: float) -> list[float]:
        if not values:
            return []
        measurement, _scale = _float_laplace(float(l1), epsilon)
        return list(measurement([float(v) for v in values]))

    def count_slack(self, l1: int, epsilon: float) -> int | None:
        return count_give_or_take(l1, epsilon)

    def sum_slack(self, l1: float, epsilon: float) -> float | None:
        return sum_give_or_take(l1, epsilon)


class NoNoise:
    """The true figures, through the same rules: only for tests that show what the noise does
    (without it the padding attack always wins) and what the suppression rules do to exact figures."""

    def counts(self, values: Sequence[int], l1: int, epsilon: float) -> list[int]:
        return [int(v) for v in values]

    def sums(self, values: Sequence[float], l1: float, epsilon: float) -> list[float]:
        return [float(v) for v in values]

    def count_slack(self, l1: int, epsilon: float) -> int | None:
        return None

    def sum_slack(self, l1: float, epsilon: float) -> float | None:
        return None


OPENDP = OpenDPNoise()


def count_give_or_take(l1: int, epsilon: float) -> int:
    """Half the width of the range the noise on a count stays inside CONFIDENCE of the time: for
    the discrete Laplace of scale b, P(|X| > t) = 2·α^(t+1)/(1+α) with α = e^(-1/b). From the
    scale alone, never from the data."""
    alpha = math.exp(-epsilon / l1)
    t = 0
    while 2 * alpha ** (t + 1) / (1 + alpha) > 1 - CONFIDENCE:
        t += 1
    return t


def sum_give_or_take(l1: float, epsilon: float) -> float:
    """The same for the Laplace noise on a sum: P(|X| > t) = e^(-t/b)."""
    return (l1 / epsilon) * math.log(1 / (1 - CONFIDENCE))


# --- What is measured (never stored, never shown) ------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """The true figures of one program at one moment: the input of a release."""

    pairs: int
    # The most pairs any one person of the program is in: the per-person bound (see the top).
    per_person: int
    departments: list[str]
    pairs_by_department: list[int]
    active_by_department: list[int]
    agreed_by_department: list[int]
    goal_done_by_department: list[int]
    meetings: list[int]  # pairs per MEETING_BUCKETS bucket
    questions: list[str]  # the program's scale questions (the admin's own words), in order
    answered: list[int] = ()  # pairs that answered each question in the month
    centred_sums: list[float] = ()  # over those pairs, of (the pair's mean answer − 3)

    @property
    def active(self) -> int:
        return sum(self.active_by_department)

    @property
    def agreed(self) -> int:
        return sum(self.agreed_by_department)

    @property
    def goal_done(self) -> int:
        return sum(self.goal_done_by_department)


def _clamped_score():
    return case(
        (FeedbackAnswer.score < SCALE_LOW, SCALE_LOW),
        (FeedbackAnswer.score > SCALE_HIGH, SCALE_HIGH),
        else_=FeedbackAnswer.score,
    )


def measure(program_id: int, as_of: date, month: tuple[date, date] | None = None) -> Measured:
    """The program's true figures at the end of ``as_of``, and with ``month`` (its first and last
    day) the feedback scores given in it. A fixed number of queries, whatever the program's size;
    each selects counts and averages, never a column a pair member wrote."""
    members = (
        select(PairMember.user_id, func.count().label("n"))
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(Pair.program_id == program_id)
        .group_by(PairMember.user_id)
        .subquery()
    )
    per_person = db.session.scalar(select(func.coalesce(func.max(members.c.n), 0))) or 0

    # One row per pair, each figure a lookup along that pair's own index (meetings by pair and
    # date, goals by pair and status, signatures by pair): the plan stays a walk over the pairs
    # whatever the planner believes about the tables' sizes.
    end = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC)
    held = (Meeting.pair_id == Pair.id) & (Meeting.held_on <= as_of)
    both_signed = (
        select(AgreementSignature.agreement_version)
        .where(AgreementSignature.pair_id == Pair.id, AgreementSignature.agreed_at < end)
        .group_by(AgreementSignature.agreement_version)
        .having(func.count(func.distinct(AgreementSignature.user_id)) >= 2)
        .exists()
    )
    done = select(Goal.id).where(Goal.pair_id == Pair.id, Goal.status == GoalStatus.DONE).exists()
    department = func.coalesce(func.nullif(Participant.department, ""), NO_DEPARTMENT)
    per_pair = (
        select(
            department.label("department"),
            select(func.count(Meeting.id)).where(held).scalar_subquery().label("meetings"),
            select(func.max(Meeting.held_on)).where(held).scalar_subquery().label("last_met"),
            case((both_signed, 1), else_=0).label("agreed"),
            case((done, 1), else_=0).label("done"),
        )
        .select_from(Pair)
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.role == Role.MENTEE))
        .outerjoin(
            Participant, (Participant.user_id == PairMember.user_id) & (Participant.program_id == Pair.program_id)
        )
        .where(Pair.program_id == program_id)
        # OFFSET 0 keeps PostgreSQL from folding this into the outer query, where each use of
        # a pair's meeting count would run its lookup again.
        .offset(0)
        .subquery()
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # The estimate of a walk over every pair crosses the JIT threshold, and compiling it takes
        # longer than running it (0.7 s against 0.3 s at 10,000 pairs).
        db.session.execute(text("SET LOCAL jit = off"))
    cutoff = as_of - timedelta(days=ACTIVE_DAYS)
    count = per_pair.c.meetings
    bucket_columns = [
        func.sum(case((count >= low if high is None else count.between(low, high), 1), else_=0))
        for _label, low, high in MEETING_BUCKETS
    ]
    rows = db.session.execute(
        select(
            per_pair.c.department,
            func.count(),
            func.sum(case((per_pair.c.last_met > cutoff, 1), else_=0)),
            func.sum(per_pair.c.agreed),
            func.sum(per_pair.c.done),
            *bucket_columns,
        )
        .group_by(per_pair.c.department)
        .order_by(per_pair.c.department)
    ).all()
    buckets = [sum(int(row[5 + i] or 0) for row in rows) for i in range(len(MEETING_BUCKETS))]

    questions = db.session.execute(
        select(Prompt.id, Prompt.text)
        .join(PromptSet, PromptSet.id == Prompt.prompt_set_id)
        .where(PromptSet.program_id == program_id, Prompt.kind == PromptKind.SCALE)
        .order_by(PromptSet.id, Prompt.position, Prompt.id)
    ).all()
    answered: list[int] = []
    sums: list[float] = []
    if month is not None and questions:
        first, last = month
        start = datetime.combine(first, time(0), tzinfo=UTC)
        stop = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
        # One value per pair and question: the mean of that pair's answers in the month.
        per_pair = (
            select(
                FeedbackAnswer.prompt_id,
                FeedbackAnswer.pair_id,
                func.avg(_clamped_score()).label("mean"),
            )
            .join(Prompt, Prompt.id == FeedbackAnswer.prompt_id)
            .join(PromptSet, PromptSet.id == Prompt.prompt_set_id)
            .join(Pair, and_(Pair.id == FeedbackAnswer.pair_id, Pair.program_id == program_id))
            .where(
                PromptSet.program_id == program_id,
                Prompt.kind == PromptKind.SCALE,
                FeedbackAnswer.score.is_not(None),
                FeedbackAnswer.created_at >= start,
                FeedbackAnswer.created_at < stop,
            )
            .group_by(FeedbackAnswer.prompt_id, FeedbackAnswer.pair_id)
            .subquery()
        )
        by_prompt = {
            prompt_id: (int(n), float(total or 0))
            for prompt_id, n, total in db.session.execute(
                select(
                    per_pair.c.prompt_id,
                    func.count(),
                    func.sum(per_pair.c.mean - literal(SCALE_MIDDLE)),
                ).group_by(per_pair.c.prompt_id)
            )
        }
        answered = [by_prompt.get(q.id, (0, 0.0))[0] for q in questions]
        sums = [by_prompt.get(q.id, (0, 0.0))[1] for q in questions]

    return Measured(
        pairs=sum(int(row[1]) for row in rows),
        per_person=int(per_person),
        departments=[row[0] for row in rows],
        pairs_by_department=[int(row[1]) for row in rows],
        active_by_department=[int(row[2] or 0) for row in rows],
        agreed_by_department=[int(row[3] or 0) for row in rows],
        goal_done_by_department=[int(row[4] or 0) for row in rows],
        meetings=buckets,
        questions=[q.text for q in questions],
        answered=answered,
        centred_sums=sums,
    )


# --- A release: measured figures in, published figures out --------------------------------------
#
# These take the true figures and return what is stored and shown. The padding test calls them
# directly, many times: they are the whole path from the data to a published figure.


def _cell(cell: Cell, give_or_take: float | None = None) -> dict[str, Any]:
    return {
        "label": cell.label,
        "value": cell.value,
        "reason": cell.reason.value if cell.reason else None,
        "give_or_take": give_or_take if not cell.hidden else None,
    }


def _whole(value: int, most: int) -> int:
    """A noisy count of pairs as shown: whole, and between none and all of the pairs it counts."""
    return max(0, min(int(value), most))


def _share(label: str, noisy: int, total: int, k: int, give_or_take: int | None) -> dict[str, Any]:
    """A noisy count of pairs out of ``total`` (exact), under the k rule and the differencing
    guard applied to the count and the rest, as the live dashboard did."""
    part = _whole(noisy, total)
    return _cell(suppress([(label, part), ("rest", total - part)], k)[0], give_or_take)


def _entirely_hidden(measured: Measured) -> dict[str, Any]:
    return {"pairs": measured.pairs, "hidden_entirely": True}


def release_weekly(measured: Measured, epsilon: float, k: int, noise: Noise = OPENDP) -> tuple[dict[str, Any], float]:
    """The headline counts: pairs (exact: the admin made them), active pairs and ground rules
    agreed (noised). Returns the figures and the ε they spent."""
    if measured.pairs < k:
        return _entirely_hidden(measured), 0.0
    c = max(measured.per_person, 1)
    eps = {name: epsilon * share for name, share in WEEKLY_SHARES.items()}
    [active] = noise.counts([measured.active], c, eps["active"])
    [agreed] = noise.counts([measured.agreed], c, eps["agreed"])
    figures = {
        "pairs": measured.pairs,
        "hidden_entirely": False,
        "active": _share("Active pairs", active, measured.pairs, k, noise.count_slack(c, eps["active"])),
        "agreed": _share("Ground rules agreed by both", agreed, measured.pairs, k, noise.count_slack(c, eps["agreed"])),
    }
    return figures, sum(eps.values())


def release_monthly(
    measured: Measured, epsilon: float, k: int, month_label: str, noise: Noise = OPENDP
) -> tuple[dict[str, Any], float]:
    """The rest, once a month has closed: meetings per pair, pairs by department (exact) with
    active pairs and ground rules agreed in each (noised), pairs with a goal done, and the
    month's average score per question. ε is split evenly over the noised groups."""
    if measured.pairs < k:
        return _entirely_hidden(measured), 0.0
    c = max(measured.per_person, 1)
    q = len(measured.questions)
    groups = 4 + (2 if q else 0)
    each = epsilon / groups

    meetings = noise.counts(measured.meetings, 2 * c, each)
    meetings_cells = suppress(
        [(label, _whole(n, measured.pairs)) for (label, _l, _h), n in zip(MEETING_BUCKETS, meetings, strict=True)], k
    )
    by_department = suppress(list(zip(measured.departments, measured.pairs_by_department, strict=True)), k)
    active = noise.counts(measured.active_by_department, c, each)
    agreed = noise.counts(measured.agreed_by_department, c, each)
    count_slack = noise.count_slack(c, each)
    [goal_done] = noise.counts([measured.goal_done], c, each)

    def per_department(label: str, noisy: list[int]) -> list[dict[str, Any]]:
        cells = []
        for shown, total, n in zip(by_department, measured.pairs_by_department, noisy, strict=True):
            if shown.hidden:
                cells.append(_cell(Cell(shown.label, None, shown.reason)))
            else:
                cells.append(_share(shown.label, n, total, k, count_slack))
        return cells

    scores = []
    if q:
        counts = noise.counts(measured.answered, q * c, each)
        sums = noise.sums(measured.centred_sums, 4 * q * c, each)
        sum_slack = noise.sum_slack(4 * q * c, each)
        for question, n, total in zip(measured.questions, counts, sums, strict=True):
            pairs = _whole(n, measured.pairs)
            if pairs < k:
                scores.append({"question": question, "cell": _cell(Cell(month_label, None, Hidden.FEW_PAIRS))})
                continue
            mean = min(max(SCALE_MIDDLE + total / pairs, SCALE_LOW), SCALE_HIGH)
            slack = None if sum_slack is None else round(min(sum_slack / pairs, SCALE_HIGH - SCALE_LOW), 1)
            scores.append({"question": question, "cell": _cell(Cell(month_label, round(mean, 1)), slack)})

    figures = {
        "pairs": measured.pairs,
        "hidden_entirely": False,
        "meetings": [_cell(cell, noise.count_slack(2 * c, each)) for cell in meetings_cells],
        "departments": [_cell(cell) for cell in by_department],
        "active_by_department": per_department("Active pairs", active),
        "agreed_by_department": per_department("Ground rules agreed by both", agreed),
        "goal_done": _share("Pairs with a goal done", goal_done, measured.pairs, k, count_slack),
        "scores": scores,
    }
    return figures, each * groups


# --- Periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: SnapshotKind
    key: str  # "2026-W48", "2026-11"
    first: date
    last: date

    @property
    def label(self) -> str:
        if self.kind is SnapshotKind.MONTHLY:
            return self.first.strftime("%b %Y")
        return f"the week of {self.first:%-d %b %Y}"


def last_closed_week(today: date) -> Period:
    """The latest ISO week that ended before ``today``."""
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return Period(SnapshotKind.WEEKLY, f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def last_closed_month(today: date) -> Period:
    last = today.replace(day=1) - timedelta(days=1)
    return Period(SnapshotKind.MONTHLY, f"{last:%Y-%m}", last.replace(day=1), last)


def next_release(today: date, starts_on: date) -> date:
    """The day the first weekly snapshot after ``today`` comes: the Monday after the first week of
    the program that has not been published yet."""
    start = max(today, starts_on)
    return start + timedelta(days=7 - start.weekday())


# --- Publishing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    program_id: int
    period: Period
    outcome: str  # "published", "already published", "budget spent"
    epsilon: float = 0.0


def _spend(program: Program, year: int, epsilon: float) -> bool:
    """Take ``epsilon`` from the program's budget for ``year``, in the caller's transaction; False
    (and nothing taken) when it would pass the yearly cap. One conditional UPDATE, so two
    publishers at once can never both pass it."""
    if epsilon <= 0:
        return True
    from app.reminders.outbox import dialect_insert

    db.session.execute(
        dialect_insert(PrivacyBudgetYear.__table__)
        .values(program_id=program.id, year=year, spent=0.0)
        .on_conflict_do_nothing(index_elements=["program_id", "year"])
    )
    taken = db.session.execute(
        update(PrivacyBudgetYear)
        .where(
            PrivacyBudgetYear.program_id == program.id,
            PrivacyBudgetYear.year == year,
            PrivacyBudgetYear.spent + epsilon <= program.epsilon_per_year + BUDGET_SLACK,
        )
        .values(spent=PrivacyBudgetYear.spent + epsilon)
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1


def publish_one(program: Program, period: Period, noise: Noise = OPENDP) -> Published:
    """Measure, noise, spend and store one snapshot in the current transaction (the caller
    commits); nothing at all when it exists already or the budget can't pay for it."""
    exists = db.session.scalar(
        select(Snapshot.id).where(
            Snapshot.program_id == program.id, Snapshot.kind == period.kind, Snapshot.period == period.key
        )
    )
    if exists is not None:
        return Published(program.id, period, "already published")
    k = program.privacy_threshold
    if period.kind is SnapshotKind.WEEKLY:
        measured = measure(program.id, period.last)
        figures, spent = release_weekly(measured, program.epsilon_per_release, k, noise)
    else:
        measured = measure(program.id, period.last, (period.first, period.last))
        figures, spent = release_monthly(measured, program.epsilon_per_release, k, period.label, noise)
    if not _spend(program, period.last.year, spent):
        return Published(program.id, period, "budget spent")
    db.session.add(
        Snapshot(
            program_id=program.id,
            kind=period.kind,
            period=period.key,
            as_of=period.last,
            epsilon=spent,
            k=k,
            figures=figures,
        )
    )
    db.session.flush()
    return Published(program.id, period, "published", spent)


def due_programs(period: Period) -> list[Program]:
    """Programs that ran during ``period``."""
    return list(
        db.session.scalars(
            select(Program)
            .where(Program.starts_on <= period.last, Program.ends_on >= period.first)
            .order_by(Program.id)
        )
    )


def publish_due(at: datetime | None = None, noise: Noise = OPENDP) -> list[Published]:
    """Every snapshot due at ``at`` (now by default): last week's and last month's, for each
    program that ran then. Each is its own transaction, so one program's failure or a second
    publisher racing for the same period loses nothing of the others."""
    today = (at or utcnow()).astimezone(UTC).date()
    results = []
    for period in (last_closed_week(today), last_closed_month(today)):
        program_ids = [p.id for p in due_programs(period)]
        db.session.rollback()
        for program_id in program_ids:
            program = db.session.get(Program, program_id)
            try:
                result = publish_one(program, period, noise)
                db.session.commit()
            except IntegrityError:
                # Another publisher stored this period first: its spend stands, ours is undone.
                db.session.rollback()
                result = Published(program_id, period, "already published")
            results.append(result)
    return results


@shared_task(name="twoway.publish_snapshots")
def publish_snapshots() -> int:
    """Beat's entry: publish what is due now. Returns how many snapshots were published."""
    return sum(1 for result in publish_due() if result.outcome == "published")


# --- The command line ----------------------------------------------------------------------------


@click.group("dashboard", cls=AppGroup)
def dashboard_group() -> None:
    """The dashboard's snapshots."""


def _moment(ctx, param, value):
    from app.reminders.cli import _moment as moment

    return moment(ctx, param, value)


@dashboard_group.command("publish")
@click.option(
    "--at", "at", callback=_moment, help="The moment to publish for (default: now), e.g. 2026-12-01T00:00:00Z."
)
def publish_command(at: datetime | None) -> None:
    """Publish the snapshots due at --at (last week's and last month's): what beat runs hourly."""
    results = publish_due(at)
    if not results:
        click.echo("No program ran in the periods that closed last.")
    for result in results:
        spent = f" (spent ε {result.epsilon:g})" if result.outcome == "published" else ""
        click.echo(
            f"program {result.program_id:<6} {result.period.kind.value:<7} {result.period.key}: {result.outcome}{spent}"
        )
