"""Both say yes: a locked proposal sent to its two people, each one's private answer, the pair made
when both said yes, a no or a silence that says nothing of who, both people told through the
reminder pass; and the admin swapping two people between unlocked proposals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import select
from support.mailbox import text_of
from support.pages import comparable, text, words
from support.records import aisha_khan, answered, margaret_holloway, read_back
from support.reminders import deliveries, run_pass, to

from app.models import (
    Delivery,
    Intake,
    IntakeRole,
    Kind,
    MatchingSettings,
    MatchProposal,
    Pair,
    PairMember,
    Participant,
    ProposalState,
    Role,
    State,
    User,
    utcnow,
)

SCRIPT = "<script>alert(1)</script>"
MINUTE = timedelta(minutes=1)
WEEK = timedelta(days=7)


@pytest.fixture
def program(session):
    return ProgramFactory(name="Northwind cohort")


def user_of(session, participant: Participant) -> User:
    return session.get(User, participant.user_id)


@pytest.fixture
def aisha(session, program):
    return aisha_khan(session, program)


@pytest.fixture
def margaret(session, program):
    return margaret_holloway(session, program)


@pytest.fixture
def admin(login):
    admin = AdminFactory()
    login(admin)
    return admin


def proposal_of(session, program) -> MatchProposal:
    return session.scalar(
        select(MatchProposal)
        .where(MatchProposal.program_id == program.id, MatchProposal.state != ProposalState.REJECTED)
        .order_by(MatchProposal.id.desc())
        .execution_options(populate_existing=True)
    )


def sent_proposal(client, login, session, program) -> MatchProposal:
    """Run, lock and send, as the admin does; the admin stays signed in."""
    login(AdminFactory())
    assert client.post(f"/admin/programs/{program.id}/matching/run").status_code == 303
    proposal = proposal_of(session, program)
    base = f"/admin/programs/{program.id}/matching/proposals/{proposal.id}"
    assert client.post(f"{base}/lock").status_code == 303
    assert client.post(f"{base}/send").status_code == 303
    return proposal_of(session, program)


def answer(client, login, session, program, participant: Participant, proposal: MatchProposal, yes: bool):
    login(user_of(session, participant))
    return client.post(f"/programs/{program.id}/match/{proposal.id}/{'yes' if yes else 'no'}")


def waiting(session, mentees: int = 1, sent_at=None, mentor_yes: bool = False):
    """A new program whose one mentor waits on an answer from each of ``mentees`` people: the
    people's users and the sent proposals, for tests that commit for real."""
    program = ProgramFactory()
    users = [UserFactory() for _ in range(mentees + 1)]
    session.flush()
    rows = [Participant(program_id=program.id, user_id=u.id) for u in users]
    session.add_all(rows)
    session.flush()
    proposals = [
        MatchProposal(
            program_id=program.id,
            mentor_id=rows[0].id,
            mentee_id=row.id,
            reasons=["both like hiking"],
            state=ProposalState.SENT,
            sent_at=sent_at or utcnow(),
            mentor_yes=mentor_yes,
        )
        for row in rows[1:]
    ]
    session.add_all(proposals)
    return program, users, proposals


def pairs_of(session, program) -> list[Pair]:
    return list(session.scalars(select(Pair).where(Pair.program_id == program.id)))


def article(response, proposal_id: int) -> str:
    """The words of one proposal's card on a person's page."""
    match = re.search(
        rf'<article class="card proposal" id="proposal-{proposal_id}">(.*?)</article>', text(response), re.S
    )
    assert match, "the proposal is on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


# --- sending, and what each person sees ------------------------------------------------------


def test_nobody_sees_a_proposal_until_the_admin_sends_it(client, login, session, program, aisha, margaret):
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    proposal = proposal_of(session, program)
    login(user_of(session, margaret))
    page = client.get(f"/programs/{program.id}/match")
    assert (
        page.status_code == 200 and "Aisha" not in page.text and "No match has been proposed to you yet" in text(page)
    )
    assert client.post(f"/programs/{program.id}/match/{proposal.id}/yes").status_code == 404
    # Sending needs a lock first.
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/send")
    assert proposal_of(session, program).state == ProposalState.PROPOSED


