"""Who may see what. Every access decision in Twoway is made here, and nowhere else.

- Every route needs a signed-in person unless its view is marked ``@public``.
- Pair routes hang under the ``pair`` blueprint, whose ``before_request`` calls ``load_membership``:
  the signed-in person must be one of the pair's two members, or the answer is 404. Never 403,
  which would confirm that the pair exists. Program admins are not members and get 404 too.
- The admin blueprint calls ``require_admin``.
- Objects that belong to a person are fetched through ``get_own``, which filters by owner.
- In the journal only a meeting's author edits it (``meeting_to_edit``), and reflections are read
  through ``my_reflections`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden

from app import htmx
from app.extensions import db, login_manager
from app.models import Meeting, Pair, PairMember, Reflection, User

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
