"""Prove the software authenticator is genuine: py_webauthn itself, with no app in between, accepts
what it produces and rejects what a real authenticator's output would be rejected for."""

import json
from typing import Any

import pytest
from support.authenticator import SoftAuthenticator
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import (
    VerifiedAuthentication,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

ORIGIN = "http://localhost:5000"
RP_ID = "localhost"
USER_ID = b"twoway-user-0001"


def _registration_options() -> dict[str, Any]:
    """Options as the app would send them to the browser: discoverable, user verification required."""
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="Twoway",
        user_id=USER_ID,
        user_name="ada@example.org",
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
    )
    return json.loads(options_to_json(options))


def _verify_registration(options: dict[str, Any], response: dict[str, Any]) -> VerifiedRegistration:
    """Verify as the app would; the response goes in as a JSON string, as it arrives in a request body."""
    return verify_registration_response(
        credential=json.dumps(response),
        expected_challenge=base64url_to_bytes(options["challenge"]),
        expected_origin=ORIGIN,
        expected_rp_id=RP_ID,
        require_user_verification=True,
    )


def _authentication_options() -> dict[str, Any]:
    """Discoverable sign-in options: no allow list, so the authenticator must find the passkey itself."""
    options = generate_authentication_options(rp_id=RP_ID, user_verification=UserVerificationRequirement.REQUIRED)
    return json.loads(options_to_json(options))


def _verify_sign_in(
    options: dict[str, Any], response: dict[str, Any], registered: VerifiedRegistration, *, stored_count: int
) -> VerifiedAuthentication:
    """Verify as the app would, passing the response dict straight through as py_webauthn accepts it."""
    return verify_authentication_response(
        credential=response,
        expected_challenge=base64url_to_bytes(options["challenge"]),
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=registered.credential_public_key,
        credential_current_sign_count=stored_count,
        require_user_verification=True,
    )


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


@pytest.fixture
def registered(authenticator: SoftAuthenticator) -> VerifiedRegistration:
    options = _registration_options()
    return _verify_registration(options, authenticator.create(options))


def test_registration_and_discoverable_sign_in_verify(
    authenticator: SoftAuthenticator, registered: VerifiedRegistration
) -> None:
    assert [base64url_to_bytes(cid) for cid in authenticator.credential_ids] == [registered.credential_id]
    assert registered.user_verified
    assert registered.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    assert registered.credential_backed_up

    options = _authentication_options()
    response = authenticator.get(options)
    verified = _verify_sign_in(options, response, registered, stored_count=0)

    assert verified.credential_id == registered.credential_id
    assert verified.new_sign_count == 1
    assert base64url_to_bytes(response["response"]["userHandle"]) == USER_ID


def test_registration_from_another_origin_is_rejected(authenticator: SoftAuthenticator) -> None:
    options = _registration_options()
    with pytest.raises(InvalidRegistrationResponse, match="origin"):
        _verify_registration(options, authenticator.create(options, origin="http://evil.example"))


def test_registration_without_user_verification_is_rejected(authenticator: SoftAuthenticator) -> None:
    options = _registration_options()
    with pytest.raises(InvalidRegistrationResponse, match="User verification"):
        _verify_registration(options, authenticator.create(options, user_verified=False))


@pytest.mark.parametrize(
    ("get_kwargs", "message"),
    [({"origin": "http://evil.example"}, "origin"), ({"user_verified": False}, "User verification")],
)
def test_sign_in_from_another_origin_or_unverified_is_rejected(
    authenticator: SoftAuthenticator, registered: VerifiedRegistration, get_kwargs: dict[str, Any], message: str
) -> None:
    options = _authentication_options()
    with pytest.raises(InvalidAuthenticationResponse, match=message):
        _verify_sign_in(options, authenticator.get(options, **get_kwargs), registered, stored_count=0)


def test_replayed_sign_in_is_rejected_by_the_counter(
    authenticator: SoftAuthenticator, registered: VerifiedRegistration
) -> None:
    options = _authentication_options()
    response = authenticator.get(options)
    stored_count = _verify_sign_in(options, response, registered, stored_count=0).new_sign_count

    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        _verify_sign_in(options, response, registered, stored_count=stored_count)


def test_get_honours_the_allow_list_and_refuses_unknown_credentials(authenticator: SoftAuthenticator) -> None:
    for _ in range(2):
        options = _registration_options()
        _verify_registration(options, authenticator.create(options))
    oldest, newest = authenticator.credential_ids
    options = _authentication_options()

    assert authenticator.get(options)["id"] == newest
    assert authenticator.get({**options, "allowCredentials": [{"id": oldest, "type": "public-key"}]})["id"] == oldest
    with pytest.raises(LookupError):
        authenticator.get({**options, "rpId": "other.example"})
    with pytest.raises(LookupError):
        authenticator.get(options, credential_id="AAAA")