def test_each_person_sees_who_and_why_and_nothing_else_of_the_other(client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    assert proposal.state == ProposalState.SENT and proposal.sent_at is not None
    login(user_of(session, aisha))
    home = client.get("/")
    assert "A proposed match is waiting for your answer" in text(home)
    page = client.get(f"/programs/{program.id}/match")
    card = article(page, proposal.id)
    assert "Northwind cohort proposes Margaret Holloway as your mentee" in card
    assert "Aisha can teach Short-form video, which Margaret wants to learn" in card
    assert "Yes, let's meet" in card and "No, thank you" in card
    # Margaret's other answers are hers: not her office, not her avoid list.
    assert "Hidden tower" not in page.text and "someone@example.org" not in page.text
    login(user_of(session, margaret))
    assert "as your mentor" in article(client.get(f"/programs/{program.id}/match"), proposal.id)


def test_both_say_yes_and_their_pair_is_made_and_both_are_told(
    app, client, login, session, program, aisha, margaret, sent_mail
):
    proposal = sent_proposal(client, login, session, program)
    run_pass(app, session, proposal.sent_at + MINUTE)
    for who, partner in ((aisha, "Margaret Holloway"), (margaret, "Aisha Khan")):
        (mail,) = to(sent_mail, user_of(session, who).email)
        assert mail["Subject"] == f"A proposed match: you and {partner}"
        body = text_of(mail).replace("\u2068", "").replace("\u2069", "")
        assert "Why you two: Aisha can teach Short-form video" in body and f"/programs/{program.id}/match" in body
    assert len(sent_mail) == 2

    first = answer(client, login, session, program, aisha, proposal, True)
    assert first.status_code == 303
    assert "You said yes" in text(client.get(f"/programs/{program.id}/match"))
    assert pairs_of(session, program) == []
    # Margaret's page doesn't say Aisha said yes: each answers privately.
    login(user_of(session, margaret))
    assert "said yes" not in article(client.get(f"/programs/{program.id}/match"), proposal.id)

    answer(client, login, session, program, margaret, proposal, True)
    (pair,) = pairs_of(session, program)
    members = {m.role: m.user_id for m in session.scalars(select(PairMember).where(PairMember.pair_id == pair.id))}
    assert members == {Role.MENTOR: aisha.user_id, Role.MENTEE: margaret.user_id}
    done = proposal_of(session, program)
    assert done.state == ProposalState.GOING_AHEAD and done.pair_id == pair.id
    page = client.get(f"/programs/{program.id}/match")
    assert "You and Aisha Khan are a pair" in words(page) and f'href="/pairs/{pair.id}"' in page.text
    assert client.get(f"/pairs/{pair.id}").status_code == 200

    run_pass(app, session, done.closed_at + MINUTE)
    made = [m for m in sent_mail if m["Subject"].startswith("You and")]
    assert sorted(m["To"] for m in made) == sorted(user_of(session, p).email for p in (aisha, margaret))
    assert all(f"/pairs/{pair.id}" in text_of(m) for m in made)
    run_pass(app, session, done.closed_at + 2 * MINUTE)
    assert len(sent_mail) == 4  # nothing twice


def test_a_double_tap_makes_one_pair(client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, proposal, True)
    for _ in range(3):
        assert answer(client, login, session, program, margaret, proposal, True).status_code == 303
    assert len(pairs_of(session, program)) == 1
    # A no after both said yes changes nothing.
    answer(client, login, session, program, aisha, proposal, False)
    assert proposal_of(session, program).state == ProposalState.GOING_AHEAD


def _decline(client, login, session, program, aisha, margaret, decliner: str):
    proposal = sent_proposal(client, login, session, program)
    yes, no = (margaret, aisha) if decliner == "mentor" else (aisha, margaret)
    answer(client, login, session, program, yes, proposal, True)
    answer(client, login, session, program, no, proposal, False)
    return proposal_of(session, program)


@pytest.mark.parametrize("decliner", ["mentor", "mentee"])
def test_a_no_never_says_who(app, client, login, session, program, aisha, margaret, sent_mail, decliner):
    proposal = _decline(client, login, session, program, aisha, margaret, decliner)
    assert proposal.state == ProposalState.NOT_GOING_AHEAD
    # Nothing stored says who: both yeses are gone.
    assert (proposal.mentor_yes, proposal.mentee_yes) == (False, False)
    assert pairs_of(session, program) == []
    cards = {}
    for who, partner in ((aisha, "Margaret Holloway"), (margaret, "Aisha Khan")):
        login(user_of(session, who))
        cards[who.id] = article(client.get(f"/programs/{program.id}/match"), proposal.id).replace(partner, "PARTNER")
        assert "didn't go ahead" in cards[who.id]
    assert cards[aisha.id] == cards[margaret.id]

    run_pass(app, session, proposal.closed_at + MINUTE)
    closed = [m for m in sent_mail if m["Subject"] == "Your proposed match didn't go ahead"]
    assert len(closed) == 2
    bodies = {m["To"]: text_of(m) for m in closed}
    aisha_body = bodies[user_of(session, aisha).email].replace("Margaret Holloway", "PARTNER")
    margaret_body = bodies[user_of(session, margaret).email].replace("Aisha Khan", "PARTNER")
    assert re.sub(r"unsubscribe/\S+", "", aisha_body) == re.sub(r"unsubscribe/\S+", "", margaret_body)
    # The proposal's own notice was dropped, not sent late: it had closed before the pass.
    assert not [m for m in sent_mail if m["Subject"].startswith("A proposed match")]


def test_the_admin_sees_the_same_whoever_said_no(client, login, session, aisha, margaret, program):
    """The admin's pages after the mentor said no and after the mentee said no are the same page:
    the admin can't learn who declined, from a status or a count."""
    pages = []
    for decliner in ("mentor", "mentee"):
        _decline(client, login, session, program, aisha, margaret, decliner)
        login(AdminFactory())
        page = client.get(f"/admin/programs/{program.id}/matching?view=sent")
        assert "not going ahead" in text(page)
        pages.append(re.sub(r"proposal-\d+|/proposals/\d+", "", comparable(page)))
        # Start over with the same two people (the no is remembered as "never again").
        session.execute(MatchProposal.__table__.delete())
        session.flush()
    assert pages[0] == pages[1]
    # No answer of either person shows on the proposal: only its state.
    card = pages[0].split('<ul class="proposals">')[1].split("</ul>")[0]
    assert "not going ahead" in card
    for hidden in ("yes", "said no", "declined", "Aisha said", "Margaret said"):
        assert hidden not in card


def test_an_unanswered_proposal_closes_after_seven_days(
    app, client, login, session, program, aisha, margaret, sent_mail
):
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, proposal, True)
    run_pass(app, session, proposal.sent_at + MINUTE)
    run_pass(app, session, proposal.sent_at + WEEK - MINUTE)
    assert proposal_of(session, program).state == ProposalState.SENT
    run_pass(app, session, proposal.sent_at + WEEK + MINUTE)
    closed = proposal_of(session, program)
    assert closed.state == ProposalState.NOT_GOING_AHEAD and closed.closed_at == proposal.sent_at + WEEK
    assert (closed.mentor_yes, closed.mentee_yes) == (False, False)
    notices = [d for d in deliveries(session) if d.kind == Kind.MATCH and d.subject.endswith(":closed")]
    assert len(notices) == 2 and all(d.state == State.SENT for d in notices)
    # Idempotent: the next passes change and send nothing more.
    run_pass(app, session, proposal.sent_at + WEEK + 2 * MINUTE)
    run_pass(app, session, proposal.sent_at + WEEK + 3 * MINUTE)
    assert len([d for d in deliveries(session) if d.kind == Kind.MATCH]) == 4  # two sent, two closed
    assert len([m for m in sent_mail if m["Subject"] == "Your proposed match didn't go ahead"]) == 2


