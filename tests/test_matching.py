"""Matching on the web: a participant's intake answers, the admin's settings, the CSV import's
intake columns, and proposals run, locked, rejected and run again."""

from __future__ import annotations

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import select
from support.records import aisha_khan, answered, margaret_holloway
from test_admin import upload

from app.models import Intake, IntakeRole, MatchingSettings, MatchProposal, Participant, ProposalState

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HUGE = ("Reverse mentoring works both ways. " * 3000)[:100_000]
ODD = "Pixel \u202eenohp\u202c \U0001f469\u200d\U0001f4bb Zoe\u0301 \u0645\u0631\u062d\u0628\u0627"
RAW_MARKUP = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")


@pytest.fixture
def program(session):
    return ProgramFactory(name="Northwind cohort")


def join(session, program, user=None, **values) -> Participant:
    user = user or UserFactory()
    row = Participant(program_id=program.id, user_id=user.id, **values)
    session.add(row)
    session.flush()
    return row


def answers(**changes) -> dict:
    values = {
        "role": "mentor",
        "teach": ["Short-form video"],
        "teach_other": "",
        "learn": ["Presenting to a board"],
        "learn_other": "",
        "department": "Marketing",
        "level": "L2",
        "interests": "hiking, chess",
        "languages": "English",
        "time_zone": "Europe/London",
        "rhythm": "fortnightly",
        "format": "video",
        "location": "Leeds",
        "avoid": "",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def stored(session, participant: Participant) -> Intake | None:
    return session.scalar(
        select(Intake).where(Intake.participant_id == participant.id).execution_options(populate_existing=True)
    )


# --- the participant's own form ----------------------------------------------------------------


def test_a_participant_fills_the_form_and_sees_who_reads_each_answer(client, login, session, program):
    me = join(session, program)
    login(session.get(type(UserFactory()), me.user_id))
    page = client.get(f"/programs/{program.id}/intake")
    assert page.status_code == 200
    assert "Short-form video" in page.text and "the admin sees it, and matching uses it" in page.text
    assert "People I shouldn&#39;t be paired with</bdi>: the admin doesn&#39;t see it" in page.text

    saved = client.post(f"/programs/{program.id}/intake", data=answers())
    assert saved.status_code == 303
    intake = stored(session, me)
    assert intake.role == IntakeRole.MENTOR and intake.teach == ["Short-form video"]
    assert intake.interests == "hiking, chess"
    session.refresh(me)
    assert (me.department, me.level) == ("Marketing", "L2")
    # Changed again, until matched.
    assert client.post(f"/programs/{program.id}/intake", data=answers(role="either")).status_code == 303
    assert stored(session, me).role == IntakeRole.EITHER
    assert "Last saved" in client.get(f"/programs/{program.id}/intake").text


def test_once_in_a_pair_the_answers_are_final(client, login, session, program):
    pair = PairFactory(program=program)
    me = join(session, program, pair.mentor)
    login(pair.mentor)
    client.post(f"/programs/{program.id}/intake", data=answers())  # refused: already matched
    page = client.get(f"/programs/{program.id}/intake")
    assert "these answers are final" in page.text and '<form method="post" action="/programs' not in page.text
    assert client.post(f"/programs/{program.id}/intake", data=answers()).status_code == 409
    assert stored(session, me) is None


def test_the_program_page_and_the_home_link_to_the_form(client, login, session, program):
    pair = PairFactory(program=program)
    join(session, program, pair.mentee)
    login(pair.mentee)
    assert f"/programs/{program.id}/intake" in client.get(f"/pairs/{pair.id}/program").text
    assert f"/programs/{program.id}/intake" in client.get("/").text


def test_a_question_switched_off_is_neither_asked_nor_stored(client, login, session, program):
    session.add(MatchingSettings(program_id=program.id, skills=["Negotiation"], questions=["interests"]))
    me = join(session, program)
    login(session.get(type(UserFactory()), me.user_id))
    page = client.get(f"/programs/{program.id}/intake").text
    assert "Negotiation" in page and "Short-form video" not in page
    assert 'name="languages"' not in page and 'name="avoid"' not in page and 'name="interests"' in page
    client.post(f"/programs/{program.id}/intake", data=answers(teach=["Negotiation"], learn=[]))
    intake = stored(session, me)
    assert intake.languages == "" and intake.avoid == [] and intake.teach == ["Negotiation"]


def test_the_avoid_list_takes_addresses_only_and_never_says_who_takes_part(client, login, session, program):
    me = join(session, program)
    login(session.get(type(UserFactory()), me.user_id))
    refused = client.post(f"/programs/{program.id}/intake", data=answers(avoid="my manager"))
    assert refused.status_code == 422 and "work email addresses only" in refused.text
    # An address of nobody in the program is taken exactly like one of somebody: no roster to probe.
    ok = client.post(f"/programs/{program.id}/intake", data=answers(avoid="Boss@Example.org\nnobody@example.org"))
    assert ok.status_code == 303
    assert stored(session, me).avoid == ["boss@example.org", "nobody@example.org"]


def test_a_skill_not_on_the_list_is_refused(client, login, session, program):
    me = join(session, program)
    login(session.get(type(UserFactory()), me.user_id))
    assert client.post(f"/programs/{program.id}/intake", data=answers(teach=["Hacking"])).status_code == 422


@pytest.mark.parametrize("text", [SCRIPT, IMG, HUGE, ODD, "Phone\x00 7"])
@pytest.mark.parametrize(
    "name", ["teach_other", "learn_other", "department", "level", "interests", "languages", "location", "avoid"]
)
def test_hostile_text_in_every_intake_field(client, login, session, program, name, text):
    me = join(session, program)
    login(session.get(type(UserFactory()), me.user_id))
    response = client.post(f"/programs/{program.id}/intake", data=answers(**{name: text}))
    assert response.status_code in (303, 422)
    page = client.get(f"/programs/{program.id}/intake") if response.status_code == 303 else response
    assert page.status_code in (200, 422)
    for raw in RAW_MARKUP:
        assert raw not in page.text


# --- the admin: settings, proposals ----------------------------------------------------------------


@pytest.fixture
def admin(login):
    admin = AdminFactory()
    login(admin)
    return admin


def settings_values(**changes) -> dict:
    values = {
        "skills": "Short-form video\nPresenting to a board",
        "interests": "y",
        "languages": "y",
        "level_gap": "2",
        "higher_is_senior": "y",
        "different_department": "y",
        "capacity": "1",
        "weight_skills": "3",
        "weight_interests": "1",
        "weight_time_zone": "1",
        "weight_rhythm": "1",
    }
    values.update(changes)
    return values


def test_the_admin_edits_the_form_and_the_rules(client, session, admin, program):
    page = client.get(f"/admin/programs/{program.id}/matching/settings")
    assert page.status_code == 200 and "Short-form video" in page.text
    assert client.post(f"/admin/programs/{program.id}/matching/settings", data=settings_values()).status_code == 303
    settings = session.scalar(
        select(MatchingSettings)
        .where(MatchingSettings.program_id == program.id)
        .execution_options(populate_existing=True)
    )
    assert settings.skills == ["Short-form video", "Presenting to a board"]
    assert settings.questions == ["interests", "languages"]
    bad = client.post(f"/admin/programs/{program.id}/matching/settings", data=settings_values(capacity="9", skills=""))
    assert bad.status_code == 422 and "List at least one skill" in bad.text


@pytest.mark.parametrize("text", [SCRIPT, IMG, HUGE, ODD])
def test_hostile_text_in_the_skill_list(client, session, admin, program, text):
    response = client.post(f"/admin/programs/{program.id}/matching/settings", data=settings_values(skills=text))
    assert response.status_code in (303, 422)
    page = client.get(f"/admin/programs/{program.id}/matching/settings")
    for raw in RAW_MARKUP:
        assert raw not in page.text and raw not in response.text


def proposals_of(session, program) -> list[MatchProposal]:
    return list(
        session.scalars(
            select(MatchProposal)
            .where(MatchProposal.program_id == program.id)
            .order_by(MatchProposal.id)
            .execution_options(populate_existing=True)
        )
    )


def test_run_lock_reject_and_run_again(client, session, admin, program):
    aisha, margaret = aisha_khan(session, program), margaret_holloway(session, program)
    answered(session, program, "Tom Reyes", IntakeRole.MENTEE, "Marketing", "L6", learn=["Short-form video"])
    join(session, program, UserFactory(name="Lena Park"))  # hasn't answered

    assert client.post(f"/admin/programs/{program.id}/matching/run").status_code == 303
    (proposal,) = proposals_of(session, program)
    assert (proposal.mentor_id, proposal.mentee_id) == (aisha.id, margaret.id)
    page = client.get(f"/admin/programs/{program.id}/matching").text
    assert (
        "Aisha can teach Short-form video, which Margaret wants to learn; Margaret can help Aisha with "
        "Presenting to a board; both like hiking; Marketing and Finance; three levels apart."
    ) in page.replace("<bdi>", "").replace("</bdi>", "")
    assert "Tom Reyes" in page and "no mentor two levels below outside Marketing" in page
    assert "Lena Park" in page and "hasn&#39;t answered the intake form yet" in page

    assert client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/lock").status_code == 303
    client.post(f"/admin/programs/{program.id}/matching/run")
    (kept,) = proposals_of(session, program)
    assert kept.id == proposal.id and kept.state == ProposalState.LOCKED

    assert client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/reject").status_code == 303
    client.post(f"/admin/programs/{program.id}/matching/run")
    assert [p.state for p in proposals_of(session, program)] == [ProposalState.REJECTED]
    assert "Aisha Khan" not in client.get(f"/admin/programs/{program.id}/matching").text.split("Not matched")[0]


def test_a_proposal_of_another_program_is_not_found(client, session, admin, program):
    other = ProgramFactory()
    mentor, mentee = join(session, other), join(session, other)
    proposal = MatchProposal(program_id=other.id, mentor_id=mentor.id, mentee_id=mentee.id)
    session.add(proposal)
    session.flush()
    assert client.post(f"/admin/programs/{program.id}/matching/proposals/{proposal.id}/lock").status_code == 404


def test_an_existing_pair_and_an_avoid_list_are_never_proposed(client, session, admin, program):
    aisha = answered(session, program, "Aisha Khan", IntakeRole.MENTOR, "Marketing", "L2", teach=["Short-form video"])
    margaret = answered(
        session, program, "Margaret Holloway", IntakeRole.MENTEE, "Finance", "L5", learn=["Short-form video"]
    )
    from app.models import Pair, User

    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_([aisha.user_id, margaret.user_id])))}
    past = Pair.create(ProgramFactory(), mentor=users[aisha.user_id], mentee=users[margaret.user_id])
    session.add(past)
    session.flush()
    client.post(f"/admin/programs/{program.id}/matching/run")
    assert proposals_of(session, program) == []
    session.delete(past)
    intake = stored(session, margaret)
    intake.avoid = [users[aisha.user_id].email]
    session.flush()
    client.post(f"/admin/programs/{program.id}/matching/run")
    assert proposals_of(session, program) == []
    intake.avoid = []
    session.flush()
    client.post(f"/admin/programs/{program.id}/matching/run")
    assert len(proposals_of(session, program)) == 1


