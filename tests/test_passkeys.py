"""Passkeys through Twoway's own endpoints, with the in-repo software authenticator standing in for a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import UserFactory
from sqlalchemy import select, update
from support.authenticator import SoftAuthenticator
from support.faults import lost_at
from support.records import read_back

from app.models import Passkey, RecoveryCode, User, WebAuthnChallenge, utcnow

ORIGIN = "http://localhost:5000"


@pytest.fixture
def phone() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def add_passkey(client, phone: SoftAuthenticator, **create_args):
    options = client.post("/account/passkeys/options").get_json()
    return client.post(
        "/account/passkeys", json=phone.create(options, **create_args), headers={"User-Agent": "Mozilla/5.0 (iPhone)"}
    )


def sign_in_with(client, phone: SoftAuthenticator, **get_args):
    options = client.post("/auth/passkey/options").get_json()
    return client.post("/auth/passkey/verify", json=phone.get(options, **get_args))


def passkeys_of(session, user: User) -> list[Passkey]:
    return read_back(session, select(Passkey).where(Passkey.user_id == user.id))


@pytest.fixture
def person(session, login):
    user = UserFactory(name="Margaret Holloway")
    login(user)
    return user


def test_register_then_sign_in_with_the_passkey(app, client, session, person, phone):
    options = client.post("/account/passkeys/options").get_json()
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"

    response = client.post(
        "/account/passkeys", json=phone.create(options), headers={"User-Agent": "Mozilla/5.0 (iPhone)"}
    )
    assert response.status_code == 200
    assert response.get_json()["redirect"] == "/account/passkeys"
    [passkey] = passkeys_of(session, person)
    assert passkey.nickname == "Passkey on iPhone"
    assert passkey.backed_up is True
    assert "Passkey on iPhone" in client.get("/account/passkeys").text

    client.post("/auth/sign-out")
    assert client.get("/").status_code == 302

    options = client.post("/auth/passkey/options").get_json()
    assert options["allowCredentials"] == []  # discoverable: no username needed
    assert options["userVerification"] == "required"
    response = client.post("/auth/passkey/verify?next=/account/passkeys", json=phone.get(options))
    assert response.status_code == 200
    assert response.get_json() == {"redirect": "/account/passkeys"}
    assert "Margaret" in client.get("/").text
    session.refresh(passkey)
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None


def test_the_same_device_cannot_register_twice(client, person, phone):
    add_passkey(client, phone)
    options = client.post("/account/passkeys/options").get_json()
    assert [c["id"] for c in options["excludeCredentials"]] == phone.credential_ids


@pytest.fixture
def registered(client, person, phone):
    assert add_passkey(client, phone).status_code == 200
    client.post("/auth/sign-out")
    return phone


def test_a_replayed_assertion_is_refused(client, registered):
    options = client.post("/auth/passkey/options").get_json()
    assertion = registered.get(options)
    assert client.post("/auth/passkey/verify", json=assertion).status_code == 200
    client.post("/auth/sign-out")

    replay = client.post("/auth/passkey/verify", json=assertion)
    assert replay.status_code == 400
    assert client.get("/").status_code == 302
    # Even against a fresh challenge, an old answer doesn't match it.
    client.post("/auth/passkey/options")
    assert client.post("/auth/passkey/verify", json=assertion).status_code == 400
    assert client.get("/").status_code == 302


def test_an_assertion_made_for_another_site_is_refused(client, registered):
    response = sign_in_with(client, registered, origin="https://twoway.evil.example")
    assert response.status_code == 400
    assert "could not be verified" in response.get_json()["error"]
    assert client.get("/").status_code == 302


def test_sign_in_without_user_verification_is_refused(client, registered):
    assert sign_in_with(client, registered, user_verified=False).status_code == 400
    assert client.get("/").status_code == 302


def test_registration_without_user_verification_is_refused(client, session, person, phone):
    response = add_passkey(client, phone, user_verified=False)
    assert response.status_code == 400
    assert passkeys_of(session, person) == []


def test_an_expired_challenge_is_refused(client, session, registered):
    options = client.post("/auth/passkey/options").get_json()
    session.execute(update(WebAuthnChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.post("/auth/passkey/verify", json=registered.get(options))
    assert response.status_code == 400
    assert "took too long" in response.get_json()["error"]
    assert client.get("/").status_code == 302


def test_challenges_expire_after_five_minutes_and_are_used_once(client, session, registered):
    options = client.post("/auth/passkey/options").get_json()
    [challenge] = session.scalars(select(WebAuthnChallenge)).all()
    assert timedelta(minutes=4, seconds=55) < challenge.expires_at - utcnow() <= timedelta(minutes=5)
    assert client.post("/auth/passkey/verify", json={"id": "nonsense"}).status_code == 400
    assert client.post("/auth/passkey/verify", json=registered.get(options)).status_code == 200
    assert session.scalars(select(WebAuthnChallenge).execution_options(populate_existing=True)).all() == []


def test_autofill_and_the_button_can_both_be_under_way(client, registered):
    autofill = client.post("/auth/passkey/options").get_json()
    button = client.post("/auth/passkey/options").get_json()
    assert autofill["challenge"] != button["challenge"]
    # The person picks the passkey offered by autofill after the button had asked for a new challenge.
    assert client.post("/auth/passkey/verify", json=registered.get(autofill)).status_code == 200


def test_a_removed_passkey_no_longer_signs_in(client, session, login, person, phone):
    add_passkey(client, phone)
    [passkey] = passkeys_of(session, person)
    session.add(RecoveryCode(user_id=person.id, code_hash="0" * 64))
    assert client.post(f"/account/passkeys/{passkey.id}/remove").status_code == 303
    assert passkeys_of(session, person) == []
    client.post("/auth/sign-out")
    response = sign_in_with(client, phone)
    assert response.status_code == 400
    assert "doesn't know this passkey" in response.get_json()["error"]


def test_the_last_passkey_stays_unless_recovery_codes_exist(client, session, person, phone):
    add_passkey(client, phone)
    [passkey] = passkeys_of(session, person)
    response = client.post(f"/account/passkeys/{passkey.id}/remove", follow_redirects=True)
    assert "This is your last passkey" in response.text
    assert len(passkeys_of(session, person)) == 1

    client.post("/account/recovery-codes")
    client.post(f"/account/passkeys/{passkey.id}/remove")
    assert passkeys_of(session, person) == []


def test_a_second_passkey_can_be_removed_without_codes(client, session, person, phone):
    add_passkey(client, phone)
    add_passkey(client, SoftAuthenticator(origin=ORIGIN))
    first, _second = passkeys_of(session, person)
    client.post(f"/account/passkeys/{first.id}/remove")
    assert len(passkeys_of(session, person)) == 1


def rename_with_htmx(client, htmx_client, session, login, person, phone, nickname: str):
    """Add a passkey from ``phone``, then rename it in place as htmx does; the passkey and the answer."""
    add_passkey(client, phone)
    [passkey] = passkeys_of(session, person)
    login(person, on=htmx_client)
    response = htmx_client.post(
        f"/account/passkeys/{passkey.id}/rename",
        data={"nickname": nickname},
        headers={"HX-Target": f"passkey_row-{passkey.id}"},
    )
    return passkey, response


def test_rename_in_place_with_htmx(client, htmx_client, session, login, person, phone):
    passkey, response = rename_with_htmx(client, htmx_client, session, login, person, phone, "  Work laptop ")
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li class="card passkey" id="passkey_row-{passkey.id}"')
    assert "<html" not in response.text
    session.refresh(passkey)
    assert passkey.nickname == "Work laptop"


def test_an_empty_name_is_refused_and_keeps_the_row(client, htmx_client, session, login, person, phone):
    passkey, response = rename_with_htmx(client, htmx_client, session, login, person, phone, "")
    assert response.status_code == 422
    assert "Give the passkey a name" in response.text
    session.refresh(passkey)
    assert passkey.nickname == "Passkey on iPhone"


def test_nobody_can_touch_someone_elses_passkey(client, session, login, person, phone):
    add_passkey(client, phone)
    [passkey] = passkeys_of(session, person)
    login(UserFactory())
    assert client.post(f"/account/passkeys/{passkey.id}/rename", data={"nickname": "mine"}).status_code == 404
    assert client.post(f"/account/passkeys/{passkey.id}/remove").status_code == 404
    assert passkey.nickname not in client.get("/account/passkeys").text
    session.refresh(passkey)
    assert passkey.nickname == "Passkey on iPhone"


def test_a_switched_off_account_cannot_sign_in_with_its_passkey(client, session, person, registered):
    session.execute(update(User).where(User.id == person.id).values(active=False))
    assert sign_in_with(client, registered).status_code == 400
    assert client.get("/").status_code == 302


# --- a new way in needs a fresh sign-in, and the owner hears about it --------------------------------


def stale(client, user: User) -> None:
    """``user`` signed in on ``client`` eleven minutes ago (a session left open, or someone else's)."""
    from support.apps import sign_in

    sign_in(client, user, signed_in_at=utcnow() - timedelta(minutes=11))


def test_adding_a_passkey_needs_a_sign_in_from_the_last_ten_minutes(app, client, session, person, phone, caplog):
    stale(client, person)
    page = client.get("/account/passkeys")
    assert "sign in again first" in page.text
    assert 'href="/auth/sign-in?again=1&amp;next=/account/passkeys"' in page.text
    assert 'data-passkey="register"' not in page.text
    for url in ("/account/passkeys/options", "/account/passkeys"):
        refused = client.post(url, json={})
        assert refused.status_code == 403
        assert "Sign in again" in refused.get_json()["error"]
    assert passkeys_of(session, person) == []

    # Signing in again (here with a fresh mailed link) and coming back works.
    again = client.get("/auth/sign-in?again=1&next=/account/passkeys")
    assert again.status_code == 200 and "Sign in again to continue" in again.text
    client.post("/auth/sign-in/link", data={"email": person.email, "next": "/account/passkeys"})
    import re

    [path] = re.findall(r"http://localhost:5000(/auth/link/\S+)", caplog.text)
    assert client.post(path.replace("&amp;", "&")).location.startswith("/account/passkeys")
    assert add_passkey(client, phone).status_code == 200
    assert len(passkeys_of(session, person)) == 1


def test_the_owner_is_told_by_mail_when_a_passkey_is_added(client, session, person, phone, caplog):
    assert add_passkey(client, phone).status_code == 200
    assert f"To: {person.email}" in caplog.text
    assert "Subject: A passkey was added to your Twoway account" in caplog.text
    assert "A passkey (“Passkey on iPhone”) was added to your Twoway account on" in caplog.text
    assert "If it wasn't you, sign in and remove it" in caplog.text


def test_removing_a_passkey_can_end_every_other_session(app, client, session, login, person, phone):
    add_passkey(client, phone)
    add_passkey(client, SoftAuthenticator(origin=ORIGIN))
    first, second = passkeys_of(session, person)
    session.add(RecoveryCode(user_id=person.id, code_hash="0" * 64))  # so the last passkey may go
    laptop = login(person, on=app.test_client())
    assert client.get("/account/passkeys").text.count('name="end_other_sessions" value="y" checked') == 2

    kept = client.post(f"/account/passkeys/{first.id}/remove", data={})  # box unticked
    assert kept.status_code == 303
    assert laptop.get("/account/passkeys").status_code == 200

    ended = client.post(f"/account/passkeys/{second.id}/remove", data={"end_other_sessions": "y"})
    assert ended.status_code == 303
    assert "signed out everywhere else" in client.get(ended.location).text
    assert laptop.get("/account/passkeys").status_code == 302  # the other session is over
    assert client.get("/account/passkeys").status_code == 200  # this one goes on


def test_a_passkey_is_never_added_without_its_security_notice(connection, client, session, person, phone):
    """The owner hears of every new way into the account (app/auth/notices.py): a request lost as
    it writes the notice keeps no passkey either."""
    with lost_at(connection, "INSERT INTO delivery"):
        add_passkey(client, phone)
    assert passkeys_of(session, person) == []