def test_a_yes_after_the_time_ran_out_makes_no_pair(client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, proposal, True)
    row = session.get(MatchProposal, proposal.id)
    row.sent_at = utcnow() - WEEK - MINUTE  # the pass hasn't closed it yet
    session.flush()
    response = answer(client, login, session, program, margaret, proposal, True)
    assert response.status_code == 303
    assert pairs_of(session, program) == []
    assert "didn't go ahead" in text(client.get(f"/programs/{program.id}/match"))
    assert "A proposed match is waiting" not in text(client.get("/"))


def test_people_whose_match_did_not_go_ahead_are_matched_again_but_not_together(
    client, login, session, program, aisha, margaret
):
    answered(
        session,
        program,
        "Tom Reyes",
        IntakeRole.MENTEE,
        "Legal",
        "L6",
        learn=["Short-form video"],
        teach=["Negotiation"],
    )
    _decline(client, login, session, program, aisha, margaret, "mentee")
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    fresh = read_back(session, select(MatchProposal).where(MatchProposal.state == ProposalState.PROPOSED))
    assert [(p.mentor_id, p.mentee_id) for p in fresh] != [(aisha.id, margaret.id)]
    assert aisha.id in {p.mentor_id for p in fresh}
    page = text(client.get(f"/admin/programs/{program.id}/matching"))
    assert "Margaret Holloway" in page.split("Not matched")[1]


