"""Recovery codes: ten single-use codes, shown once, stored as hashes."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, func, select, update

from app.auth.links import hash_secret
from app.extensions import db
from app.models import RecoveryCode, User, utcnow

CODE_COUNT = 10
# No 0/o, 1/l/i: codes get copied by hand from paper. 16 characters of 31 carry about 79 bits.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_LENGTH = 16


def normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _format(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def generate(user: User) -> list[str]:
    """Replace ``user``'s codes with a new set and return them: the only time they are readable."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH)) for _ in range(CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_secret(code)) for code in codes)
    return [_format(code) for code in codes]


def unused_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def redeem(code: str) -> User | None:
    """Use a code up and return whose it was, or None. Single-use even under concurrent requests."""
    user_id = db.session.scalar(
        update(RecoveryCode)
        .where(RecoveryCode.code_hash == hash_secret(normalise(code)), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .returning(RecoveryCode.user_id)
    )
    if user_id is None:
        return None
    return db.session.scalar(select(User).where(User.id == user_id, User.active.is_(True)))
