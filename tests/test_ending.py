"""Ending well: closing a pair early or at its end, the read-only closed space with its last words
open for two weeks, the summary it opens on, the reminders, and the admin's ending actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from factories import AdminFactory, PairFactory, ProgramFactory, UserFactory
from sqlalchemy import func, select
from support.pages import text, words
from support.records import add_pair_content, add_prompt_set
from support.reminders import run_pass, to

from app.ending import closing
from app.ending import passes as ending_passes
from app.models import (
    Agreement,
    Clause,
    ClauseKind,
    ClosingReason,
    ClosingReflection,
    Delivery,
    FeedbackAnswer,
    Goal,
    GoalStatus,
    Kind,
    Meeting,
    Pair,
    PairEnding,
    PairStatus,
    Participant,
    Program,
    Prompt,
    PromptKind,
    Topic,
    User,
    utcnow,
)

REASON = "Quokka-reason-5d1c: we never clicked"
LEARNED = "Narwhal-learned-a81f"
TODAY = date.today()


def close_page(client, pair) -> str:
    return words(client.get(f"/pairs/{pair.id}/close"))


def close(client, pair, reason: str = "", share: bool = False):
    data = {"reason": reason} | ({"share": "y"} if share else {})
    return client.post(f"/pairs/{pair.id}/close", data=data)


def refreshed(session, pair) -> Pair:
    """The pair as stored now (its people stay loaded)."""
    session.refresh(pair, ["status", "ended_at", "ended_how", "ended_by_id"])
    return pair


def gone(session, model, object_id: int) -> bool:
    return session.scalar(select(model.id).where(model.id == object_id)) is None


def close_now(app, pair, how=PairEnding.EARLY, by=None, at=None) -> None:
    """Close ``pair`` as the app does, outside a request."""
    from app.extensions import db

    with app.app_context():
        closing.close(pair.id, how, by=by, at=at)
        db.session.commit()


# --- closing early -------------------------------------------------------------------------------


def test_the_confirm_page_says_what_happens_before_the_button(mentor, pair):
    page = close_page(mentor, pair)
    assert "Margaret is told that you closed it. Never why." in page
    assert "Nothing in it can change from then on" in page
    assert "For two weeks you can both still answer a closing check-in" in page
    assert page.index("Never why") < page.index("Close our pair")


def test_closing_early_tells_the_partner_that_it_closed_never_why(mentor, pair, session, sent_mail):
    response = close(mentor, pair, reason=REASON)
    assert response.status_code == 303
    closed = refreshed(session, pair)
    assert closed.status == PairStatus.ENDED
    assert closed.ended_how == PairEnding.EARLY
    assert closed.ended_by_id == pair.mentor.id
    reason = session.get(ClosingReason, pair.id)
    assert reason.text == REASON and reason.author_id == pair.mentor.id and not reason.shared

    told = to(sent_mail, pair.mentee.email)
    assert len(told) == 1
    body = told[0].get_body(("plain",)).get_content()
    assert "Aisha closed your pair" in body or "Aisha Khan closed your pair" in body
    assert "Quokka" not in body and "clicked" not in body
    assert to(sent_mail, pair.mentor.email) == []  # the one who closed it knows


def test_a_second_close_changes_nothing_and_tells_nobody_again(mentor, mentee, pair, session, sent_mail):
    close(mentor, pair)
    first = refreshed(session, pair).ended_at
    again = close(mentee, pair, reason="another")
    assert again.status_code == 303
    assert "Your pair is already closed." in text(mentee.get(again.location))
    assert refreshed(session, pair).ended_at == first
    assert refreshed(session, pair).ended_by_id == pair.mentor.id
    assert len(sent_mail) == 1
    assert session.get(ClosingReason, pair.id) is None


def test_the_reason_reaches_the_admin_only_when_shared(app, mentor, pair, session, login):
    admin = AdminFactory()
    close(mentor, pair, reason=REASON, share=False)
    admin_client = login(admin, on=app.test_client())
    page = text(admin_client.get(f"/admin/programs/{pair.program_id}/ending"))
    assert "Quokka" not in page
    assert "closed" in page and "closed early" not in page

    other = PairFactory(program=pair.program)
    other_client = login(other.mentor, on=app.test_client())
    close(other_client, other, reason="Shared-reason-3f9: our calendars never met", share=True)
    page = text(admin_client.get(f"/admin/programs/{pair.program_id}/ending"))
    assert "Shared-reason-3f9" in page
    assert "Quokka" not in page


def test_the_partner_never_reads_the_reason(mentor, mentee, pair):
    close(mentor, pair, reason=REASON)
    for path in ("", "/closing-reflection", "/journal", "/goals", "/ground-rules", "/feedback", "/program"):
        assert "Quokka" not in mentee.get(f"/pairs/{pair.id}{path}").text, path
        assert "Quokka" not in mentor.get(f"/pairs/{pair.id}{path}").text, path


@pytest.mark.parametrize(
    "reason",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "\u202eevil\u200d\u0301 \U0001f469\u200d\U0001f4bb",
    ],
)
def test_hostile_reasons_are_kept_as_text(mentor, pair, session, reason):
    assert close(mentor, pair, reason=reason).status_code == 303
    assert session.get(ClosingReason, pair.id).text == reason


def test_a_reason_too_long_comes_back_with_what_was_typed(mentor, pair, session):
    huge = ("Too long. " * 300)[:2_500]
    response = close(mentor, pair, reason=huge)
    assert response.status_code == 422
    assert "Keep it under 2,000 characters" in text(response)
    assert huge in text(response)
    assert refreshed(session, pair).status == PairStatus.ACTIVE


# --- the closed space is read-only ---------------------------------------------------------------


def _pair_posts(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("pair.") and "POST" in rule.methods:
            yield rule


def _values(content: dict[str, int], pair_id: int, clause_id: int) -> dict[str, int]:
    return {"pair_id": pair_id, "clause_id": clause_id, "device_id": 1} | content


def test_every_write_to_a_closed_pair_is_refused_in_words(app, client, htmx_client, login, session):
    """Every POST route under the pair blueprint, on a closed pair: 409 with the reason (htmx:
    the home, with the same words), and nothing stored. Only the last words stay open."""
    pair = PairFactory()
    login(pair.mentee)
    client.post(f"/pairs/{pair.id}/ground-rules/start")
    content = add_pair_content(session, pair, pair.mentee)
    clause_id = session.scalar(select(Clause.id).where(Clause.pair_id == pair.id).order_by(Clause.position))
    close_now(app, pair, by=pair.mentor.id)
    before = {model: session.scalar(select(func.count()).select_from(model)) for model in (Topic, Goal, Meeting)}
    login(pair.mentee, on=htmx_client)
    walked = 0
    for rule in _pair_posts(app):
        url = rule.build(_values(content, pair.id, clause_id))[1]
        response = client.post(url, data={"text": "A new topic", "title": "A goal", "round": "week-1"})
        if rule.endpoint in ("pair.ending.save_reflection", "pair.ending.close"):
            assert response.status_code in (200, 303), url
            continue
        assert response.status_code == 409, f"{url}: {response.status_code}"
        assert "This pair has closed" in text(response), url
        fragment = htmx_client.post(url, headers={"HX-Target": "topics"})
        assert fragment.status_code == 204 and fragment.headers["HX-Redirect"] == f"/pairs/{pair.id}", url
        walked += 1
    assert walked > 20
    after = {model: session.scalar(select(func.count()).select_from(model)) for model in (Topic, Goal, Meeting)}
    assert after == before
    home = htmx_client.get(f"/pairs/{pair.id}", headers={"HX-Request": ""})
    assert "nothing in it can change now" in text(home)


def test_a_closed_pair_is_still_read(app, mentor, pair, session):
    add_pair_content(session, pair, pair.mentor)
    close_now(app, pair, by=pair.mentee.id)
    for path in ("/journal", "/goals", "/feedback", "/program", "/ground-rules"):
        page = mentor.get(f"/pairs/{pair.id}{path}")
        assert page.status_code == 200, path
        assert "Your pair has closed: its space stays here for you both to read" in text(page), path


# --- last words: the closing reflection and the closing check-in ---------------------------------


def reflect(client, pair, learned=LEARNED):
    return client.post(
        f"/pairs/{pair.id}/closing-reflection",
        data={"learned": learned, "taught": "How our chat tools work", "keep_doing": "Asking first"},
    )


def test_each_person_keeps_their_own_closing_reflection(mentor, mentee, pair, session):
    close(mentor, pair)
    assert reflect(mentor, pair).status_code == 303
    assert reflect(mentor, pair, learned=LEARNED + " and more").status_code == 303  # replaces, never a second
    rows = list(session.scalars(select(ClosingReflection).where(ClosingReflection.pair_id == pair.id)))
    assert [(r.author_id, r.learned) for r in rows] == [(pair.mentor.id, LEARNED + " and more")]
    assert LEARNED in mentor.get(f"/pairs/{pair.id}/closing-reflection").text
    for path in ("", "/closing-reflection", "/journal", "/feedback"):
        assert "Narwhal" not in mentee.get(f"/pairs/{pair.id}{path}").text, path


def test_last_words_close_two_weeks_after_the_pair(mentor, pair, session):
    close(mentor, pair)
    reflect(mentor, pair)
    closed = refreshed(session, pair)
    closed.ended_at = utcnow() - timedelta(days=15)
    session.flush()
    response = reflect(mentor, pair, learned="Too late")
    assert response.status_code == 409
    assert "two weeks after it closed" in words(response)
    session.expire_all()
    assert session.scalar(select(ClosingReflection.learned).where(ClosingReflection.pair_id == pair.id)) == LEARNED
    page = mentor.get(f"/pairs/{pair.id}/closing-reflection")
    assert LEARNED in page.text and "<textarea" not in page.text


def give_prompts(session, program: Program) -> dict[str, Prompt]:
    prompts = add_prompt_set(
        session, program.id, ("How useful was it?", PromptKind.SCALE), ("What will you keep?", PromptKind.TEXT)
    )
    program.prompt_set_id = prompts[0].prompt_set_id
    program.feedback_at_end = True
    program.feedback_every_weeks = 0
    program.feedback_after_meeting = False
    program.feedback_at_midpoint = False
    session.flush()
    return {p.text: p for p in prompts}


def test_the_closing_check_in_opens_when_a_pair_closes_early(mentor, pair, session):
    prompts = give_prompts(session, pair.program)
    assert "Closing check-in" not in text(mentor.get(f"/pairs/{pair.id}/feedback"))
    close(mentor, pair)
    page = text(mentor.get(f"/pairs/{pair.id}"))
    assert "Answer the closing check-in" in page
    assert "Closing check-in" in text(mentor.get(f"/pairs/{pair.id}/feedback"))
    scale, words_ = prompts["How useful was it?"], prompts["What will you keep?"]
    data = {"round": "end", f"p{scale.id}": "4", f"p{words_.id}": "The habit of asking"}
    assert mentor.post(f"/pairs/{pair.id}/feedback", data=data).status_code == 303
    stored = session.scalars(select(FeedbackAnswer).where(FeedbackAnswer.pair_id == pair.id)).all()
    assert {a.round_key for a in stored} == {"end"}
    # Any other round closed with the pair.
    assert mentor.post(f"/pairs/{pair.id}/feedback", data=data | {"round": "week-1"}).status_code == 409


# --- the summary ---------------------------------------------------------------------------------


def add_history(session, pair, meetings: int) -> None:
    for n in range(meetings):
        meeting = Meeting(
            pair_id=pair.id, held_on=TODAY - timedelta(days=60 - n), author_id=pair.mentor.id, length_minutes=30
        )
        session.add(meeting)
        session.flush()
        session.add(Topic(pair_id=pair.id, text=f"Topic {n}", added_by_role="mentee", meeting_id=meeting.id))
        session.add(Topic(pair_id=pair.id, text=f"Open {n}", added_by_role="mentee"))
        session.add(Goal(pair_id=pair.id, learner="mentee", title=f"Goal {n}", status=GoalStatus.DONE))
        session.add(Goal(pair_id=pair.id, learner="mentor", title=f"Half {n}", status=GoalStatus.IN_PROGRESS))
    session.flush()


def test_a_closed_pair_opens_on_what_they_did_together(mentor, pair, session):
    pair.created_at = utcnow() - timedelta(days=95)
    add_history(session, pair, 3)
    close(mentor, pair)
    page = words(mentor.get(f"/pairs/{pair.id}"))
    assert "3 months together" in page
    assert "3 meetings (90 minutes)" in page
    assert "3 goals done" in page
    assert "3 topics covered" in page
    assert "Write your closing reflection" in page
    assert "Topics for next time" not in page  # the active home is gone


def test_the_closed_home_costs_a_pinned_number_of_queries_however_much_they_did(app, mentor, pair, session, queries):
    add_history(session, pair, 2)
    close_now(app, pair, by=pair.mentee.id)

    def count() -> int:
        with queries() as log:
            assert mentor.get(f"/pairs/{pair.id}").status_code == 200
        return log.count

    # The signed-in person, the membership with the pair, the summary, one's own closing reflection,
    # the tab bar's badges (a closing check-in may still wait).
    assert count() == 4 + 1
    add_history(session, pair, 6)
    assert count() == 4 + 1


# --- closing at the end, and the reminder two weeks before ---------------------------------------


def agree_end(session, pair, end: date) -> None:
    if session.get(Agreement, pair.id) is None:
        session.add(Agreement(pair_id=pair.id, version=1))
        session.flush()
    session.add(
        Clause(pair_id=pair.id, kind=ClauseKind.DATES, title="Dates", position=9, fields={"end": end.isoformat()})
    )
    session.flush()


def at_morning(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_a_pair_closes_the_day_after_its_agreed_end_once(app, pair, session, sent_mail):
    end = TODAY + timedelta(days=20)
    agree_end(session, pair, end)
    other = PairFactory(program=pair.program)  # the program's end: 150 days away
    with app.app_context():
        assert ending_passes.run(at_morning(end)).closed_notices == 0
        assert refreshed(session, pair).status == PairStatus.ACTIVE
        outcome = ending_passes.run(at_morning(end + timedelta(days=1)))
        assert outcome.closed_notices == 2
        again = ending_passes.run(at_morning(end + timedelta(days=1), 11))
        assert again.closed_notices == 0
    closed = refreshed(session, pair)
    assert closed.status == PairStatus.ENDED and closed.ended_how == PairEnding.AGREED_END
    assert refreshed(session, other).status == PairStatus.ACTIVE
    assert len(to(sent_mail, pair.mentor.email)) == len(to(sent_mail, pair.mentee.email)) == 1
    assert "has come to its end" in to(sent_mail, pair.mentor.email)[0].get_body(("plain",)).get_content()


def test_the_program_end_closes_a_pair_whose_agreed_end_is_later(app, session):
    program = ProgramFactory(starts_on=TODAY - timedelta(days=100), ends_on=TODAY + timedelta(days=5))
    pair = PairFactory(program=program)
    agree_end(session, pair, TODAY + timedelta(days=50))
    with app.app_context():
        ending_passes.run(at_morning(TODAY + timedelta(days=6)))
    assert refreshed(session, pair).ended_how == PairEnding.PROGRAM_END


def sent_of(session, kind: Kind) -> list[Delivery]:
    return list(
        session.scalars(select(Delivery).where(Delivery.kind == kind).execution_options(populate_existing=True))
    )


def test_both_are_reminded_two_weeks_before_the_last_day(app, pair, session, sent_mail):
    end = TODAY + timedelta(days=30)
    agree_end(session, pair, end)
    reminder_day = end - timedelta(days=14)
    run_pass(app, session, at_morning(reminder_day, 8))
    assert sent_of(session, Kind.PAIR_ENDING_SOON) == []
    run_pass(app, session, at_morning(reminder_day, 9))
    soon = sent_of(session, Kind.PAIR_ENDING_SOON)
    assert sorted(d.user_id for d in soon) == sorted([pair.mentor.id, pair.mentee.id])
    run_pass(app, session, at_morning(reminder_day, 12))
    assert len(sent_of(session, Kind.PAIR_ENDING_SOON)) == 2
    body = to(sent_mail, pair.mentee.email)[0].get_body(("plain",)).get_content()
    assert f"closes after {end.day} {end:%B %Y}" in body


def test_the_cli_runs_the_ending_pass_for_a_moment(app, pair, session):
    session.flush()
    end = pair.program.ends_on + timedelta(days=1)
    result = app.test_cli_runner().invoke(args=["ending", "run", "--at", f"{end.isoformat()}T10:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "Pairs closed, notices queued: 2" in result.output
    bad = app.test_cli_runner().invoke(args=["ending", "run", "--at", "tomorrow"])
    assert bad.exit_code != 0


# --- the admin's ending actions ------------------------------------------------------------------


YES = {"confirmed": "yes"}


@pytest.fixture
def admin(app, login):
    return login(AdminFactory(), on=app.test_client())


def test_the_admin_ends_a_program_and_its_pairs_close(admin, pair, session, sent_mail):
    base = f"/admin/programs/{pair.program_id}/ending"
    asked = admin.post(f"{base}/end")
    assert asked.status_code == 200 and "every pair still going closes now" in words(asked)
    assert refreshed(session, pair).status == PairStatus.ACTIVE  # one tap asks, never does
    assert admin.post(f"{base}/end", data=YES).status_code == 303
    assert refreshed(session, pair).ended_how == PairEnding.PROGRAM_ENDED
    assert session.scalar(select(Program.ends_on).where(Program.id == pair.program_id)) == TODAY
    assert len(sent_mail) == 2
    refused = admin.post(f"{base}/end", data=YES, follow_redirects=True)
    assert "has already ended" in text(refused)
    assert len(sent_mail) == 2


def test_only_a_pair_nobody_has_signed_in_to_can_be_undone(admin, pair, session):
    base = f"/admin/programs/{pair.program_id}/ending"
    fresh = PairFactory(program=pair.program)
    # Joined and wrote nothing: the condition rests on what the admin sees, never on what a pair did.
    pair.mentee.first_signed_in_at = utcnow()
    session.flush()
    page = text(admin.get(base))
    assert f"/pairs/{fresh.id}/undo" in page and f"/pairs/{pair.id}/undo" not in page
    assert "Only a pair whose people have not signed in yet" in words(admin.post(f"{base}/pairs/{fresh.id}/undo"))
    assert not gone(session, Pair, fresh.id)
    refused = admin.post(f"{base}/pairs/{pair.id}/undo", data=YES, follow_redirects=True)
    assert "can't be undone: only a pair whose people have not signed in yet can be" in words(refused)
    assert not gone(session, Pair, pair.id)
    assert admin.post(f"{base}/pairs/{fresh.id}/undo", data=YES).status_code == 303
    assert gone(session, Pair, fresh.id)
    assert (
        admin.post(f"/admin/programs/{pair.program_id + 999}/ending/pairs/{pair.id}/undo", data=YES).status_code == 404
    )


def test_a_pair_with_words_is_never_undone_even_with_nobody_signed_in(admin, pair, session):
    session.add(Topic(pair_id=pair.id, text="Started", added_by_role="mentee"))
    session.flush()
    base = f"/admin/programs/{pair.program_id}/ending"
    refused = admin.post(f"{base}/pairs/{pair.id}/undo", data=YES, follow_redirects=True)
    assert "can't be undone" in words(refused)
    assert not gone(session, Pair, pair.id)
    assert "it can't be deleted" in words(admin.get(base))


def test_only_a_participant_who_never_joined_can_be_removed(admin, pair, session):
    base = f"/admin/programs/{pair.program_id}/ending"
    never = UserFactory(name="Never Joined")
    joined = UserFactory(name="Did Join", first_signed_in_at=utcnow())
    rows = [Participant(program_id=pair.program_id, user_id=u.id) for u in (never, joined)]
    session.add_all(rows)
    session.flush()
    page = words(admin.get(base))
    assert "Never Joined · Remove…" in page and "Did Join" not in page
    refused = admin.post(f"{base}/participants/{rows[1].id}/remove", data=YES, follow_redirects=True)
    assert "has joined Twoway, so they stay" in text(refused)
    assert "Only someone who never signed in" in words(admin.post(f"{base}/participants/{rows[0].id}/remove"))
    assert not gone(session, Participant, rows[0].id)
    assert admin.post(f"{base}/participants/{rows[0].id}/remove", data=YES).status_code == 303
    assert gone(session, Participant, rows[0].id)
    assert gone(session, User, never.id)  # in no other program: the account goes too
    assert not gone(session, Participant, rows[1].id)


def test_only_a_program_nobody_in_a_pair_signed_in_to_can_be_deleted(admin, pair, session):
    empty = PairFactory()
    base = f"/admin/programs/{pair.program_id}/ending"
    pair.mentor.first_signed_in_at = utcnow()
    session.flush()
    assert "it can't be deleted" in words(admin.get(base))
    refused = admin.post(f"{base}/delete", data=YES, follow_redirects=True)
    assert "have taken part in" in text(refused) and "so it can't be deleted" in text(refused)
    assert session.get(Program, pair.program_id) is not None
    assert "Only a program nobody has used can be deleted" in words(
        admin.post(f"/admin/programs/{empty.program_id}/ending/delete")
    )
    assert admin.post(f"/admin/programs/{empty.program_id}/ending/delete", data=YES).status_code == 303
    assert gone(session, Program, empty.program_id)
    assert gone(session, Pair, empty.id)
    assert not gone(session, User, empty.mentor.id)


def test_members_never_reach_the_admin_ending_pages(mentor, pair):
    assert mentor.get(f"/admin/programs/{pair.program_id}/ending").status_code == 404
    assert mentor.post(f"/admin/programs/{pair.program_id}/ending/end").status_code == 404


@pytest.mark.parametrize(
    "words_",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "\u202eevil\u200d\u0301 \U0001f469\u200d\U0001f4bb",
    ],
)
def test_hostile_closing_reflections_are_kept_as_text(mentor, pair, session, words_):
    close(mentor, pair)
    assert reflect(mentor, pair, learned=words_).status_code == 303
    assert session.scalar(select(ClosingReflection.learned).where(ClosingReflection.pair_id == pair.id)) == words_
    page = mentor.get(f"/pairs/{pair.id}/closing-reflection").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page


def test_a_closing_reflection_too_long_comes_back_with_what_was_typed(mentor, pair, session):
    close(mentor, pair)
    huge = ("What I learned. " * 7000)[:100_000]
    response = reflect(mentor, pair, learned=huge)
    assert response.status_code == 422
    assert "Keep it under 10,000 characters" in text(response)
    assert huge in text(response)
    assert session.scalar(select(func.count()).select_from(ClosingReflection)) == 0


def test_htmx_saves_the_closing_reflection_in_place(app, pair, session, login, htmx_client):
    login(pair.mentor, on=htmx_client)
    close(htmx_client, pair)
    response = htmx_client.post(
        f"/pairs/{pair.id}/closing-reflection",
        data={"learned": LEARNED, "taught": "", "keep_doing": ""},
        headers={"HX-Target": "closing_reflection"},
    )
    assert response.status_code == 200
    assert 'id="closing_reflection"' in response.text and "<html" not in response.text
    assert "Saved. Only you can read it." in text(response)


def test_the_ending_pass_closes_a_bounded_batch_and_the_rest_next_time(app, session, monkeypatch):
    program = ProgramFactory(starts_on=TODAY - timedelta(days=100), ends_on=TODAY - timedelta(days=1))
    pairs = [PairFactory(program=program) for _ in range(3)]
    going = PairFactory()  # its program ends in months: never read, never closed
    monkeypatch.setattr(closing, "CLOSE_BATCH", 2)
    with app.app_context():
        ending_passes.run(at_morning(TODAY))
        assert sorted(refreshed(session, p).status for p in pairs) == [PairStatus.ACTIVE] + [PairStatus.ENDED] * 2
        ending_passes.run(at_morning(TODAY, 11))
    assert {refreshed(session, p).status for p in pairs} == {PairStatus.ENDED}
    assert refreshed(session, going).status == PairStatus.ACTIVE


def test_a_retention_that_fails_never_keeps_pairs_from_closing(app, session, monkeypatch, sent_mail):
    """The two steps of the ending pass stand apart: a retention run that fails half way (a
    dropped connection, a row it can't delete) rolls back its own deletions only, and the pairs
    due to close are closed and told all the same, that hour and every hour after."""
    from app.ending import retention

    program = ProgramFactory(starts_on=TODAY - timedelta(days=100), ends_on=TODAY - timedelta(days=1))
    pair = PairFactory(program=program)

    def fails(at=None):
        raise RuntimeError("connection dropped half way")

    monkeypatch.setattr(retention, "run", fails)
    with app.app_context(), pytest.raises(RuntimeError):
        ending_passes.run(at_morning(TODAY))
    assert refreshed(session, pair).status == PairStatus.ENDED
    assert sorted(d.user_id for d in sent_of(session, Kind.PAIR_CLOSED)) == sorted([pair.mentor.id, pair.mentee.id])


def _log_of(session, program_id: int) -> int:
    from app.models import AuditEvent

    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.program_id == program_id))


@pytest.mark.parametrize("held", ["someone joined", "intake answers", "a request for help", "words since deleted"])
def test_a_program_that_held_anything_of_anyone_keeps_its_log(admin, session, held):
    """Deleting a program takes its log with it. That is fine for one that held nothing (set up,
    never used); a program someone joined, answered in, asked for help in, or whose pairs wrote
    words (deleted by retention since) keeps its log of what its admins did: it can't be deleted."""
    from app.models import AuditAction, AuditEvent, HelpRequest, Intake, PairTally

    pair = PairFactory()
    program_id = pair.program_id
    participant = Participant(program_id=program_id, user_id=pair.mentee.id)
    session.add(participant)
    session.add(AuditEvent(program_id=program_id, action=AuditAction.HELP_READ, details={"requests": 1}))
    session.flush()
    if held == "someone joined":
        pair.mentee.first_signed_in_at = utcnow()
    elif held == "intake answers":
        session.add(Intake(participant_id=participant.id, interests="Sailing"))
    elif held == "a request for help":
        session.add(HelpRequest(program_id=program_id, sender_id=pair.mentee.id, message="Help"))
    else:
        session.add(PairTally(pair_id=pair.id, meetings=3))
    session.flush()
    base = f"/admin/programs/{program_id}/ending"
    assert "can't be deleted" in words(admin.get(base))
    refused = admin.post(f"{base}/delete", data=YES, follow_redirects=True)
    assert "can't be deleted" in text(refused)
    assert session.get(Program, program_id) is not None
    assert _log_of(session, program_id) == 1


def test_the_log_names_a_removed_person_whose_account_went_a_former_participant(admin, pair, session):
    never = UserFactory(name="Never Joined")
    row = Participant(program_id=pair.program_id, user_id=never.id)
    session.add(row)
    session.flush()
    base = f"/admin/programs/{pair.program_id}/ending"
    assert "is no longer in the program" in text(
        admin.post(f"{base}/participants/{row.id}/remove", data=YES, follow_redirects=True)
    )
    assert gone(session, User, never.id)
    log = words(admin.get(f"/admin/programs/{pair.program_id}/log"))
    assert "Removed a participant: a former participant" in log
    assert "Never Joined" not in log


def test_the_ending_page_costs_the_same_queries_when_its_people_double(admin, pair, session, queries):
    def add_people(n: int) -> None:
        for _ in range(n):
            session.add(Participant(program_id=pair.program_id, user_id=UserFactory().id))
            session.add(PairFactory(program=pair.program))
        session.flush()

    def count() -> int:
        with queries() as log:
            assert admin.get(f"/admin/programs/{pair.program_id}/ending").status_code == 200
        return log.count

    # The admin and the program; its pairs' names, which hold anything, their status and shared
    # reasons; who is paired, its people, and what it held (for deleting it): whatever the size.
    add_people(3)
    assert count() == 8
    add_people(6)
    assert count() == 8


def test_an_admin_of_one_program_reaches_nothing_of_another_through_its_own_urls(app, login, session):
    """Program B's pair and participant ids, sent inside program A's Ending URLs by A's admin:
    404, and nothing of B changes."""
    from factories import ProgramAdminFactory

    mine, theirs = PairFactory(), PairFactory()
    stranger = UserFactory(name="Never Joined B")
    row = Participant(program_id=theirs.program_id, user_id=stranger.id)
    session.add(row)
    session.flush()
    client = login(ProgramAdminFactory(program=mine.program), on=app.test_client())
    base = f"/admin/programs/{mine.program_id}/ending"
    assert client.post(f"{base}/pairs/{theirs.id}/undo", data=YES).status_code == 404
    assert client.post(f"{base}/participants/{row.id}/remove", data=YES).status_code == 404
    assert client.get(f"/admin/programs/{theirs.program_id}/ending").status_code == 404
    for url in ("/end", f"/pairs/{theirs.id}/undo", f"/participants/{row.id}/remove", "/delete"):
        assert client.post(f"/admin/programs/{theirs.program_id}/ending{url}", data=YES).status_code == 404, url
    assert client.get(f"/admin/programs/{theirs.program_id}/log").status_code == 404
    assert (
        client.post(
            f"/admin/programs/{mine.program_id}/admins", data={"name": "Me", "email": "x@example.org"}
        ).status_code
        == 404
    )
    assert not gone(session, Pair, theirs.id) and not gone(session, Participant, row.id)
    assert refreshed(session, theirs).status == PairStatus.ACTIVE


@pytest.mark.parametrize("reason", [("Why. " * 20_000)[:100_000], "Calendars\x00 never met \u202eevil"])
def test_enormous_or_odd_reasons_and_reflections_never_break_closing(mentor, pair, session, reason):
    response = close(mentor, pair, reason=reason)
    assert response.status_code in (303, 422)
    if response.status_code == 422:
        assert "Keep it under 2,000 characters" in text(response)
        assert refreshed(session, pair).status == PairStatus.ACTIVE
        close(mentor, pair)
    assert reflect(mentor, pair, learned=reason).status_code in (303, 422)


def test_html_in_names_stays_text_in_the_log(admin, pair, session):
    from app.models import AuditAction, AuditEvent

    pair.mentee.name = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    session.add(AuditEvent(program_id=pair.program_id, action=AuditAction.PAIR_MADE, subject_id=pair.mentee.id))
    session.flush()
    page = admin.get(f"/admin/programs/{pair.program_id}/log").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_someone_who_joins_while_the_admin_removes_them_stays(admin, pair, session, monkeypatch):
    """The page's check and the DELETE are a moment apart: a person who signs in meanwhile (and
    may have answered the matching questions) keeps their place and their answers."""
    from app.ending import admin as ending_admin
    from app.models import Intake

    person = UserFactory(name="Just Joined")
    row = Participant(program_id=pair.program_id, user_id=person.id)
    session.add(row)
    session.flush()
    seen = ending_admin.setup.Person(row.id, person.id, person.name, person.email, "", "", True, False)
    person.first_signed_in_at = utcnow()
    session.add(Intake(participant_id=row.id, interests="Sailing"))
    session.flush()
    monkeypatch.setattr(ending_admin, "_person", lambda program_id, participant_id: seen)  # as it was read
    url = f"/admin/programs/{pair.program_id}/ending/participants/{row.id}/remove"
    assert "has joined or been paired meanwhile, so they stay" in text(admin.post(url, data=YES, follow_redirects=True))
    assert not gone(session, Participant, row.id) and not gone(session, User, person.id)
    assert session.scalar(select(func.count()).select_from(Intake).where(Intake.participant_id == row.id)) == 1


def test_closing_a_moment_after_the_partner_says_so_and_tells_nobody_again(
    mentor, pair, session, monkeypatch, sent_mail
):
    real_close = closing.close

    def partner_first(pair_id, how, *, by=None, at=None):
        real_close(pair_id, how, by=pair.mentee.id, at=at)  # Margaret pressed a moment earlier
        return real_close(pair_id, how, by=by, at=at)

    monkeypatch.setattr(closing, "close", partner_first)
    page = text(mentor.post(f"/pairs/{pair.id}/close", data={"reason": REASON}, follow_redirects=True))
    assert "has been told" not in page
    assert "Your pair had already closed" in page
    assert refreshed(session, pair).ended_by_id == pair.mentee.id
    assert session.get(ClosingReason, pair.id) is None
