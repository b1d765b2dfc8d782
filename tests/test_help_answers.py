"""The admin answers a request for help in Twoway: the answer is read by the person who asked and
nobody else, who is told by their chosen channel that there is one (never its words)."""

from __future__ import annotations

import re

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import select
from support.faults import lost_at
from support.mailbox import text_of
from support.pages import inline_code_in, text, words

from app.admin.forms import ANSWER_MAX
from app.models import AuditAction, AuditEvent, Channel, HelpRequest, Kind, NotificationPreference
from app.reminders import push

ANSWER = "Let's talk on Thursday: I'll find you both a new slot."


@pytest.fixture
def program(session):
    return ProgramFactory(name="Spring cohort")


@pytest.fixture
def asked(session, program, pair, login, sent_mail):
    """Margaret asked for help and chose to tell Aisha; the admins' notices are cleared."""
    pair.program = program
    session.flush()
    client = login(pair.mentee)
    assert (
        client.post(
            f"/pairs/{pair.id}/program/help", data={"message": "Can we switch?", "tell_partner": "y"}
        ).status_code
        == 303
    )
    sent_mail.clear()
    return session.scalars(select(HelpRequest)).one()


@pytest.fixture
def admin(app, login):
    return login(AdminFactory(), on=app.test_client())


def answer(client, request, text_: str, *, base: str | None = None, htmx: bool = False):
    prefix = f"request-{request.id}-"
    data = {prefix + "answer": text_, prefix + "answered_at": base if base is not None else ""}
    headers = {"HX-Request": "true", "HX-Target": f"help_request-{request.id}"} if htmx else {}
    return client.post(f"/admin/programs/{request.program_id}/help/{request.id}/answer", data=data, headers=headers)


def program_page(client, pair) -> str:
    return words(client.get(f"/pairs/{pair.id}/program"))


def test_the_answer_is_stored_and_read_by_the_sender_alone(app, session, login, pair, asked, admin, sent_mail):
    response = answer(admin, asked, ANSWER)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/help#help_request-{asked.id}")
    session.refresh(asked)
    assert asked.answer == ANSWER and asked.answered_at is not None and asked.answered_by_id is not None

    sender = login(pair.mentee)
    assert ANSWER in program_page(sender, pair)
    assert "only you can see this" in program_page(sender, pair)
    # The partner was told of the request, and still never reads the answer.
    partner = login(pair.mentor, on=app.test_client())
    partner_page = program_page(partner, pair)
    assert "asked the program for help on" in partner_page
    assert ANSWER not in partner_page and "answered on" not in partner_page
    # Another pair of the same program, and someone from nowhere.
    other = PairFactory(program=asked_program(session, asked))
    assert ANSWER not in program_page(login(other.mentee, on=app.test_client()), other)
    assert login(UserFactory(), on=app.test_client()).get(f"/pairs/{pair.id}/program").status_code == 404
    anonymous = app.test_client().get(f"/pairs/{pair.id}/program")
    assert anonymous.status_code == 302 and ANSWER not in anonymous.text
    # The admin sees what they sent.
    assert ANSWER in words(admin.get(f"/admin/programs/{asked.program_id}/help"))


def asked_program(session, request):
    from app.models import Program

    return session.get(Program, request.program_id)


def test_the_sender_alone_is_told_by_mail_without_the_answer(pair, asked, admin, sent_mail):
    answer(admin, asked, ANSWER)
    [message] = sent_mail
    assert message["To"] == pair.mentee.email
    assert message["Subject"] == "The program admin answered your request"
    body = text_of(message)
    assert "Thursday" not in message.as_string() and "Thursday" not in body
    assert "Can we switch" not in body
    assert f"http://localhost:5000/pairs/{pair.id}/program#help" in body
    assert "Spring cohort" in body


