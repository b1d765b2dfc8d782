"""The badges of the pair's tab bar: what waits on the person looking, in one query per page.

Every page of a pair draws the tab bar, so what its badges need is read in a single SELECT (the
query-count tests pin it), except on the pair's home, whose own queries already hold it (``Waiting``): the ground rules' sign-off, the action items due that are this person's
(or both people's), and what the check-ins depend on (the rhythm, the latest meetings, the rounds
this person answered). Fragments swapped by htmx don't draw the bar, so nothing is read until a
template asks: ``Badges`` reads on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property

from flask import Response
from sqlalchemy import ColumnElement, ScalarSelect, Select, String, bindparam, cast, func, literal, or_, select, true

from app import htmx
from app.extensions import db
from app.feedback import rounds
from app.ground_rules import agreement
from app.models import ActionItem, Agreement, AgreementSignature, FeedbackSubmission, Meeting, Pair, PairMember, Rhythm

PAIR, USER, TODAY = bindparam("pair_id"), bindparam("user_id"), bindparam("today")


def actions_due_count(pair_id: ColumnElement, user_id: ColumnElement, today: ColumnElement) -> ScalarSelect:
    """How many open action items are due by ``today`` that are the person's, or both people's:
    a scalar subquery, for the pair's home to read with what else it reads."""
    return (
        select(func.count())
        .select_from(ActionItem)
        .where(
            ActionItem.pair_id == pair_id,
            ActionItem.done.is_(False),
            ActionItem.due_on <= today,
            or_(ActionItem.owner_id == user_id, ActionItem.owner_id.is_(None)),
        )
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Waiting:
    """What the tab bar's badges say, when the page already knows it (the pair's home does)."""

    ground_rules: bool
    actions_due: int
    check_ins: int


def signoff_columns(pair: ColumnElement, user: ColumnElement, version: ColumnElement) -> tuple:
    """The sign-off as the home and the Rules badge read it: how many agreed to ``version``,
    whether ``user`` did, and whether both ever agreed to one version."""
    signatures = AgreementSignature.__table__
    at_current = (signatures.c.pair_id == pair) & (signatures.c.agreement_version == version)
    current_count = select(func.count()).select_from(signatures).where(at_current).scalar_subquery()
    mine = (
        select(func.count()).select_from(signatures).where(at_current, signatures.c.user_id == user)
    ).scalar_subquery()
    ever_both = (
        select(signatures.c.agreement_version)
        .where(signatures.c.pair_id == pair)
        .group_by(signatures.c.agreement_version)
        .having(func.count(func.distinct(signatures.c.user_id)) >= 2)
        .exists()
    )
    return current_count, mine, ever_both


@cache
def _query() -> Select:
    version = select(Agreement.version).where(Agreement.pair_id == PAIR).scalar_subquery()
    current_count, mine, ever_both = signoff_columns(PAIR, USER, version)
    actions_due = actions_due_count(PAIR, USER, TODAY)
    # As rounds.facts reads them: the latest meetings held by today, one row even without any.
    recent = (
        select(Meeting.id, Meeting.held_on)
        .where(Meeting.pair_id == PAIR, Meeting.held_on <= TODAY)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(rounds.OPEN_ROUNDS)
        .subquery()
    )
    # The rounds this person answered that can still be open: after one of those meetings, or a
    # week, midpoint or closing round (a few dozen at most over a program).
    answered = (
        select(func.aggregate_strings(FeedbackSubmission.round_key, ","))
        .where(
            FeedbackSubmission.pair_id == PAIR,
            FeedbackSubmission.user_id == USER,
            or_(
                FeedbackSubmission.round_key.not_like("meeting-%"),
                FeedbackSubmission.round_key.in_(
                    select(literal("meeting-") + cast(Meeting.id, String))
                    .where(Meeting.pair_id == PAIR, Meeting.held_on <= TODAY)
                    .order_by(Meeting.held_on.desc(), Meeting.id.desc())
                    .limit(rounds.OPEN_ROUNDS)
                ),
            ),
        )
        .scalar_subquery()
    )
    one = select(literal(1).label("one")).subquery()
    ended_at = select(Pair.ended_at).where(Pair.id == PAIR).scalar_subquery()
    return select(
        version,
        current_count,
        mine,
        ever_both,
        actions_due,
        answered,
        ended_at,
        *agreement.rhythm_columns(PAIR),
        recent.c.id,
        recent.c.held_on,
    ).select_from(one.outerjoin(recent, true()))


class Badges:
    """What waits on ``membership``'s person in each section of the pair (as ``Waiting`` says
    it), read on first use."""

    def __init__(self, membership: PairMember, today: date | None = None) -> None:
        self._membership = membership
        self._today = today or date.today()

    @cached_property
    def _row(self):
        membership = self._membership
        params = {"pair_id": membership.pair_id, "user_id": membership.user_id, "today": self._today}
        return db.session.execute(_query(), params).all()

    @property
    def ground_rules(self) -> bool:
        """Ground rules waiting for this person's sign-off: the partner agreed to them, or they
        changed since both agreed, and this person hasn't agreed to them as they are now."""
        version, current, mine, ever_both = self._row[0][:4]
        return version is not None and not mine and bool(current or ever_both)

    @property
    def actions_due(self) -> int:
        """Open action items due by today that are this person's, or both people's."""
        return self._row[0][4] or 0

    @property
    def check_ins(self) -> int:
        """Open check-ins this person hasn't answered yet (as the pair's home counts them)."""
        program = self._membership.pair.program
        if program.prompt_set_id is None:
            return 0
        first = self._row[0]
        answered = set((first[5] or "").split(","))
        ended_at = first[6]
        meetings = sorted(
            ((row[9], row[10]) for row in self._row if row[9] is not None), key=lambda m: (m[1], m[0]), reverse=True
        )
        found = rounds.Facts(Rhythm.from_fields(first[7], first[8]), meetings, ended_at.date() if ended_at else None)
        return sum(1 for r in rounds.open_rounds(program, found, self._today) if r.key not in answered)


def with_fresh_tabs(response: Response) -> Response:
    """``response`` with the tab bar drawn again out of band (htmx answers only), after a write
    that changes what waits on the person: answering a check-in, ticking an action item."""
    return htmx.with_block(response, "pairs/pair_base.html", "pair_nav")
