"""Who may see what. Every access decision in Twoway is made here, and nowhere else.

- Every route needs a signed-in person unless its view is marked ``@public``.
- Pair routes hang under the ``pair`` blueprint, whose ``before_request`` calls ``load_membership``:
  the signed-in person must be one of the pair's two members, or the answer is 404. Never 403,
  which would confirm that the pair exists. Program admins are not members and get 404 too.
- The whole admin area hangs under the ``admin`` blueprint, whose ``before_request`` is
  ``require_admin``. Admins are never pair members: ``may_take_part`` says who may be added to a
  program or a pair, and ``load_membership`` refuses admins even if a membership slipped in.
- An admin administers the programs they were made an admin of; owners administer them all.
  Every admin URL of a program carries its id, and ``require_admin`` answers 404 for a program
  the person does not administer (``administers``); lists of programs go through
  ``administered_programs``. Naming a program's admins is for owners (``require_owner``).
- Objects that belong to a person are fetched through ``get_own``, which filters by owner.
- The only way into a program for its participants is its join page: ``joining_person`` decides
  who gets a sign-in link mailed from there. Nothing an admin is shown signs anyone in.
- Adding a way in to an account (a passkey, recovery codes) needs ``signed_in_recently``.
- A participant reads and changes their own intake answers through ``intake_participant`` alone;
  the admin reads them only in the matching pages of the admin area.
- A proposed match is seen by its two people once the admin sent it, and answered by each of them
  (``proposals_to``, ``proposal_to``); never before it was sent, never by anyone else.
- A request for help is read by the admin; the partner learns only that it was sent, if the
  sender chose (``help_requests_known_to``); the admin's answer is read by the sender alone
  (``help_answers_to``).
- In the journal only a meeting's author edits it (``meeting_to_edit``), and reflections are read
  through ``my_reflections`` alone; closing reflections through ``my_closing_reflection`` alone.
- A closed pair's space is read-only: ``guard_closed_pair`` (run by the ``pair`` blueprint before
  every pair view) refuses every write but the closing check-in and the closing reflection, and
  those only for the two weeks after closing.
- A person's data export holds what is theirs (``export_pair_ids``, ``own_reflection_on``,
  ``exportable_feedback``, ``own_help_requests``, ``own_intakes``, ``own_closing_reflections``,
  ``own_closing_reasons``): never the partner's private words. Its file is downloaded by its owner
  alone, signed in (``own_export``); the account page lists only one's own (``own_exports``).
- An admin's action on one pair or participant of a program finds it in that program alone
  (``program_pair_id``, ``program_participant_id``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TypeVar

from flask import Flask, Response, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import (
    ColumnElement,
    Dialect,
    Row,
    Select,
    TextClause,
    and_,
    bindparam,
    exists,
    or_,
    select,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from werkzeug.exceptions import Conflict, Forbidden
from werkzeug.wrappers import Request

from app import database, htmx
from app.auth import sessions
from app.extensions import db, login_manager
from app.models import (
    CalendarFeed,
    Clause,
    ClosingReason,
    ClosingReflection,
    DataExport,
    ExportState,
    FeedbackAnswer,
    FeedbackSubmission,
    HelpRequest,
    Intake,
    MatchProposal,
    Meeting,
    Pair,
    PairMember,
    PairStatus,
    Participant,
    Program,
    ProgramAdmin,
    Prompt,
    ProposalState,
    Reflection,
    User,
    normalise_email,
    utcnow,
)
from app.models.matching import ANSWER_DAYS

F = TypeVar("F", bound=Callable)
T = TypeVar("T")
_PUBLIC = "_twoway_public"


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    setattr(view, _PUBLIC, True)
    return view


def is_public(view: Callable | None) -> bool:
    return view is None or getattr(view, _PUBLIC, False)


def require_sign_in() -> Response | None:
    """App-wide ``before_request``: routes are private unless marked ``@public``."""
    from flask import current_app

    if request.endpoint is None or request.endpoint == "static":
        return None
    if is_public(current_app.view_functions.get(request.endpoint)):
        return None
    if answers_from_visit() and _visit_as_signed_in():
        return None  # the session's person, proven by the read that decides the pair's access too
    if current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    target = url_for("auth.sign_in", next=_back_after_sign_in())
    if htmx.is_htmx():
        # A fragment request must not get the sign-in page swapped into a card: htmx navigates instead.
        return htmx.client_redirect(Response("Sign in to continue.", 401), target)
    return redirect(target)


def _back_after_sign_in() -> str | None:
    """Where sign-in leads back to: this page, for a GET. A query string that isn't UTF-8 (no
    browser sends one) is left behind rather than failing the redirect."""
    if request.method != "GET":
        return None
    try:
        return request.full_path.rstrip("?")
    except UnicodeDecodeError:
        return request.path


def _session_user(user_id: object) -> tuple[int, int] | None:
    # The cookie carries "id:generation"; signing out bumps the generation, so a cookie captured
    # before sign-out no longer matches anyone.
    try:
        uid, generation = (int(part) for part in str(user_id).split(":"))
    except ValueError:
        return None
    return uid, generation


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    found = _session_user(user_id)
    if found is None:
        return None
    return db.session.scalar(_signed_in_user(), {"uid": found[0], "generation": found[1]})


# Every request pays for loading the person and (in a pair) the membership: their statements are
# built once per process, so SQLAlchemy keeps their compiled form and cache key instead of working
# them out again on every request (about a third of a pair page's loading time).
@cache
def _signed_in_user() -> Select:
    return select(User).where(
        User.id == bindparam("uid"), User.session_generation == bindparam("generation"), User.active.is_(True)
    )


@cache
def _membership() -> Select:
    return (
        select(PairMember)
        .where(PairMember.pair_id == bindparam("pair_id"), PairMember.user_id == bindparam("user_id"))
        .options(
            joinedload(PairMember.pair).joinedload(Pair.program),
            joinedload(PairMember.pair).joinedload(Pair.members).joinedload(PairMember.user),
        )
    )


def load_membership(pair_id: int) -> PairMember:
    """The signed-in person's membership of pair ``pair_id``, with the pair, its program and both
    members loaded; 404 when they are not a member."""
    if not current_user.is_authenticated:
        # Signed out elsewhere after the light read proved this session (``_visit_as_signed_in``),
        # and only now is the person loaded: the answer any signed-out request gets, not a 500.
        abort(login_manager.unauthorized())
    # One query: every pair page pays for it, and phones feel each round trip.
    membership = (
        db.session.execute(_membership(), {"pair_id": pair_id, "user_id": current_user.id})
        .unique()
        .scalar_one_or_none()
    )
    if membership is None:
        abort(404)
    # A second line of defence: admins are never added to pairs (see ``may_take_part``), and even
    # if a membership slipped in (a promotion done by hand in the database), it opens nothing.
    if current_user.is_admin:
        abort(404)
    return membership


@dataclass(frozen=True)
class Visit:
    """A pair request's membership, read without building objects: enough to answer from the page
    cache or a live probe. ``rows`` are the membership, the pair, its program and both members with
    their people, each member's as one text (for a kept page's key only): whatever of them changes,
    they differ. ``extra`` is what a light view asked to read with it (``light``)."""

    pair_id: int
    user_id: int
    seen_by: int
    rows: tuple[str, ...] = ()
    # The viewer's own time zone and sign-out generation (the page cache's key; the page names the
    # generation for the device's drafts): read here, no User is built.
    time_zone: str | None = None
    generation: int = 0
    extra: tuple = ()


_LIGHT = "_twoway_light"


_QUICK = "_twoway_quick"

# A light view's answer from its read and the request alone (a werkzeug Request: the query string
# and conditional headers), or None when it needs more.
Quick = Callable[["Visit", Request], "Response | None"]


def light(*columns: str, quick: Quick | None = None) -> Callable[[F], F]:
    """Mark a pair GET (a live probe) answered from the light read alone: no membership objects
    are loaded before it runs (``g.visit``, not ``g.membership``). ``columns`` are SQL expressions
    over the viewer's membership ``me`` and its ``pair``, read in the same statement that decides
    access; the view finds them in ``visit().extra``. ``quick``, the view's answer from that read
    and the request alone, lets app/light.py give its "nothing changed" before Flask's request
    cycle (``quick_visit``)."""

    def mark(view: F) -> F:
        setattr(view, _LIGHT, columns)
        setattr(view, _QUICK, quick)
        return view

    return mark


def quick_answer(view: Callable | None) -> tuple[tuple[str, ...], Quick] | None:
    """A light view's columns and quick answer, if it has one."""
    quick = getattr(view, _QUICK, None)
    return None if quick is None else (getattr(view, _LIGHT), quick)


