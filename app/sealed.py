"""Sealed values: small JSON payloads encrypted and authenticated with a key derived from
SECRET_KEY (AES-GCM), for what must pass through a place that keeps it, such as a task argument on
a broker, without that place being able to read it. The sign-in page queues the address someone
typed this way: the embedded broker keeps the messages it handed out, and an address typed there
may be of someone who isn't in Twoway."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

NONCE_BYTES = 12


class Unreadable(ValueError):
    """Not sealed with this app's key (a different SECRET_KEY, or tampered with)."""


def _key(purpose: str) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"twoway {purpose}".encode()).derive(secret)


def seal(purpose: str, value: Any) -> str:
    """``value`` as JSON, encrypted for ``purpose`` (a key of its own for each use)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, json.dumps(value).encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(purpose: str, token: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        plain = AESGCM(_key(purpose)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
    except (InvalidTag, ValueError) as error:
        raise Unreadable(purpose) from error
    return json.loads(plain)
