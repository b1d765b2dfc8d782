"""Deleting one's account: private words erased at once, shared ones kept for the partner.

What goes: private reflections and closing reflections, the reason given for closing a pair,
the written answers to check-ins that were not shared, intake answers and the match proposals
made from them, requests for help sent to the admin, notification choices, push subscriptions,
deliveries, sessions, passkeys, recovery codes, sign-in links, passkey challenges, calendar
feeds, remembered form answers, the programs they administered, their data exports (file and
row), and the sign-in mail counts kept under a hash of the address. The address also leaves other people's "don't pair me with" lists, and the person's name the
partners' notices and the pages remembered for other people's double taps.

What stays: what they wrote in a shared space (ground rules, goals, topics, meeting notes,
actions, shared answers and scores, earlier words), for the partner, shown as written by "A
former participant". The account row itself stays, anonymised in place (no name, an address
that can't receive mail, closed), so everything shared keeps pointing at the same person without
naming them. Their active pairs close, and the partner is told as when a pair is closed early.

Conflict copies: clause conflicts and the pair's earlier words hold only shared fields (a
reflection's conflicts are never stored), so they stay with the rest of the shared words.
"""

from __future__ import annotations

import secrets

from sqlalchemy import String, cast, delete, or_, select, update

from app.auth.links import address_key
from app.ending import closing
from app.export import tasks as export_tasks
from app.extensions import db
from app.models import (
    CalendarFeed,
    ClosingReason,
    ClosingReflection,
    Delivery,
    FeedbackAnswer,
    HelpRequest,
    IdempotencyKey,
    Intake,
    MatchProposal,
    NotificationPreference,
    Pair,
    PairEnding,
    PairMember,
    PairStatus,
    Participant,
    Passkey,
    ProgramAdmin,
    PushSubscription,
    RecoveryCode,
    Reflection,
    SignInAttempt,
    SignInLink,
    User,
    WebAuthnChallenge,
    utcnow,
)
from app.models.user import new_user_handle

FORMER = "A former participant"
# The address an erased account keeps: unique, and in a domain that can never receive mail (RFC 2606).
ERASED_DOMAIN = "erased.invalid"


def _by_user(user_id: int):
    """Rows that are the person's alone, keyed by their id."""
    return [
        delete(Reflection).where(Reflection.author_id == user_id),
        delete(ClosingReflection).where(ClosingReflection.author_id == user_id),
        delete(ClosingReason).where(ClosingReason.author_id == user_id),
        delete(HelpRequest).where(HelpRequest.sender_id == user_id),
        delete(NotificationPreference).where(NotificationPreference.user_id == user_id),
        delete(PushSubscription).where(PushSubscription.user_id == user_id),
        delete(Delivery).where(Delivery.user_id == user_id),
        delete(Passkey).where(Passkey.user_id == user_id),
        delete(RecoveryCode).where(RecoveryCode.user_id == user_id),
        delete(SignInLink).where(SignInLink.user_id == user_id),
        delete(WebAuthnChallenge).where(WebAuthnChallenge.user_id == user_id),
        delete(CalendarFeed).where(CalendarFeed.user_id == user_id),
        delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id),
        # An admin who leaves administers nothing any more (and isn't listed among the admins).
        delete(ProgramAdmin).where(ProgramAdmin.user_id == user_id),
        # A written answer kept private was read by its author alone; scores and shared words stay.
        update(FeedbackAnswer)
        .where(FeedbackAnswer.user_id == user_id, FeedbackAnswer.shared.is_(False))
        .values(text=""),
    ]


def erase(user: User) -> list[int]:
    """Erase ``user``'s private data and anonymise their account, closing their active pairs.
    Returns the partners' notices to queue once the caller has committed. Does not commit."""
    user_id, email, name = user.id, user.email, user.name
    now = utcnow()
    ids: list[int] = []
    active = db.session.scalars(
        select(PairMember.pair_id)
        .join(Pair, Pair.id == PairMember.pair_id)
        .where(PairMember.user_id == user_id, Pair.status == PairStatus.ACTIVE)
    )
    for pair_id in list(active):
        ids += closing.close(pair_id, PairEnding.LEFT, by=user_id, at=now) or []
    participant_ids = select(Participant.id).where(Participant.user_id == user_id)
    for statement in (
        *_by_user(user_id),
        delete(Intake).where(Intake.participant_id.in_(participant_ids)),
        delete(MatchProposal).where(
            or_(MatchProposal.mentor_id.in_(participant_ids), MatchProposal.mentee_id.in_(participant_ids))
        ),
        delete(SignInAttempt).where(SignInAttempt.address_key == address_key(email)),
    ):
        db.session.execute(statement)
    export_tasks.forget(user_id)
    _forget_address(email)
    _forget_name(user_id, name)
    _forget_pages(name, email)
    user.name = FORMER
    user.email = f"{secrets.token_hex(16)}@{ERASED_DOMAIN}"
    user.active = False
    user.is_admin = False
    user.webauthn_user_handle = new_user_handle()
    user.session_generation += 1
    user.time_zone = user.quiet_from = user.quiet_until = None
    user.last_signed_in_at = None
    return ids


def _forget_address(email: str) -> None:
    """Take the address out of other people's "don't pair me with" lists: nobody has it any more."""
    holding = db.session.scalars(select(Intake).where(cast(Intake.avoid, String).contains(email)))
    for intake in holding:
        intake.avoid = [address for address in intake.avoid if address != email]


def _forget_pages(name: str, email: str) -> None:
    """Remembered answers to other people's forms (``IdempotencyKey.body``: the page a double tap
    gets again) that show the person's name or address: dropped. They matter for a day at most,
    and a page drawn for the partner names the person beside what they wrote."""
    first = name.split()[0] if name.strip() else name
    words = {word for word in (name, first, email) if len(word) >= 2}
    db.session.execute(delete(IdempotencyKey).where(or_(*(IdempotencyKey.body.contains(word) for word in words))))


def _forget_name(user_id: int, name: str) -> None:
    """Partners' notices that name the person (``details["partner"]``) and are still to be worded
    say "A former participant" instead, and so do those already sent (kept for operators until
    ``passes.KEEP_FINISHED``)."""
    partners = (
        select(PairMember.user_id)
        .where(PairMember.pair_id.in_(select(PairMember.pair_id).where(PairMember.user_id == user_id)))
        .where(PairMember.user_id != user_id)
    )
    first = name.split()[0] if name.strip() else name
    for delivery in db.session.scalars(select(Delivery).where(Delivery.user_id.in_(partners))):
        details = dict(delivery.details or {})
        changed = {key: FORMER for key, value in details.items() if isinstance(value, str) and value in (name, first)}
        if changed:
            delivery.details = details | changed
