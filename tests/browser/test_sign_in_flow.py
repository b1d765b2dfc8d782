"""The foundation's "done when", as a person does it: a printed sign-in link, a passkey, sign out,
back in with the passkey, and the pair's home."""

from __future__ import annotations

import base64
import re
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# DevTools' virtual authenticator answers a passkey autofill request (conditional mediation) on its
# own, as if the person picked their passkey from the email field's suggestions the moment the
# page opened. To press the button, as a person without autofill does, the page is told that this
# browser has no passkey autofill. The autofill path has its own test below.
WITHOUT_PASSKEY_AUTOFILL = """
if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;
"""


def open_menu(page: Page) -> None:
    # The menu is a <details>: its <summary> has no ARIA role to find it by, so by its text.
    page.get_by_role("navigation", name="Account").get_by_text("Menu", exact=True).click()


def link_then_passkey(page: Page, live_server, attach_authenticator, person):
    """``person`` signs in with their one-time link and adds a passkey on this page's device (its
    virtual authenticator, returned)."""
    page.goto(live_server.sign_in_url(person))
    page.get_by_role("button", name=f"Continue as {person.name}").click()
    authenticator = attach_authenticator(page)
    page.get_by_role("button", name="Add a passkey").click()
    return authenticator


def test_link_then_passkey_then_sign_out_and_back_in(page: Page, page_errors, live_server, attach_authenticator):
    pair = live_server.create_pair(mentor="Maya Okafor", mentee="Harold Finch")
    mentor, mentee = pair.mentor, pair.mentee
    page.add_init_script(WITHOUT_PASSKEY_AUTOFILL)

    # The printed one-time link only asks; the button signs in.
    page.goto(live_server.sign_in_url(mentor))
    expect(page.get_by_role("heading", name=f"Continue as {mentor.name}")).to_be_visible()
    page.get_by_role("button", name=f"Continue as {mentor.name}").click()

    # Without a passkey yet, the first stop is the offer to add one.
    expect(page.get_by_role("heading", name="Welcome, Maya")).to_be_visible()
    authenticator = attach_authenticator(page)
    page.get_by_role("button", name="Add a passkey").click()

    # …and then on to the home of her one pair (not a list of one).
    expect(page).to_have_url(f"{live_server.url}{pair.url}")
    expect(page.get_by_role("status").filter(has_text="Passkey added")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name=f"You and {mentee.name}")).to_be_visible()
    assert len(authenticator.credentials()) == 1

    page.goto("/account/passkeys")
    passkeys = page.get_by_role("list", name="Your passkeys").get_by_role("listitem")
    expect(passkeys).to_have_count(1)
    expect(passkeys.first.get_by_role("button", name=re.compile(r"^Remove “Passkey"))).to_be_visible()
    expect(passkeys.first).to_contain_text("not used yet")

    # Sign out from the menu.
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/auth/sign-in"))
    expect(page.get_by_role("status").filter(has_text="You're signed out.")).to_be_visible()

    # Back in with the passkey alone: no email, no link.
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(f"{live_server.url}{pair.url}")
    expect(page.get_by_role("heading", level=1, name=f"You and {mentee.name}")).to_be_visible()

    page.goto(pair.url)
    expect(page.get_by_role("heading", level=1, name=f"You and {mentee.name}")).to_be_visible()
    sections = page.get_by_role("navigation", name="Pair sections")
    for name in ("Ground rules", "Goals", "Journal", "Feedback"):
        expect(sections.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(sections.get_by_role("link", name="Home", exact=True)).to_have_attribute("aria-current", "page")

    # The passkey now shows when it was last used.
    page.goto("/account/passkeys")
    expect(page.get_by_role("list", name="Your passkeys")).to_contain_text("last used")

    assert page_errors == [], "\n".join(page_errors)


def test_passkey_autofill_signs_in_from_the_email_field(page: Page, page_errors, live_server, attach_authenticator):
    pair = live_server.create_pair(mentor="Ines Duarte", mentee="Gordon Pike")
    authenticator = link_then_passkey(page, live_server, attach_authenticator, pair.mentee)
    expect(page.get_by_role("heading", level=1, name=f"You and {pair.mentor.name}")).to_be_visible()
    [passkey] = authenticator.credentials()

    # Put the phone away while signing out, or its autofill would sign straight back in.
    authenticator.remove()
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="You're signed out.")).to_be_visible()

    # Opening the sign-in page starts a passkey request for the email field's autofill; the virtual
    # authenticator picks the one passkey at once (as the person would from the suggestions), and
    # they are in, on the page they asked for, without pressing anything.
    # (From a blank page: the sign-in page's own autofill request is still waiting for a passkey,
    # and would race the navigation below if it got one.)
    page.goto("about:blank")
    attach_authenticator(page).add_credential(passkey)
    page.goto(f"{live_server.url}/auth/sign-in?next={pair.url}")
    expect(page).to_have_url(f"{live_server.url}{pair.url}")
    expect(page.get_by_role("heading", level=1, name=f"You and {pair.mentor.name}")).to_be_visible()
    assert page_errors == [], "\n".join(page_errors)