def _light_columns() -> tuple[str, ...] | None:
    from flask import current_app

    # Asked several times a request (the sign-in check, the limiter, the pair blueprint, the read).
    if _LIGHT not in g:
        setattr(g, _LIGHT, getattr(current_app.view_functions.get(request.endpoint or ""), _LIGHT, None))
    return g.get(_LIGHT)


# Left out of ``rows``: what moves without anything on a pair page changing, and would otherwise
# let the partner tell from a slower (missed) page or a new ETag when the other one wrote something
# private (their member count), signed in, or signed out elsewhere.
_UNSEEN = {"change_count", "last_signed_in_at", "first_signed_in_at", "session_generation"}


def _as_text(dialect: str, columns: list[str]) -> str:
    """``columns`` as one text the database makes: a row of 40 values costs the driver and the ORM
    40 columns to describe and convert, and they are only ever compared. NULL and '' stay apart.
    SQLite's quote() reads a text only up to a NUL character, so texts go in as their bytes in hex
    instead (a T before them: no other value's quote() starts so, or holds a comma)."""
    if dialect == "postgresql":
        return f"ROW({', '.join(columns)})::text"
    return " || ',' || ".join(
        f"CASE typeof({column}) WHEN 'text' THEN 'T' || hex({column}) ELSE quote({column}) END" for column in columns
    )


