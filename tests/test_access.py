"""Who may open what. Every route must be listed here; a new route that isn't fails the first test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramAdminFactory, UserFactory
from flask import Flask
from sqlalchemy import select
from support.records import add_pair_content

from app.models import Clause, NextMeeting, utcnow

PUBLIC, SIGNED_IN, ADMIN, PAIR = "public", "signed in", "admin", "pair member"
# Owners name each program's admins: a program's own admin may not.
OWNER = "owner"
# The signed-in person's own place in the program of the URL (authz.intake_participant).
PARTICIPANT = "program participant"
# One of the two people a proposed match was sent to (authz.proposal_to).
PROPOSED_TO = "proposed to"
# The signed-in person's own data export (authz.own_export).
EXPORT_OWNER = "export owner"

ACCESS = {
    "static": PUBLIC,
    "pwa.manifest": PUBLIC,
    "pwa.service_worker": PUBLIC,
    "pwa.offline": PUBLIC,
    "pwa.outbox_session": PUBLIC,
    "auth.sign_in": PUBLIC,
    "auth.email_link": PUBLIC,
    "auth.link": PUBLIC,
    "auth.use_link": PUBLIC,
    "auth.passkey_options": PUBLIC,
    "auth.passkey_verify": PUBLIC,
    "auth.recovery_form": PUBLIC,
    "auth.use_recovery_code": PUBLIC,
    "auth.sign_out": SIGNED_IN,
    "account.passkeys": SIGNED_IN,
    "account.offer_passkey": SIGNED_IN,
    "account.passkey_options": SIGNED_IN,
    "account.add_passkey": SIGNED_IN,
    "account.rename_passkey": SIGNED_IN,
    "account.remove_passkey": SIGNED_IN,
    "account.recovery_codes": SIGNED_IN,
    "account.new_recovery_codes": SIGNED_IN,
    "account.time_zone": SIGNED_IN,
    "account.set_time_zone": SIGNED_IN,
    "account.delete_account": SIGNED_IN,
    "account.delete": SIGNED_IN,
    "export.start": SIGNED_IN,
    # The signed-in owner's own file; 404 for everyone else signed in (test_export.py walks who).
    "export.download": EXPORT_OWNER,
    "reminders.preferences": SIGNED_IN,
    "reminders.save_preferences": SIGNED_IN,
    "reminders.add_device": SIGNED_IN,
    "reminders.remove_device": SIGNED_IN,
    # Authenticated by the signed token in its URL (RFC 8058 one-click), never by a session.
    "reminders.unsubscribe": PUBLIC,
    "pairs.index": SIGNED_IN,
    "pairs.start": SIGNED_IN,
    "pair.home": PAIR,
    "pair.ground_rules.index": PAIR,
    "pair.goals.index": PAIR,
    "pair.journal.index": PAIR,
    "pair.feedback.index": PAIR,
    "pair.goals.add_goal": PAIR,
    "pair.goals.show_goal": PAIR,
    "pair.goals.edit_goal": PAIR,
    "pair.goals.save_goal": PAIR,
    "pair.goals.move_goal": PAIR,
    "pair.goals.add_milestone": PAIR,
    "pair.goals.toggle_milestone": PAIR,
    "pair.goals.remove_milestone": PAIR,
    "pair.goals.history": PAIR,
    "pair.journal.new_meeting": PAIR,
    "pair.journal.log_meeting": PAIR,
    "pair.journal.show_meeting": PAIR,
    "pair.journal.edit_meeting": PAIR,
    "pair.journal.save_meeting": PAIR,
    "pair.journal.save_reflection": PAIR,
    "pair.journal.toggle_action": PAIR,
    "pair.journal.search": PAIR,
    "pair.journal.history": PAIR,
    "pair.journal.add_action_row": PAIR,
    "pair.journal.actions": PAIR,
    "pair.topics": PAIR,
    "pair.add_topic": PAIR,
    "pair.ending.confirm_close": PAIR,
    "pair.ending.close": PAIR,
    "pair.ending.reflection": PAIR,
    "pair.ending.save_reflection": PAIR,
    "pair.remove_topic": PAIR,
    "pair.next_meeting.plan": PAIR,
    "pair.next_meeting.save_plan": PAIR,
    "pair.next_meeting.download": PAIR,
    "pair.next_meeting.new_feed": PAIR,
    "pair.next_meeting.revoke_feed": PAIR,
    "calendar.feed": PUBLIC,
    "pair.ground_rules.start": PAIR,
    "pair.ground_rules.show_clause": PAIR,
    "pair.ground_rules.edit_clause": PAIR,
    "pair.ground_rules.save_clause": PAIR,
    "pair.ground_rules.add_clause": PAIR,
    "pair.ground_rules.move_clause": PAIR,
    "pair.ground_rules.remove_clause": PAIR,
    "pair.ground_rules.keep_clause": PAIR,
    "pair.ground_rules.agree": PAIR,
    "pair.ground_rules.changes": PAIR,
    "pair.changes.changes": PAIR,
    "pair.ground_rules.history": PAIR,
    "pair.ground_rules.printable": PAIR,
    "pair.ground_rules.download": PAIR,
    "admin.index": ADMIN,
    "admin.programs.new_program": ADMIN,
    "admin.programs.create_program": ADMIN,
    "admin.programs.edit_program": ADMIN,
    "admin.programs.save_program": ADMIN,
    "admin.programs.participants": ADMIN,
    "admin.programs.add_participant": ADMIN,
    "admin.programs.import_participants": ADMIN,
    "admin.programs.pairs": ADMIN,
    "admin.programs.make_pair": ADMIN,
    "pair.feedback.answer": PAIR,
    "admin.dashboard.show": ADMIN,
    "admin.dashboard.download": ADMIN,
    "admin.dashboard.help_requests": ADMIN,
    "admin.dashboard.mark_handled": ADMIN,
    "admin.dashboard.answer_help_request": ADMIN,
    "join.page": PUBLIC,
    "join.send_link": PUBLIC,
    "pair.program.index": PAIR,
    "pair.program.ask_for_help": PAIR,
    "admin.matching.index": ADMIN,
    "admin.matching.run": ADMIN,
    "admin.matching.lock": ADMIN,
    "admin.matching.unlock": ADMIN,
    "admin.matching.reject": ADMIN,
    "admin.matching.settings": ADMIN,
    "admin.matching.save_settings": ADMIN,
    "admin.log.show": ADMIN,
    "admin.admins.index": OWNER,
    "admin.admins.add": OWNER,
    "admin.admins.remove": OWNER,
    "admin.ending.index": ADMIN,
    "admin.ending.end": ADMIN,
    "admin.ending.unpair": ADMIN,
    "admin.ending.remove": ADMIN,
    "admin.ending.delete_program": ADMIN,
    "intake.show": PARTICIPANT,
    "intake.save": PARTICIPANT,
    "admin.matching.send": ADMIN,
    "admin.matching.send_locked": ADMIN,
    "admin.matching.withdraw": ADMIN,
    "admin.matching.swap_options": ADMIN,
    "admin.matching.swap": ADMIN,
    "match.show": PARTICIPANT,
    "match.say_yes": PROPOSED_TO,
    "match.say_no": PROPOSED_TO,
}


def _rules(app: Flask, level: str):
    for rule in app.url_map.iter_rules():
        if ACCESS.get(rule.endpoint) == level:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, pair_id: int, clause_id: int = 1, content: dict[str, int] | None = None) -> str:
    values = {
        "pair_id": pair_id,
        "passkey_id": 1,
        "token": "x",
        "filename": "css/app.css",
        "clause_id": clause_id,
        "device_id": 1,
        "user_id": 1,
    }
    values |= content or dict.fromkeys(
        (
            "topic_id",
            "goal_id",
            "milestone_id",
            "meeting_id",
            "action_id",
            "program_id",
            "participant_id",
            "request_id",
            "proposal_id",
        ),
        1,
    )
    return rule.build({k: v for k, v in values.items() if k in rule.arguments})[1]


def test_every_route_is_in_the_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ACCESS.keys() == set(), "new routes need an entry in the access table"
    assert ACCESS.keys() - endpoints == set(), "the access table lists routes that no longer exist"


def test_pair_routes_sit_under_the_guarded_blueprint(app):
    for rule, _method in _rules(app, PAIR):
        assert rule.rule.startswith("/pairs/<int:pair_id>"), rule.rule
        assert rule.endpoint.startswith("pair."), rule.endpoint


def test_admin_routes_sit_under_the_one_guarded_blueprint(app):
    from app.authz import require_admin

    for rule, _method in _rules(app, ADMIN):
        assert rule.rule.startswith("/admin"), rule.rule
        assert rule.endpoint.startswith("admin."), rule.endpoint
    # One guard, on the parent: no section guards itself (or forgets to).
    guarded = [name for name, funcs in app.before_request_funcs.items() if require_admin in funcs]
    assert guarded == ["admin"]


@pytest.fixture
def people(session):
    pair = PairFactory()
    other_pair = PairFactory()
    return {
        "pair": pair,
        "member": pair.mentee,
        "non_member": other_pair.mentor,
        "admin": AdminFactory(),
        "loner": UserFactory(),
    }


def plan_meeting(session, pair_id: int) -> None:
    session.add(NextMeeting(pair_id=pair_id, starts_at=utcnow() + timedelta(days=3)))


def first_clause(session, pair_id: int) -> int:
    return session.scalar(select(Clause.id).where(Clause.pair_id == pair_id).order_by(Clause.position))


@pytest.mark.long
def test_pair_routes(app, client, htmx_client, login, people, session, connection):
    pair_id = people["pair"].id
    rules = list(_rules(app, PAIR))
    assert rules
    for rule, method in rules:
        url = _url(rule, pair_id)
        anonymous = client.open(url, method=method)
        assert anonymous.status_code == 302 and anonymous.location.startswith("/auth/sign-in"), url
        fragment = htmx_client.open(url, method=method)
        assert fragment.status_code == 401, url
        assert fragment.headers["HX-Redirect"].startswith("/auth/sign-in"), url
        assert "<form" not in fragment.text  # never a sign-in page swapped into a card

    login(people["member"])
    client.post(f"/pairs/{pair_id}/ground-rules/start")
    clause_id = first_clause(session, pair_id)
    plan_meeting(session, pair_id)
    content = add_pair_content(session, people["pair"], people["member"])
    for who in ("non_member", "admin"):
        login(people[who])
        for rule, method in rules:
            url = _url(rule, pair_id, clause_id, content)
            assert client.open(url, method=method).status_code == 404, f"{who} {method} {url}"

    login(people["member"])
    for rule, method in rules:
        if method == "GET":
            url = _url(rule, pair_id, clause_id, content)
            assert client.get(url).status_code in (200, 204), f"member GET {url}"
    for rule, method in rules:
        if method == "POST":
            # Each write is undone before the next (a savepoint rolled back: the app's requests nest
            # in the test's transaction), so one (dropping a clause, say) can't spoil the next.
            url = _url(rule, pair_id, clause_id, content)
            undo = connection.begin_nested()  # on the connection: the session would begin it lazily
            status = client.post(url).status_code
            undo.rollback()
            assert status not in (401, 403, 404, 405, 500), f"member POST {url}"


def test_a_pair_that_does_not_exist_looks_the_same_as_someone_elses(client, login, people):
    login(people["member"])
    missing = client.get("/pairs/999999")
    not_mine = client.get(f"/pairs/{people['pair'].id + 1}")
    assert missing.status_code == not_mine.status_code == 404
    assert missing.text == not_mine.text


def test_signed_in_routes(app, client, login, people):
    get_rules = [(rule, m) for rule, m in _rules(app, SIGNED_IN) if m == "GET"]
    for rule, method in _rules(app, SIGNED_IN):
        response = client.open(_url(rule, 0), method=method)
        assert response.status_code == 302 and response.location.startswith("/auth/sign-in"), rule.rule
    login(people["loner"])
    for rule, _method in get_rules:
        assert client.get(_url(rule, 0)).status_code == 200, rule.rule


def test_admin_routes(app, client, login, people, session):
    rules = list(_rules(app, ADMIN))
    assert rules
    content = add_pair_content(session, people["pair"], people["member"])
    content["proposal_id"] = add_proposal(session, people["pair"].program_id, content["participant_id"])
    content["pair_id"] = people["pair"].id
    for rule, method in rules:
        assert client.open(_url(rule, 0, content=content), method=method).status_code == 302, rule.rule
    login(people["member"])
    for rule, method in rules:
        assert client.open(_url(rule, 0, content=content), method=method).status_code == 404, rule.rule
    login(people["admin"])
    for rule, method in rules:
        status = client.open(_url(rule, 0, content=content), method=method).status_code
        if method == "GET":
            assert status == 200, rule.rule
        else:  # an empty form is refused (422) or done (200/303), never hidden or broken
            assert status in (200, 303, 409, 422), f"{method} {rule.rule}: {status}"


def test_an_admin_sees_only_the_programs_they_administer(app, client, login, people, session):
    """Every admin route of a program: its own admin gets the page, the admin of another program
    the same 404 as for a program that doesn't exist; the list of programs shows only theirs."""
    program_id = people["pair"].program_id
    content = add_pair_content(session, people["pair"], people["member"])
    content["proposal_id"] = add_proposal(session, program_id, content["participant_id"])
    content["pair_id"] = people["pair"].id
    own = ProgramAdminFactory(program=people["pair"].program)
    other_program = PairFactory().program
    stranger = ProgramAdminFactory(name="Lena Vogel", program=other_program)
    rules = [(rule, method) for rule, method in _rules(app, ADMIN) if "program_id" in rule.arguments]
    assert rules
    login(stranger)
    for rule, method in rules:
        url = _url(rule, 0, content=content)
        assert client.open(url, method=method).status_code == 404, f"{method} {url}"
    listed = client.get("/admin").text
    assert other_program.name in listed and people["pair"].program.name not in listed
    login(own)
    for rule, method in rules:
        status = client.open(_url(rule, 0, content=content), method=method).status_code
        assert status in ((200,) if method == "GET" else (200, 303, 409, 422)), f"{method} {rule.rule}: {status}"
    assert other_program.name not in client.get("/admin").text


