"""The admin's program set-up: settings, participants (one by one or from a CSV), pairs and the
join link. Admins see names, emails, departments and levels, who has joined and which pairs
exist; nothing a pair writes, and nothing that signs anyone in."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from factories import (
    AdminFactory,
    PairFactory,
    ProgramFactory,
    UserFactory,
)
from sqlalchemy import func, select
from support.apps import clients_of, committed_session
from support.pages import hidden_input, inline_code_in, text, words
from support.records import add_pair_content

from app.models import (
    Pair,
    PairMember,
    Participant,
    Program,
    PromptSet,
    Role,
    SignInLink,
    User,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HUGE = ("Reverse mentoring works both ways. " * 3000)[:100_000]
ODD = ["Pixel \u202eenohp\u202c", "\U0001f469\u200d\U0001f4bb Zoe\u0301", "\U0001f4f1 \u0645\u0631\u062d\u0628\u0627"]


@pytest.fixture
def admin(login):
    admin = AdminFactory()
    login(admin)
    return admin


@pytest.fixture
def program(session):
    return ProgramFactory(name="Northwind cohort")


def participant(session, program: Program, user: User | None = None, **values) -> Participant:
    user = user or UserFactory()
    row = Participant(program_id=program.id, user_id=user.id, **values)
    session.add(row)
    session.flush()
    return row


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def program_values(**changes) -> dict[str, str]:
    today = date.today()
    values = {
        "name": "Spring cohort",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=180)).isoformat(),
        "feedback_after_meeting": "y",
        "feedback_every_weeks": "4",
        "feedback_at_end": "y",
        "privacy_threshold": "5",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def upload(client, program: Program, content: bytes | str, filename: str = "people.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"/admin/programs/{program.id}/participants/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# --- programs ------------------------------------------------------------------------------------


def test_an_admin_creates_a_program_with_its_own_default_questions(client, session, admin):
    form = client.get("/admin/programs/new")
    assert form.status_code == 200
    assert 'value="5"' in form.text  # the privacy threshold defaults to 5

    response = client.post("/admin/programs/new", data=program_values())
    assert response.status_code == 303
    program = session.scalar(select(Program).where(Program.name == "Spring cohort"))
    assert response.location == f"/admin/programs/{program.id}/participants"
    assert (program.privacy_threshold, program.feedback_every_weeks) == (5, 4)
    assert (program.feedback_after_meeting, program.feedback_at_midpoint, program.feedback_at_end) == (
        True,
        False,
        True,
    )
    prompt_set = session.get(PromptSet, program.prompt_set_id)
    assert prompt_set.program_id == program.id
    assert "Spring cohort" in client.get("/admin").text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"privacy_threshold": "2"}, "at least 3"),
        ({"privacy_threshold": ""}, "at least 3"),
        ({"ends_on": (date.today() - timedelta(days=1)).isoformat()}, "can't end before it starts"),
        ({"feedback_every_weeks": "13"}, "from 0 to 12"),
        ({"name": "  "}, "Give the program a name"),
        ({"starts_on": "not a date"}, "Pick a date"),
    ],
)
def test_a_program_with_bad_settings_is_refused_and_the_input_kept(client, session, admin, changes, message):
    before = count(session, Program)
    response = client.post("/admin/programs/new", data=program_values(**({"name": "Kept name"} | changes)))
    assert response.status_code == 422
    assert message in text(response)
    assert count(session, Program) == before
    if "name" not in changes:
        assert 'value="Kept name"' in response.text


def test_an_admin_edits_a_program(client, session, admin, program):
    client.post("/admin/programs/new", data=program_values(name="Other"))  # a set that isn't this program's
    other_set = session.scalar(select(PromptSet.id).order_by(PromptSet.id.desc()))
    own = PromptSet(program_id=program.id, name="Short check-in")
    session.add(own)
    session.flush()

    page = client.get(f"/admin/programs/{program.id}/settings")
    assert page.status_code == 200
    assert 'value="Northwind cohort"' in page.text
    assert "Short check-in" in page.text and f'value="{other_set}"' not in page.text

    refused = client.post(
        f"/admin/programs/{program.id}/settings",
        data=program_values(name="Renamed", privacy_threshold="2", prompt_set_id=str(own.id)),
    )
    assert refused.status_code == 422 and 'value="Renamed"' in refused.text
    session.refresh(program)
    assert program.name == "Northwind cohort"

    someone_elses = client.post(
        f"/admin/programs/{program.id}/settings", data=program_values(prompt_set_id=str(other_set))
    )
    assert someone_elses.status_code == 422

    saved = client.post(
        f"/admin/programs/{program.id}/settings",
        data=program_values(name="Renamed", privacy_threshold="7", feedback_every_weeks="0", prompt_set_id=str(own.id)),
    )
    assert saved.status_code == 303
    session.refresh(program)
    assert (program.name, program.privacy_threshold, program.feedback_every_weeks) == ("Renamed", 7, 0)
    assert program.prompt_set_id == own.id
    assert program.feedback_at_midpoint is False  # an unticked box is saved as no
    assert "Saved the program" in client.get(saved.location).text


# --- participants --------------------------------------------------------------------------------


def test_adding_a_new_person_makes_their_account(client, session, admin, program):
    response = client.post(
        f"/admin/programs/{program.id}/participants",
        data={"name": "Aisha Khan", "email": "Aisha.Khan@Northwind.example", "department": "Data", "level": "Graduate"},
    )
    assert response.status_code == 303
    user = session.scalar(select(User).where(User.email == "aisha.khan@northwind.example"))
    assert user.name == "Aisha Khan" and not user.is_admin
    row = session.scalar(select(Participant).where(Participant.user_id == user.id))
    assert (row.program_id, row.department, row.level) == (program.id, "Data", "Graduate")
    page = client.get(response.location)
    assert "Added Aisha Khan." in text(page)
    assert "aisha.khan@northwind.example" in page.text and "Graduate" in page.text


def test_adding_an_existing_person_reuses_their_account_whatever_the_case(client, session, admin, program):
    known = UserFactory(name="Margaret Holloway", email="margaret@northwind.example")
    users = count(session, User)
    response = client.post(
        f"/admin/programs/{program.id}/participants",
        data={"name": "Maggie H", "email": "  MARGARET@Northwind.Example ", "department": "Board", "level": "Director"},
    )
    assert response.status_code == 303
    assert count(session, User) == users
    assert count(session, Participant, Participant.user_id == known.id) == 1
    session.refresh(known)
    assert known.name == "Margaret Holloway"

    again = client.post(
        f"/admin/programs/{program.id}/participants",
        data={"name": "Margaret Holloway", "email": "Margaret@northwind.example", "department": "", "level": ""},
    )
    assert again.status_code == 422
    assert "Margaret Holloway is already in this program." in text(again)
    assert 'value="Margaret@northwind.example"' in again.text  # what was typed, kept
    assert count(session, Participant, Participant.user_id == known.id) == 1


def test_the_same_person_may_join_another_program(client, session, admin, program):
    person = UserFactory()
    participant(session, ProgramFactory(), person)
    response = client.post(
        f"/admin/programs/{program.id}/participants",
        data={"name": person.name, "email": person.email, "department": "", "level": ""},
    )
    assert response.status_code == 303
    assert count(session, Participant, Participant.user_id == person.id) == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": ""}, "Enter the person's name."),
        ({"email": "not-an-address"}, "doesn't look like an email address"),
        ({"email": ""}, "Enter the person's email address"),
        ({"level": "x" * 61}, "60 characters or fewer"),
    ],
)
def test_a_bad_participant_is_refused(client, session, admin, program, values, message):
    before = count(session, Participant)
    data = {
        "name": "Kwame Mensah",
        "email": "kwame@northwind.example",
        "department": "Sales",
        "level": "Junior",
    } | values
    response = client.post(f"/admin/programs/{program.id}/participants", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(session, Participant) == before


# --- CSV import ----------------------------------------------------------------------------------


def test_a_valid_file_adds_everyone(client, session, admin, program):
    existing = UserFactory(name="Helen Castellano", email="helen@northwind.example")
    content = (
        "\ufeffEmail,Level,Name,Department,Notes\r\n"  # a BOM, columns in any order, an extra column
        "mei.lin@northwind.example,Graduate,Mei Lin,Engineering,likes tea\r\n"
        "\r\n"
        "HELEN@northwind.example,Director,Helen C.,Finance,\r\n"
        '"tomas@northwind.example",Junior,"Ortega, Tomás",Sales,\r\n'
    )
    response = upload(client, program, content.encode("utf-8"))
    assert response.status_code == 303
    page = client.get(response.location)
    assert "Added 3 people from the file." in text(page)
    people = {
        user.email: (user.name, row.department, row.level)
        for row, user in session.execute(
            select(Participant, User)
            .join(User, User.id == Participant.user_id)
            .where(Participant.program_id == program.id)
        )
    }
    assert people == {
        "mei.lin@northwind.example": ("Mei Lin", "Engineering", "Graduate"),
        "helen@northwind.example": ("Helen Castellano", "Finance", "Director"),
        "tomas@northwind.example": ("Ortega, Tomás", "Sales", "Junior"),
    }
    assert count(session, User, User.email == existing.email) == 1
    assert "likes tea" not in page.text


def test_a_semicolon_file_from_a_european_spreadsheet_is_read(client, session, admin, program):
    response = upload(client, program, "name;email;department;level\nZainab Yusuf;zainab@northwind.example;HR;Junior\n")
    assert response.status_code == 303
    assert count(session, Participant, Participant.program_id == program.id) == 1


def test_a_file_with_bad_rows_writes_nothing_and_names_each_problem(client, session, admin, program):
    participant(session, program, UserFactory(email="already@northwind.example"))
    users, participants = count(session, User), count(session, Participant)
    content = (
        "name,email,department,level\n"
        "Good Person,good@northwind.example,Sales,Junior\n"  # line 2: fine, yet not written
        ",empty.name@northwind.example,Sales,Junior\n"  # 3
        "Bad Email,not-an-email,Sales,Junior\n"  # 4
        "Again,GOOD@northwind.example,Sales,Junior\n"  # 5
        "Short Row,short@northwind.example\n"  # 6
        "Already,already@northwind.example,Sales,Junior\n"  # 7
        "No Email,,Sales,Junior\n"  # 8
    )
    response = upload(client, program, content)
    assert response.status_code == 422
    shown = words(response)
    assert "Nothing was imported." in shown
    assert "Line 3: The name is empty." in shown
    assert "Line 4: “not-an-email” is not an email address." in shown
    assert "Line 5: good@northwind.example is already on line 2." in shown
    assert "Line 6: The “department” and “level” columns are missing." in shown
    assert "Line 7: already@northwind.example is already in this program." in shown
    assert "Line 8: The email is empty." in shown
    assert "Line 2" not in shown
    assert (count(session, User), count(session, Participant)) == (users, participants)


def test_a_person_added_meanwhile_by_another_admin_stops_the_import(client, session, admin, program, monkeypatch):
    from app.admin import setup

    participant(session, program, UserFactory(email="raced@northwind.example"))
    monkeypatch.setattr(setup, "participant_emails", lambda program_id: set())  # as if read before they were added
    content = "name,email,department,level\nNew One,new@northwind.example,,\nRaced,raced@northwind.example,,\n"
    response = upload(client, program, content)
    assert response.status_code == 409
    assert "nothing was saved" in text(response)
    assert count(session, User, User.email == "new@northwind.example") == 0
    assert count(session, Participant, Participant.program_id == program.id) == 1


def test_a_file_that_is_not_utf8_is_refused_whole(client, session, admin, program):
    content = "name,email,department,level\nTomás Ortega,tomas@northwind.example,Sales,Junior\n".encode("cp1252")
    response = upload(client, program, content)
    assert response.status_code == 422
    assert "not in UTF-8" in text(response) and "CSV UTF-8" in text(response)
    assert count(session, Participant) == 0


def test_a_missing_header_column_is_named(client, session, admin, program):
    response = upload(client, program, "name,e-mail,level\nMei Lin,mei@northwind.example,Graduate\n")
    assert response.status_code == 422
    assert "Line 1: The header row has no “email” and “department” columns." in words(response)
    assert count(session, Participant) == 0


def test_no_file_empty_files_and_oversized_files_are_refused(client, session, admin, program, monkeypatch):
    none = client.post(f"/admin/programs/{program.id}/participants/import", data={}, content_type="multipart/form-data")
    assert none.status_code == 422 and "Choose a CSV file" in none.text
    assert "The file is empty" in text(upload(client, program, b""))
    assert "nobody in it" in text(upload(client, program, "name,email,department,level\n"))

    from app.admin import csv_import

    monkeypatch.setattr(csv_import, "MAX_ROWS", 3)
    rows = "".join(f"P{i},p{i}@northwind.example,,\n" for i in range(4))
    too_many = upload(client, program, "name,email,department,level\n" + rows)
    assert too_many.status_code == 422 and "more than 3 people" in text(too_many)
    big = upload(client, program, "name,email,department,level\n" + "x" * (csv_import.MAX_BYTES + 1))
    assert big.status_code == 422 and "larger than 512 KB" in text(big)
    assert count(session, Participant) == 0


# --- pairs ---------------------------------------------------------------------------------------


def test_an_admin_makes_a_pair_choosing_who_mentors(client, session, admin, program):
    junior = participant(session, program, UserFactory(name="Kwame Mensah"), department="Data", level="Graduate")
    senior = participant(session, program, UserFactory(name="Peter Lindqvist"), department="Board", level="Director")
    page = client.get(f"/admin/programs/{program.id}/pairs")
    assert page.status_code == 200
    assert "mentor is usually the junior colleague" in words(page)
    assert "Kwame Mensah (Data, Graduate)" in text(page)

    response = client.post(
        f"/admin/programs/{program.id}/pairs", data={"mentor": str(junior.id), "mentee": str(senior.id)}
    )
    assert response.status_code == 303
    pair = session.scalar(select(Pair).where(Pair.program_id == program.id))
    roles = dict(
        session.execute(select(PairMember.user_id, PairMember.role).where(PairMember.pair_id == pair.id)).all()
    )
    assert roles == {junior.user_id: Role.MENTOR, senior.user_id: Role.MENTEE}
    listed = words(client.get(response.location))
    assert "Kwame Mensah (mentor) and Peter Lindqvist (mentee)" in listed

    twice = client.post(
        f"/admin/programs/{program.id}/pairs", data={"mentor": str(senior.id), "mentee": str(junior.id)}
    )
    assert twice.status_code == 422 and "already a pair" in text(twice)
    assert count(session, Pair, Pair.program_id == program.id) == 1


def test_a_pair_needs_two_different_people_of_the_program(client, session, admin, program):
    one = participant(session, program)
    participant(session, program)
    elsewhere = participant(session, ProgramFactory())
    same = client.post(f"/admin/programs/{program.id}/pairs", data={"mentor": str(one.id), "mentee": str(one.id)})
    assert same.status_code == 422 and "nobody can mentor themselves" in text(same)
    outside = client.post(
        f"/admin/programs/{program.id}/pairs", data={"mentor": str(one.id), "mentee": str(elsewhere.id)}
    )
    assert outside.status_code == 422 and "Choose the mentee from the list." in text(outside)
    unchosen = client.post(f"/admin/programs/{program.id}/pairs", data={"mentor": "0", "mentee": "nonsense"})
    assert unchosen.status_code == 422 and "Choose the mentor." in text(unchosen)
    assert count(session, Pair) == 0


def test_the_pairs_page_shows_names_and_nothing_a_pair_wrote(client, session, admin, program):
    pair = PairFactory(program=program)
    add_pair_content(session, pair, pair.mentor)
    page = client.get(f"/admin/programs/{program.id}/pairs")
    assert pair.mentor.name in text(page) and pair.mentee.name in text(page)
    for written in ("Onboarding as new hires see it", "Run a team channel", "We talked.", "Share the deck"):
        assert written not in page.text
    assert f"/pairs/{pair.id}" not in page.text  # an admin is never sent into a pair's space


# --- joining: nothing the admin is shown signs anyone in -------------------------------------------


def test_the_participants_page_shows_the_join_link_and_qr_code(app, client, session, admin, program):
    participant(session, program, UserFactory(name="Amara Okafor"))
    page = client.get(f"/admin/programs/{program.id}/participants")
    assert page.status_code == 200
    url = re.search(r'id="join-link" type="url" value="(http://localhost:5000/join/[^"]+)"', page.text)[1]
    assert url == f"http://localhost:5000/join/{program.join_token}"
    assert re.search(
        r'<img class="qr" src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="QR code of the join page of Northwind cohort">',
        page.text,
    )
    assert "/auth/link/" not in page.text and "Sign-in link" not in page.text
    assert inline_code_in(page.text) == []

    # Whoever opens it (the admin's own phone included) gets a form, and no session.
    phone = app.test_client()
    join = phone.get(url.removeprefix("http://localhost:5000"))
    assert join.status_code == 200 and "Join Northwind cohort" in text(join)
    assert "Amara" not in text(join)
    assert phone.get("/").status_code == 302


def test_no_admin_page_or_form_makes_a_sign_in_link(app, client, session, admin, program):
    """Before, a POST here made a one-time link for a participant and showed it to the admin."""
    row = participant(session, program, UserFactory(name="Amara Okafor"))
    for method, url in admin_routes(program.id, row.id):
        client.open(url, method=method)
    assert client.post(f"/admin/programs/{program.id}/participants/{row.id}/sign-in-link").status_code == 404
    assert count(session, SignInLink) == 0
    assert not [rule.rule for rule in app.url_map.iter_rules() if "sign-in-link" in rule.rule]


def test_joined_means_signed_in_at_least_once(app, client, session, admin, program):
    """Before, someone who had never signed in showed as "Started" once their partner had."""
    from app.models import utcnow

    mentor, mentee = UserFactory(name="Aisha Khan"), UserFactory(name="Margaret Holloway")
    for user in (mentor, mentee):
        participant(session, program, user)
    PairFactory(program=program, mentor=mentor, mentee=mentee)
    mentee.first_signed_in_at = mentee.last_signed_in_at = utcnow()
    session.flush()
    rows = dict(
        re.findall(
            r"<th scope=\"row\"><bdi>([^<]+)</bdi>.*?<td>(Joined|Not joined yet)</td>",
            client.get(f"/admin/programs/{program.id}/participants").text,
            re.DOTALL,
        )
    )
    assert rows == {"Aisha Khan": "Not joined yet", "Margaret Holloway": "Joined"}


def test_an_existing_account_is_added_as_itself(client, admin, session):
    """The admin may add someone who already uses Twoway to a program of their own, but not rename
    them or point their account at another address: their sign-in mail keeps going to them."""
    from app.models import utcnow

    elsewhere = PairFactory()
    person = elsewhere.mentee
    person.first_signed_in_at = person.last_signed_in_at = utcnow()
    name, email = person.name, person.email
    mine = ProgramFactory(name="A program of my own")
    added = client.post(
        f"/admin/programs/{mine.id}/participants",
        data={"name": "Someone Else", "email": email.upper(), "department": "Data", "level": ""},
    )
    assert added.status_code == 303
    assert "they take part as themselves" in text(client.get(added.location))
    imported = upload(client, ProgramFactory(), f"name,email,department,level\nRenamed,{email},,\n")
    assert imported.status_code == 303
    session.refresh(person)
    assert (person.name, person.email) == (name, email)
    assert count(session, SignInLink) == 0


# --- admins are never pair members ------------------------------------------------------------------

ADMIN_REFUSED = "is a program admin. Admins can't take part in a program or be in a pair"


def test_an_admin_s_own_address_cannot_be_added_as_a_participant(client, session, admin, program):
    other_admin = AdminFactory(email="other.admin@northwind.example")
    for email in (admin.email, other_admin.email.upper()):
        response = client.post(
            f"/admin/programs/{program.id}/participants",
            data={"name": "Me Myself", "email": email, "department": "", "level": ""},
        )
        assert response.status_code == 422
        assert ADMIN_REFUSED in text(response)
        assert f'value="{email}"' in response.text  # what was typed, kept
    assert count(session, Participant) == 0


def test_a_file_with_an_admin_s_address_is_refused_whole(client, session, admin, program):
    response = upload(
        client, program, f"name,email,department,level\nNew One,new@northwind.example,,\nMe,{admin.email},,\n"
    )
    assert response.status_code == 422
    assert f"Line 3: {admin.email} {ADMIN_REFUSED}" in words(response)
    assert count(session, Participant) == 0


def test_a_pair_with_an_admin_in_it_is_refused(client, session, admin, program):
    promoted = UserFactory(name="Promoted Later")
    rows = [participant(session, program, promoted), participant(session, program)]
    promoted.is_admin = True  # made an admin (by hand, say) after being added
    session.flush()
    response = client.post(
        f"/admin/programs/{program.id}/pairs", data={"mentor": str(rows[0].id), "mentee": str(rows[1].id)}
    )
    assert response.status_code == 422
    assert f"Promoted Later {ADMIN_REFUSED}" in text(response)
    assert count(session, Pair) == 0


def test_an_admin_in_a_pair_is_404_even_so(client, session, login):
    pair = PairFactory()
    pair.mentor.is_admin = True  # slipped in by hand: the guard still refuses
    session.flush()
    login(pair.mentor)
    assert client.get(f"/pairs/{pair.id}").status_code == 404
    assert client.get(f"/pairs/{pair.id}/journal").status_code == 404


# --- who may ---------------------------------------------------------------------------------------


def admin_routes(program_id: int, participant_id: int) -> list[tuple[str, str]]:
    base = f"/admin/programs/{program_id}"
    return [
        ("GET", "/admin/programs/new"),
        ("POST", "/admin/programs/new"),
        ("GET", f"{base}/settings"),
        ("POST", f"{base}/settings"),
        ("GET", f"{base}/participants"),
        ("POST", f"{base}/participants"),
        ("POST", f"{base}/participants/import"),
        ("GET", f"{base}/pairs"),
        ("POST", f"{base}/pairs"),
    ]


def test_people_who_are_not_admins_find_no_such_pages(client, session, login, program):
    pair = PairFactory(program=program)
    row = participant(session, program, pair.mentor)
    counts = (count(session, Program), count(session, Participant), count(session, Pair), count(session, SignInLink))
    for method, url in admin_routes(program.id, row.id):
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.location.startswith("/auth/sign-in"), f"{method} {url}"
    for person in (pair.mentor, UserFactory()):
        login(person)
        for method, url in admin_routes(program.id, row.id):
            assert client.open(url, method=method).status_code == 404, f"{method} {url}"
    assert (
        count(session, Program),
        count(session, Participant),
        count(session, Pair),
        count(session, SignInLink),
    ) == counts


def test_ids_that_do_not_exist_are_404_for_admins_too(client, session, admin, program):
    row = participant(session, program)
    for method, url in admin_routes(999999, row.id)[2:]:
        assert client.open(url, method=method).status_code == 404, f"{method} {url}"


# --- hostile input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [SCRIPT, IMG, *ODD], ids=["script", "img", "rtl", "zwj", "arabic"])
def test_hostile_text_is_shown_as_text(client, session, admin, typed):
    created = client.post("/admin/programs/new", data=program_values(name=typed))
    assert created.status_code == 303
    program = session.scalar(select(Program).where(Program.name == typed))
    added = client.post(
        f"/admin/programs/{program.id}/participants",
        data={"name": typed, "email": "hostile@northwind.example", "department": typed, "level": typed[:60]},
    )
    assert added.status_code == 303
    other = participant(session, program, UserFactory(name="Plain Person"))
    me = session.scalar(select(Participant).where(Participant.program_id == program.id, Participant.id != other.id))
    client.post(f"/admin/programs/{program.id}/pairs", data={"mentor": str(me.id), "mentee": str(other.id)})
    pages = [
        client.get("/admin"),
        client.get(f"/admin/programs/{program.id}/settings"),
        client.get(f"/admin/programs/{program.id}/participants"),
        client.get(f"/admin/programs/{program.id}/pairs"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert inline_code_in(page.text) == []
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert typed in text(page)


@pytest.mark.parametrize("field", ["name", "email", "department", "level"])
def test_huge_or_hostile_participant_fields_are_refused_and_kept_harmless(client, session, admin, program, field):
    for typed in (HUGE, IMG):
        data = {"name": "Mei Lin", "email": "mei@northwind.example", "department": "", "level": ""} | {field: typed}
        response = client.post(f"/admin/programs/{program.id}/participants", data=data)
        if typed == IMG and field in ("name", "department", "level"):
            assert response.status_code == 303  # odd but harmless text is accepted (and escaped when shown)
            session.execute(Participant.__table__.delete().where(Participant.program_id == program.id))
            continue
        assert response.status_code == 422, (field, typed[:20])
        assert inline_code_in(response.text) == []
        assert "<img src=x" not in response.text


def test_a_huge_program_name_is_refused(client, session, admin):
    response = client.post("/admin/programs/new", data=program_values(name=HUGE))
    assert response.status_code == 422 and "120 characters or fewer" in text(response)
    assert inline_code_in(response.text) == []


def test_hostile_values_in_a_csv_are_escaped_in_the_report(client, session, admin, program):
    content = (
        f'name,email,department,level\n"{IMG}",{SCRIPT},Sales,Junior\n{SCRIPT},"{IMG}@x.example",,\n'
        f"{HUGE},huge@northwind.example,{HUGE},{HUGE}\n"
    )
    response = upload(client, program, content)
    assert response.status_code == 422
    shown = words(response)
    assert "Line 4: The name is longer than 120 characters." in shown
    assert "Line 4: The level is longer than 60 characters." in shown
    assert HUGE[:200] not in response.text  # a bad value is never echoed back whole
    assert inline_code_in(response.text) == []
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    assert f"“{SCRIPT}” is not an email address." in text(response)
    assert count(session, Participant) == 0


def test_control_characters_and_nul_in_a_csv_are_dropped(client, session, admin, program):
    response = upload(client, program, "name,email,department,level\nMei\x00 Lin\x07,mei@northwind.example,Data,\n")
    assert response.status_code == 303
    assert session.scalar(select(User.name).where(User.email == "mei@northwind.example")) == "Mei Lin"


# --- queries -------------------------------------------------------------------------------------


def _grow(session, program: Program, people: int) -> None:
    rows = [participant(session, program, department="Data", level="Graduate") for _ in range(people)]
    for mentor, mentee in zip(rows[::2], rows[1::2], strict=False):
        PairFactory(program=program, mentor=session.get(User, mentor.user_id), mentee=session.get(User, mentee.user_id))


@pytest.mark.parametrize(
    "path",
    ["/admin", "/admin/programs/new", "{base}/settings", "{base}/participants", "{base}/pairs"],
)
def test_admin_pages_use_few_queries_however_big_the_program(client, session, admin, program, queries, path):
    # Not "page": pytest-playwright owns that fixture name, and would run this once per browser.
    url = path.format(base=f"/admin/programs/{program.id}")
    _grow(session, program, 6)
    client.get(url)  # warm up (first-request work is not the page's)
    with queries() as small:
        assert client.get(url).status_code == 200
    _grow(session, program, 6)
    ProgramFactory()
    with queries() as large:
        assert client.get(url).status_code == 200
    assert small.count <= 8, small.statements
    assert large.count == small.count, large.statements


# --- with CSRF protection on, every admin form carries its token -----------------------------------


def test_every_admin_form_works_with_its_token_and_not_without(csrf_app):
    app = csrf_app
    with committed_session(app) as session:
        admin = AdminFactory()
        session.commit()
        (client,) = clients_of(app, admin)

        def token(url: str) -> str:
            return hidden_input(client.get(url).text)[1]

        assert client.post("/admin/programs/new", data=program_values()).status_code == 400
        made = client.post("/admin/programs/new", data=program_values(csrf_token=token("/admin/programs/new")))
        assert made.status_code == 303
        base = made.location.removesuffix("/participants")
        program_id = int(base.rsplit("/", 1)[1])
        prompt_set_id = str(session.scalar(select(Program.prompt_set_id).where(Program.id == program_id)))
        session.rollback()  # end the read, so the app can write (SQLite has one writer)
        writes = [
            (f"{base}/settings", program_values(name="Renamed", prompt_set_id=prompt_set_id), {}),
            (
                f"{base}/participants",
                {"name": "Mei Lin", "email": "mei@northwind.example", "department": "", "level": ""},
                {},
            ),
            (
                f"{base}/participants",
                {"name": "Kwame", "email": "kwame@northwind.example", "department": "", "level": ""},
                {},
            ),
            (
                f"{base}/participants/import",
                {},
                {"file": (io.BytesIO(b"name,email,department,level\nA B,ab@x.example,,\n"), "a.csv")},
            ),
        ]
        for url, data, files in writes:
            form_page = url if url.endswith("/settings") else f"{base}/participants"
            without = client.post(url, data=data | files, content_type="multipart/form-data")
            assert without.status_code == 400, url
            if files:
                files = {"file": (io.BytesIO(b"name,email,department,level\nA B,ab@x.example,,\n"), "a.csv")}
            with_token = client.post(
                url, data=data | files | {"csrf_token": token(form_page)}, content_type="multipart/form-data"
            )
            assert with_token.status_code == 303, url
        people = session.scalars(
            select(Participant.id).where(Participant.program_id == program_id).order_by(Participant.id)
        ).all()
        session.rollback()
        assert len(people) == 3
        pair = {"mentor": str(people[0]), "mentee": str(people[1])}
        assert client.post(f"{base}/pairs", data=pair).status_code == 400
        assert client.post(f"{base}/pairs", data=pair | {"csrf_token": token(f"{base}/pairs")}).status_code == 303
        assert session.scalar(select(func.count(Pair.id)).where(Pair.program_id == program_id)) == 1


def test_the_privacy_threshold_only_goes_up_once_there_are_pairs(client, admin, program, session):
    from factories import PairFactory

    def save(k: int):
        data = {
            "name": program.name,
            "starts_on": program.starts_on.isoformat(),
            "ends_on": program.ends_on.isoformat(),
            "privacy_threshold": str(k),
            "feedback_every_weeks": "4",
            "feedback_after_meeting": "y",
        }
        return client.post(f"/admin/programs/{program.id}/settings", data=data)

    assert save(4).status_code == 303  # no pairs yet: the admin is still setting up
    PairFactory(program=program)
    refused = save(3)
    assert refused.status_code == 422 and "can only go up" in refused.get_data(as_text=True)
    assert save(6).status_code == 303
    session.refresh(program)
    assert program.privacy_threshold == 6
