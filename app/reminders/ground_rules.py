"""Ground rules waiting for your agreement: your partner agreed to them two days ago.

"Two days after" is counted on the person's own calendar: at 09:00 on their clock two days after
the day (on their clock) their partner agreed, like every other pair reminder, rather than at
whatever hour of the night 48 hours come round.

Only the current version counts: the key carries it (``ground-rules:<pair>:v<version>``), so a
change to the rules (a new version, which needs new agreement from both) is a new reminder, two
days after the partner agreed to the new version, and the reminder for the old one is dropped
when it is worded. Nobody is reminded once they agreed, nor of rules both already agreed to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.ground_rules import agreement
from app.models import Agreement, AgreementSignature, Delivery, Kind, Pair, PairMember, PairStatus, User
from app.reminders import people
from app.reminders.messages import Message, partner_named
from app.reminders.outbox import Due
from app.urls import absolute_url

WAIT = timedelta(days=2)
# 09:00 two days after a day on one clock falls between these two bounds of the partner's moment.
_EARLIEST, _LATEST = timedelta(days=1), timedelta(days=4)


def _subject(pair_id: int, version: int) -> str:
    return f"ground-rules:{pair_id}:v{version}"


def find(since: datetime, at: datetime) -> list[Due]:
    """People whose partner agreed to the current ground rules, and who haven't, falling due in
    (since, at]: one query for all pairs."""
    partner_signature = aliased(AgreementSignature)
    mine = aliased(AgreementSignature)
    members = people.members()
    rows = db.session.execute(
        members.add_columns(Agreement.version, partner_signature.agreed_at)
        .join(Agreement, Agreement.pair_id == Pair.id)
        .join(
            partner_signature,
            (partner_signature.pair_id == Pair.id)
            & (partner_signature.agreement_version == Agreement.version)
            & (partner_signature.user_id != PairMember.user_id),
        )
        .where(
            partner_signature.agreed_at > since - _LATEST,
            partner_signature.agreed_at <= at - _EARLIEST,
            ~exists().where(
                mine.pair_id == Pair.id,
                mine.user_id == PairMember.user_id,
                mine.agreement_version == Agreement.version,
            ),
        )
    )
    found = []
    for pair_id, user_id, zone, partner, version, agreed_at in rows:
        moment = people.morning(people.local_day(agreed_at, zone) + WAIT, zone)
        if since < moment <= at:
            details = {"pair": pair_id, "version": version, "partner": partner}
            found.append(Due(user_id, Kind.GROUND_RULES_WAITING, _subject(pair_id, version), moment, None, details))
    return found


def compose(delivery: Delivery, user: User, settings) -> Message | None:
    """The words, from the sign-off as it is now: None once the person agreed, the rules changed
    since (a new version), the partner's agreement is gone or the pair ended."""
    pair_id = delivery.details["pair"]
    me = aliased(PairMember)
    row = db.session.execute(
        select(Agreement.version, Pair.id)
        .join(Pair, Pair.id == Agreement.pair_id)
        .join(me, (me.pair_id == Pair.id) & (me.user_id == user.id))
        .where(Agreement.pair_id == pair_id, Pair.status == PairStatus.ACTIVE)
    ).first()
    if row is None or _subject(pair_id, row.version) != delivery.subject:
        return None
    signed = set(
        db.session.scalars(
            select(AgreementSignature.user_id).where(
                AgreementSignature.pair_id == pair_id, AgreementSignature.agreement_version == row.version
            )
        )
    )
    # Waiting for this person alone: their partner agreed ("one"), they haven't.
    if user.id in signed or agreement.signoff_state(True, len(signed), False) != "one":
        return None
    partner = partner_named(delivery)
    return Message(
        delivery.kind,
        f"{partner} agreed to your ground rules",
        [
            f"{partner} agreed to your ground rules a couple of days ago; they're waiting for you.",
            "Have a look when you have a moment. If something doesn't sit right, change it: "
            f"{partner} will see what changed and agree again.",
        ],
        url=absolute_url("pair.ground_rules.index", pair_id=pair_id),
        action="Read your ground rules",
    )