def _seen(alias: str, table) -> list[str]:
    return [f"{alias}.{column.name}" for column in table.columns if column.name not in _UNSEEN]


@cache
def _light_text(dialect: str, rows: bool, extra: tuple[str, ...]) -> TextClause:
    """The one statement that proves the session, as ``_load_user`` does (the cookie's generation,
    an active account), refuses admins, and decides the pair's access as ``load_membership`` does;
    with it the viewer's count, and either the rows a kept page is keyed on or a view's ``extra``.
    "user" is quoted for PostgreSQL, where it is a reserved word."""
    selected = ["me.change_count + pair.change_count", "viewer.time_zone", *extra]
    joins = ""
    if rows:
        everything = [
            *_seen("pair", Pair.__table__),
            *_seen("program", Program.__table__),
            *_seen("m", PairMember.__table__),
            *_seen("u", User.__table__),
        ]
        selected.append(_as_text(dialect, everything))
        joins = (
            " JOIN program ON program.id = pair.program_id"
            ' JOIN pair_member AS m ON m.pair_id = pair.id JOIN "user" AS u ON u.id = m.user_id'
        )
    return text(
        # Short names: the driver describes and SQLAlchemy reads every column's name (on SQLite the
        # expression itself, a few kilobytes for the kept page's rows) on each execution.
        f"SELECT {', '.join(f'{column} AS c{n}' for n, column in enumerate(selected))} FROM pair_member AS me"
        ' JOIN "user" AS viewer ON viewer.id = me.user_id JOIN pair ON pair.id = me.pair_id'
        f"{joins} WHERE me.pair_id = :pair_id AND me.user_id = :user_id"
        " AND viewer.session_generation = :generation AND viewer.active = :yes AND viewer.is_admin = :no"
        f"{' ORDER BY m.id' if rows else ''}"
    ).bindparams(yes=True, no=False)


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once for its driver, as the driver takes it."""

    sql: str
    names: tuple[str, ...] | None  # a positional driver's parameter order; None: by name
    constants: dict[str, object]

    def parameters(self, given: dict[str, object]) -> dict[str, object] | tuple[object, ...]:
        values = self.constants | given
        return values if self.names is None else tuple(values[name] for name in self.names)


_DRIVER_STATEMENTS: dict[tuple, _DriverStatement] = {}


def _light_read(dialect: Dialect, rows: bool, extra: tuple[str, ...]) -> _DriverStatement:
    """``_light_text`` compiled for ``dialect``'s driver. Every pair GET runs it: executed as a
    text it paid SQLAlchemy's cache-key and compiled-cache lookup each time, half its cost on SQLite,
    though its SQL never changes."""
    key = (dialect.name, dialect.driver, dialect.paramstyle, rows, extra)
    found = _DRIVER_STATEMENTS.get(key)
    if found is None:
        compiled = _light_text(dialect.name, rows, extra).compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        constants = {name: value for name, value in compiled.params.items() if value is not None}
        found = _DRIVER_STATEMENTS.setdefault(key, _DriverStatement(compiled.string, names, constants))
    return found


_ANSWERS_FROM_VISIT = "_twoway_answers_from_visit"


def answers_from_visit() -> bool:
    """Whether this request is a pair GET that ``visit`` may answer with no objects loaded: a
    live probe (``light``), or any pair page while pages are kept (app/page_cache.py)."""
    from app import page_cache

    known = g.get(_ANSWERS_FROM_VISIT)
    if known is None:
        blueprint = request.blueprint or ""
        known = (
            request.method == "GET"
            and (blueprint == "pair" or blueprint.startswith("pair."))
            and (_light_columns() is not None or page_cache.enabled())
        )
        setattr(g, _ANSWERS_FROM_VISIT, known)  # asked by the sign-in check, the limiter and the pair
    return known


def is_light() -> bool:
    """Whether this pair request's view answers from ``visit`` alone (``light``)."""
    return request.method == "GET" and _light_columns() is not None


def _read_visit(pair_id: int, user_id: int, generation: int, extra: tuple[str, ...] | None) -> Visit | None:
    # Not through the ORM, which has nothing to map here: on a connection of its own, back in the
    # pool at once (the ORM session's transaction and teardown cost more than the read, and a kept
    # page or a probe needs nothing else).
    with database.reading(db.engine) as connection:
        statement = _light_read(connection.dialect, extra is None, extra or ())
        params = statement.parameters({"pair_id": pair_id, "user_id": user_id, "generation": generation})
        found = connection.exec_driver_sql(statement.sql, params).all()
    if not found:
        return None
    first = found[0]
    return Visit(
        pair_id=pair_id,
        user_id=user_id,
        seen_by=first[0],
        rows=() if extra is not None else tuple(row[-1] for row in found),
        time_zone=first[1],
        generation=generation,
        extra=tuple(first[2 : 2 + len(extra or ())]),
    )


