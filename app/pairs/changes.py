"""The partner's changes, live: one count of writes per pair, and the one probe an open pair page asks.

Every write to a pair's content bumps the pair's ``change_count`` in the same transaction, so the
count is exact (a page cache can key on it) and cheap to read (it comes with the membership every
pair page loads anyway). Nobody calls anything to make that happen: session events see every ORM
write of an object that carries ``pair_id`` (and the pair itself), and every UPDATE or DELETE
statement against such a table, and the counts are bumped once per commit, as its last statement,
so the pair's row is locked only for the moment before the commit.

What only one person sees (a private reflection, a calendar feed, a help request the partner wasn't
told of) bumps that person's own count instead (``PairMember.change_count``): the partner's probe
stays a 204 and can't tell when it happened. A page is drawn at ``seen_by(membership)``, the sum of
the two; the probe answers 204 while it hasn't moved. When it has, the page fetches itself again
and brings in the parts nobody is typing in (``app/static/js/app.js``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response, g, request
from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlalchemy.sql.schema import Table
from werkzeug.wrappers import Request

from app import authz
from app.extensions import db
from app.models import (
    CalendarFeed,
    ClosingReason,
    ClosingReflection,
    HelpRequest,
    MatchProposal,
    Pair,
    PairMember,
    Reflection,
)
from app.numbers import arg_int

bp = Blueprint("changes", __name__)

# The answer to a write carries the counts before and after it, so the page that made the write
# follows its own change instead of fetching itself again (and losing what it just said).
HEADER = "Twoway-Changes"
_PENDING = "pair_changes"  # session.info: what this transaction changed, bumped at commit
_BUMPED = "pair_changes_bumped"  # session.info: (pair, person) -> how much this session's commits added
# A statement writing one known object says so (``.execution_options(changed_row=obj)``), which
# spares the SELECT that otherwise finds the pairs an UPDATE or DELETE touches.
ROW_OPTION = "changed_row"


# Who alone sees a row of these: the column naming them, and the column that, when true, makes the
# row the pair's after all (a help request the partner was told of). Every other table with
# ``pair_id`` holds what the two of them share (tests/test_live_changes.py lists them all, so a new
# one is decided on, not forgotten).
PRIVATE: dict[type, tuple[str, str | None]] = {
    Reflection: ("author_id", None),
    CalendarFeed: ("user_id", None),
    HelpRequest: ("sender_id", "partner_told"),
    # The closer's own reason (shared with the admin at most, never with the partner), and each
    # person's closing reflection.
    ClosingReason: ("author_id", None),
    ClosingReflection: ("author_id", None),
}


# Tables with ``pair_id`` that no pair page shows: a match proposal names the pair it made.
ELSEWHERE = {MatchProposal.__tablename__}


def seen_by(membership: PairMember) -> int:
    """How many changes this person's pages have seen: the pair's writes and their own private
    ones. Only grows; read from the membership, so it costs no query."""
    return membership.pair.change_count + membership.change_count


def _probe(visit: authz.Visit, asked: Request) -> Response:
    now = visit.seen_by
    tag = f"seen-{now}"
    if asked.if_none_match.contains_weak(tag):
        response = Response(status=304)
    elif now == arg_int("since", default=0, args=asked.args):
        response = Response(status=204)
    else:
        response = Response(str(now), status=200, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    response.headers["ETag"] = f'W/"{tag}"'
    return response


@bp.get("/changes")
@authz.light(quick=_probe)
def changes() -> Response:
    """The probe an open pair page asks every few seconds while it is visible: 204 while nothing
    it shows has changed since ``since``, else 200 and the new count (the page then fetches
    itself). Never a template, never a query beyond the light read of the membership that decided
    access (app/light.py gives most of its answers before Flask's request cycle). Its ETag is the
    count, so ``If-None-Match`` gets a 304 while it stands."""
    return _probe(authz.visit(g.pair_id), request)


@bp.after_app_request
def _tell_the_page(response: Response) -> Response:
    membership = g.get("membership")
    if membership is None or request.method in ("GET", "HEAD"):
        return response
    added = db.session.info.get(_BUMPED, Counter())
    own = added[(membership.pair_id, None)] + added[(membership.pair_id, membership.user_id)]
    if own:
        now = seen_by(membership)
        response.headers[HEADER] = f"{now - own} {now}"
    return response


# --- Counting ------------------------------------------------------------------------------


def _pending(session: Session) -> set[tuple[int, int | None]]:
    return session.info.setdefault(_PENDING, set())


def _audience(model: type | None, row: Any) -> int | None:
    """Whose alone the change to ``row`` is, or None when both people see it."""
    if model not in PRIVATE:
        return None
    owner, shared_when = PRIVATE[model]
    return None if shared_when and getattr(row, shared_when) else getattr(row, owner)


def _note(session: Session, obj: Any) -> None:
    if isinstance(obj, Pair):
        if obj.id is not None:
            _pending(session).add((obj.id, None))
        return
    pair_id = getattr(obj, "pair_id", None)
    if pair_id is not None:
        _pending(session).add((pair_id, _audience(type(obj), obj)))


def _pair_content(table: Table) -> bool:
    return table.name == Pair.__tablename__ or ("pair_id" in table.c and table.name not in ELSEWHERE)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    for obj in session.new:
        _note(session, obj)
    for obj in session.deleted:
        _note(session, obj)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _note(session, obj)


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> Any:
    """UPDATE and DELETE statements never pass through a flush: find the pairs they touch."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    table = getattr(state.statement, "table", None)
    if not isinstance(table, Table) or not _pair_content(table):
        return None
    mapper = state.bind_mapper
    model = mapper.class_ if mapper is not None else None
    is_pair = table.name == Pair.__tablename__
    row = state.execution_options.get(ROW_OPTION)
    if row is not None:
        touched = [row]  # the caller names the one row it writes (app/versions.py does)
    elif state.is_insert:
        params = state.parameters
        touched = [] if is_pair else [_Params(p) for p in (params if isinstance(params, list) else [params or {}])]
    else:
        touched = _pinned_rows(table, model, state.statement.whereclause)
        if touched is None:
            query = _rows_matching(table, model, state.statement)
            params = state.parameters
            # An executemany names its rows in each set of parameters.
            touched = [
                row
                for each in (params if isinstance(params, list) else [params])
                for row in state.session.execute(query, each)
            ]
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:
        for found in touched:
            if is_pair:
                _pending(state.session).add((found.id, None))
            elif found.pair_id is not None:
                _pending(state.session).add((found.pair_id, _audience(model, found)))
    return result


class _Params:
    """An INSERT's parameters, read like a row."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update({"pair_id": None, **values})


def _pinned_rows(table: Table, model: type | None, where: Any) -> list[Any] | None:
    """The pair a WHERE clause pins (``… AND goal.pair_id = 7 AND …``), without asking the
    database; None when it pins none, or when the rows belong to one person and it can't tell whom."""
    if where is None or model in PRIVATE:
        return None
    key = "id" if table.name == Pair.__tablename__ else "pair_id"
    terms = where.clauses if isinstance(where, BooleanClauseList) and where.operator is operators.and_ else [where]
    for term in terms:
        if (
            isinstance(term, BinaryExpression)
            and term.operator is operators.eq
            and getattr(getattr(term.left, "table", None), "name", None) == table.name
            and getattr(term.left, "name", None) == key
            and isinstance(term.right, BindParameter)
        ):
            return [_Params({key: term.right.effective_value})]
    return None


def _rows_matching(table: Table, model: type | None, statement: Any):
    if table.name == Pair.__tablename__:
        columns = [table.c.id]
    else:
        columns = [table.c.pair_id, *(table.c[name] for name in PRIVATE.get(model, ()) if name)]
    query = select(*columns)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    return query.distinct()


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its writes are counted with the transaction around it
    session.flush()
    pending = session.info.pop(_PENDING, set())
    if not pending:
        return
    added = session.info.setdefault(_BUMPED, Counter())
    connection = session.connection()
    pair_ids = sorted({pair_id for pair_id, who in pending if who is None})
    if pair_ids:
        table = Pair.__table__
        bumped = connection.execute(
            update(table)
            .where(table.c.id.in_(pair_ids))
            .values(change_count=table.c.change_count + 1)
            .returning(table.c.id, table.c.change_count)
        )
        _keep_in_step(session, Pair, bumped, lambda row: (row.id,))
        added.update((pair_id, None) for pair_id in pair_ids)
    private = sorted((pair_id, who) for pair_id, who in pending if who is not None)
    for pair_id, who in private:
        table = PairMember.__table__
        bumped = connection.execute(
            update(table)
            .where(table.c.pair_id == pair_id, table.c.user_id == who)
            .values(change_count=table.c.change_count + 1)
            .returning(table.c.id, table.c.change_count)
        )
        _keep_in_step(session, PairMember, bumped, lambda row: (row.id,))
        added[(pair_id, who)] += 1


def _keep_in_step(session: Session, model: type, rows: Iterable[Any], key: Callable[[Any], tuple]) -> None:
    # Objects live on after the commit (expire_on_commit is off): give them the new count.
    for row in rows:
        held = session.identity_map.get(identity_key(model, key(row)))
        if held is not None:
            set_committed_value(held, "change_count", row.change_count)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # A transaction that ended without a commit wrote nothing: nothing of it may be counted later.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
