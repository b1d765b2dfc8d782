"""What a pair can do with their ground rules, and what their agreement implies for the rest of
Twoway. Views call these; nothing here decides access: the pair blueprint has already loaded the
membership, ``authz.get_clause`` fetches clauses, and every query is filtered by the pair.

What the agreement implies has one source, here. Other features call:

- ``rhythm(pair_id)`` for the agreed cadence, length and dates (one query), or, to fold the read
  into a query of their own, ``rhythm_columns(pair_id)`` in their SELECT and
  ``Rhythm.from_fields(rhythm_fields, dates_fields)`` on the two values it returns;
- ``midpoint(program, rhythm)`` and ``ends_on(program, rhythm)``: the pair's dates, else the program's;
- ``signoff_state(started, agreed_now, ever_both)``: "none", "draft", "one", "agreed" or "changed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, select, update
from sqlalchemy.exc import IntegrityError

from app import versions
from app.extensions import db
from app.ground_rules.template import default_clauses
from app.models import (
    Agreement,
    AgreementSignature,
    Clause,
    ClauseConflict,
    ClauseKind,
    ClauseRevision,
    PairMember,
    Program,
    Rhythm,
    User,
    utcnow,
)
from app.models.ground_rules import halfway


class Stale(Exception):
    """Someone agreed to a version that is no longer the current one."""


def load(pair_id: int) -> Agreement | None:
    return db.session.get(Agreement, pair_id)


def clauses(pair_id: int) -> list[Clause]:
    """The clauses in force, in their order."""
    return list(
        db.session.scalars(
            select(Clause)
            .where(Clause.pair_id == pair_id, Clause.removed.is_(False))
            .order_by(Clause.position, Clause.id)
        )
    )


# --- What the agreement implies ---------------------------------------------------------------


def rhythm_columns(pair_id: int | ColumnElement[int]) -> tuple[ScalarSelect, ScalarSelect]:
    """The fields of the pair's rhythm clause and of their dates clause, as two scalar subqueries to
    put in a SELECT (the pair's home reads them together with everything else it shows). Given a
    column (``Pair.id``) instead of an id, they are correlated: one SELECT reads every pair's
    (the reminder pass does, for all pairs at once)."""

    def fields_of(kind: ClauseKind) -> ScalarSelect:
        return (
            select(Clause.fields)
            .where(Clause.pair_id == pair_id, Clause.kind == kind, Clause.removed.is_(False))
            .order_by(Clause.position)
            .limit(1)
            .scalar_subquery()
        )

    return fields_of(ClauseKind.RHYTHM), fields_of(ClauseKind.DATES)


def rhythm(pair_id: int) -> Rhythm:
    """The meeting rhythm and dates the pair wrote down, in one query."""
    return Rhythm.from_fields(*db.session.execute(select(*rhythm_columns(pair_id))).one())


def rhythm_and_ends(pair_id: int) -> tuple[Rhythm, tuple[int | None, int | None]]:
    """The rhythm, and the ids of the first and last clause in force, in one query: a clause drawn
    on its own offers "Move up" only when something is above it, "Move down" only when below."""

    def end(*order) -> ScalarSelect:
        return (
            select(Clause.id)
            .where(Clause.pair_id == pair_id, Clause.removed.is_(False))
            .order_by(*order)
            .limit(1)
            .scalar_subquery()
        )

    rhythm_fields, dates_fields, first, last = db.session.execute(
        select(*rhythm_columns(pair_id), end(Clause.position, Clause.id), end(Clause.position.desc(), Clause.id.desc()))
    ).one()
    return Rhythm.from_fields(rhythm_fields, dates_fields), (first, last)


def midpoint(program: Program, rhythm: Rhythm) -> date:
    """The midpoint review: the date the pair agreed, else the program's halfway day."""
    return rhythm.midpoint or halfway(program.starts_on, program.ends_on)


def ends_on(program: Program, rhythm: Rhythm) -> date:
    """The end: the date the pair agreed, else the program's."""
    return rhythm.ends_on or program.ends_on


def signoff_state(started: bool, agreed_now: int, ever_both: bool) -> str:
    """Where the sign-off stands: "none" (not started), "agreed" (both, to the current version),
    "changed" (both agreed to an earlier one), "one" or "draft"."""
    if not started:
        return "none"
    if agreed_now >= 2:
        return "agreed"
    if ever_both:
        return "changed"
    return "one" if agreed_now else "draft"


def start(membership: PairMember) -> None:
    """Create the pair's ground rules from the template. Safe when both members press at once."""
    pair = membership.pair
    if load(pair.id) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(Agreement(pair_id=pair.id, version=1))
            db.session.flush()
    except IntegrityError:
        return  # the partner started them a moment ago
    for position, values in enumerate(default_clauses(pair.program)):
        # No author on the clauses themselves: the template isn't a change the partner should see flagged.
        new = Clause(pair_id=pair.id, position=position, **values)
        db.session.add(new)
        db.session.flush()
        _record(new, "added", 1, membership.user_id)


def _bump(pair_id: int) -> int:
    """Move the agreement to its next version. The row lock serialises concurrent changes on
    PostgreSQL; SQLite's writers are already serialised by BEGIN IMMEDIATE."""
    return db.session.execute(
        update(Agreement)
        .where(Agreement.pair_id == pair_id)
        .values(version=Agreement.version + 1, updated_at=utcnow())
        .returning(Agreement.version)
    ).scalar_one()


def _record(clause: Clause, action: str, version: int, author_id: int) -> None:
    db.session.add(
        ClauseRevision(
            pair_id=clause.pair_id,
            clause_id=clause.id,
            agreement_version=version,
            action=action,
            author_id=author_id,
            kind=clause.kind,
            title=clause.title,
            body=clause.body,
            fields=dict(clause.fields or {}),
            position=clause.position,
            removed=clause.removed,
        )
    )


def save(membership: PairMember, target: Clause, base_version: int, values: dict[str, Any]) -> bool:
    """Save ``values`` (title, body or fields) over version ``base_version`` of ``target``.

    Returns False when nothing changed. Raises ``versions.Conflict`` when someone saved or dropped
    the clause since ``base_version``: ``current`` is the clause as it now is (``removed`` when
    dropped), and ``lost`` the editor's text, stored as a ``ClauseConflict`` so neither text is lost.
    """
    try:
        if target.removed:
            raise versions.Conflict(target)
        changed = versions.save_over(
            target, base_version, values, stamp={"updated_at": utcnow(), "updated_by_id": membership.user_id}
        )
    except versions.Conflict as conflict:
        lost = ClauseConflict(
            pair_id=target.pair_id,
            clause_id=target.id,
            author_id=membership.user_id,
            based_on_version=base_version,
            kind=target.kind,
            title=values.get("title", target.title),
            body=values.get("body", target.body),
            fields=values.get("fields", target.fields),
        )
        db.session.add(lost)
        db.session.flush()
        raise versions.Conflict(conflict.current, lost=lost) from None
    if changed:
        _record(target, "edited", _bump(target.pair_id), membership.user_id)
    return changed


def add(membership: PairMember, title: str, body: str) -> Clause:
    pair_id = membership.pair_id
    last = db.session.scalar(select(func.max(Clause.position)).where(Clause.pair_id == pair_id))
    new = Clause(pair_id=pair_id, title=title, body=body, position=(last or 0) + 1, updated_by_id=membership.user_id)
    db.session.add(new)
    db.session.flush()
    _record(new, "added", _bump(pair_id), membership.user_id)
    return new


def move(membership: PairMember, target: Clause, direction: str) -> None:
    """Swap ``target`` with its neighbour above or below; at either end nothing moves."""
    ordered = clauses(membership.pair_id)
    index = next(i for i, c in enumerate(ordered) if c.id == target.id)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(ordered):
        return
    other = ordered[other_index]
    target.position, other.position = other.position, target.position
    version = _bump(membership.pair_id)
    # A clause's version guards its words: moving changes none, so someone editing a moved clause
    # saves over it as usual instead of being told their partner changed it.
    for moved in (target, other):
        moved.updated_at = utcnow()
        moved.updated_by_id = membership.user_id
        _record(moved, "moved", version, membership.user_id)


def remove(membership: PairMember, target: Clause) -> None:
    target.removed = True
    target.version += 1
    target.updated_at = utcnow()
    target.updated_by_id = membership.user_id
    _record(target, "removed", _bump(membership.pair_id), membership.user_id)


def keep(target: Clause) -> None:
    """Midpoint review: the pair looked at this clause again and keeps it as it is."""
    target.reviewed_at = utcnow()


def agree(membership: PairMember, version: int) -> None:
    agreement = load(membership.pair_id)
    if agreement is None or agreement.version != version:
        raise Stale
    try:
        with db.session.begin_nested():
            db.session.add(
                AgreementSignature(pair_id=membership.pair_id, user_id=membership.user_id, agreement_version=version)
            )
    except IntegrityError:
        pass  # already agreed to this version (a double tap)


# What the open ground-rules page polls for, read with the access decision itself (``authz.light``):
# the agreement's version, and how many agreed to it. No agreement yet reads as NULL.
PROBE_COLUMNS = (
    "(SELECT version FROM agreement WHERE agreement.pair_id = me.pair_id)",
    "(SELECT count(*) FROM agreement_signature AS s JOIN agreement AS a ON a.pair_id = s.pair_id"
    " AND a.version = s.agreement_version WHERE s.pair_id = me.pair_id)",
)


@dataclass
class Status:
    """Where the sign-off stands, in the words a member reads."""

    version: int
    agreed: list[User]  # members who agreed to the current version
    both_agreed_at: datetime | None
    last_both_version: int | None  # the latest version both agreed to
    # Each member's latest agreement: user id → (version, when). Shown in every state, so each
    # sees what the other signed and who is still to sign.
    latest: dict[int, tuple[int, datetime]] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return signoff_state(True, len(self.agreed), self.last_both_version is not None)


def status(agreement: Agreement, members: list[PairMember]) -> Status:
    signatures = list(
        db.session.scalars(select(AgreementSignature).where(AgreementSignature.pair_id == agreement.pair_id))
    )
    by_version: dict[int, dict[int, datetime]] = {}
    latest: dict[int, tuple[int, datetime]] = {}
    for signature in signatures:
        by_version.setdefault(signature.agreement_version, {})[signature.user_id] = signature.agreed_at
        if signature.agreement_version > latest.get(signature.user_id, (0, None))[0]:
            latest[signature.user_id] = (signature.agreement_version, signature.agreed_at)
    member_ids = {m.user_id for m in members}
    both = [v for v, who in by_version.items() if member_ids <= who.keys()]
    current = by_version.get(agreement.version, {})
    return Status(
        version=agreement.version,
        agreed=[m.user for m in members if m.user_id in current],
        both_agreed_at=max(current.values()) if member_ids <= current.keys() else None,
        last_both_version=max(both) if both else None,
        latest=latest,
    )


def _as_state(rows) -> dict[int, dict[str, Any]]:
    return {
        row.clause_id if isinstance(row, ClauseRevision) else row.id: {
            "title": row.title,
            "kind": row.kind,
            "body": row.body,
            "fields": dict(row.fields or {}),
            "position": row.position,
        }
        for row in rows
        if not row.removed
    }


def state_at(pair_id: int, version: int) -> dict[int, dict[str, Any]]:
    """The ground rules as they stood at ``version``: each clause's latest revision up to then."""
    latest = (
        select(func.max(ClauseRevision.id))
        .where(ClauseRevision.pair_id == pair_id, ClauseRevision.agreement_version <= version)
        .group_by(ClauseRevision.clause_id)
    )
    return _as_state(db.session.scalars(select(ClauseRevision).where(ClauseRevision.id.in_(latest))))


def current_state(current: list[Clause]) -> dict[int, dict[str, Any]]:
    return _as_state(current)


@dataclass
class Version:
    number: int
    at: datetime
    author_id: int | None
    actions: list[tuple[str, str]] = field(default_factory=list)  # (action, clause title)


def history(pair_id: int) -> list[Version]:
    """Every saved version, newest first, with who made it and what they did."""
    versions: dict[int, Version] = {}
    for row in db.session.scalars(
        select(ClauseRevision).where(ClauseRevision.pair_id == pair_id).order_by(ClauseRevision.id)
    ):
        version = versions.setdefault(
            row.agreement_version, Version(row.agreement_version, row.created_at, row.author_id)
        )
        version.actions.append((row.action, row.title))
    return sorted(versions.values(), key=lambda v: v.number, reverse=True)


def changes_since(pair_id: int, version: int, viewer_id: int) -> list[ClauseRevision]:
    """Revisions made after ``version`` by anyone but the viewer (the probe's answer)."""
    return list(
        db.session.scalars(
            select(ClauseRevision)
            .where(
                ClauseRevision.pair_id == pair_id,
                ClauseRevision.agreement_version > version,
                ClauseRevision.author_id != viewer_id,
            )
            .order_by(ClauseRevision.id)
        )
    )


def conflicts(pair_id: int) -> list[ClauseConflict]:
    """Every text that lost a collision, newest first: kept so nobody's words are lost."""
    return list(
        db.session.scalars(
            select(ClauseConflict).where(ClauseConflict.pair_id == pair_id).order_by(ClauseConflict.id.desc())
        )
    )


def needs_review(target: Clause, midpoint: date | None, today: date) -> bool:
    """From the midpoint on, each clause is gone through once: kept, changed or dropped."""
    if midpoint is None or today < midpoint:
        return False
    since = datetime(midpoint.year, midpoint.month, midpoint.day, tzinfo=utcnow().tzinfo)
    touched = max(filter(None, (target.reviewed_at, target.updated_at)), default=None)
    return touched is None or touched < since