def _visit_as_signed_in() -> bool:
    """``visit`` and the sign-in check in one read, keeping ``g.visit`` when both pass. Anything
    else (no session, a stale generation, not a member, an admin) returns False and the request
    takes the usual path, which answers as it always did (sign in, or 404)."""
    from flask import session

    pair_id = g.get("pair_id")
    found = _session_user(session.get("_user_id")) if pair_id is not None else None
    # Flask-Login's own session protection, as its user loader runs it (a cookie from another
    # browser is no longer fresh; under "strong" protection it signs the session out).
    if found is None or login_manager._session_protection_failed():
        return False
    # The cookie's generation, which the read matches against the account's. A probe app/light.py
    # could not answer alone comes with the read it made for this very request.
    read = request.environ.pop(VISIT_READ, None)
    if read is None or (read.pair_id, read.user_id, read.generation) != (pair_id, *found):
        read = _read_visit(pair_id, *found, _light_columns())
    if read is None:
        return False
    g.visit = read
    return True


def visit(pair_id: int) -> Visit:
    """``load_membership``'s decision (404 unless the signed-in person is a member, and never for
    an admin) in one light query, for the answers that need no objects: a kept page, the probe."""
    known = g.get("visit")
    if known is not None and known.pair_id == pair_id:
        return known  # read with the sign-in (``require_sign_in``)
    read = (
        None
        if current_user.is_admin
        else _read_visit(pair_id, current_user.id, current_user.session_generation, _light_columns())
    )
    if read is None:
        abort(404)
    return read


# The WSGI environ key under which app/light.py hands its read on to Flask's path.
VISIT_READ = "twoway.visit"


def session_identifier(request: Request) -> str:
    """Flask-Login's identifier of the browser a session was signed in from (its address and
    User-Agent, hashed), from a request outside Flask's request cycle: its session protection
    compares it with the one kept in the session. tests/test_light_probes.py holds it to
    Flask-Login's own."""
    agent = request.headers.get("User-Agent")
    address = request.headers.get("X-Forwarded-For", request.remote_addr)
    forwarded = address.encode("utf-8").split(b",")[0].strip() if address is not None else None
    base = f"{forwarded}|{agent.encode('utf-8') if agent is not None else None}"
    return hashlib.sha512(base.encode("utf8")).hexdigest()


def quick_visit(app: Flask, request: Request, pair_id: int, extra: tuple[str, ...]) -> Visit | None:
    """The live probes' fast path (app/light.py): the decision ``_visit_as_signed_in`` makes, for
    a request that has not been through Flask's request cycle. None whenever anything is other
    than plain (no session or an unreadable one, a browser whose address or User-Agent moved, a
    stale generation, not a member, an admin): Flask then answers it, as it always did."""
    signed_in = app.session_interface.peek(app, request)  # type: ignore[attr-defined]
    found = _session_user(signed_in.get("_user_id")) if signed_in else None
    if found is None or "_remember" in signed_in:
        return None
    mode = app.config.get("SESSION_PROTECTION", login_manager.session_protection)
    if mode in ("basic", "strong") and signed_in.get("_id") != session_identifier(request):
        return None
    return _read_visit(pair_id, *found, extra)


def current_membership() -> PairMember:
    """The membership loaded for this pair request; a light view that finds it needs more than its
    read gave loads it here, with the same decision."""
    if "membership" not in g:
        g.membership = load_membership(g.pair_id)
    return g.membership


def get_in_pair(
    model: type[T],
    object_id: int,
    *also: ColumnElement[bool],
    load: Sequence[InstrumentedAttribute | tuple[InstrumentedAttribute, ...]] = (),
) -> T:
    """One of the current pair's objects (a goal, a meeting, a topic…) by id, or 404; ``also``
    narrows it further. Views fetch pair content only through here, so an id from another pair
    never resolves.

    ``load`` names what the view needs beside it, fetched in the same query: a relationship
    (``Goal.milestones``) or a path of them (``(Milestone.goal, Goal.milestones)``). Each is
    filtered by the pair as well; a related object outside the pair answers 404."""
    pair_id = g.membership.pair_id
    paths = [path if isinstance(path, tuple) else (path,) for path in load]
    options = []
    for path in paths:
        option = None
        for attribute in path:
            in_pair = attribute.and_(attribute.property.mapper.class_.pair_id == pair_id)
            option = joinedload(in_pair) if option is None else option.joinedload(in_pair)
        options.append(option)
    obj = (
        db.session.execute(
            select(model).where(model.id == object_id, model.pair_id == pair_id, *also).options(*options)
        )
        .unique()
        .scalar_one_or_none()
    )
    if obj is None:
        abort(404)
    for path in paths:
        # A many-to-one left empty by the pair filter names something outside the pair.
        related = obj
        for attribute in path:
            if attribute.property.uselist:
                break
            related = getattr(related, attribute.key)
            if related is None:
                abort(404)
    return obj


def require_admin() -> Response | None:
    """``before_request`` of the admin area: people who are not admins see no such page, and an
    admin sees no page of a program they don't administer (404, as for one that doesn't exist)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    program_id = (request.view_args or {}).get("program_id")
    if program_id is not None and not administers(current_user, program_id):
        abort(404)
    return None


def require_owner() -> Response | None:
    """``before_request`` of the pages that name a program's admins: owners only."""
    if not current_user.is_owner:
        abort(404)
    return None