def test_the_sender_is_told_by_push_when_they_chose_it(session, pair, asked, admin, sent_mail, monkeypatch):
    pushed = []
    monkeypatch.setattr(push, "send", lambda user, message, **_: pushed.append((user.id, message)) or True)
    session.add(NotificationPreference(user_id=pair.mentee.id, kind=Kind.HELP_ANSWER, channel=Channel.PUSH))
    answer(admin, asked, ANSWER)
    assert sent_mail == []
    [(user_id, message)] = pushed
    assert user_id == pair.mentee.id and message.subject == "The program admin answered your request"
    assert "Thursday" not in " ".join(message.paragraphs)


def test_turned_off_nothing_is_sent_and_the_answer_is_still_on_the_page(session, login, pair, asked, admin, sent_mail):
    session.add(NotificationPreference(user_id=pair.mentee.id, kind=Kind.HELP_ANSWER, channel=Channel.OFF))
    answer(admin, asked, ANSWER)
    assert sent_mail == []
    assert ANSWER in program_page(login(pair.mentee), pair)


def current_base(admin, request) -> str:
    page = admin.get(f"/admin/programs/{request.program_id}/help").get_data(as_text=True)
    return re.search(rf'name="request-{request.id}-answered_at"[^>]*value="([^"]*)"', page)[1]


def test_an_answer_is_never_kept_without_its_line_in_the_log(connection, session, asked, admin, sent_mail):
    """The answer and its audit line are one transaction (app/admin/audit.py): a request that fails
    as it writes the line keeps neither, and its sender is told nothing."""
    with lost_at(connection, "INSERT INTO audit_event"):
        answer(admin, asked, ANSWER)
    session.expire_all()
    assert session.get(HelpRequest, asked.id).answered_at is None
    assert sent_mail == []
    # Sent again, both are kept.
    assert answer(admin, asked, ANSWER).status_code == 303
    session.expire_all()
    assert session.get(HelpRequest, asked.id).answer == ANSWER
    logged = session.scalars(select(AuditEvent.action).where(AuditEvent.program_id == asked.program_id)).all()
    assert logged.count(AuditAction.HELP_ANSWERED) == 1


def test_an_amended_answer_replaces_the_first_and_is_told_of_again(session, login, pair, asked, admin, sent_mail):
    answer(admin, asked, ANSWER)
    session.refresh(asked)
    first_at = asked.answered_at
    assert answer(admin, asked, "Thursday at 10, room 4.12.", base=current_base(admin, asked)).status_code == 303
    session.refresh(asked)
    assert asked.answer == "Thursday at 10, room 4.12." and asked.answered_at > first_at
    assert [m["Subject"] for m in sent_mail] == [
        "The program admin answered your request",
        "The program admin updated their answer to your request",
    ]
    page = program_page(login(pair.mentee), pair)
    assert "Thursday at 10, room 4.12." in page and "find you both" not in page
    # The same words again (a double tap): nothing changes, nobody is told again.
    same = answer(admin, asked, "Thursday at 10, room 4.12.", base=current_base(admin, asked))
    assert same.status_code == 303
    assert len(sent_mail) == 2


def test_two_admins_answering_at_once_never_overwrite_each_other_silently(app, session, login, asked, admin, sent_mail):
    other = login(AdminFactory(name="Sam Ortiz"), on=app.test_client())
    base = current_base(other, asked)  # both open the form on the unanswered request
    assert answer(admin, asked, ANSWER, base=base).status_code == 303
    late = answer(other, asked, "I can help on Friday.", base=base)
    assert late.status_code == 409
    shown = text(late)
    assert "Another admin answered while you were writing" in shown
    assert ANSWER in shown and "I can help on Friday." in shown  # theirs shown, mine kept
    session.refresh(asked)
    assert asked.answer == ANSWER and len(sent_mail) == 1
    # Sending it again, having seen theirs, replaces it.
    base = re.search(rf'name="request-{asked.id}-answered_at"[^>]*value="([^"]*)"', late.get_data(as_text=True))[1]
    assert answer(other, asked, "I can help on Friday.", base=base).status_code == 303
    session.refresh(asked)
    assert asked.answer == "I can help on Friday."
    # A garbled version is a conflict too, never an overwrite.
    assert answer(admin, asked, "Something else", base="not-a-moment").status_code == 409


