"""The worker's side of a delivery: claim it, word it, send it by the person's channel.

A delivery is claimed by one conditional UPDATE (queued → sending) committed before anything
leaves, so two workers handed the same id (a retried task, the sweep re-queuing one a worker had
fetched) never both send it. A failure the mail server or push service reports means nothing was
taken: the delivery goes back to ``queued`` and is tried again with backoff, then ``failed``. A
worker that dies mid-send leaves the delivery in ``sending``: it may or may not have gone, so it
is reported to operators (``flask reminders failed``), never sent again.
"""

from __future__ import annotations

from celery import shared_task
from flask import current_app
from sqlalchemy import exists, select, update

from app import mail, queue
from app.extensions import db
from app.models import Channel, Delivery, State, User, utcnow
from app.reminders import outbox, push
from app.reminders.kinds import SPECS
from app.reminders.messages import Message
from app.reminders.preferences import Settings, settings_for, unsubscribe_token
from app.urls import absolute_url

# Tries in all; the waits between them grow 2, 4, 8, 16, 32 s.
MAX_ATTEMPTS = 6


@shared_task(name="twoway.send_deliveries")
def send_deliveries(ids: list[int]) -> None:
    """Send each of the deliveries ``ids`` (ids only: the words are made here, from the database)."""
    for delivery_id in ids:
        send_one(int(delivery_id))


def send_one(delivery_id: int) -> State | None:
    """Claim and send one delivery; return the state it was left in, None if it wasn't ours."""
    now = utcnow()
    claimed = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == State.QUEUED)
        .values(state=State.SENDING, claimed_at=now, attempts=Delivery.attempts + 1)
        .returning(Delivery.id)
    ).scalar()
    db.session.commit()
    if claimed is None:
        return None  # sent, being sent, held or dropped: somebody else's, or nobody's
    delivery = db.session.scalar(select(Delivery).where(Delivery.id == delivery_id))
    user = db.session.get(User, delivery.user_id)
    state = _send(delivery, user, now)
    db.session.commit()
    return state


def _send(delivery: Delivery, user: User | None, now) -> State:
    def drop(reason: str) -> State:
        outbox.mark(delivery.id, State.DROPPED, error=reason, finished_at=now)
        return State.DROPPED

    if user is None or not user.active:
        return drop("the account is closed")
    if delivery.useful_until is not None and delivery.useful_until <= now:
        return drop("no longer useful")
    settings = settings_for(user)
    channel = settings.channel(delivery.kind)
    if channel == Channel.OFF:
        return drop("turned off")
    if SPECS[delivery.kind].find is not None and _sent_before(delivery):
        return drop("already sent under another moment")
    try:
        message = SPECS[delivery.kind].compose(delivery, user, settings)
        if message is None:
            return drop("no longer true")
        useful_until = delivery.useful_until
        # Anything the words made (a sign-in link) must exist before the message can be read.
        db.session.commit()
        pushed = channel == Channel.PUSH and push.send(user, message, useful_until=useful_until)
        sent_by = Channel.PUSH if pushed else Channel.EMAIL
        if sent_by == Channel.EMAIL:
            mail.transmit(_mail(user, message, settings))
    except mail.MaybeSent as error:
        # Reported to operators like a worker that died mid-send: never tried again.
        db.session.rollback()
        current_app.logger.error("Delivery %d (%s) may or may not have gone: %s", delivery.id, delivery.kind, error)
        outbox.mark(delivery.id, State.FAILED, error=_describe(error), finished_at=now)
        return State.FAILED
    except (*mail.TRANSIENT, push.TryLater) as error:
        db.session.rollback()
        return _try_later(delivery, now, error)
    except Exception as error:
        # A fault of ours (a bug in the words, say): recorded for operators, never retried blindly.
        db.session.rollback()
        current_app.logger.exception("Delivery %d (%s) failed", delivery.id, delivery.kind)
        outbox.mark(delivery.id, State.FAILED, error=_describe(error), finished_at=now)
        return State.FAILED
    outbox.mark(delivery.id, State.SENT, channel=sent_by, finished_at=utcnow())
    return State.SENT


def _sent_before(delivery: Delivery) -> bool:
    """Whether this reminder already went to this person under another due moment. A reminder's
    moment follows the person's clock (09:00 their time), so one who sets or changes their time
    zone after it came would have it found again under its new moment, a new key. Only for what
    the pass finds: an answer to a request for help is told of again at each save, on purpose."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Delivery.user_id == delivery.user_id,
                    Delivery.kind == delivery.kind,
                    Delivery.subject == delivery.subject,
                    Delivery.id != delivery.id,
                    Delivery.state.in_([State.SENT, State.SENDING]),
                )
            )
        )
    )


def _try_later(delivery: Delivery, now, error: BaseException) -> State:
    attempts = delivery.attempts
    if attempts >= MAX_ATTEMPTS:
        # The kind and id only: the mail may have held a sign-in link.
        current_app.logger.error(
            "Delivery %d (%s) failed after %d tries: %s", delivery.id, delivery.kind, attempts, error
        )
        outbox.mark(delivery.id, State.FAILED, error=_describe(error), finished_at=now)
        return State.FAILED
    current_app.logger.warning("Delivery %d (%s) not sent yet (%s); trying again", delivery.id, delivery.kind, error)
    outbox.mark(delivery.id, State.QUEUED, error=_describe(error), queued_at=now)
    db.session.commit()
    queue.enqueue(send_deliveries, [delivery.id], countdown=2**attempts)
    return State.QUEUED


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:200]


def _mail(user: User, message: Message, settings: Settings):
    link = message.url
    spec = SPECS[message.kind]
    footer: dict[str, str | None] = {"link": link, "preferences": None, "unsubscribe": None, "kind_label": spec.label}
    headers = dict(message.headers)
    if spec.optional:
        footer["preferences"] = absolute_url("reminders.preferences")
        footer["unsubscribe"] = absolute_url("reminders.unsubscribe", token=unsubscribe_token(user, message.kind))
        headers["Auto-Submitted"] = "auto-generated"
        # RFC 8058 one-click unsubscribe needs an https URL: over plain http the header is left out.
        if current_app.config["BASE_URL"].startswith("https://"):
            headers["List-Unsubscribe"] = f"<{footer['unsubscribe']}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return mail.build(user.email, message.subject, message.text(**footer), message.html(**footer), headers)