def administers(user: User, program_id: int) -> bool:
    """Whether ``user`` may administer program ``program_id``: an owner, or one of its admins."""
    if not user.is_admin:
        return False
    if user.is_owner:
        return True
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ProgramAdmin.program_id == program_id,
                    ProgramAdmin.user_id == user.id,
                )
            )
        )
    )


def administered_programs(user: User) -> ColumnElement[bool]:
    """A condition on ``Program``: the programs ``user`` administers (all of them for an owner)."""
    if user.is_owner:
        return Program.id.is_not(None)
    return Program.id.in_(select(ProgramAdmin.program_id).where(ProgramAdmin.user_id == user.id))


def admins_of(program_ids: list[int]) -> dict[int, list[int]]:
    """The active people who administer each program, by program id: its admins and every owner,
    for what is sent to "the program's admin" (a request for help, the weekly digest)."""
    owners = list(db.session.scalars(select(User.id).where(User.is_owner.is_(True), User.active.is_(True))))
    found: dict[int, list[int]] = {program_id: list(owners) for program_id in program_ids}
    rows = db.session.execute(
        select(ProgramAdmin.program_id, ProgramAdmin.user_id)
        .join(User, User.id == ProgramAdmin.user_id)
        .where(ProgramAdmin.program_id.in_(program_ids), User.active.is_(True), User.is_owner.is_(False))
    )
    for program_id, user_id in rows:
        found[program_id].append(user_id)
    return found


def get_own(model: type, object_id: int):
    """Fetch one of the signed-in person's own objects (a passkey, say) by id, or 404."""
    obj = db.session.scalar(select(model).where(model.id == object_id, model.user_id == current_user.id))
    if obj is None:
        abort(404)
    return obj


def memberships_of(user: User) -> list[PairMember]:
    """Every pair ``user`` is in, with the program and both people loaded, newest program first."""
    return list(
        db.session.scalars(
            select(PairMember)
            .join(PairMember.pair)
            .join(Pair.program)
            .where(PairMember.user_id == user.id)
            .order_by(Program.starts_on.desc(), Pair.id)
            .options(
                joinedload(PairMember.pair).joinedload(Pair.program),
                joinedload(PairMember.pair).selectinload(Pair.members).joinedload(PairMember.user),
            )
        )
    )


# --- joining, and who may be an admin -------------------------------------------------------------

ADMINS_ARE_NOT_MEMBERS = (
    "{name} is a program admin. Admins can't take part in a program or be in a pair: a pair's space "
    "is theirs alone, and the admin sees only the program's numbers."
)
IN_A_PROGRAM = (
    "{name} takes part in a program, so they can't be made an admin: admins can't take part in a "
    "program or be in a pair."
)


def may_take_part(user: User) -> bool:
    """Whether ``user`` may be a participant of a program and so a pair member: never an admin."""
    return not user.is_admin


def takes_part(user_id: int) -> bool:
    """Whether the person is a participant of any program or in any pair (and so may not be an admin)."""
    return bool(
        db.session.scalar(
            select(exists().where(Participant.user_id == user_id) | exists().where(PairMember.user_id == user_id))
        )
    )


def joining_person(program_id: int, email: str) -> User | None:
    """Who gets a sign-in link mailed from the program's join page for ``email``: a participant of
    that program, with an open account, who is not an admin. Anyone else gets nothing (and the
    page answers them exactly as it answers a participant)."""
    return db.session.scalar(
        select(User)
        .join(Participant, Participant.user_id == User.id)
        .where(
            Participant.program_id == program_id,
            User.email == normalise_email(email),
            User.active.is_(True),
            User.is_admin.is_(False),
        )
    )