def test_untouched_email_field_is_not_announced_as_invalid(page: Page, live_server):
    page.goto("/auth/sign-in")
    email = page.get_by_role("textbox", name="Email address")
    expect(email).to_be_visible()
    assert email.get_attribute("aria-invalid") in (None, "false")
    assert email.get_attribute("aria-describedby") == "email-hint"


def test_adding_a_second_passkey_on_the_same_device_says_so(page: Page, page_errors, live_server, attach_authenticator):
    pair = live_server.create_pair(mentor="Priya Nair", mentee="Walter Grey")
    authenticator = link_then_passkey(page, live_server, attach_authenticator, pair.mentor)
    expect(page.get_by_role("heading", level=1, name=f"You and {pair.mentee.name}")).to_be_visible()

    # The server lists the device's passkey as excluded, so the device refuses to make another.
    page.goto("/account/passkeys")
    add = page.get_by_role("button", name="Add a passkey")
    add.click()
    expect(page.get_by_role("status").filter(has_text="This device already has a passkey for Twoway.")).to_be_visible()
    expect(add).to_be_enabled()
    expect(page.get_by_role("list", name="Your passkeys").get_by_role("listitem")).to_have_count(1)
    assert len(authenticator.credentials()) == 1
    assert page_errors == [], "\n".join(page_errors)


def test_a_passkey_twoway_does_not_know_is_refused_with_a_way_out(
    page: Page, page_errors, live_server, attach_authenticator
):
    page.add_init_script(WITHOUT_PASSKEY_AUTOFILL)
    page.goto("/auth/sign-in")
    # A passkey for this site that the server never registered (or one whose owner removed it).
    key = ec.generate_private_key(ec.SECP256R1())
    attach_authenticator(page).add_credential(
        {
            "credentialId": base64.b64encode(secrets.token_bytes(16)).decode(),
            "isResidentCredential": True,
            "rpId": "localhost",
            "privateKey": base64.b64encode(
                key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
            ).decode(),
            "userHandle": base64.b64encode(secrets.token_bytes(32)).decode(),
            "signCount": 0,
        }
    )
    button = page.get_by_role("button", name="Sign in with a passkey")
    button.click()
    expect(page.get_by_role("status").filter(has_text="Twoway doesn't know this passkey")).to_be_visible()
    expect(button).to_be_enabled()
    expect(page).to_have_url(f"{live_server.url}/auth/sign-in")
    # Chromium logs the refused verification (400) on the console; nothing else may go wrong.
    unexpected = [e for e in page_errors if not ("status of 400" in e and "/auth/passkey/verify" in e)]
    assert unexpected == [], "\n".join(page_errors)
