"""The pair space on a phone: where a person lands, the tab bar's badges, and the role sentence said
once (issue 14, taps). The taps themselves are counted in tests/browser/test_taps.py."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from support.pages import words
from support.records import add_clause, add_link, add_passkey, add_recovery_code, give_prompts

from app.models import ActionItem, AgreementSignature, Meeting, PairStatus


def badges(response) -> dict[str, str]:
    """Each tab's short label and its badge's number, for the tabs that have one."""
    return dict(re.findall(r'<span class="tab-short">([^<]+)</span> <span class="tab-badge">(\d+)<', response.text))


# --- where a person lands ------------------------------------------------------------------------


def test_someone_in_one_pair_lands_on_its_home_after_every_way_of_signing_in(client, session):
    pair = PairFactory()
    me = pair.mentee
    home = f"/pairs/{pair.id}"
    # A one-time link, with a passkey already: straight there.
    add_passkey(session, me)
    assert client.post(f"/auth/link/{add_link(session, me)}").location == home
    client.post("/auth/sign-out")
    # A link asked for a page: that page.
    token = add_link(session, me)
    assert client.post(f"/auth/link/{token}", data={"next": f"{home}/goals"}).location == f"{home}/goals"
    client.post("/auth/sign-out")
    # A recovery code: offered a passkey on this device first, then on to the pair's home.
    response = client.post("/auth/recovery", data={"code": add_recovery_code(session, me)})
    assert response.location == f"/account/passkeys/offer?next=/pairs/{pair.id}"
    assert f'href="{home}">Not now</a>' in client.get(response.location).text


def test_without_a_passkey_the_offer_comes_first_then_the_pairs_home(client, session):
    pair = PairFactory()
    response = client.post(f"/auth/link/{add_link(session, pair.mentor)}")
    assert response.location == f"/account/passkeys/offer?next=/pairs/{pair.id}"


@pytest.mark.parametrize(
    ("case", "lands_on_pair"),
    [("no pair", False), ("one pair", True), ("one open, one ended", True), ("two pairs", False), ("admin", False)],
)
def test_the_start_url_opens_the_one_pairs_home_and_the_list_otherwise(client, login, session, case, lands_on_pair):
    me = AdminFactory() if case == "admin" else UserFactory()
    pairs = []
    if case != "no pair" and case != "admin":
        pairs.append(PairFactory(mentor=me))
    if case in ("two pairs", "one open, one ended"):
        ended = PairFactory(mentee=me, program=ProgramFactory(starts_on=date(2026, 1, 5)))
        if case == "one open, one ended":
            ended.status = PairStatus.ENDED
    login(me)
    response = client.get("/start")
    if lands_on_pair:
        assert response.status_code == 303 and response.location == f"/pairs/{pairs[0].id}"
    else:
        # The list of pairs, as "/" shows it, without a redirect to get there.
        assert response.status_code == 200 and "Hello, " in words(response)
    # "/" stays the list for everyone: the menu's "Your pairs" leads there.
    assert client.get("/").status_code == 200


def test_the_manifest_starts_the_app_at_the_start_url(client):
    manifest = client.get("/manifest.webmanifest").json
    assert manifest["start_url"] == "/start" and manifest["id"] == "/"


# --- the role sentence ---------------------------------------------------------------------------


def test_the_role_sentence_is_said_on_the_first_visit_only(client, login, session):
    pair = PairFactory(mentor=UserFactory(name="Kwame Mensah"))
    login(pair.mentee)
    sentence = "You're the mentee and Kwame is the mentor"
    assert sentence in words(client.get(f"/pairs/{pair.id}"))
    assert sentence not in words(client.get(f"/pairs/{pair.id}"))
    # A second pair of the same person has its own first visit.
    other = PairFactory(mentor=pair.mentee, mentee=UserFactory(name="Ruth Adler"))
    assert "You're the mentor and Ruth is the mentee" in words(client.get(f"/pairs/{other.id}"))


# --- badges --------------------------------------------------------------------------------------


def test_nothing_waiting_means_no_badge(client, login, session):
    pair = PairFactory()
    login(pair.mentor)
    assert badges(client.get(f"/pairs/{pair.id}")) == {}


def test_ground_rules_the_partner_agreed_to_wait_on_me(client, login, session):
    pair = PairFactory()
    add_clause(session, pair)
    login(pair.mentor)
    assert badges(client.get(f"/pairs/{pair.id}/goals")) == {}  # a draft nobody agreed to: nobody waits
    session.add(AgreementSignature(pair_id=pair.id, user_id=pair.mentee.id, agreement_version=1))
    session.flush()
    assert badges(client.get(f"/pairs/{pair.id}/goals")) == {"Rules": "1"}
    session.add(AgreementSignature(pair_id=pair.id, user_id=pair.mentor.id, agreement_version=1))
    session.flush()
    assert badges(client.get(f"/pairs/{pair.id}/goals")) == {}


def test_action_items_due_count_mine_and_both_of_ours_not_the_partners_or_later_ones(client, login, session):
    pair = PairFactory()
    today = date.today()
    for owner, due, done in (
        (pair.mentor.id, today, False),  # mine, due today
        (None, today - timedelta(days=3), False),  # both of ours, overdue
        (pair.mentee.id, today, False),  # the partner's
        (pair.mentor.id, today + timedelta(days=1), False),  # not due yet
        (pair.mentor.id, None, False),  # no date
        (pair.mentor.id, today, True),  # done
    ):
        session.add(ActionItem(pair_id=pair.id, text="Something", owner_id=owner, due_on=due, done=done))
    session.flush()
    login(pair.mentor)
    assert badges(client.get(f"/pairs/{pair.id}")) == {"Journal": "2"}


def test_an_open_check_in_waits_until_answered_and_the_answer_updates_the_tab(client, login, session):
    program = ProgramFactory(no_rounds=True, feedback_after_meeting=True)
    prompts = give_prompts(session, program)
    pair = PairFactory(program=program)
    meeting = Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=1), author_id=pair.mentor.id)
    session.add(meeting)
    session.flush()
    login(pair.mentee)
    assert badges(client.get(f"/pairs/{pair.id}/journal")) == {"Check-in": "1"}
    score = {f"p{prompts['How useful was our last meeting?'].id}": "4"}
    response = client.post(
        f"/pairs/{pair.id}/feedback",
        data={"round": f"meeting-{meeting.id}", **score},
        headers={"HX-Request": "true", "HX-Target": "feedback"},
    )
    assert response.status_code == 200
    # The answer swaps the check-in section and, out of band, the tab bar without its badge.
    assert response.text.count('id="pair_nav"') == 1 and 'hx-swap-oob="true"' in response.text
    assert badges(response) == {}
    assert badges(client.get(f"/pairs/{pair.id}/journal")) == {}


def test_a_tick_sends_the_tab_bar_along_only_to_htmx(client, login, session):
    pair = PairFactory()
    item = ActionItem(pair_id=pair.id, text="Try the board", owner_id=pair.mentor.id, due_on=date.today())
    session.add(item)
    session.flush()
    login(pair.mentor)
    url = f"/pairs/{pair.id}/journal/actions/{item.id}/toggle"
    swapped = client.post(url, data={"done": "1"}, headers={"HX-Request": "true", "HX-Target": f"action-{item.id}"})
    assert swapped.status_code == 200 and 'id="pair_nav"' in swapped.text and badges(swapped) == {}
    plain = client.post(url, data={"done": "0"})
    assert plain.status_code == 303  # without JavaScript, back to the page, which draws its own bar
    assert badges(client.get(f"/pairs/{pair.id}")) == {"Journal": "1"}