def test_another_persons_proposal_is_not_found(client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    stranger = answered(session, program, "Sam Stranger", IntakeRole.MENTEE, "Legal", "L9")
    login(user_of(session, stranger))
    for verb in ("yes", "no"):
        assert client.post(f"/programs/{program.id}/match/{proposal.id}/{verb}").status_code == 404
    assert "Aisha" not in client.get(f"/programs/{program.id}/match").text
    # From another program's page, the same id is not found either.
    other = ProgramFactory()
    session.add(Participant(program_id=other.id, user_id=aisha.user_id))
    session.flush()
    login(user_of(session, aisha))
    assert client.post(f"/programs/{other.id}/match/{proposal.id}/yes").status_code == 404
    assert proposal_of(session, program).state == ProposalState.SENT


def test_htmx_answers_swap_the_card_in_place(htmx_client, login, client, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    login(user_of(session, aisha), on=htmx_client)
    response = htmx_client.post(f"/programs/{program.id}/match/{proposal.id}/yes", headers={"HX-Target": "answers"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="answers"') and "You said yes" in response.text


def test_hostile_names_and_answers_are_text_on_the_page_and_in_the_mail(
    app, client, login, session, program, sent_mail
):
    evil = answered(
        session,
        program,
        f"Aisha {SCRIPT}\nBcc: x@example.org",
        IntakeRole.MENTOR,
        "Marketing",
        "L2",
        teach=[SCRIPT],
        interests=SCRIPT,
    )
    answered(
        session, program, "Margaret Holloway", IntakeRole.MENTEE, "Finance", "L5", learn=[SCRIPT], interests=SCRIPT
    )
    proposal = sent_proposal(client, login, session, program)
    login(user_of(session, evil))
    page = client.get(f"/programs/{program.id}/match")
    assert page.status_code == 200 and "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    run_pass(app, session, proposal.sent_at + MINUTE)
    assert len(sent_mail) == 2
    for mail in sent_mail:
        assert "Bcc" not in mail.keys() and "<script>" not in mail.get_body(("html",)).get_content()


# --- the admin's side: send all, swap --------------------------------------------------------


def test_send_all_locked(client, login, session, program, aisha, margaret):
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    proposal = proposal_of(session, program)
    client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/lock")
    response = client.post(f"/admin/programs/{program.id}/matching/send-locked")
    assert response.status_code == 303 and "view=sent" in response.location
    assert proposal_of(session, program).state == ProposalState.SENT
    page = text(client.get(f"/admin/programs/{program.id}/matching?view=sent"))
    assert "1 waiting · 0 going ahead · 0 not going ahead" in page
    # A re-run keeps what was sent.
    client.post(f"/admin/programs/{program.id}/matching/run")
    assert proposal_of(session, program).state == ProposalState.SENT


def four(session, program):
    skills = {"teach": ["Short-form video"], "learn": ["Presenting to a board"]}
    back = {"teach": ["Presenting to a board"], "learn": ["Short-form video"]}
    return (
        answered(session, program, "Aisha Khan", IntakeRole.MENTOR, "Marketing", "L2", interests="hiking", **skills),
        answered(session, program, "Ravi Shah", IntakeRole.MENTOR, "Support", "L1", interests="chess", **skills),
        answered(session, program, "Margaret Holloway", IntakeRole.MENTEE, "Finance", "L5", interests="hiking", **back),
        answered(session, program, "Helen Castellano", IntakeRole.MENTEE, "Legal", "L6", interests="chess", **back),
    )


def test_swap_two_people_between_unlocked_proposals(client, login, session, program):
    aisha, ravi, margaret, helen = four(session, program)
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    first, second = session.scalars(
        select(MatchProposal).order_by(MatchProposal.mentor_id).execution_options(populate_existing=True)
    ).all()
    assert {(first.mentor_id, first.mentee_id), (second.mentor_id, second.mentee_id)} == {
        (aisha.id, margaret.id),
        (ravi.id, helen.id),
    }
    options = client.get(f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap")
    assert options.status_code == 200 and "Helen Castellano" in options.text
    swapped = client.post(f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap", data={"other": second.id})
    assert swapped.status_code == 303
    session.expire_all()
    first, second = session.get(MatchProposal, first.id), session.get(MatchProposal, second.id)
    assert (first.mentor_id, first.mentee_id) == (aisha.id, helen.id)
    assert (second.mentor_id, second.mentee_id) == (ravi.id, margaret.id)
    # The explanations are written again for the new pairs.
    assert "Marketing and Legal" in first.reasons and "four levels apart" in first.reasons
    assert not any("hiking" in reason for reason in first.reasons)
    assert "Support and Finance" in second.reasons


def test_a_swap_that_breaks_a_rule_is_refused_with_why(client, login, session, program):
    aisha, ravi, margaret, helen = four(session, program)
    helen_row = session.get(Participant, helen.id)
    helen_row.department = "Marketing"  # Aisha's
    session.flush()
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    by_mentor = {
        p.mentor_id: p for p in session.scalars(select(MatchProposal).execution_options(populate_existing=True)).all()
    }
    first, second = by_mentor[aisha.id], by_mentor[ravi.id]
    options = words(client.get(f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap"))
    assert "Not possible: Aisha and Helen are both in Marketing" in options
    refused = client.post(f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap", data={"other": second.id})
    assert refused.status_code == 422
    assert "Not swapped: Aisha and Helen are both in Marketing." in words(refused)
    session.expire_all()
    assert session.get(MatchProposal, first.id).mentee_id == margaret.id
    # Locked proposals aren't swapped.
    client.post(f"/admin/programs/{program.id}/matching/proposals/{second.id}/lock")
    refused = client.post(f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap", data={"other": second.id})
    assert refused.status_code == 422 and "only unlocked proposals" in text(refused)
    for hostile in ("x", "99999999", SCRIPT, ""):
        response = client.post(
            f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap", data={"other": hostile}
        )
        assert response.status_code == 422
    hostile_search = client.get(
        f"/admin/programs/{program.id}/matching/proposals/{first.id}/swap", query_string={"q": "%_" + SCRIPT * 50}
    )
    assert hostile_search.status_code == 200 and "<script>alert" not in hostile_search.text


def test_a_mentor_with_room_for_two_is_matched_again_beside_their_pair(client, login, session, program):
    session.add(
        MatchingSettings(program_id=program.id, skills=["Short-form video"], questions=["languages"], capacity=2)
    )
    aisha, _, margaret, helen = four(session, program)
    PairFactory(program=program, mentor=user_of(session, aisha), mentee=user_of(session, margaret))
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    fresh = session.scalars(
        select(MatchProposal).where(MatchProposal.mentor_id == aisha.id).execution_options(populate_existing=True)
    ).all()
    assert [p.mentee_id for p in fresh] == [helen.id]


def test_pages_cost_the_same_queries_with_twice_the_proposals(client, login, session, queries):
    def grow(program, n):
        for i in range(n):
            answered(session, program, f"Mentor {i}", IntakeRole.MENTOR, f"Dept {i}", "L1", teach=["a"], learn=["b"])
            answered(session, program, f"Mentee {i}", IntakeRole.MENTEE, f"Other {i}", "L9", teach=["b"], learn=["a"])

    def measure(program) -> tuple[int, int, int]:
        login(AdminFactory())
        client.post(f"/admin/programs/{program.id}/matching/run")
        client.post(f"/admin/programs/{program.id}/matching/send-locked")
        first = proposal_of(session, program)
        client.post(f"/admin/programs/{program.id}/matching/proposals/{first.id}/lock")
        client.post(f"/admin/programs/{program.id}/matching/proposals/{first.id}/send")
        counts = []
        for url in (f"/admin/programs/{program.id}/matching?view=sent", f"/admin/programs/{program.id}/matching"):
            with queries() as log:
                assert client.get(url).status_code == 200
            counts.append(log.count)
        mentor = session.get(Participant, first.mentor_id)
        login(session.get(User, mentor.user_id))
        with queries() as log:
            assert client.get(f"/programs/{program.id}/match").status_code == 200
        counts.append(log.count)
        return tuple(counts)

    small, large = ProgramFactory(), ProgramFactory()
    grow(small, 3)
    grow(large, 6)
    assert measure(small) == measure(large)


def test_both_yeses_and_double_taps_at_the_same_moment_make_one_pair(tmp_path):
    """Two people, each tapping twice, all at once (real commits, on the database under test): one
    pair, and the proposal goes ahead once."""
    from sqlalchemy import func
    from support.apps import clients_of, committed_session, own_app
    from support.parallel import at_once

    from app.extensions import db

    with own_app(tmp_path) as app:
        with committed_session(app) as session:
            program, users, (proposal,) = waiting(session)
            session.commit()
            program_id, proposal_id = program.id, proposal.id
        clients = clients_of(app, users[0], users[1], users[0], users[1])

        def send(client) -> int:
            return client.post(f"/programs/{program_id}/match/{proposal_id}/yes").status_code

        answers = at_once(send, [(client,) for client in clients])
        with app.app_context():
            made = db.session.scalar(select(func.count(Pair.id)).where(Pair.program_id == program_id))
            state = db.session.scalar(select(MatchProposal.state).where(MatchProposal.id == proposal_id))
        assert answers == [303] * 4
        assert made == 1 and state == ProposalState.GOING_AHEAD


# --- the admin withdraws a waiting proposal --------------------------------------------------


def withdraw(client, program, proposal: MatchProposal, **kwargs):
    return client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/withdraw", **kwargs)


def test_the_admin_withdraws_a_waiting_proposal_and_both_hear_what_a_no_says(
    app, client, login, session, program, aisha, margaret, sent_mail
):
    """A withdrawal reads to both people exactly as a no does, and the admin's page shows the
    same "not going ahead": the admin knows they withdrew it, and the log says so."""
    withdrawn = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, withdrawn, True)
    login(AdminFactory())
    page = text(client.get(f"/admin/programs/{program.id}/matching?view=sent"))
    assert "Withdraw" in page
    response = withdraw(client, program, withdrawn)
    assert response.status_code == 303
    closed = proposal_of(session, program)
    assert closed.state == ProposalState.NOT_GOING_AHEAD and closed.closed_at is not None
    assert (closed.mentor_yes, closed.mentee_yes) == (False, False)
    assert pairs_of(session, program) == []
    # Margaret's yes now makes nothing.
    answer(client, login, session, program, margaret, withdrawn, True)
    assert pairs_of(session, program) == [] and proposal_of(session, program).state == ProposalState.NOT_GOING_AHEAD
    withdrawn_cards = {}
    for who, partner in ((aisha, "Margaret Holloway"), (margaret, "Aisha Khan")):
        login(user_of(session, who))
        card = article(client.get(f"/programs/{program.id}/match"), withdrawn.id)
        withdrawn_cards[who.id] = card.replace(partner, "PARTNER")
    run_pass(app, session, closed.closed_at + MINUTE)
    withdrawn_mail = {m["To"]: text_of(m) for m in sent_mail if m["Subject"] == "Your proposed match didn't go ahead"}
    assert len(withdrawn_mail) == 2
    login(AdminFactory())
    log = text(client.get(f"/admin/programs/{program.id}/log"))
    assert "Withdrew a match proposal" in log
    # The people's program pages don't name the withdrawal: to them it is a match that didn't go ahead.
    assert all("Withdr" not in t for t in withdrawn_cards.values())

    # Now the same two after a no: the cards and mails are the same words.
    # A fresh start for the same two people: SQLite may give the new proposal the old one's id,
    # and so its notices the old ones' keys, which the worker would take as already sent.
    session.execute(MatchProposal.__table__.delete())
    session.execute(Delivery.__table__.delete())
    session.flush()
    sent_mail.clear()
    declined = _decline(client, login, session, program, aisha, margaret, "mentee")
    for who, partner in ((aisha, "Margaret Holloway"), (margaret, "Aisha Khan")):
        login(user_of(session, who))
        card = article(client.get(f"/programs/{program.id}/match"), declined.id).replace(partner, "PARTNER")
        assert card == withdrawn_cards[who.id]
    run_pass(app, session, declined.closed_at + MINUTE)
    declined_mail = {m["To"]: text_of(m) for m in sent_mail if m["Subject"] == "Your proposed match didn't go ahead"}

    def plain(body: str) -> str:
        return re.sub(r"unsubscribe/\S+", "", body)

    assert {k: plain(v) for k, v in declined_mail.items()} == {k: plain(v) for k, v in withdrawn_mail.items()}


def test_only_a_waiting_proposal_can_be_withdrawn(client, login, session, program, aisha, margaret):
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    proposal = proposal_of(session, program)
    assert withdraw(client, program, proposal).status_code == 303
    assert proposal_of(session, program).state == ProposalState.PROPOSED
    # Gone ahead: withdrawing changes nothing, and says so.
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, proposal, True)
    answer(client, login, session, program, margaret, proposal, True)
    login(AdminFactory())
    response = withdraw(client, program, proposal, follow_redirects=True)
    assert "no longer waiting" in text(response)
    assert proposal_of(session, program).state == ProposalState.GOING_AHEAD
    assert len(pairs_of(session, program)) == 1
    assert withdraw(client, program, proposal).status_code == 303  # a double tap: still nothing


def test_a_withdrawn_match_is_never_proposed_again(client, login, session, program, aisha, margaret):
    """A withdrawal looks like a no to both people, so, like a no, the two are never proposed
    together again (a second proposal would tell them it wasn't a no)."""
    proposal = sent_proposal(client, login, session, program)
    login(AdminFactory())
    withdraw(client, program, proposal)
    client.post(f"/admin/programs/{program.id}/matching/run")
    fresh = read_back(session, select(MatchProposal).where(MatchProposal.state == ProposalState.PROPOSED))
    assert fresh == []


def test_htmx_withdraw_swaps_the_list(client, htmx_client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    login(AdminFactory(), on=htmx_client)
    response = htmx_client.post(
        f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/withdraw?view=sent",
        headers={"HX-Target": "proposals"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="proposals"')
    assert "Withdrawn" in response.text and "not going ahead" in response.text


# --- capacity, checked again on send and on the yes that makes the pair ----------------------


def locked_proposal(client, login, session, program) -> MatchProposal:
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    proposal = proposal_of(session, program)
    client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/lock")
    return proposal


def by_hand(session, program, mentor: Participant, name: str) -> Participant:
    """The admin pairs ``mentor`` with someone else by hand, after the run."""
    other = answered(session, program, name, IntakeRole.MENTEE, "Legal", "L7")
    PairFactory(program=program, mentor=user_of(session, mentor), mentee=user_of(session, other))
    return other


def mentoring(session, program, participant: Participant) -> int:
    return len(
        session.scalars(
            select(PairMember)
            .join(Pair, Pair.id == PairMember.pair_id)
            .where(Pair.program_id == program.id, PairMember.user_id == participant.user_id)
        ).all()
    )


def test_send_refuses_a_mentor_the_admin_paired_by_hand_meanwhile(client, login, session, program, aisha, margaret):
    proposal = locked_proposal(client, login, session, program)
    by_hand(session, program, aisha, "Tom Reyes")
    response = client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/send", follow_redirects=True)
    assert (
        "Not sent: Aisha Khan already mentors 1 person, as many as the program lets one mentor take. "
        "Reject this proposal and run again." in words(response)
    )
    assert proposal_of(session, program).state == ProposalState.LOCKED
    response = client.post(f"/admin/programs/{program.id}/matching/send-locked", follow_redirects=True)
    assert "There was no locked proposal to send" not in words(response)
    assert "1 locked proposal wasn't sent: its mentor or mentee has no room left" in words(response)
    assert proposal_of(session, program).state == ProposalState.LOCKED
    # With room for two, it goes.
    session.add(
        MatchingSettings(program_id=program.id, skills=["Short-form video"], questions=["languages"], capacity=2)
    )
    session.flush()
    client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/send")
    assert proposal_of(session, program).state == ProposalState.SENT


def test_send_all_never_sends_one_mentor_more_than_their_places(client, login, session, program, aisha, margaret):
    """Two locked proposals for one mentor of capacity 1 (the admin lowered it after locking):
    the better one goes, the other stays locked."""
    helen = answered(
        session,
        program,
        "Helen Castellano",
        IntakeRole.MENTEE,
        "Legal",
        "L6",
        teach=["Presenting to a board"],
        learn=["Short-form video"],
    )
    session.add(
        MatchingSettings(program_id=program.id, skills=["Short-form video"], questions=["languages"], capacity=2)
    )
    session.flush()
    login(AdminFactory())
    client.post(f"/admin/programs/{program.id}/matching/run")
    made = session.scalars(select(MatchProposal).execution_options(populate_existing=True)).all()
    assert sorted(p.mentee_id for p in made) == sorted((margaret.id, helen.id))
    for p in made:
        client.post(f"/admin/programs/{program.id}/matching/proposals/{p.id}/lock")
    session.get(MatchingSettings, program.id).capacity = 1
    session.flush()
    client.post(f"/admin/programs/{program.id}/matching/send-locked")
    states = sorted(
        p.state.value for p in session.scalars(select(MatchProposal).execution_options(populate_existing=True))
    )
    assert states == ["locked", "sent"]


def test_the_last_yes_makes_no_pair_past_the_mentors_places(client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, proposal, True)
    by_hand(session, program, aisha, "Tom Reyes")
    answer(client, login, session, program, margaret, proposal, True)
    assert mentoring(session, program, aisha) == 1 and mentoring(session, program, margaret) == 0
    closed = proposal_of(session, program)
    assert closed.state == ProposalState.NOT_GOING_AHEAD and (closed.mentor_yes, closed.mentee_yes) == (False, False)
    assert "This match didn't go ahead" in text(client.get(f"/programs/{program.id}/match"))


def test_the_last_yes_never_makes_a_second_pair_for_the_mentee(client, login, session, program, aisha, margaret):
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, margaret, proposal, True)
    ravi = answered(session, program, "Ravi Shah", IntakeRole.MENTOR, "Support", "L1")
    PairFactory(program=program, mentor=user_of(session, ravi), mentee=user_of(session, margaret))
    answer(client, login, session, program, aisha, proposal, True)
    assert mentoring(session, program, margaret) == 1 and mentoring(session, program, aisha) == 0
    assert proposal_of(session, program).state == ProposalState.NOT_GOING_AHEAD


def test_send_refuses_a_mentee_the_admin_paired_by_hand_meanwhile(client, login, session, program, aisha, margaret):
    proposal = locked_proposal(client, login, session, program)
    ravi = answered(session, program, "Ravi Shah", IntakeRole.MENTOR, "Support", "L1")
    PairFactory(program=program, mentor=user_of(session, ravi), mentee=user_of(session, margaret))
    response = client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/send", follow_redirects=True)
    assert "Not sent: the mentee is in a pair already" in words(response)
    assert proposal_of(session, program).state == ProposalState.LOCKED


# --- an admin of another program ---------------------------------------------------------------


def test_an_admin_of_another_program_reaches_nothing_of_this_one(client, login, session, program, aisha, margaret):
    """Every matching POST and page, with this program's ids under the other program's URL and
    under this one's: not found, and nothing changes."""
    from factories import ProgramAdminFactory

    waiting = sent_proposal(client, login, session, program)
    theirs = ProgramFactory()
    mine = [
        answered(session, theirs, "Lena Ortiz", IntakeRole.MENTOR, "Sales", "L1", teach=["Short-form video"]),
        answered(session, theirs, "Omar Haddad", IntakeRole.MENTEE, "Legal", "L6", learn=["Short-form video"]),
    ]
    login(ProgramAdminFactory(program=theirs))
    assert client.post(f"/admin/programs/{theirs.id}/matching/run").status_code == 303
    own = proposal_of(session, theirs)
    before = {(p.id, p.state, p.mentor_id, p.mentee_id) for p in session.scalars(select(MatchProposal))}
    for base in (f"/admin/programs/{theirs.id}/matching", f"/admin/programs/{program.id}/matching"):
        for verb in ("lock", "unlock", "reject", "send", "withdraw", "swap"):
            assert client.post(f"{base}/proposals/{waiting.id}/{verb}", data={"other": own.id}).status_code == 404
        assert client.get(f"{base}/proposals/{waiting.id}/swap").status_code == 404
    for path in ("", "/settings", "/run", "/send-locked"):
        url = f"/admin/programs/{program.id}/matching{path}"
        assert (client.post(url) if path in ("/run", "/send-locked") else client.get(url)).status_code == 404
    assert client.post(f"/admin/programs/{program.id}/matching/settings", data={"capacity": 3}).status_code == 404
    # Their own proposal swapped with this program's: refused, nothing moves.
    refused = client.post(f"/admin/programs/{theirs.id}/matching/proposals/{own.id}/swap", data={"other": waiting.id})
    assert refused.status_code == 422
    session.expire_all()
    assert {(p.id, p.state, p.mentor_id, p.mentee_id) for p in session.scalars(select(MatchProposal))} == before
    assert [p.mentee_id for p in session.scalars(select(MatchProposal).where(MatchProposal.id == own.id))] == [
        mine[1].id
    ]


def test_a_yes_and_a_no_at_the_same_moment_settle_on_one_outcome(tmp_path):
    """The mentor said yes; then the mentee's yes and the mentor's change of mind arrive at once
    (real commits, on the database under test): either the pair is made and the proposal goes
    ahead, or neither, and then no yes is left stored."""
    from sqlalchemy import func
    from support.apps import clients_of, committed_session, own_app
    from support.parallel import at_once

    from app.extensions import db

    with own_app(tmp_path) as app:
        for _ in range(4):
            with committed_session(app) as session:
                program, users, (proposal,) = waiting(session, mentor_yes=True)
                session.commit()
                program_id, proposal_id = program.id, proposal.id
            mentor, mentee = clients_of(app, users[0], users[1])
            base = f"/programs/{program_id}/match/{proposal_id}"
            codes = at_once(
                lambda client, verb, base=base: client.post(f"{base}/{verb}").status_code,
                [(mentee, "yes"), (mentor, "no")],
            )
            assert codes == [303, 303]
            with app.app_context():
                made = db.session.scalar(select(func.count(Pair.id)).where(Pair.program_id == program_id))
                row = db.session.execute(
                    select(MatchProposal.state, MatchProposal.mentor_yes, MatchProposal.mentee_yes).where(
                        MatchProposal.id == proposal_id
                    )
                ).one()
            assert (made, tuple(row)) in {
                (1, (ProposalState.GOING_AHEAD, True, True)),
                (0, (ProposalState.NOT_GOING_AHEAD, False, False)),
            }


def test_a_match_that_went_ahead_is_never_proposed_again_even_once_its_pair_is_gone(
    client, login, session, program, aisha, margaret
):
    """A pair that existed is never proposed again; a re-run after the pair was undone must not
    propose the two (nor fail on the proposal row they already have)."""
    proposal = sent_proposal(client, login, session, program)
    answer(client, login, session, program, aisha, proposal, True)
    answer(client, login, session, program, margaret, proposal, True)
    (pair,) = pairs_of(session, program)
    session.delete(pair)
    session.flush()
    login(AdminFactory())
    assert client.post(f"/admin/programs/{program.id}/matching/run").status_code == 303
    states = [p.state for p in session.scalars(select(MatchProposal).execution_options(populate_existing=True))]
    assert states == [ProposalState.GOING_AHEAD]


def test_answers_changed_while_a_proposal_waits_never_reach_the_partner(
    app, client, login, session, program, aisha, margaret, sent_mail
):
    """The reasons are the run's: Margaret's new answers reach neither Aisha's page nor her mail."""
    proposal = sent_proposal(client, login, session, program)
    login(user_of(session, margaret))
    changed = client.post(
        f"/programs/{program.id}/intake",
        data={
            "role": "mentee",
            "teach": ["Presenting to a board"],
            "learn": ["Short-form video"],
            "learn_other": "Quietly learning Klingon",
            "department": "Finance",
            "level": "L5",
            "interests": "Orchid breeding",
            "languages": "English",
        },
    )
    assert changed.status_code == 303
    stored = session.scalar(
        select(Intake).where(Intake.participant_id == margaret.id).execution_options(populate_existing=True)
    )
    assert stored.interests == "Orchid breeding"
    run_pass(app, session, proposal.sent_at + MINUTE)
    login(user_of(session, aisha))
    card = article(client.get(f"/programs/{program.id}/match"), proposal.id)
    assert "both like hiking" in card.lower()
    (mail,) = to(sent_mail, user_of(session, aisha).email)
    for new in ("Klingon", "Orchid"):
        assert new not in card and new not in text_of(mail)


def test_a_reminder_pass_interrupted_after_the_expiry_closes_nothing_and_the_next_tells_both_once(
    tmp_path, monkeypatch
):
    """The expiry is a step of the pass, in its transaction: a pass that fails after it leaves the
    proposal waiting (nobody told it closed), and the passes after it close it and tell both once."""
    from support.apps import committed_session, own_app

    from app.extensions import db
    from app.models import Delivery
    from app.reminders import passes

    with own_app(tmp_path) as app:
        at = utcnow()
        with committed_session(app) as session:
            _, _, (proposal,) = waiting(session, sent_at=at - WEEK - 10 * MINUTE, mentor_yes=True)
            session.commit()
            proposal_id = proposal.id

        def state() -> tuple:
            with app.app_context():
                closed = db.session.scalars(
                    select(Delivery.subject).where(Delivery.subject == f"match:{proposal_id}:closed")
                ).all()
                row = db.session.execute(
                    select(MatchProposal.state, MatchProposal.mentor_yes).where(MatchProposal.id == proposal_id)
                ).one()
                return (*row, len(closed))

        def broken(*args, **kwargs):
            raise RuntimeError("the database went away")

        with monkeypatch.context() as patched:
            patched.setattr(passes, "_covered", broken)
            with app.app_context(), pytest.raises(RuntimeError):
                passes.run(at)
        assert state() == (ProposalState.SENT, True, 0)
        for moment in (at, at + MINUTE, at + 2 * MINUTE):
            with app.app_context():
                passes.run(moment)
        assert state() == (ProposalState.NOT_GOING_AHEAD, False, 2)


def test_a_direction_override_in_one_answer_stays_inside_its_own_reason(
    app, client, login, session, program, aisha, margaret, sent_mail
):
    """A department typed with an unclosed right-to-left override (U+202E) would turn every reason
    after it backwards, on the partner's page, the admin's and in the mail: each reason is
    isolated on its own."""
    row = session.get(Participant, margaret.id)
    row.department = "Finance\u202e"
    session.flush()
    proposal = sent_proposal(client, login, session, program)
    hostile = next(r for r in proposal.reasons if "\u202e" in r)
    assert proposal.reasons.index(hostile) < len(proposal.reasons) - 1, "a reason follows the hostile one"
    isolated = re.compile(r"<bdi>([^<]*)</bdi>")
    pages = [client.get(f"/admin/programs/{program.id}/matching?view=sent")]
    login(user_of(session, aisha))
    pages.append(client.get(f"/programs/{program.id}/match"))
    for page in pages:
        assert page.status_code == 200
        assert hostile in isolated.findall(page.text)
    run_pass(app, session, proposal.sent_at + MINUTE)
    (mail,) = to(sent_mail, user_of(session, aisha).email)
    for body in (text_of(mail), mail.get_body(("html",)).get_content()):
        assert f"\u2068{hostile}\u2069" in body


def test_a_proposal_waits_until_both_have_joined(client, login, session, program, aisha):
    """The admin's list of participants says who hasn't joined yet. A proposal sent to someone
    who hasn't could only close early by the other's no, and the admin would know whose: it is not
    sent until both have joined."""
    imported = margaret_holloway(session, program, joined=False)
    proposal = locked_proposal(client, login, session, program)
    assert (proposal.mentor_id, proposal.mentee_id) == (aisha.id, imported.id)
    response = client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/send", follow_redirects=True)
    assert "Not sent: Margaret Holloway hasn't joined Twoway yet" in words(response)
    assert proposal_of(session, program).state == ProposalState.LOCKED
    response = client.post(f"/admin/programs/{program.id}/matching/send-locked", follow_redirects=True)
    assert "1 locked proposal wasn't sent" in words(response)
    assert proposal_of(session, program).state == ProposalState.LOCKED
    user_of(session, imported).first_signed_in_at = utcnow()
    session.flush()
    client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/send")
    assert proposal_of(session, program).state == ProposalState.SENT


def test_two_last_yeses_for_one_mentor_at_the_same_moment_never_pass_the_capacity(tmp_path):
    """Two proposals of one mentor wait (the admin lowered the capacity to one after sending
    both); the mentor said yes to both, and both mentees say yes at the same moment (real
    commits, on the database under test): one pair, and the other proposal doesn't go ahead."""
    from sqlalchemy import func
    from support.apps import clients_of, committed_session, own_app
    from support.parallel import at_once

    from app.extensions import db

    with own_app(tmp_path) as app:
        for _ in range(3):
            with committed_session(app) as session:
                program, users, _ = waiting(session, mentees=2, mentor_yes=True)
                session.add(MatchingSettings(program_id=program.id, skills=[], questions=[], capacity=1))
                session.commit()
                program_id = program.id
                ids = session.scalars(
                    select(MatchProposal.id).where(MatchProposal.program_id == program_id).order_by(MatchProposal.id)
                ).all()
            codes = at_once(
                lambda client, proposal_id, program_id=program_id: (
                    client.post(f"/programs/{program_id}/match/{proposal_id}/yes").status_code
                ),
                list(zip(clients_of(app, users[1], users[2]), ids, strict=True)),
            )
            assert codes == [303, 303]
            with app.app_context():
                made = db.session.scalar(select(func.count(Pair.id)).where(Pair.program_id == program_id))
                states = sorted(
                    s.value for s in db.session.scalars(select(MatchProposal.state).where(MatchProposal.id.in_(ids)))
                )
            assert made == 1 and states == ["going-ahead", "not-going-ahead"]