def test_owner_routes(app, client, login, people, session):
    rules = list(_rules(app, OWNER))
    assert rules
    program = people["pair"].program
    content = {"program_id": program.id}
    for rule, method in rules:
        assert client.open(_url(rule, 0, content=content), method=method).status_code == 302, rule.rule
    for who in (people["member"], ProgramAdminFactory(program=program)):
        login(who)
        for rule, method in rules:
            assert client.open(_url(rule, 0, content=content), method=method).status_code == 404, rule.rule
    login(people["admin"])
    for rule, method in rules:
        status = client.open(_url(rule, 0, content=content), method=method).status_code
        assert status in ((200,) if method == "GET" else (200, 303, 422)), f"{method} {rule.rule}: {status}"


def test_public_pages_open_without_signing_in(app, client):
    for rule, method in _rules(app, PUBLIC):
        if method != "GET":
            continue
        response = client.get(_url(rule, 0))
        # A made-up sign-in link is a readable "can't be used" page; a made-up feed is simply not there.
        expected = {"auth.link": 410, "calendar.feed": 404, "join.page": 404, "reminders.unsubscribe": 404}.get(
            rule.endpoint, 200
        )
        assert response.status_code == expected, rule.rule


def test_admin_sees_no_pair_but_the_link_to_the_admin_area(client, login, people):
    login(people["admin"])
    home = client.get("/")
    assert "/admin" in home.text
    assert people["member"].name not in home.text
    login(people["member"])
    assert 'href="/admin"' not in client.get("/").text


