"""Who may see what. Every access decision in Twoway is made here, and nowhere else.

- Every route needs a signed-in person unless its view is marked ``@public``.
- Pair routes hang under the ``pair`` blueprint, whose ``before_request`` calls ``load_membership``:
  the signed-in person must be one of the pair's two members, or the answer is 404. Never 403,
  which would confirm that the pair exists. Program admins are not members and get 404 too.
- The admin blueprint calls ``require_admin``.
- Objects that belong to a person are fetched through ``get_own``, which filters by owner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import htmx
from app.extensions import db, login_manager
from app.models import Pair, PairMember, User

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
    if current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


@login_manager.unauthorized_handler
def _unauthorized() -> Response:
    target = url_for("auth.sign_in", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if htmx.is_htmx():
        # A fragment request must not get the sign-in page swapped into a card: htmx navigates instead.
        return htmx.client_redirect(Response("Sign in to continue.", 401), target)
    return redirect(target)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # The cookie carries "id:generation"; signing out bumps the generation, so a cookie captured
    # before sign-out no longer matches anyone.
    try:
        uid, generation = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    return db.session.scalar(
        select(User).where(User.id == uid, User.session_generation == generation, User.active.is_(True))
    )


def load_membership(pair_id: int) -> PairMember:
    """The signed-in person's membership of pair ``pair_id``, with the pair, its program and both
    members loaded; 404 when they are not a member."""
    # One query: every pair page pays for it, and phones feel each round trip.
    membership = (
        db.session.execute(
            select(PairMember)
            .where(PairMember.pair_id == pair_id, PairMember.user_id == current_user.id)
            .options(
                joinedload(PairMember.pair).joinedload(Pair.program),
                joinedload(PairMember.pair).joinedload(Pair.members).joinedload(PairMember.user),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if membership is None:
        abort(404)
    return membership


def current_membership() -> PairMember:
    """The membership loaded for this pair request."""
    return g.membership


def get_in_pair(model: type[T], object_id: int) -> T:
    """One of the current pair's objects (a goal, a meeting, a topic…) by id, or 404. Views fetch
    pair content only through here, so an id from another pair never resolves."""
    obj = db.session.scalar(select(model).where(model.id == object_id, model.pair_id == g.membership.pair_id))
    if obj is None:
        abort(404)
    return obj


def require_admin() -> Response | None:
    """``before_request`` of the admin area; people who are not admins see no such page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    return None


def get_own(model: type, object_id: int):
    """Fetch one of the signed-in person's own objects (a passkey, say) by id, or 404."""
    obj = db.session.scalar(select(model).where(model.id == object_id, model.user_id == current_user.id))
    if obj is None:
        abort(404)
    return obj


def memberships_of(user: User) -> list[PairMember]:
    """Every pair ``user`` is in, with the program and both people loaded, newest program first."""
    from app.models import Program

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


# --- Ground rules ------------------------------------------------------------------------------


def get_clause(clause_id: int):
    """A clause in force of the current pair's ground rules, or 404: never another pair's, whatever
    the id, and never one the pair dropped."""
    from app.models import Clause

    clause = db.session.scalar(
        select(Clause).where(Clause.id == clause_id, Clause.pair_id == g.membership.pair_id, Clause.removed.is_(False))
    )
    if clause is None:
        abort(404)
    return clause