def joining_pair_id(program_id: int, user_id: int) -> int | None:
    """Where a link mailed from the program's join page leads: the person's pair in that program,
    once they have one."""
    return db.session.scalar(
        select(PairMember.pair_id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(Pair.program_id == program_id, PairMember.user_id == user_id)
        .order_by(Pair.id)
        .limit(1)
    )


def signed_in_recently() -> bool:
    """Whether this session may add a way in (a passkey, new recovery codes): it must have signed
    in within the last ten minutes, so a session someone else holds can't add their own."""
    return current_user.is_authenticated and sessions.signed_in_recently()


def help_requests_known_to(membership: PairMember) -> list[Row]:
    """When this person asked for help from this pair, and when their partner did and chose to tell
    them. Never the message: the partner learns only that they asked."""
    return list(
        db.session.execute(
            select(
                HelpRequest.id,
                HelpRequest.sender_id,
                HelpRequest.partner_told,
                HelpRequest.created_at,
                HelpRequest.handled_at,
            )
            .where(
                HelpRequest.pair_id == membership.pair_id,
                or_(HelpRequest.sender_id == membership.user_id, HelpRequest.partner_told.is_(True)),
            )
            .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
        )
    )


def help_answers_to(membership: PairMember) -> list[Row]:
    """The admin's answers to the requests this person sent from this pair: the only read of
    HelpRequest.answer outside the admin area. The sender alone reads them: never the partner
    (even when told of the request), never anyone else in the program."""
    return list(
        db.session.execute(
            select(HelpRequest.id, HelpRequest.answer, HelpRequest.answered_at).where(
                HelpRequest.pair_id == membership.pair_id,
                HelpRequest.sender_id == membership.user_id,
                HelpRequest.answered_at.is_not(None),
            )
        )
    )


# --- the journal: who edits a meeting, whose reflections -----------------------------------------


class NotAuthor(Forbidden):
    name = "Only its author can change this entry"
    description = (
        "The person who logged a meeting is the one who edits it. You can still tick its action "
        "items, and write your own private reflection on it."
    )


def meeting_to_edit(meeting_id: int) -> Meeting:
    """The current pair's meeting ``meeting_id`` if the signed-in person logged it: 404 for an id
    outside the pair, 403 (``NotAuthor``) for the partner.

    403 rather than 404: the partner can already read the entry, so saying no openly hides
    nothing, and "only its author can change this" is kinder than "not found"."""
    meeting = get_in_pair(Meeting, meeting_id)
    if meeting.author_id != current_user.id:
        raise NotAuthor()
    return meeting


def my_reflections() -> Select:
    """Reflections the signed-in person wrote in the current pair: the only reflections anyone can
    read. Every query for Reflection in Twoway is built on this one (a reflection is read by its
    author alone: not the partner, not an admin, not any export or search of anyone else)."""
    return select(Reflection).where(
        Reflection.author_id == current_user.id, Reflection.pair_id == current_membership().pair_id
    )


# --- a closed pair: read-only, but for its last words -------------------------------------------


class PairClosed(Conflict):
    name = "This pair has closed"
    description = (
        "Your pair's space stays here for you both to read, but nothing in it can change now. "
        "The closing check-in and your closing reflection stay open for two weeks after it closed."
    )


# What still takes words once a pair has closed, for the two weeks after (closing.CLOSING_WINDOW).
OPEN_AFTER_CLOSING = frozenset({"pair.feedback.answer", "pair.ending.save_reflection"})
CLOSING_ROUND = "end"
CLOSE_ENDPOINT = "pair.ending.close"


def guard_closed_pair(membership: PairMember) -> Response | None:
    """Refuse a write to a closed pair with a clear message, whatever the section: the one place
    that makes a closed space read-only. Reads are never refused. Without JavaScript the answer is
    a 409 page saying so; for htmx, the pair's home with the same words (an error page must not be
    swapped into a card)."""
    from flask import flash

    from app.ending.closing import still_open

    pair = membership.pair
    if pair.status != PairStatus.ENDED or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.endpoint == CLOSE_ENDPOINT:
        return None  # closing again changes nothing: the view says it is closed already
    if request.endpoint in OPEN_AFTER_CLOSING and still_open(pair):
        # The closing check-in only: every other round closed with the pair.
        if request.endpoint != "pair.feedback.answer" or request.form.get("round") == CLOSING_ROUND:
            return None
    if htmx.is_htmx():
        flash(f"{PairClosed.name}. {PairClosed.description}", "error")
        return htmx.redirect(url_for("pair.home", pair_id=pair.id))
    raise PairClosed()


def my_closing_reflection() -> Select:
    """The signed-in person's closing reflection on the current pair: the only way anyone reads
    that table (its author alone, like a journal reflection)."""
    return select(ClosingReflection).where(
        ClosingReflection.author_id == current_user.id, ClosingReflection.pair_id == current_membership().pair_id
    )


# --- the next meeting's calendar feeds and feedback answers (next_meeting, feedback) ------------


def calendar_feed_pair(token: str) -> Pair:
    """The pair a calendar feed's secret opens, with both people loaded; 404 unless the feed is
    live, its owner is still an active member of the pair, and the pair hasn't ended. The token
    is the only credential a calendar app can present."""
    from app.auth.links import hash_secret

    feed_pair_id = db.session.scalar(
        select(CalendarFeed.pair_id)
        .join(User, User.id == CalendarFeed.user_id)
        .join(PairMember, (PairMember.pair_id == CalendarFeed.pair_id) & (PairMember.user_id == CalendarFeed.user_id))
        .join(Pair, Pair.id == CalendarFeed.pair_id)
        .where(
            CalendarFeed.token_hash == hash_secret(token),
            CalendarFeed.revoked_at.is_(None),
            User.active.is_(True),
            Pair.status == PairStatus.ACTIVE,
        )
    )
    if feed_pair_id is None:
        abort(404)
    return (
        db.session.execute(
            select(Pair).where(Pair.id == feed_pair_id).options(joinedload(Pair.members).joinedload(PairMember.user))
        )
        .unique()
        .scalar_one()
    )


def readable_feedback(membership: PairMember, keys: list[str], revealed: set[str]):
    """The feedback answers a pair member may read among rounds ``keys``, with their prompts:

    - their own answers, always;
    - their partner's answers only in the ``revealed`` rounds (both submitted), and only those
      marked shared. Written answers are private unless their author ticked "share"; scores and
      yes/no are stored as shared. A private answer is never even selected for anyone but its author.

    Every read of FeedbackAnswer for a pair member starts here."""
    partner_id = membership.partner().user_id
    return (
        select(FeedbackAnswer, Prompt.text, Prompt.kind, Prompt.position)
        .join(Prompt, Prompt.id == FeedbackAnswer.prompt_id)
        .where(
            FeedbackAnswer.pair_id == membership.pair_id,
            FeedbackAnswer.round_key.in_(keys),
            or_(
                FeedbackAnswer.user_id == membership.user_id,
                and_(
                    FeedbackAnswer.user_id == partner_id,
                    FeedbackAnswer.shared.is_(True),
                    FeedbackAnswer.round_key.in_(sorted(revealed)),
                ),
            ),
        )
        .order_by(Prompt.position, Prompt.id)
    )


# --- Ground rules ------------------------------------------------------------------------------


def get_clause(clause_id: int, *, dropped_too: bool = False) -> Clause:
    """A clause in force of the current pair's ground rules, or 404: never another pair's, whatever
    the id, and never one the pair dropped, unless ``dropped_too`` (a save typed into a clause the
    partner dropped meanwhile must still reach it, so the words are kept)."""
    return get_in_pair(Clause, clause_id, *(() if dropped_too else (Clause.removed.is_(False),)))


# --- matching: a participant's own intake answers ------------------------------------------------


def intake_participant(program_id: int) -> Participant:
    """The signed-in person's place in program ``program_id``, through which they read and change
    their own intake answers; 404 for anyone else, admins included. Nobody opens another person's
    answers here: the admin reads them only through the matching pages."""
    participant = db.session.scalar(
        select(Participant).where(Participant.program_id == program_id, Participant.user_id == current_user.id)
    )
    if participant is None or current_user.is_admin:
        abort(404)
    return participant


def intake_programs(user: User) -> list[Row]:
    """The programs ``user`` takes part in (id, name), for links to their intake forms, and
    whether a proposed match there waits for their answer (``waiting``)."""
    if user.is_admin:
        return []
    waiting = (
        exists()
        .where(
            MatchProposal.state == ProposalState.SENT,
            MatchProposal.sent_at > utcnow() - timedelta(days=ANSWER_DAYS),
            or_(MatchProposal.mentor_id == Participant.id, MatchProposal.mentee_id == Participant.id),
        )
        .label("waiting")
    )
    return list(
        db.session.execute(
            select(Program.id, Program.name, waiting)
            .join(Participant, Participant.program_id == Program.id)
            .where(Participant.user_id == user.id)
            .order_by(Program.starts_on.desc(), Program.id)
        )
    )


def matched_in(program_id: int, user_id: int) -> bool:
    """Whether the person is in a pair of the program: their intake answers are then final."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    PairMember.user_id == user_id,
                    PairMember.pair_id == Pair.id,
                    Pair.program_id == program_id,
                )
            )
        )
    )


SENT_STATES = (ProposalState.SENT, ProposalState.GOING_AHEAD, ProposalState.NOT_GOING_AHEAD)


def proposals_to(participant: Participant) -> Select:
    """The proposals sent to ``participant``: the only proposals a participant ever reads. One
    still with the admin (proposed, locked, rejected) is nobody's business yet."""
    return select(MatchProposal).where(
        MatchProposal.program_id == participant.program_id,
        or_(MatchProposal.mentor_id == participant.id, MatchProposal.mentee_id == participant.id),
        MatchProposal.state.in_(SENT_STATES),
    )


def proposal_to(participant: Participant, proposal_id: int) -> MatchProposal:
    """One proposal sent to ``participant``, to answer; 404 for any other id, whoever's it is."""
    proposal = db.session.scalar(proposals_to(participant).where(MatchProposal.id == proposal_id))
    if proposal is None:
        abort(404)
    return proposal


# --- a person's data export (app/export) ---------------------------------------------------------


def export_pair_ids(user_id: int) -> Select:
    """The pairs whose shared content a person's export holds: every pair they are or were in,
    ended ones too."""
    return select(PairMember.pair_id).where(PairMember.user_id == user_id)


def own_reflection_on(user_id: int) -> ColumnElement[bool]:
    """How an export joins reflections to the meetings it lists: the exporting person's own, never
    the partner's (the same rule as ``my_reflections``, for a person rather than a request)."""
    return and_(Reflection.meeting_id == Meeting.id, Reflection.author_id == user_id)


def exportable_feedback(user_id: int) -> Select:
    """The check-in answers a person's export holds, with their prompts: all their own, and their
    partner's only where the partner shared them and the round was revealed to this person (both
    answered it), as ``readable_feedback`` shows them on the feedback page."""
    mine_too = (
        select(FeedbackSubmission.id)
        .where(
            FeedbackSubmission.pair_id == FeedbackAnswer.pair_id,
            FeedbackSubmission.round_key == FeedbackAnswer.round_key,
            FeedbackSubmission.user_id == user_id,
        )
        .exists()
    )
    return (
        select(FeedbackAnswer, Prompt.text, Prompt.kind, Prompt.position)
        .join(Prompt, Prompt.id == FeedbackAnswer.prompt_id)
        .where(
            FeedbackAnswer.pair_id.in_(export_pair_ids(user_id)),
            or_(
                FeedbackAnswer.user_id == user_id,
                and_(FeedbackAnswer.shared.is_(True), mine_too),
            ),
        )
        .order_by(FeedbackAnswer.pair_id, FeedbackAnswer.created_at, FeedbackAnswer.round_key, Prompt.position)
    )


def own_help_requests(user_id: int) -> Select:
    """The requests for help a person sent, with the admin's answers to them and the program's
    name, for their export: like ``help_answers_to``, the sender's alone."""
    return (
        select(HelpRequest, Program.name)
        .join(Program, Program.id == HelpRequest.program_id)
        .where(HelpRequest.sender_id == user_id)
        .order_by(HelpRequest.created_at, HelpRequest.id)
    )


def own_intakes(user_id: int) -> Select:
    """A person's place and intake answers in every program they take part in, with the program's
    name, for their export: their own, as ``intake_participant`` gives them, never anyone else's."""
    return (
        select(Program.name, Participant, Intake)
        .join(Program, Program.id == Participant.program_id)
        .outerjoin(Intake, Intake.participant_id == Participant.id)
        .where(Participant.user_id == user_id)
        .order_by(Program.starts_on, Program.id)
    )


def own_closing_reflections(user_id: int) -> Select:
    """A person's own closing reflections, for their export: like ``my_closing_reflection``, the
    author's alone, never the partner's."""
    return select(ClosingReflection).where(
        ClosingReflection.author_id == user_id, ClosingReflection.pair_id.in_(export_pair_ids(user_id))
    )


def own_closing_reasons(user_id: int) -> Select:
    """The reasons a person gave for closing their pairs, for their export: the closer's alone (the
    partner was told only that the pair closed)."""
    return select(ClosingReason).where(
        ClosingReason.author_id == user_id, ClosingReason.pair_id.in_(export_pair_ids(user_id))
    )


def own_exports() -> Select:
    """The signed-in person's own data exports (the account page's section, a build under way):
    nobody else's is ever listed."""
    return select(DataExport).where(DataExport.user_id == current_user.id)


def own_export(token: str) -> DataExport:
    """The signed-in person's finished, unexpired export named ``token``, or 404: the same answer
    for someone else's (the partner, an admin), an expired one and one that never existed."""
    export = db.session.scalar(
        select(DataExport).where(
            DataExport.token == token,
            DataExport.user_id == current_user.id,
            DataExport.state == ExportState.READY,
            DataExport.expires_at > utcnow(),
        )
    )
    if export is None:
        abort(404)
    return export


# --- Writes queued offline (app/static/js/outbox.js) ---------------------------------------------

# The header a replayed write carries: the id of the person who typed it on the device.
REPLAY_FOR = "Twoway-Replay-For"
# Said on the refusal, so the device drops that write rather than keep offering it.
REPLAY_REFUSED = "Twoway-Replay-Refused"


def refuse_foreign_replay() -> Response | None:
    """App-wide ``before_request``: a write typed offline and replayed later says whose it is.
    When the session it is sent under belongs to someone else (another account signed in on that
    device meanwhile), it is refused: the session's CSRF token would let it through, so this is
    what keeps one person's words from being written in another's name."""
    owner = request.headers.get(REPLAY_FOR)
    if owner is None or not current_user.is_authenticated or owner == str(current_user.id):
        # Signed out: the usual sign-in answer (401 to a replay, which says so) applies.
        return None
    response = Response("Written by someone else on this device.", 403)
    response.headers[REPLAY_REFUSED] = "other-person"
    return response


# --- one row of a program, for its admin (the ending page) ----------------------------------------
# require_admin already decided the admin runs the program in the URL; an id from another program
# is simply not in this one: 404, the same answer as an id that doesn't exist.


def program_pair_id(program_id: int, pair_id: int) -> int:
    """``pair_id`` if that pair is in program ``program_id``, or 404."""
    return db.one_or_404(select(Pair.id).where(Pair.id == pair_id, Pair.program_id == program_id))


def program_participant_id(program_id: int, participant_id: int) -> int:
    """``participant_id`` if that participant is in program ``program_id``, or 404."""
    return db.one_or_404(
        select(Participant.id).where(Participant.id == participant_id, Participant.program_id == program_id)
    )


# --- The home kept on the device for opening the app offline (app/templates/pwa/sw.js) ---------


def may_keep_offline_copy(user: User) -> bool:
    """Whether the service worker may keep a copy of ``user``'s home and landing on their device,
    to show when the app is opened with no network. Never an admin's: their pages name other
    people, and a phone left somewhere should not hold a program's list of participants."""
    return user.is_authenticated and not user.is_admin