def add_proposal(session, program_id: int, participant_id: int) -> int:
    from app.models import MatchProposal, Participant, ProposalState

    other = Participant(program_id=program_id, user_id=UserFactory().id)
    session.add(other)
    session.flush()
    # Rejected: a re-run (another route of the walk) keeps it, so every later route still finds it.
    proposal = MatchProposal(
        program_id=program_id,
        mentor_id=other.id,
        mentee_id=participant_id,
        reasons=["a reason"],
        state=ProposalState.REJECTED,
    )
    session.add(proposal)
    session.flush()
    return proposal.id


def test_participant_routes(app, client, login, people, session):
    """A person's own intake answers: theirs to open in a program they take part in; 404 for
    anyone else signed in (another program's people, admins), the sign-in page for nobody."""
    from app.models import Participant

    rules = list(_rules(app, PARTICIPANT))
    assert rules
    for rule, _method in rules:
        assert rule.rule.startswith(("/programs/<int:program_id>/intake", "/programs/<int:program_id>/match")), (
            rule.rule
        )
    program_id = people["pair"].program_id
    participant = UserFactory()
    session.add(Participant(program_id=program_id, user_id=participant.id))
    session.flush()
    for rule, method in rules:
        url = _url(rule, 0, content={"program_id": program_id})
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.location.startswith("/auth/sign-in"), url
    for who in (people["loner"], people["non_member"], people["admin"]):
        login(who)
        for rule, method in rules:
            url = _url(rule, 0, content={"program_id": program_id})
            assert client.open(url, method=method).status_code == 404, f"{who.email} {method} {url}"
    login(participant)
    for rule, method in rules:
        url = _url(rule, 0, content={"program_id": program_id})
        status = client.open(url, method=method).status_code
        assert status in ((200,) if method == "GET" else (200, 303, 422)), f"{method} {url}: {status}"


