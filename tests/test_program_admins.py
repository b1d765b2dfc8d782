"""Admins per program, and what they did: an admin administers the programs an owner named them
for and sees nothing of another; owners name them; every admin action is kept in the program's
log, and each participant sees what concerned them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramAdminFactory, ProgramFactory, UserFactory
from sqlalchemy import select
from support.mailbox import text_of
from support.pages import text, words
from test_admin import program_values

from app.models import AuditAction, AuditEvent, PairMember, Participant, ProgramAdmin, PromptSet, User

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def program(session):
    return ProgramFactory(name="Northwind cohort")


def shown(response) -> str:
    """The words on screen; a name in its own <bdi> is followed by its colon there."""
    return words(response).replace(" :", ":")


def events(session, program_id: int) -> list[tuple[AuditAction, int | None]]:
    session.expire_all()
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.subject_id)
        .where(AuditEvent.program_id == program_id)
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows]


# --- owners name program admins ------------------------------------------------------------------


def test_an_owner_adds_an_admin_who_then_sees_that_program_alone(client, session, login, program, sent_mail):
    owner = AdminFactory()
    other = ProgramFactory(name="Southwind cohort")
    login(owner)
    page = client.get(f"/admin/programs/{program.id}/admins")
    assert page.status_code == 200 and "Only the owners administer this program so far." in text(page)

    added = client.post(
        f"/admin/programs/{program.id}/admins", data={"name": "Kwame Mensah", "email": " Kwame@Northwind.example "}
    )
    assert added.status_code == 303
    kwame = session.scalar(select(User).where(User.email == "kwame@northwind.example"))
    assert kwame.is_admin and not kwame.is_owner
    assert session.get(ProgramAdmin, (program.id, kwame.id)) is not None
    assert events(session, program.id) == [(AuditAction.ADMIN_ADDED, kwame.id)]
    # Invited by a sign-in link to their own address, landing on the program.
    [invitation] = [m for m in sent_mail if m["To"] == "kwame@northwind.example"]
    assert f"/admin/programs/{program.id}/dashboard" in text_of(invitation).replace("%2F", "/")
    assert "Kwame Mensah" in text(client.get(f"/admin/programs/{program.id}/admins"))

    login(kwame)
    listed = text(client.get("/admin"))
    assert "Northwind cohort" in listed and "Southwind cohort" not in listed
    assert client.get(f"/admin/programs/{program.id}/dashboard").status_code == 200
    assert client.get(f"/admin/programs/{other.id}/dashboard").status_code == 404
    assert client.get(f"/admin/programs/{other.id}/participants").status_code == 404
    # Naming admins is for owners.
    assert client.get(f"/admin/programs/{program.id}/admins").status_code == 404

    # Adding them again changes nothing, and mails nothing.
    login(owner)
    sent_mail.clear()
    client.post(f"/admin/programs/{program.id}/admins", data={"name": "K", "email": "kwame@northwind.example"})
    assert sent_mail == [] and events(session, program.id) == [(AuditAction.ADMIN_ADDED, kwame.id)]

    # Removed, they see the program no more.
    assert client.post(f"/admin/programs/{program.id}/admins/{kwame.id}/remove").status_code == 303
    login(kwame)
    assert client.get(f"/admin/programs/{program.id}/dashboard").status_code == 404
    assert "Northwind cohort" not in text(client.get("/admin"))
    assert events(session, program.id)[-1] == (AuditAction.ADMIN_REMOVED, kwame.id)


def test_someone_who_takes_part_cannot_be_made_an_admin(client, session, login, program):
    mentee = UserFactory()
    PairFactory(program=program, mentee=mentee)
    login(AdminFactory())
    refused = client.post(f"/admin/programs/{program.id}/admins", data={"name": "Anyone", "email": mentee.email})
    assert refused.status_code == 422 and "can't be made an admin" in text(refused)
    session.expire_all()
    assert not session.get(User, mentee.id).is_admin
    assert session.scalars(select(ProgramAdmin)).all() == []


@pytest.mark.parametrize(
    ("name", "email"),
    [
        (SCRIPT, "x@northwind.example"),
        ("A" * 100_000, "y@northwind.example"),
        ("Zoe\u0301 \u202eenohp", "not an email"),
    ],
)
def test_the_admin_form_keeps_what_was_typed_and_escapes_it(client, session, login, program, name, email):
    login(AdminFactory())
    response = client.post(f"/admin/programs/{program.id}/admins", data={"name": name, "email": email})
    assert response.status_code in (303, 422)
    assert SCRIPT not in response.text
    if response.status_code == 422:
        assert name[:50].replace("<", "&lt;") in response.text or name[:50] in response.text


def test_the_admin_who_creates_a_program_administers_it(client, session, login):
    kwame = ProgramAdminFactory()
    login(kwame)
    created = client.post("/admin/programs/new", data=program_values(name="Kwame's cohort"))
    assert created.status_code == 303
    assert "Kwame's cohort" in text(client.get("/admin"))
    [row] = session.scalars(select(ProgramAdmin).where(ProgramAdmin.user_id == kwame.id)).all()
    assert events(session, row.program_id) == [(AuditAction.PROGRAM_CREATED, None)]


# --- the log ------------------------------------------------------------------------------------


def test_every_admin_action_is_logged_and_each_person_sees_what_concerned_them(client, session, login, program):
    kwame = ProgramAdminFactory(program=program)
    login(kwame)
    client.post(
        f"/admin/programs/{program.id}/participants",
        data={"name": "Aisha Khan", "email": "aisha@northwind.example", "department": "Data", "level": "1"},
    )
    csv = "name,email,department,level\nMargaret Holloway,margaret@northwind.example,Board,5\nTom Ortega,tom@northwind.example,Sales,2\n"
    client.post(
        f"/admin/programs/{program.id}/participants/import",
        data={"file": (io.BytesIO(csv.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    people = {
        p.email.split("@")[0]: p
        for p in session.scalars(
            select(User).join(Participant, Participant.user_id == User.id).where(Participant.program_id == program.id)
        )
    }
    ids = {
        u.email.split("@")[0]: pid
        for pid, u in session.execute(
            select(Participant.id, User)
            .join(User, User.id == Participant.user_id)
            .where(Participant.program_id == program.id)
        )
    }
    assert (
        client.post(
            f"/admin/programs/{program.id}/pairs", data={"mentor": ids["aisha"], "mentee": ids["margaret"]}
        ).status_code
        == 303
    )
    own_set = session.scalar(select(PromptSet.id).where(PromptSet.program_id == program.id))
    settings = {
        "name": program.name,
        "starts_on": program.starts_on.isoformat(),
        "ends_on": (program.ends_on + timedelta(days=30)).isoformat(),
        "feedback_every_weeks": "4",
        "privacy_threshold": "7",
    }
    if own_set:
        settings["prompt_set_id"] = str(own_set)
    assert client.post(f"/admin/programs/{program.id}/settings", data=settings).status_code == 303

    aisha, margaret, tom = people["aisha"], people["margaret"], people["tom"]
    logged = events(session, program.id)
    assert logged[:4] == [
        (AuditAction.PARTICIPANT_ADDED, aisha.id),
        (AuditAction.PARTICIPANTS_IMPORTED, None),
        (AuditAction.PARTICIPANT_ADDED, margaret.id),
        (AuditAction.PARTICIPANT_ADDED, tom.id),
    ]
    assert logged[4:6] == [(AuditAction.PAIR_MADE, aisha.id), (AuditAction.PAIR_MADE, margaret.id)]
    assert logged[6][0] == AuditAction.SETTINGS_CHANGED

    log = shown(client.get(f"/admin/programs/{program.id}/log"))
    assert "Kwame Mensah: Changed the program's settings" in log
    assert "end date" in log and "privacy threshold" in log
    assert "Kwame Mensah: Made a pair: Margaret Holloway" in log
    assert "Imported participants from a CSV file (2 people)" in log

    # Margaret, in her pair: what concerned her, and nothing about Tom.
    margaret_pair = session.scalar(select(PairMember.pair_id).where(PairMember.user_id == margaret.id))
    login(margaret)
    page = shown(client.get(f"/pairs/{margaret_pair}/program"))
    assert "What the admin did that concerned you" in page
    assert "Kwame Mensah: Added a participant" in page and "Kwame Mensah: Made a pair" in page
    assert "Tom Ortega" not in page


def test_the_log_pages_back_in_a_fixed_number_of_queries(client, session, login, program, queries):
    owner = AdminFactory()
    login(owner)

    def add(n: int) -> None:
        session.add_all(
            AuditEvent(
                program_id=program.id,
                actor_id=owner.id,
                action=AuditAction.PARTICIPANT_ADDED,
                subject_id=UserFactory().id,
            )
            for _ in range(n)
        )
        session.flush()

    add(30)
    with queries() as few:
        assert client.get(f"/admin/programs/{program.id}/log").status_code == 200
    add(60)
    with queries() as many:
        first = client.get(f"/admin/programs/{program.id}/log")
    assert few.count == many.count
    assert "Older" in text(first)
    ids = session.scalars(select(AuditEvent.id).where(AuditEvent.program_id == program.id).order_by(AuditEvent.id))
    older = client.get(f"/admin/programs/{program.id}/log?before={list(ids)[40]}")
    assert older.status_code == 200 and text(older).count("Added a participant") == 40


def test_a_former_admin_stays_in_the_log_as_such(client, session, login, program):
    kwame = ProgramAdminFactory(program=program)
    session.add(AuditEvent(program_id=program.id, actor_id=kwame.id, action=AuditAction.CSV_EXPORTED))
    session.flush()
    session.delete(kwame)
    session.flush()
    login(AdminFactory())
    assert "A former admin: Downloaded the dashboard as CSV" in shown(client.get(f"/admin/programs/{program.id}/log"))


# --- the command line ---------------------------------------------------------------------------


def test_admin_create_names_an_owner_or_a_program_admin(app, session, program):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["admin", "create", "--email", "o@northwind.example", "--name", "Olu", "--owner"])
    assert result.exit_code == 0, result.output
    assert "an owner" in result.output
    result = runner.invoke(
        args=["admin", "create", "--email", "p@northwind.example", "--name", "Pia", "--program", str(program.id)]
    )
    assert result.exit_code == 0, result.output
    session.expire_all()
    olu = session.scalar(select(User).where(User.email == "o@northwind.example"))
    pia = session.scalar(select(User).where(User.email == "p@northwind.example"))
    assert olu.is_owner and olu.is_admin and not pia.is_owner
    assert session.get(ProgramAdmin, (program.id, pia.id)) is not None
    result = runner.invoke(
        args=["admin", "create", "--email", "q@northwind.example", "--name", "Q", "--program", "999999"]
    )
    assert result.exit_code != 0 and "no program 999999" in result.output


def test_downloads_and_reading_and_answering_requests_for_help_are_logged(client, session, login, program):
    from app.models import HelpRequest

    mentee = UserFactory(name="Dev Patel")
    pair = PairFactory(program=program, mentee=mentee)
    session.add(HelpRequest(program_id=program.id, sender_id=mentee.id, pair_id=pair.id, message="Can we talk?"))
    session.flush()
    kwame = ProgramAdminFactory(program=program)
    login(kwame)
    assert client.get(f"/admin/programs/{program.id}/dashboard.csv").status_code == 200
    assert client.get(f"/admin/programs/{program.id}/help").status_code == 200
    request_id = session.scalar(select(HelpRequest.id))
    answered = client.post(
        f"/admin/programs/{program.id}/help/{request_id}/answer",
        data={f"request-{request_id}-answer": "Yes, Thursday."},
    )
    assert answered.status_code == 303
    assert events(session, program.id) == [
        (AuditAction.CSV_EXPORTED, None),
        (AuditAction.HELP_READ, None),
        (AuditAction.HELP_ANSWERED, mentee.id),
    ]
    assert "Read the requests for help (1 request)" in shown(client.get(f"/admin/programs/{program.id}/log"))
    login(mentee)
    assert "Kwame Mensah: Answered a request for help" in shown(client.get(f"/pairs/{pair.id}/program"))


def test_an_admin_who_deleted_their_account_stays_in_the_log_as_a_former_admin(app, client, session, login, program):
    from app.ending import erasure
    from app.extensions import db

    gone_admin = ProgramAdminFactory(name="Gwendolyn Pryce", program=program)
    session.add(AuditEvent(program_id=program.id, actor_id=gone_admin.id, action=AuditAction.CSV_EXPORTED))
    session.flush()
    with app.test_request_context():
        erasure.erase(db.session.get(User, gone_admin.id))
        db.session.commit()
    login(AdminFactory())
    log = words(client.get(f"/admin/programs/{program.id}/log"))
    assert "A former admin : Downloaded the dashboard as CSV" in log or "A former admin: Downloaded" in log
    assert "Gwendolyn" not in log and "A former participant: Downloaded" not in log


def test_an_admin_who_deleted_their_account_no_longer_administers_anything(app, client, session, login, program):
    from app.ending import erasure
    from app.extensions import db

    gone_admin = ProgramAdminFactory(name="Gwendolyn Pryce", program=program)
    with app.test_request_context():
        erasure.erase(db.session.get(User, gone_admin.id))
        db.session.commit()
    assert session.scalars(select(ProgramAdmin).where(ProgramAdmin.user_id == gone_admin.id)).all() == []
    login(AdminFactory())
    page = words(client.get(f"/admin/programs/{program.id}/admins"))
    assert "erased.invalid" not in page and "A former participant" not in page
