"""A software WebAuthn authenticator, so the test suite can register and sign in with passkeys
without a browser.

It answers the JSON options py_webauthn produces with exactly the JSON a browser's
``credential.toJSON()`` would send back, so the app's real verification code runs unchanged:
nothing in the app needs a test-only path, and a test that passes here exercises the same
checks a real passkey would.
"""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# Authenticator data flag bits (WebAuthn Level 3, section 6.1).
_FLAG_UP = 0x01  # user present: every ceremony here stands for a real tap
_FLAG_UV = 0x04  # user verified: PIN / biometric succeeded
_FLAG_BE = 0x08  # backup eligible: a synced passkey, like iCloud Keychain or Google Password Manager
_FLAG_BS = 0x10  # backed up: the synced passkey has been synced
_FLAG_AT = 0x40  # attested credential data follows: only on create

_COSE_ALG_ES256 = -7


def _b64url(data: bytes) -> str:
    """Encode as browsers do in toJSON(): base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    """Decode base64url whether or not the sender kept the padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _client_data_json(ceremony: str, challenge: str, origin: str) -> bytes:
    """Build clientDataJSON compactly and in the browser's key order, since the signature covers its exact bytes."""
    client_data = {"type": ceremony, "challenge": challenge, "origin": origin, "crossOrigin": False}
    return json.dumps(client_data, separators=(",", ":")).encode("utf-8")


@dataclass
class _Credential:
    """What a real authenticator keeps for one passkey: enough to sign and to return the user handle."""

    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    """A passkey authenticator in software: ES256 keys, discoverable credentials, a signature counter."""

    def __init__(self, *, origin: str, rp_id: str | None = None, aaguid: bytes = bytes(16)) -> None:
        """Remember the page origin the "browser" is on; the RP ID defaults to its host as browsers do."""
        if len(aaguid) != 16:
            raise ValueError("aaguid must be 16 bytes")
        resolved_rp_id = rp_id or urlsplit(origin).hostname
        if not resolved_rp_id:
            raise ValueError(f"cannot derive an RP ID from origin {origin!r}")
        self.origin = origin
        self.rp_id: str = resolved_rp_id
        self.aaguid = aaguid
        self._credentials: list[_Credential] = []

    @property
    def credential_ids(self) -> list[str]:
        """The base64url ids of every credential created, oldest first, for tests that target one explicitly."""
        return [_b64url(credential.credential_id) for credential in self._credentials]

    def create(
        self, options: dict[str, Any], *, user_verified: bool = True, origin: str | None = None
    ) -> dict[str, Any]:
        """Answer PublicKeyCredentialCreationOptionsJSON with the RegistrationResponseJSON a browser would send.

        Attestation is "none" because that is what synced passkeys give and py_webauthn's default asks for.
        The credential is stored as discoverable, so a later ``get`` with an empty allow list finds it.
        """
        rp_id = options.get("rp", {}).get("id") or self.rp_id
        private_key = ec.generate_private_key(ec.SECP256R1())
        credential = _Credential(
            credential_id=secrets.token_bytes(32),
            private_key=private_key,
            rp_id=rp_id,
            user_handle=_unb64url(options["user"]["id"]),
        )
        self._credentials.append(credential)

        public_numbers = private_key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: _COSE_ALG_ES256,
                -1: 1,  # crv: P-256
                -2: public_numbers.x.to_bytes(32, "big"),
                -3: public_numbers.y.to_bytes(32, "big"),
            }
        )
        attested_credential_data = (
            self.aaguid + len(credential.credential_id).to_bytes(2, "big") + credential.credential_id + cose_key
        )
        authenticator_data = self._authenticator_data(credential, user_verified, _FLAG_AT) + attested_credential_data
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        public_key_der = private_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

        return {
            "id": _b64url(credential.credential_id),
            "rawId": _b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64url(
                    _client_data_json("webauthn.create", options["challenge"], origin or self.origin)
                ),
                "attestationObject": _b64url(attestation_object),
                "transports": ["internal"],
                "publicKeyAlgorithm": _COSE_ALG_ES256,
                "publicKey": _b64url(public_key_der),
                "authenticatorData": _b64url(authenticator_data),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        user_verified: bool = True,
        origin: str | None = None,
        credential_id: str | None = None,
    ) -> dict[str, Any]:
        """Answer PublicKeyCredentialRequestOptionsJSON with the AuthenticationResponseJSON a browser would send.

        The counter goes up before signing, as on a real authenticator, so the server's clone
        detection sees a strictly increasing count and a replayed response is caught.
        """
        rp_id = options.get("rpId") or self.rp_id
        credential = self._pick(rp_id, options.get("allowCredentials") or [], credential_id)
        credential.sign_count += 1

        authenticator_data = self._authenticator_data(credential, user_verified)
        client_data_json = _client_data_json("webauthn.get", options["challenge"], origin or self.origin)
        signature = credential.private_key.sign(
            authenticator_data + hashlib.sha256(client_data_json).digest(), ec.ECDSA(hashes.SHA256())
        )

        return {
            "id": _b64url(credential.credential_id),
            "rawId": _b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64url(client_data_json),
                "authenticatorData": _b64url(authenticator_data),
                "signature": _b64url(signature),
                "userHandle": _b64url(credential.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def _pick(self, rp_id: str, allow_credentials: list[dict[str, Any]], credential_id: str | None) -> _Credential:
        """Choose the credential to sign with, only ever among this RP's, as a real authenticator scopes them."""
        for_rp = [credential for credential in self._credentials if credential.rp_id == rp_id]
        if credential_id is not None:
            wanted = [_unb64url(credential_id)]
        elif allow_credentials:
            wanted = [_unb64url(descriptor["id"]) for descriptor in allow_credentials]
        else:
            # Discoverable sign-in: the user would pick an account; the newest is the natural default.
            if for_rp:
                return for_rp[-1]
            raise LookupError(f"no credential for RP {rp_id!r}")

        by_id = {credential.credential_id: credential for credential in for_rp}
        for wanted_id in wanted:
            if wanted_id in by_id:
                return by_id[wanted_id]
        raise LookupError(f"none of the requested credentials is held for RP {rp_id!r}")

    def _authenticator_data(self, credential: _Credential, user_verified: bool, extra_flags: int = 0) -> bytes:
        """Build the fixed 37-byte authenticatorData head: RP ID hash, flags, big-endian counter."""
        flags = _FLAG_UP | _FLAG_BE | _FLAG_BS | extra_flags
        if user_verified:
            flags |= _FLAG_UV
        return (
            hashlib.sha256(credential.rp_id.encode("utf-8")).digest()
            + bytes([flags])
            + credential.sign_count.to_bytes(4, "big")
        )
