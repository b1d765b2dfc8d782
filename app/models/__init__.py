"""Twoway's typed models. Relationships raise on lazy load: views say what they need up front."""

from app.models.ground_rules import (
    BODY_MAX,
    CADENCE_LABELS,
    TITLE_MAX,
    Agreement,
    AgreementSignature,
    Cadence,
    Clause,
    ClauseConflict,
    ClauseKind,
    ClauseRevision,
    Rhythm,
)
from app.models.program import (
    DEFAULT_PRIVACY_THRESHOLD,
    MIN_PRIVACY_THRESHOLD,
    Pair,
    PairMember,
    PairStatus,
    Program,
    Role,
)
from app.models.types import UTCDateTime, utcnow
from app.models.user import Passkey, RecoveryCode, SignInLink, User, WebAuthnChallenge, normalise_email

__all__ = [
    "BODY_MAX",
    "CADENCE_LABELS",
    "TITLE_MAX",
    "Agreement",
    "AgreementSignature",
    "Cadence",
    "Clause",
    "ClauseConflict",
    "ClauseKind",
    "ClauseRevision",
    "Rhythm",
    "DEFAULT_PRIVACY_THRESHOLD",
    "MIN_PRIVACY_THRESHOLD",
    "Pair",
    "PairMember",
    "PairStatus",
    "Passkey",
    "Program",
    "RecoveryCode",
    "Role",
    "SignInLink",
    "UTCDateTime",
    "User",
    "WebAuthnChallenge",
    "normalise_email",
    "utcnow",
]