def test_proposed_to_routes(app, client, login, people, session):
    """Answering a proposed match: only its two people, and only once the admin sent it. Anyone
    else signed in (another participant of the program, another program's people, the admin) and
    the two people before it was sent get 404, as for an id that doesn't exist."""
    from app.models import MatchProposal, Participant, ProposalState, utcnow

    rules = list(_rules(app, PROPOSED_TO))
    assert rules
    program_id = people["pair"].program_id
    mentor, mentee, bystander = UserFactory(), UserFactory(), UserFactory()
    places = [Participant(program_id=program_id, user_id=u.id) for u in (mentor, mentee, bystander)]
    session.add_all(places)
    session.flush()
    proposal = MatchProposal(
        program_id=program_id, mentor_id=places[0].id, mentee_id=places[1].id, reasons=["a reason"]
    )
    session.add(proposal)
    session.flush()

    def url(rule) -> str:
        return _url(rule, 0, content={"program_id": program_id, "proposal_id": proposal.id})

    for rule, method in rules:
        response = client.open(url(rule), method=method)
        assert response.status_code == 302 and response.location.startswith("/auth/sign-in"), rule.rule
    for who in (people["loner"], people["non_member"], people["admin"], bystander, mentor, mentee):
        login(who)
        for rule, method in rules:
            assert client.open(url(rule), method=method).status_code == 404, f"{who.email} {method} {rule.rule}"
    proposal.state, proposal.sent_at = ProposalState.SENT, utcnow()
    session.flush()
    for who in (people["loner"], people["non_member"], people["admin"], bystander):
        login(who)
        for rule, method in rules:
            assert client.open(url(rule), method=method).status_code == 404, f"{who.email} {method} {rule.rule}"
    for who in (mentor, mentee):
        login(who)
        for rule, method in rules:
            assert client.open(url(rule), method=method).status_code == 303, f"{who.email} {method} {rule.rule}"


def test_export_owner_routes(app, client, login, people, session, monkeypatch, tmp_path):
    """A data export's file: its owner's alone, signed in; 404 for anyone else signed in (their
    partner, another pair's person, an admin), the sign-in page for nobody."""
    monkeypatch.setitem(app.config, "EXPORT_FOLDER", str(tmp_path))
    rules = list(_rules(app, EXPORT_OWNER))
    assert rules
    member = people["member"]
    login(member)
    started = client.post("/account/export")
    assert started.status_code == 303
    url = started.location
    partner = people["pair"].mentor
    for rule, _method in rules:
        assert rule.rule.startswith("/account/export/"), rule.rule
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/auth/sign-in")
    for who in (partner, people["non_member"], people["admin"], people["loner"]):
        login(who)
        assert client.get(url).status_code == 404, who.email
    login(member)
    assert client.get(url).status_code == 200
