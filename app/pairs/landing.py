"""Where a person starts after signing in or opening the installed app.

Someone in exactly one open pair comes for that pair: showing them a list of one only costs a tap
on every visit. With no pair, several, or as an admin (never in a pair), the list of their pairs
(``pairs.index``) is where they start, as it always was.
"""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.models import Pair, PairMember, PairStatus, User


def url_for_person(user: User) -> str:
    """The page ``user`` starts on: their one open pair's home, else their pairs. One query (none
    for an admin)."""
    if not user.is_admin:
        open_pairs = db.session.scalars(
            select(PairMember.pair_id)
            .join(Pair, Pair.id == PairMember.pair_id)
            .where(PairMember.user_id == user.id, Pair.status == PairStatus.ACTIVE)
            .limit(2)
        ).all()
        if len(open_pairs) == 1:
            return url_for("pair.home", pair_id=open_pairs[0])
    return url_for("pairs.index")