def test_hostile_answers_are_shown_as_text_in_the_proposals(client, session, admin, program):
    answered(session, program, f"Aisha {SCRIPT}", IntakeRole.MENTOR, IMG, "L2", teach=["x"], interests=SCRIPT)
    answered(session, program, "Margaret Holloway", IntakeRole.MENTEE, "Finance", "L5", learn=["x"], interests=SCRIPT)
    client.post(f"/admin/programs/{program.id}/matching/run")
    page = client.get(f"/admin/programs/{program.id}/matching")
    assert page.status_code == 200 and "&lt;script&gt;" in page.text
    for raw in RAW_MARKUP:
        assert raw not in page.text


def test_the_csv_import_takes_the_intake_columns(client, session, admin, program):
    content = (
        "name,email,department,level,role,teach,learn,interests,languages,time_zone,rhythm,format,location,avoid\n"
        'Aisha Khan,aisha@example.org,Marketing,L2,mentor,"Short-form video; Podcasts",Presenting to a board,'
        "hiking,English,Europe/London,weekly,video,Leeds,boss@example.org\n"
        "Tom Reyes,tom@example.org,Finance,L6,,,,,,,,,,\n"
    )
    response = upload(client, program, content)
    assert response.status_code == 303
    rows = session.execute(
        select(Participant, Intake).outerjoin(Intake).where(Participant.program_id == program.id)
    ).all()
    by_level = {participant.level: intake for participant, intake in rows}
    aisha = by_level["L2"]
    assert aisha.role == IntakeRole.MENTOR and aisha.teach == ["Short-form video"] and aisha.teach_other == "Podcasts"
    assert aisha.learn == ["Presenting to a board"] and aisha.avoid == ["boss@example.org"]
    assert (aisha.time_zone, aisha.rhythm, aisha.format, aisha.location) == (
        "Europe/London",
        "weekly",
        "video",
        "Leeds",
    )
    assert by_level["L6"] is None  # no answers: not answered yet


def test_a_csv_with_bad_intake_cells_names_them(client, session, admin, program):
    content = (
        "name,email,department,level,role,time_zone,avoid\nAisha Khan,aisha@example.org,M,L2,boss,Mars/Olympus,me\n"
    )
    response = upload(client, program, content)
    assert response.status_code == 422
    for words in ("none of mentor, mentee or either", "not a time zone", "isn&#39;t a work email"):
        assert words in response.text