@pytest.mark.parametrize(
    "hostile",
    [
        '<script>alert(1)</script><img src=x onerror="alert(2)"> {{ 7*7 }}',
        "\u202eevil\u202c \u200b\u200d 👩🏽‍💻 Zalgo: Z̷̢a̴l̸g̵o̶ 𝕋𝕨𝕠𝕨𝕒𝕪 \ufeff",
        "line one\r\nline two\x00\x1b[31m with control characters",
    ],
)
def test_hostile_answers_are_stored_and_shown_as_text(session, login, pair, asked, admin, sent_mail, hostile):
    assert answer(admin, asked, hostile).status_code == 303
    session.refresh(asked)
    assert "\x00" not in asked.answer and "\x1b" not in asked.answer
    for client, url in (
        (login(pair.mentee), f"/pairs/{pair.id}/program"),
        (admin, f"/admin/programs/{asked.program_id}/help"),
    ):
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert inline_code_in(html) == []
        assert asked.answer.strip() in text(page)
    assert "alert" not in sent_mail[0].as_string()


def test_a_100_kb_answer_is_refused_with_words_and_kept(session, asked, admin, sent_mail):
    huge = "Ω" * 100_000
    response = answer(admin, asked, huge)
    assert response.status_code == 422
    assert f"Keep it under {ANSWER_MAX:,} characters." in text(response)
    assert huge in text(response)
    session.refresh(asked)
    assert asked.answer == "" and asked.answered_at is None and sent_mail == []


def test_an_empty_answer_is_refused_and_htmx_gets_the_card_alone(session, asked, admin, sent_mail):
    response = answer(admin, asked, "   ", htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="help_request-{asked.id}"' in body and "<html" not in body
    assert "Write your answer" in text(response)
    ok = answer(admin, asked, ANSWER, htmx=True)
    assert ok.status_code == 200
    assert f'id="help_request-{asked.id}"' in ok.text and "<html" not in ok.text
    assert "Sent to" in text(ok) and ANSWER in text(ok)
    assert len(sent_mail) == 1


def test_only_an_admin_answers_and_only_a_request_of_that_program(app, session, login, pair, asked, admin, sent_mail):
    other_program = ProgramFactory()
    url = f"/admin/programs/{other_program.id}/help/{asked.id}/answer"
    assert admin.post(url, data={f"request-{asked.id}-answer": ANSWER}).status_code == 404
    for person in (pair.mentee, pair.mentor):
        client = login(person, on=app.test_client())
        assert answer(client, asked, ANSWER).status_code == 404
    assert answer(app.test_client(), asked, ANSWER).status_code == 302
    session.refresh(asked)
    assert asked.answer == "" and sent_mail == []


def test_the_answer_form_works_without_javascript(asked, admin):
    page = admin.get(f"/admin/programs/{asked.program_id}/help").get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+/answer)"', page)
    assert form and form[1] == f"/admin/programs/{asked.program_id}/help/{asked.id}/answer"
    assert f'name="request-{asked.id}-csrf_token"' in page or 'name="csrf_token"' in page


def test_the_partner_s_membership_never_even_selects_the_answer(app, session, pair, asked, admin):
    from app import authz
    from app.models import PairMember

    answer(admin, asked, ANSWER)
    members = {m.user_id: m for m in session.scalars(select(PairMember).where(PairMember.pair_id == pair.id))}
    with app.app_context():
        assert [row.answer for row in authz.help_answers_to(members[pair.mentee.id])] == [ANSWER]
        assert authz.help_answers_to(members[pair.mentor.id]) == []
