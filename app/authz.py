"""Who may see what. Every access decision in Twoway is made here, and nowhere else.

- Every route needs a signed-in person unless its view is marked ``@public``.
- Pair routes hang under the ``pair`` blueprint, whose ``before_request`` calls ``load_membership``:
  the signed-in person must be one of the pair's two members, or the answer is 404. Never 403,
  which would confirm that the pair exists. Program admins are not members and get 404 too.
- The whole admin area hangs under the ``admin`` blueprint, whose ``before_request`` is
  ``require_admin``. Admins are never pair members: ``may_take_part`` says who may be added to a
  program or a pair, and ``load_membership`` refuses admins even if a membership slipped in.
- Objects that belong to a person are fetched through ``get_own``, which filters by owner.
- The only way into a program for its participants is its join page: ``joining_person`` decides
  who gets a sign-in link mailed from there. Nothing an admin is shown signs anyone in.
- Adding a way in to an account (a passkey, recovery codes) needs ``signed_in_recently``.
- A participant reads and changes their own intake answers through ``intake_participant`` alone;
  the admin reads them only in the matching pages of the admin area.
- A request for help is read by the admin; the partner learns only that it was sent, if the
  sender chose (``help_requests_known_to``); the admin's answer is read by the sender alone
  (``help_answers_to``).
- In the journal only a meeting's author edits it (``meeting_to_edit``), and reflections are read
  through ``my_reflections`` alone.
- A person's data export holds what is theirs (``export_pair_ids``, ``own_reflection_on``,
  ``exportable_feedback``, ``own_help_requests``, ``own_intakes``): never the partner's private words. Its file is downloaded by its owner
  alone, signed in (``own_export``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, Row, Select, and_, exists, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden

from app import htmx
from app.auth import sessions
from app.extensions import db, login_manager
from app.models import (
    CalendarFeed,
    Clause,
    DataExport,
    ExportState,
    FeedbackAnswer,
    FeedbackSubmission,
    HelpRequest,
    Intake,
    Meeting,
    Pair,
    PairMember,
    PairStatus,
    Participant,
    Program,
    Prompt,
    Reflection,
    User,
    normalise_email,
    utcnow,
)

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
    # A second line of defence: admins are never added to pairs (see ``may_take_part``), and even
    # if a membership slipped in (a promotion done by hand in the database), it opens nothing.
    if current_user.is_admin:
        abort(404)
    return membership


def current_membership() -> PairMember:
    """The membership loaded for this pair request."""
    return g.membership


def get_in_pair(model: type[T], object_id: int, *also: ColumnElement[bool]) -> T:
    """One of the current pair's objects (a goal, a meeting, a topic…) by id, or 404; ``also``
    narrows it further. Views fetch pair content only through here, so an id from another pair
    never resolves."""
    obj = db.session.scalar(select(model).where(model.id == object_id, model.pair_id == g.membership.pair_id, *also))
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
    """The programs ``user`` takes part in (id, name), for links to their intake forms."""
    if user.is_admin:
        return []
    return list(
        db.session.execute(
            select(Program.id, Program.name)
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
