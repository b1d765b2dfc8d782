"""Double submits create one thing: adding a goal, a milestone, logging a meeting, asking the
program for help, and the admin's program, participant, import and pair forms each carry an
idempotency key, so a double tap or a retry makes one and answers
as the first did. (The topic box has its own tests in test_idempotency.py.)"""

from __future__ import annotations

import re
from datetime import date

import pytest
from factories import AdminFactory, ProgramFactory, UserFactory
from sqlalchemy import func, select
from support.apps import clients_of, committed_pair, committed_session, own_app
from support.parallel import at_once

from app.extensions import db
from app.models import Goal, HelpRequest, Meeting, Milestone, Pair, Participant, Program

HTMX = {"HX-Request": "true"}


def _key(page: str, field_id: str = "idempotency_key") -> str:
    found = re.search(rf'id="{field_id}" name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert found, f"no idempotency key {field_id!r} on the page"
    return found.group(1)


def _count(session, model, **where) -> int:
    query = select(func.count(model.id)).filter_by(**where)
    return session.scalar(query.execution_options(populate_existing=True))


def _goal_data(key: str, title: str = "Learn to read a Figma file") -> dict[str, str]:
    values = {"learner": "mentee", "title": title, "why": "", "success": "", "target_on": ""}
    return {"idempotency_key": key} | {f"new-{name}": value for name, value in values.items()}


def test_a_refused_goal_keeps_its_key_and_the_board_after_an_add_has_a_new_one(mentee, session, pair):
    board = {**HTMX, "HX-Target": "board"}
    key = _key(mentee.get(f"/pairs/{pair.id}/goals").text, "new-idempotency_key")
    refused = mentee.post(f"/pairs/{pair.id}/goals", data=_goal_data(key, title=""), headers=board)
    assert refused.status_code == 422 and _key(refused.text, "new-idempotency_key") == key
    added = mentee.post(f"/pairs/{pair.id}/goals", data=_goal_data(key), headers=board)
    assert added.status_code == 200
    assert _key(added.text, "new-idempotency_key") != key  # the blank box is ready for the next goal
    assert mentee.post(f"/pairs/{pair.id}/goals", data=_goal_data(key), headers=board).text == added.text
    assert _count(session, Goal, pair_id=pair.id) == 1


def test_adding_a_milestone_twice_with_one_key_adds_one(mentee, session, pair):
    goal = Goal(pair_id=pair.id, learner="mentee", title="Use Notion", version=1)
    session.add(goal)
    session.flush()
    page = mentee.get(f"/pairs/{pair.id}/goals").text
    key = _key(page, f"goal-{goal.id}-milestone-idempotency_key")
    data = {f"goal-{goal.id}-milestone-title": "Make one page", "idempotency_key": key}
    headers = {**HTMX, "HX-Target": f"goal-{goal.id}"}
    first = mentee.post(f"/pairs/{pair.id}/goals/{goal.id}/milestones", data=data, headers=headers)
    again = mentee.post(f"/pairs/{pair.id}/goals/{goal.id}/milestones", data=data, headers=headers)
    assert first.status_code == again.status_code == 200 and again.text == first.text
    assert _count(session, Milestone, goal_id=goal.id) == 1


def _log_data(key: str, notes: str = "We met on Teams") -> dict[str, str]:
    return {
        "idempotency_key": key,
        "held_on": date.today().isoformat(),
        "length_minutes": "30",
        "format": "video",
        "notes": notes,
        "reflection": "",
    }


@pytest.mark.parametrize(
    "form_at, action, key_id, data, model",
    [
        ("goals", "goals", "new-idempotency_key", _goal_data, Goal),
        ("journal/new", "journal/new", "idempotency_key", _log_data, Meeting),
    ],
    ids=["a goal", "a meeting"],
)
def test_sending_a_new_form_twice_with_one_key_makes_one(mentee, session, pair, form_at, action, key_id, data, model):
    key = _key(mentee.get(f"/pairs/{pair.id}/{form_at}").text, key_id)
    first = mentee.post(f"/pairs/{pair.id}/{action}", data=data(key))
    again = mentee.post(f"/pairs/{pair.id}/{action}", data=data(key))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(session, model, pair_id=pair.id) == 1


def test_another_action_row_keeps_the_key_and_claims_nothing(mentor, session, pair):
    key = _key(mentor.get(f"/pairs/{pair.id}/journal/new").text)
    longer = mentor.post(f"/pairs/{pair.id}/journal/new/rows", data=_log_data(key))
    assert longer.status_code == 200 and _key(longer.text) == key
    assert mentor.post(f"/pairs/{pair.id}/journal/new", data=_log_data(key)).status_code == 303
    assert _count(session, Meeting, pair_id=pair.id) == 1


def test_asking_for_help_twice_with_one_key_sends_one(mentee, session, pair):
    key = _key(mentee.get(f"/pairs/{pair.id}/program").text)
    data = {"message": "We can't find a time to meet", "idempotency_key": key}
    first = mentee.post(f"/pairs/{pair.id}/program/help", data=data)
    again = mentee.post(f"/pairs/{pair.id}/program/help", data=data)
    assert first.status_code == again.status_code == 303
    assert _count(session, HelpRequest, pair_id=pair.id) == 1
    fragment = {**HTMX, "HX-Target": "help"}
    key = _key(mentee.get(f"/pairs/{pair.id}/program").text)
    data = {"message": "And another thing", "idempotency_key": key}
    sent = mentee.post(f"/pairs/{pair.id}/program/help", data=data, headers=fragment)
    assert sent.status_code == 200 and "Sent." in sent.text
    assert mentee.post(f"/pairs/{pair.id}/program/help", data=data, headers=fragment).text == sent.text
    assert _count(session, HelpRequest, pair_id=pair.id) == 2


def test_parallel_copies_of_one_meeting_log_one(tmp_path):
    copies = 4
    with own_app(tmp_path) as app:
        pair = committed_pair(app)
        pair_id, mentor = pair.id, pair.mentor
        clients = clients_of(app, *[mentor] * copies)

        def send(client) -> tuple[int, str]:
            response = client.post(f"/pairs/{pair_id}/journal/new", data=_log_data("m" * 22, "Only once"))
            return response.status_code, response.headers.get("Location", "")

        answers = at_once(send, [(client,) for client in clients])
        with app.app_context():
            logged = db.session.scalar(select(func.count(Meeting.id)).where(Meeting.pair_id == pair_id))
        assert len(answers) == copies and len(set(answers)) == 1 and answers[0][0] == 303
        assert logged == 1


def _program_data(key: str) -> dict[str, str]:
    today = date.today()
    return {
        "idempotency_key": key,
        "name": "Autumn cohort",
        "starts_on": today.isoformat(),
        "ends_on": today.replace(year=today.year + 1).isoformat(),
        "feedback_every_weeks": "4",
        "privacy_threshold": "5",
    }


def test_creating_a_program_twice_with_one_key_creates_one(client, session, login):
    login(AdminFactory())
    key = _key(client.get("/admin/programs/new").text)
    first = client.post("/admin/programs/new", data=_program_data(key))
    again = client.post("/admin/programs/new", data=_program_data(key))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert _count(session, Program, name="Autumn cohort") == 1


def test_parallel_copies_of_one_pairing_make_one_pair(tmp_path):
    copies = 4
    with own_app(tmp_path) as app:
        with committed_session(app) as session:
            admin, program = AdminFactory(), ProgramFactory()
            people = [UserFactory(), UserFactory()]
            session.flush()
            rows = [Participant(program_id=program.id, user_id=person.id) for person in people]
            session.add_all(rows)
            session.commit()
            program_id, mentor, mentee = program.id, rows[0].id, rows[1].id
        clients = clients_of(app, *[admin] * copies)

        def send(client) -> int:
            data = {"mentor": str(mentor), "mentee": str(mentee), "idempotency_key": "p" * 22}
            return client.post(f"/admin/programs/{program_id}/pairs", data=data).status_code

        answers = at_once(send, [(client,) for client in clients])
        with app.app_context():
            made = db.session.scalar(select(func.count(Pair.id)).where(Pair.program_id == program_id))
        assert answers == [303] * copies
        assert made == 1


def test_adding_a_participant_twice_with_one_key_answers_as_the_first_time(client, session, login):
    login(AdminFactory())
    program = ProgramFactory()
    key = _key(client.get(f"/admin/programs/{program.id}/participants").text)
    data = {"idempotency_key": key, "name": "Nia Brown", "email": "nia@example.org", "department": "", "level": ""}
    first = client.post(f"/admin/programs/{program.id}/participants", data=data)
    again = client.post(f"/admin/programs/{program.id}/participants", data=data)
    assert first.status_code == again.status_code == 303  # not "already in this program"
    assert _count(session, Participant, program_id=program.id) == 1
