"""The adapter around py_webauthn: the only module that imports it.

It keeps challenges on the server (single use, five minutes), fixes the relying party to BASE_URL,
requires user verification, and turns every library error into ``PasskeyError`` with words a person
can act on.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app, session
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.extensions import db
from app.models import Passkey, User, WebAuthnChallenge, utcnow

CHALLENGE_TTL = timedelta(minutes=5)
RP_NAME = "Twoway"
_SESSION_KEY = "webauthn_challenges"
_MAX_PENDING = 4
_REGISTER = "register"
_AUTHENTICATE = "authenticate"
_ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
_KNOWN_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class PasskeyError(Exception):
    """A passkey ceremony failed; the message is meant for the person in front of the screen."""


def _new_challenge(purpose: str, user: User | None) -> bytes:
    now = utcnow()
    # Expired challenges are cleared whenever a new one is made, so the table stays small.
    db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now))
    challenge = secrets.token_bytes(32)
    handle = secrets.token_urlsafe(32)
    db.session.add(
        WebAuthnChallenge(
            id=handle,
            purpose=purpose,
            user_id=user.id if user else None,
            challenge=challenge,
            expires_at=now + CHALLENGE_TTL,
        )
    )
    # A page can have two ceremonies under way (passkey autofill and the button): keep a few
    # pending handles so that starting one never breaks the other.
    session[_SESSION_KEY] = [*session.get(_SESSION_KEY, [])[-(_MAX_PENDING - 1) :], handle]
    return challenge


T = TypeVar("T")
# What py_webauthn raises for an answer it can't read or won't accept.
_REFUSED = (WebAuthnException, ValueError, KeyError, TypeError)


def _parsed(parse: Callable[[Any], T], answer: str | bytes) -> T:
    try:
        return parse(answer)
    except _REFUSED as error:
        raise PasskeyError("Your device's answer could not be read. Please try again.") from error


def _take_challenge(purpose: str, user: User | None, client_data_json: bytes) -> bytes:
    """Consume the pending challenge that this answer was made for. DELETE … RETURNING makes it
    single-use even when two requests race with the same one."""
    answered = _parsed(parse_client_data_json, client_data_json).challenge
    pending: list[str] = session.get(_SESSION_KEY, [])
    row = None
    if pending:
        row = db.session.execute(
            delete(WebAuthnChallenge)
            .where(
                WebAuthnChallenge.id.in_(pending),
                WebAuthnChallenge.purpose == purpose,
                WebAuthnChallenge.challenge == answered,
            )
            .returning(WebAuthnChallenge.id, WebAuthnChallenge.expires_at, WebAuthnChallenge.user_id)
        ).first()
    if row is not None:
        session[_SESSION_KEY] = [handle for handle in pending if handle != row.id]
    if row is None or row.expires_at <= utcnow() or row.user_id != (user.id if user else None):
        raise PasskeyError("That took too long or was already used. Please try again.")
    return answered


def _config(key: str) -> str:
    return current_app.config[key]


def _expected(challenge: bytes) -> dict[str, Any]:
    """What every answer must match: our challenge, our host and origin, and a person verified
    on the device (its PIN, face or finger)."""
    return {
        "expected_challenge": challenge,
        "expected_rp_id": _config("WEBAUTHN_RP_ID"),
        "expected_origin": _config("WEBAUTHN_ORIGIN"),
        "require_user_verification": True,
    }


def registration_options(user: User, existing: list[Passkey]) -> str:
    """Options JSON for ``navigator.credentials.create`` (after ``parseCreationOptionsFromJSON``)."""
    options = generate_registration_options(
        rp_id=_config("WEBAUTHN_RP_ID"),
        rp_name=RP_NAME,
        user_id=user.webauthn_user_handle,
        user_name=user.email,
        user_display_name=user.name,
        challenge=_new_challenge(_REGISTER, user),
        timeout=int(CHALLENGE_TTL.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            # Discoverable, so that signing in needs no username.
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        # The same authenticator is not registered twice.
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=p.credential_id, transports=_transports(p.transports)) for p in existing
        ],
        supported_pub_key_algs=_ALGORITHMS,
    )
    return options_to_json(options)


def _transports(values: list[str]) -> list[AuthenticatorTransport]:
    return [AuthenticatorTransport(v) for v in values if v in _KNOWN_TRANSPORTS]


def register(user: User, credential_json: str, nickname: str) -> Passkey:
    """Verify the browser's answer to ``registration_options`` and store the new passkey."""
    credential = _parsed(parse_registration_credential_json, credential_json)
    challenge = _take_challenge(_REGISTER, user, credential.response.client_data_json)
    try:
        verified = verify_registration_response(
            credential=credential, supported_pub_key_algs=_ALGORITHMS, **_expected(challenge)
        )
    except _REFUSED as error:
        current_app.logger.info("Passkey registration refused for user %s: %s", user.id, error)
        raise PasskeyError("Your device's answer could not be verified, so no passkey was added.") from error
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)):
        raise PasskeyError("This passkey is already registered.")
    passkey = Passkey(
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t.value for t in credential.response.transports or []],
        aaguid=verified.aaguid,
        backed_up=verified.credential_backed_up,
        nickname=nickname,
    )
    db.session.add(passkey)
    return passkey


def authentication_options() -> str:
    """Options JSON for ``navigator.credentials.get``: no allow list, the authenticator offers
    whichever Twoway passkeys it holds (this also drives autofill on the email field)."""
    options = generate_authentication_options(
        rp_id=_config("WEBAUTHN_RP_ID"),
        challenge=_new_challenge(_AUTHENTICATE, None),
        timeout=int(CHALLENGE_TTL.total_seconds() * 1000),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def authenticate(credential_json: str) -> User:
    """Verify a passkey sign-in and return whose it is."""
    credential = _parsed(parse_authentication_credential_json, credential_json)
    challenge = _take_challenge(_AUTHENTICATE, None, credential.response.client_data_json)
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.credential_id == credential.raw_id).options(joinedload(Passkey.user))
    )
    if passkey is None:
        raise PasskeyError(
            "Twoway doesn't know this passkey: it may have been removed. Sign in with an email link instead."
        )
    # Discoverable credentials always return their user handle; it must be this passkey's owner's.
    if credential.response.user_handle != passkey.user.webauthn_user_handle:
        raise PasskeyError("This passkey doesn't belong to the account it claims. Please try another.")
    try:
        verified = verify_authentication_response(
            credential=credential,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            **_expected(challenge),
        )
    except _REFUSED as error:
        current_app.logger.info("Passkey sign-in refused for passkey %s: %s", passkey.id, error)
        raise PasskeyError("Your device's answer could not be verified. Please try again.") from error
    if not passkey.user.active:
        raise PasskeyError("Your Twoway account is closed. Ask your program's admin for help.")
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used_at = utcnow()
    return passkey.user


def default_nickname(user_agent: str) -> str:
    """A first name for a new passkey, from the device it was made on; people can rename it."""
    ua = user_agent.lower()
    for needle, device in (
        ("iphone", "iPhone"),
        ("ipad", "iPad"),
        ("android", "Android phone"),
        ("macintosh", "Mac"),
        ("windows", "Windows computer"),
        ("cros", "Chromebook"),
        ("linux", "Linux computer"),
    ):
        if needle in ua:
            return f"Passkey on {device}"
    return "Passkey"
