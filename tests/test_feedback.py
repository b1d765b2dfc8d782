"""Feedback check-ins: which rounds are due and when, answering one in under a minute, and who
may read what: shared answers once both answered, private answers never anyone but their author."""

from __future__ import annotations

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
from support.apps import clients_of, committed_session, own_app
from support.pages import hidden_input, inline_code_in, text, words
from support.parallel import at_once
from support.records import add_clause, add_ground_rules, add_pair_content, give_prompts, read_back

from app.extensions import db
from app.feedback import rounds
from app.models import (
    FeedbackAnswer,
    FeedbackSubmission,
    Meeting,
    Program,
    Prompt,
    PromptKind,
    Rhythm,
    Role,
)

TODAY = date.today()
SCRIPT = "<script>alert('pwned')</script>"
IMG = '"><img src=x onerror=alert(1)>'
ODD = "\u202eevil\u200d\u0301 \U0001f469\u200d\U0001f4bb Zoe\u0301"
HUGE = ("What works: the questions. " * 5000)[:100_000]
PRIVATE = "Wombat-private-4e2a"
SHARED = "Pelican-shared-77b1"


# --- set-up --------------------------------------------------------------------------------------


@pytest.fixture
def program(session):
    # Only the after-meeting cadence unless a test asks for more: each test controls its rounds.
    return ProgramFactory(no_rounds=True, feedback_after_meeting=True)


@pytest.fixture
def prompts(session, program):
    return give_prompts(session, program)


@pytest.fixture
def pair(session, program, prompts):
    return PairFactory(
        program=program, mentor=UserFactory(name="Aisha Khan"), mentee=UserFactory(name="Margaret Holloway")
    )


@pytest.fixture
def base(pair) -> str:
    return f"/pairs/{pair.id}/feedback"


def add_meeting(session, pair, days_ago: int) -> Meeting:
    meeting = Meeting(
        pair_id=pair.id, held_on=TODAY - timedelta(days=days_ago), author_id=pair.mentor.id, notes="We met."
    )
    session.add(meeting)
    session.flush()
    return meeting


def full_answers(
    prompts: dict[str, Prompt], *, working: str = "", change: str = "", share_working=False, share_change=False
) -> dict[str, str]:
    p = {text_: prompt.id for text_, prompt in prompts.items()}
    data = {
        f"p{p['How useful was our last meeting?']}": "4",
        f"p{p['I felt safe to be candid.']}": "5",
        f"p{p['I learned something new from my partner.']}": "3",
        f"p{p['Are we meeting as often as we agreed?']}": "yes",
        f"p{p['What is working?']}": working,
        f"p{p['What should change?']}": change,
    }
    if share_working:
        data[f"share{p['What is working?']}"] = "y"
    if share_change:
        data[f"share{p['What should change?']}"] = "y"
    return data


def answer(client, base, round_key: str, data: dict[str, str], htmx: bool = False):
    headers = {"HX-Request": "true", "HX-Target": "feedback"} if htmx else {}  # the form swaps the section
    return client.post(base, data={"round": round_key, **data}, headers=headers)


def stored(session, pair) -> list[tuple]:
    return [
        (a.round_key, a.user_id, a.prompt_id, a.score, a.yes, a.text, a.shared)
        for a in read_back(
            session, select(FeedbackAnswer).where(FeedbackAnswer.pair_id == pair.id).order_by(FeedbackAnswer.id)
        )
    ]


def submissions(session, pair) -> int:
    return session.scalar(select(func.count(FeedbackSubmission.id)).where(FeedbackSubmission.pair_id == pair.id))


def bare_program(**values) -> Program:
    """A program that isn't stored, for the pure round arithmetic: every cadence off unless asked."""
    settings = {
        "starts_on": date(2026, 1, 5),
        "ends_on": date(2026, 6, 29),
        "feedback_after_meeting": False,
        "feedback_every_weeks": 0,
        "feedback_at_midpoint": False,
        "feedback_at_end": False,
        "prompt_set_id": 1,
    }
    return Program(**(settings | values))


NO_RULES = Rhythm(cadence=None, custom="", length_minutes=None, midpoint=None, ends_on=None)


def keys(found: list[rounds.Round]) -> list[str]:
    return [r.key for r in found]


# --- which rounds, when --------------------------------------------------------------------------


def test_a_round_follows_each_logged_meeting():
    program = bare_program(feedback_after_meeting=True)
    found = rounds.Facts(NO_RULES, [(12, date(2026, 11, 18)), (9, date(2026, 11, 4))])
    today = date(2026, 11, 22)
    open_ = rounds.open_rounds(program, found, today)
    assert keys(open_) == ["meeting-12", "meeting-9"]
    assert [r.label for r in open_] == ["After your meeting on 18 Nov", "After your meeting on 4 Nov"]
    assert open_[0].on == date(2026, 11, 18)
    # Switched off, meetings ask nothing.
    assert rounds.open_rounds(bare_program(feedback_after_meeting=False), found, today) == []


def test_a_round_every_n_weeks_from_the_programs_start_once_its_day_has_come():
    program = bare_program(feedback_every_weeks=2)  # starts Monday 5 Jan 2026
    assert rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 1, 18)) == []  # nothing at the start
    assert keys(rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 1, 19))) == ["week-1"]
    found = rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 2, 3))
    assert keys(found) == ["week-2", "week-1"]
    assert [r.on for r in found] == [date(2026, 2, 2), date(2026, 1, 19)]
    assert found[0].label == "Check-in, week 4 (2 Feb)"
    # Months on, only the latest few stay open; none after the program's end.
    late = rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2027, 3, 1))
    assert len(late) == rounds.OPEN_ROUNDS
    assert all(r.on <= program.ends_on for r in late)
    assert keys(late)[0] == "week-12"  # 5 Jan + 24 weeks = 22 Jun, the last before 29 Jun


def test_the_midpoint_comes_from_the_ground_rules_or_else_the_program():
    program = bare_program(feedback_at_midpoint=True)  # 5 Jan to 29 Jun: 175 days, midpoint 2 Apr
    assert rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 4, 1)) == []
    [midpoint] = rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 4, 2))
    assert (midpoint.key, midpoint.on, midpoint.label) == ("midpoint", date(2026, 4, 2), "Halfway check-in (2 Apr)")
    agreed = Rhythm(cadence=None, custom="", length_minutes=None, midpoint=date(2026, 3, 1), ends_on=None)
    [midpoint] = rounds.open_rounds(program, rounds.Facts(agreed, []), date(2026, 3, 2))
    assert midpoint.on == date(2026, 3, 1)


def test_the_end_comes_from_the_ground_rules_or_else_the_program():
    program = bare_program(feedback_at_end=True)
    assert rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 6, 28)) == []
    [end] = rounds.open_rounds(program, rounds.Facts(NO_RULES, []), date(2026, 6, 29))
    assert (end.key, end.on) == ("end", date(2026, 6, 29))
    agreed = Rhythm(cadence=None, custom="", length_minutes=None, midpoint=None, ends_on=date(2026, 5, 15))
    [end] = rounds.open_rounds(program, rounds.Facts(agreed, []), date(2026, 5, 15))
    assert end.on == date(2026, 5, 15)


def test_cadences_together_newest_first_one_round_a_day_and_only_the_latest_few():
    program = bare_program(
        feedback_after_meeting=True,
        feedback_every_weeks=4,
        feedback_at_midpoint=True,
        feedback_at_end=True,
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 4, 27),
    )  # 16 weeks: week-4 falls on the end
    found = rounds.Facts(NO_RULES, [(3, date(2026, 4, 20)), (2, date(2026, 3, 2))])
    everything = rounds.open_rounds(program, found, date(2026, 5, 1))
    assert keys(everything) == ["end", "meeting-3", "week-3"]  # week-4 is the end's day: one check-in, not two
    assert len(everything) == rounds.OPEN_ROUNDS


# --- due rounds, for the pair's home -------------------------------------------------------------


def test_due_for_lists_what_a_person_has_not_answered_in_two_queries(
    app, session, pair, mentee, base, prompts, queries
):
    older = add_meeting(session, pair, 9)
    newer = add_meeting(session, pair, 2)
    add_meeting(session, pair, -1)  # logged ahead of time: not a round yet
    assert answer(mentee, base, f"meeting-{older.id}", full_answers(prompts)).status_code == 303
    with app.test_request_context():
        mentee_side, mentor_side = pair.member(Role.MENTEE), pair.member(Role.MENTOR)
        with queries() as log:
            due = rounds.due_for(mentee_side, today=TODAY)
        assert log.count <= 2 and log.writes == []
        assert keys(due) == [f"meeting-{newer.id}"]
        assert due[0].label == f"After your meeting on {rounds._short(newer.held_on, TODAY)}"
        assert keys(rounds.due_for(mentor_side, today=TODAY)) == [f"meeting-{newer.id}", f"meeting-{older.id}"]
        # Every round lapses but the latest few: nobody is nagged about last spring.
        for days in range(10, 15):
            add_meeting(session, pair, days)
        session.flush()
        assert len(rounds.due_for(mentor_side, today=TODAY)) == rounds.OPEN_ROUNDS


def test_without_a_prompt_set_nothing_is_due_and_the_page_says_why(app, session, pair, program, mentee, base):
    program.prompt_set_id = None
    add_meeting(session, pair, 1)
    session.flush()
    with app.test_request_context():
        assert rounds.due_for(pair.member(Role.MENTEE), today=TODAY) == []
    page = mentee.get(base)
    assert page.status_code == 200
    assert "Your program hasn't set up its feedback questions yet" in words(page)
    assert "<form" not in page.text.split('class="feedback"')[1]


# --- answering -----------------------------------------------------------------------------------


def test_the_form_is_quick_on_a_phone_and_private_by_default(mentee, base, session, pair, prompts):
    add_meeting(session, pair, 1)
    page = mentee.get(base)
    assert page.status_code == 200
    html = page.text
    assert len(re.findall(r'<input[^>]*type="radio"', html)) == 3 * 5 + 2  # three 1–5 scales, one yes/no
    share_boxes = re.findall(r'<input[^>]*name="share\d+"[^>]*type="checkbox"[^>]*>', html)
    assert len(share_boxes) == 2 and not any("checked" in box for box in share_boxes)
    page_words = words(page)
    assert "Share with Aisha" in page_words
    assert "Written answers stay private unless you tick “Share with Aisha”" in page_words
    assert "A check-in is waiting for you" in page_words


def test_answering_stores_scores_yes_no_and_text_with_the_chosen_privacy(mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    response = answer(
        mentee, base, key, full_answers(prompts, working=f"{SHARED} the questions", change=PRIVATE, share_working=True)
    )
    assert response.status_code == 303 and response.location == f"{base}?saved={key}#round-{key}"
    ids = {t: p.id for t, p in prompts.items()}
    me = pair.mentee.id
    assert sorted(stored(session, pair), key=lambda row: row[2]) == sorted(
        [
            (key, me, ids["How useful was our last meeting?"], 4, None, "", True),
            (key, me, ids["I felt safe to be candid."], 5, None, "", True),
            (key, me, ids["I learned something new from my partner."], 3, None, "", True),
            (key, me, ids["Are we meeting as often as we agreed?"], None, True, "", True),
            (key, me, ids["What is working?"], None, None, f"{SHARED} the questions", True),
            (key, me, ids["What should change?"], None, None, PRIVATE, False),
        ],
        key=lambda row: row[2],
    )
    page = mentee.get(response.location)
    assert "are saved. Once Aisha answers too, you'll both see what you shared" in words(page)
    assert "You're up to date" in words(page)
    # The author reads their own answers back, the private one marked.
    assert re.search(rf"{PRIVATE}</span> <span class=\"only-you\">Only you see this</span>", page.text)
    assert "Waiting for Aisha" in words(page)


def test_skipped_questions_store_nothing_but_an_empty_form_is_refused(mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    empty = answer(mentee, base, key, {})
    assert empty.status_code == 422 and "Answer at least one question" in text(empty)
    assert submissions(session, pair) == 0
    one = {f"p{prompts['I felt safe to be candid.'].id}": "2"}
    assert answer(mentee, base, key, one).status_code == 303
    assert [row[3] for row in stored(session, pair)] == [2]


@pytest.mark.parametrize("bad", ["0", "6", "five", "maybe"])
def test_an_answer_not_offered_is_refused_and_the_rest_kept(mentee, base, session, pair, prompts, bad):
    meeting = add_meeting(session, pair, 1)
    data = full_answers(prompts, working="Kept words")
    data[f"p{prompts['How useful was our last meeting?'].id}"] = bad
    data[f"p{prompts['Are we meeting as often as we agreed?'].id}"] = bad
    refused = answer(mentee, base, f"meeting-{meeting.id}", data)
    assert refused.status_code == 422
    assert "Choose one of the answers offered." in text(refused)
    assert re.search(r">\s*Kept words</textarea>", refused.text)
    assert submissions(session, pair) == 0


def _idempotency_key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def test_a_double_tap_stores_one_set_of_answers_and_answers_the_same(app, mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    token = _idempotency_key(mentee.get(base).text)
    data = {"idempotency_key": token, **full_answers(prompts, working="Once")}
    first = answer(mentee, base, key, data)
    again = answer(mentee, base, key, data)
    assert first.status_code == again.status_code == 303
    assert first.location == again.location == f"{base}?saved={key}#round-{key}"
    htmx_again = answer(mentee, base, key, data, htmx=True)  # the retry of a lost htmx answer
    assert htmx_again.status_code == 303 and htmx_again.location == first.location
    assert submissions(session, pair) == 1
    assert [row[5] for row in stored(session, pair) if row[5]] == ["Once"]
    assert "Thank you: your answers to" in words(mentee.get(first.location))


def test_a_second_tab_finds_the_round_answered_and_gets_its_words_back(app, mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    answer(mentee, base, key, full_answers(prompts, working="Once"))
    for htmx in (False, True):
        again = answer(mentee, base, key, full_answers(prompts, working="Twice, from the laptop"), htmx=htmx)
        assert again.status_code == 409
        page = words(again)
        assert "You had already answered “After your meeting on" in page and "these answers weren't saved" in page
        assert re.search(r">\s*Twice, from the laptop</textarea>", again.text)  # kept, to copy from
        assert "Once" in page  # beside what was saved first
    assert submissions(session, pair) == 1
    assert [row[5] for row in stored(session, pair) if row[5]] == ["Once"]
    # Two requests racing past the check: the unique constraint decides, and nothing breaks.
    with app.test_request_context():
        membership = pair.member(Role.MENTEE)
        assert rounds.submit(membership, key, [{"prompt_id": prompts["What is working?"].id, "text": "Race"}]) is False
    assert submissions(session, pair) == 1 and "Race" not in [row[5] for row in stored(session, pair)]


def test_saving_from_the_feedback_tab_shows_thanks_and_what_comes_next(mentee, base, session, pair, prompts):
    older = add_meeting(session, pair, 8)
    latest = add_meeting(session, pair, 1)
    saved = answer(mentee, base, f"meeting-{latest.id}", full_answers(prompts, working="Noted"), htmx=False)
    assert saved.status_code == 303
    headers = {"HX-Request": "true", "HX-Target": "feedback"}
    response = mentee.post(
        base, data={"round": f"meeting-{older.id}", **full_answers(prompts, working="Also noted")}, headers=headers
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="feedback"') and "<html" not in response.text
    page = words(response)
    assert "Thank you: your answers to “After your meeting on" in page and "are saved" in page
    assert "You're up to date" in page  # the next state: nothing left to answer
    assert "What you've answered" in page and "Also noted" in page and "Noted" in page
    assert submissions(session, pair) == 2


def test_an_answer_to_a_round_that_lapsed_while_it_was_typed_is_kept(mentee, base, session, pair, prompts):
    opened = add_meeting(session, pair, 9)
    add_meeting(session, pair, 6)
    page = mentee.get(f"{base}?round=meeting-{opened.id}")
    assert f'value="meeting-{opened.id}"' in page.text
    # While it was typed, two more meetings were logged: only the latest three rounds stay open.
    add_meeting(session, pair, 2)
    add_meeting(session, pair, 1)
    assert f"round=meeting-{opened.id}" not in mentee.get(base).text
    response = answer(mentee, base, f"meeting-{opened.id}", full_answers(prompts, working="Typed slowly"))
    assert response.status_code == 303
    assert {row[0] for row in stored(session, pair)} == {f"meeting-{opened.id}"}
    page = words(mentee.get(response.location))
    assert "Thank you: your answers to “After your meeting on" in page
    assert "Typed slowly" in page and "That check-in has closed" not in page


def test_a_lapsed_weekly_round_takes_a_late_answer_but_a_future_one_does_not(mentee, base, session, pair, prompts):
    pair.program.feedback_every_weeks = 1  # started 30 days ago: weeks 2 to 4 are open, week 1 lapsed
    session.flush()
    assert "week-1" not in mentee.get(base).text
    assert answer(mentee, base, "week-1", full_answers(prompts, working="Late")).status_code == 303
    refused = answer(mentee, base, "week-9", full_answers(prompts, working="Too early"))
    assert refused.status_code == 422
    assert {row[0] for row in stored(session, pair)} == {"week-1"}


def test_answers_to_a_round_this_pair_was_never_asked_are_refused_and_kept(mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    tomorrow = add_meeting(session, pair, -1)
    other_pair_meeting = add_meeting(session, PairFactory(program=pair.program), 1)
    for key in (
        "week-1",
        "midpoint",
        "end",
        f"meeting-{other_pair_meeting.id}",
        f"meeting-{tomorrow.id}",
        "meeting-x",
        "meeting-99999999999999999999",
        "meeting-0",
        "",
        f"meeting-{meeting.id}x",
        f"meeting-0{meeting.id}",
    ):
        response = answer(mentee, base, key, full_answers(prompts, working="Not lost"))
        assert response.status_code == 422, key
        page = words(response)
        assert "We couldn't find the check-in those answers were for, so nothing was saved yet" in page, key
        assert re.search(r">\s*Not lost</textarea>", response.text), key  # what was typed is kept
        assert f'name="round" type="hidden" value="meeting-{meeting.id}"' in response.text  # to save there
    assert submissions(session, pair) == 0


def test_the_rhythm_question_shows_what_the_pair_agreed_and_when_they_last_met(mentee, base, session, pair):
    add_ground_rules(session, pair, cadence="every-two-weeks")
    add_meeting(session, pair, 5)
    assert "You and Aisha agreed to meet every two weeks; you last met 5 days ago." in words(mentee.get(base))


def test_without_ground_rules_the_rhythm_question_stands_alone(mentee, base, session, pair):
    add_meeting(session, pair, 5)
    page = words(mentee.get(base))
    assert "Are we meeting as often as we agreed?" in page and "agreed to meet" not in page


def test_another_due_round_swaps_in_with_htmx_or_loads_without(mentee, base, session, pair):
    first = add_meeting(session, pair, 8)
    latest = add_meeting(session, pair, 1)
    page = mentee.get(base)
    assert "2 check-ins are waiting for you" in words(page)
    link = f"{base}?round=meeting-{first.id}"
    assert f'href="{link}"' in page.text
    fragment = mentee.get(link, headers={"HX-Request": "true", "HX-Target": "answer_form"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="answer_form"') and "<html" not in fragment.text
    assert f'value="meeting-{first.id}"' in fragment.text
    plain = mentee.get(link)
    assert "<html" in plain.text and f'value="meeting-{first.id}"' in plain.text
    assert f'href="{base}?round=meeting-{latest.id}"' in plain.text


# --- who reads what ------------------------------------------------------------------------------


def test_shared_answers_wait_for_both_then_show_side_by_side(mentor, mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    answer(
        mentee, base, key, full_answers(prompts, working=f"{SHARED} from Margaret", change=PRIVATE, share_working=True)
    )
    before = mentor.get(base)
    assert SHARED not in text(before) and PRIVATE not in text(before)
    assert "Margaret has answered. Once you do, you'll both see what you shared." in words(before)

    answer(
        mentor,
        base,
        key,
        {
            **full_answers(prompts, working="Aisha shares this", change="Aisha keeps this", share_working=True),
            f"p{prompts['How useful was our last meeting?'].id}": "2",
        },
    )
    for viewer, own_private, partner_private in (
        (mentor, "Aisha keeps this", PRIVATE),
        (mentee, PRIVATE, "Aisha keeps this"),
    ):
        page = viewer.get(base)
        seen = text(page)
        assert f"{SHARED} from Margaret" in seen and "Aisha shares this" in seen
        assert own_private in seen and partner_private not in seen
        assert 'class="side-by-side"' in page.text
    mentor_view = words(mentor.get(base))
    assert "You How useful was our last meeting? 2 out of 5" in mentor_view
    assert "Margaret How useful was our last meeting? 4 out of 5" in mentor_view
    assert "Aisha keeps this Only you see this" in mentor_view


def test_a_partners_scores_are_hidden_until_both_answered(mentor, mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    answer(mentee, base, key, {f"p{prompts['I felt safe to be candid.'].id}": "1"})
    answer(
        mentor,
        base,
        f"meeting-{add_meeting(session, pair, 3).id}",
        {f"p{prompts['I felt safe to be candid.'].id}": "5"},
    )
    assert "1 out of 5" not in words(mentor.get(base))  # Aisha answered another round, not this one
    answer(mentor, base, key, {f"p{prompts['I felt safe to be candid.'].id}": "4"})
    assert "I felt safe to be candid. 1 out of 5" in words(mentor.get(base))


def gettable_urls(app, params: dict[str, object]) -> list[str]:
    """Every GET route whose URL parameters we can fill (new sections elsewhere may add others)."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static" or set(rule.arguments) - params.keys():
            continue
        urls.append(adapter.build(rule.endpoint, {k: params[k] for k in rule.arguments}))
    return urls


def test_a_private_answer_never_reaches_the_partner_or_an_admin(
    app, mentor, mentee, base, session, pair, prompts, login
):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    params = {
        "pair_id": pair.id,
        "clause_id": add_clause(session, pair).id,
        **add_pair_content(session, pair, pair.mentor),
        "meeting_id": meeting.id,
        "token": "no-such-token",
        "filename": "css/app.css",
    }
    answer(mentor, base, key, full_answers(prompts, working=f"{PRIVATE} one", change=f"{PRIVATE} two"))
    answer(mentee, base, key, full_answers(prompts, working="Margaret shares", share_working=True))
    second = add_meeting(session, pair, 0)  # a round the partner hasn't answered yet
    answer(
        mentor,
        base,
        f"meeting-{second.id}",
        full_answers(prompts, working=f"{PRIVATE} three", change=f"{SHARED} early", share_change=True),
    )

    urls = gettable_urls(app, params)
    assert base in urls and len(urls) > 20
    variants = ["", f"?round={key}", f"?round=meeting-{second.id}"]
    fragments = [
        {},
        {"HX-Request": "true"},
        {"HX-Request": "true", "HX-Target": "answer_form"},
        {"HX-Request": "true", "HX-Target": "feedback"},
    ]
    admin = login(AdminFactory(), on=app.test_client())
    for who, client in (("partner", mentee), ("admin", admin)):
        leaks, reached = [], 0
        for url in urls:
            # Only the feedback pages read ?round= and serve these blocks; elsewhere a page and
            # htmx's plain request are all there is to ask for.
            feedback_page = url.startswith(base)
            for query in variants if feedback_page else [""]:
                for headers in fragments if feedback_page else fragments[:2]:
                    response = client.get(url + query, headers=headers)
                    assert response.status_code < 500, f"{url}{query} {headers}"
                    body = text(response)
                    reached += base in url and response.status_code == 200
                    if PRIVATE in body or SHARED in body:
                        leaks.append(f"{url}{query} {headers}")
        assert leaks == [], f"{who} saw a private or not-yet-revealed answer: {leaks[:5]}"
        assert reached == (len(variants) * len(fragments) if who == "partner" else 0)
    # The control: the partner's crawl does reach the revealed answer, and the author sees their own.
    assert "Margaret shares" in text(mentee.get(base))
    mine = text(mentor.get(base))
    assert f"{PRIVATE} one" in mine and f"{PRIVATE} three" in mine and f"{SHARED} early" in mine
    # The partner's own writes answer without them too.
    for response in (
        answer(mentee, base, f"meeting-{second.id}", {}),
        answer(mentee, base, f"meeting-{second.id}", {}, htmx=True),
    ):
        assert response.status_code == 422 and PRIVATE not in response.text and SHARED not in response.text


def test_another_pair_cannot_read_or_answer_this_pairs_feedback(app, base, session, pair, prompts, login, mentor):
    meeting = add_meeting(session, pair, 1)
    answer(mentor, base, f"meeting-{meeting.id}", full_answers(prompts, working=SHARED, share_working=True))
    outsider = login(UserFactory(), on=app.test_client())
    assert outsider.get(base).status_code == 404
    assert answer(outsider, base, f"meeting-{meeting.id}", full_answers(prompts)).status_code == 404
    assert submissions(session, pair) == 1


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", [SCRIPT, IMG, ODD, "[x](javascript:alert(1))"])
def test_hostile_text_is_stored_as_typed_and_rendered_harmless(mentor, mentee, base, session, pair, prompts, hostile):
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    for client in (mentor, mentee):
        assert (
            answer(
                client,
                base,
                key,
                full_answers(prompts, working=f"Shared {hostile}", change=f"Mine {hostile}", share_working=True),
            ).status_code
            == 303
        )
    assert {row[5] for row in stored(session, pair) if row[5]} == {f"Shared {hostile}", f"Mine {hostile}"}
    for client in (mentor, mentee):
        for headers in ({}, {"HX-Request": "true", "HX-Target": "answer_form"}):
            page = client.get(base, headers=headers)
            assert page.status_code == 200
            assert f"Shared {hostile}" in text(page)
            assert "<script>alert" not in page.text and "<img src=x" not in page.text
            assert 'href="javascript:' not in page.text.lower()
            assert inline_code_in(page.text) == []


@pytest.mark.parametrize("htmx", [False, True])
def test_too_much_text_is_refused_clearly_and_kept(mentee, base, session, pair, prompts, htmx):
    meeting = add_meeting(session, pair, 1)
    refused = answer(
        mentee,
        base,
        f"meeting-{meeting.id}",
        full_answers(prompts, working=HUGE, change=IMG, share_working=True),
        htmx=htmx,
    )
    assert refused.status_code == 422
    assert "Keep it under 2,000 characters" in text(refused)
    assert HUGE in text(refused) and IMG in text(refused)  # what was typed is still there
    assert re.search(r'name="share\d+"[^>]*checked', refused.text) or re.search(
        r'checked[^>]*name="share\d+"', refused.text
    )
    assert ('<div id="answer_form"' in refused.text) and (("<html" in refused.text) != htmx)
    assert inline_code_in(refused.text) == []
    assert submissions(session, pair) == 0 and stored(session, pair) == []


def test_control_characters_never_reach_the_database(mentee, base, session, pair, prompts):
    meeting = add_meeting(session, pair, 1)
    answer(mentee, base, f"meeting-{meeting.id}", full_answers(prompts, working="Bell\x07 and NUL\x00 gone"))
    assert [row[5] for row in stored(session, pair) if row[5]] == ["Bell and NUL gone"]


# --- queries -------------------------------------------------------------------------------------


def test_pages_never_write_and_query_counts_stay_flat(mentor, mentee, base, session, pair, program, prompts, queries):
    program.feedback_every_weeks = 1
    program.feedback_at_midpoint = True
    add_ground_rules(session, pair, cadence="weekly", midpoint=TODAY - timedelta(days=3))

    made = []

    def grow(how_many: int) -> None:
        """``how_many`` more rounds both answered (shared text, scores, yes/no), stored directly."""
        for _ in range(how_many):
            meeting = add_meeting(session, pair, 40 + len(made))
            made.append(meeting)
            for who in (pair.mentor.id, pair.mentee.id):
                key = f"meeting-{meeting.id}"
                session.add(FeedbackSubmission(pair_id=pair.id, round_key=key, user_id=who))
                for prompt in prompts.values():
                    values = (
                        {"score": 4}
                        if prompt.kind == PromptKind.SCALE
                        else {"yes": True}
                        if prompt.kind == PromptKind.YES_NO
                        else {"text": "Yes"}
                    )
                    session.add(
                        FeedbackAnswer(
                            pair_id=pair.id, round_key=key, user_id=who, prompt_id=prompt.id, shared=True, **values
                        )
                    )
        session.flush()

    def measure() -> dict[str, int]:
        counts = {}
        newest = session.scalar(
            select(Meeting.id).where(Meeting.pair_id == pair.id).order_by(Meeting.held_on.desc()).limit(1)
        )
        for name, url, headers in (
            ("page", base, {}),
            ("page as htmx", base, {"HX-Request": "true"}),
            ("form fragment", f"{base}?round=meeting-{newest}", {"HX-Request": "true", "HX-Target": "answer_form"}),
        ):
            with queries() as log:
                response = mentor.get(url, headers=headers)
                assert response.status_code == 200, name
            assert log.writes == [], name
            counts[name] = log.count
        return counts

    for days in (6, 4):
        add_meeting(session, pair, days)  # due rounds, for the page's form
    grow(3)
    first = measure()
    # The signed-in person and the membership (2), then: rhythm, dates and latest meetings (1);
    # submissions (1); readable answers (1); the prompts with who answered (1); the tab bar's
    # badges (1). A fragment: 2 + 2.
    assert first == {"page": 7, "page as htmx": 7, "form fragment": 4}
    grow(6)
    for days in (5, 3):
        add_meeting(session, pair, days)
    assert measure() == first
    page = words(mentor.get(base))
    assert page.count("Only you see this") == 0  # both shared everything written
    assert "What you've answered" in page


def test_a_partners_answer_without_their_submission_stays_hidden(app, mentor, base, session, pair, prompts):
    """Answers are revealed by both submissions, not by the answers' existence: a stray row (an
    import, a half-finished write) never shows early."""
    meeting = add_meeting(session, pair, 1)
    key = f"meeting-{meeting.id}"
    answer(mentor, base, key, full_answers(prompts, working="Aisha's"))
    session.add(
        FeedbackAnswer(
            pair_id=pair.id,
            round_key=key,
            user_id=pair.mentee.id,
            prompt_id=prompts["What is working?"].id,
            text=SHARED,
            shared=True,
        )
    )
    session.flush()
    page = text(mentor.get(base))
    assert "Aisha's" in page and SHARED not in page
    with app.test_request_context():
        [answered] = rounds.page(pair.member(Role.MENTOR), TODAY).answered
    assert not answered.partner_answered and answered.theirs == []  # not even read from the database


def test_answering_works_with_the_pages_own_token_and_not_without(csrf_app):
    app = csrf_app
    with committed_session(app) as session:
        program = ProgramFactory(starts_on=TODAY - timedelta(days=30), ends_on=TODAY + timedelta(days=150))
        prompts = give_prompts(session, program)
        pair = PairFactory(program=program)
        meeting = add_meeting(session, pair, 1)
        session.commit()
        (client,) = clients_of(app, pair.mentee)
        base = f"/pairs/{pair.id}/feedback"
        page = client.get(base).text
        token = hidden_input(page)[1]
        data = {"round": f"meeting-{meeting.id}", **full_answers(prompts, working="With a token")}
        assert client.post(base, data=data).status_code == 400
        assert "You're up to date" not in text(client.get(base))  # refused: still waiting
        assert client.post(base, data={**data, "csrf_token": token}).status_code == 303
        stored = select(func.count(FeedbackSubmission.id)).where(FeedbackSubmission.pair_id == pair.id)
        assert session.scalar(stored) == 1


@pytest.mark.parametrize("same_key", [True, False], ids=["double-tap", "two-tabs"])
def test_parallel_submissions_store_one_set_of_answers_and_never_fail(tmp_path, same_key):
    """Copies of one answer arriving together (a double tap, or two tabs) on a database of their
    own, PostgreSQL too: one set is stored, every copy gets an answer, none a 500."""
    copies = 4
    with own_app(tmp_path) as app:
        with committed_session(app) as session:
            program = ProgramFactory(no_rounds=True, feedback_after_meeting=True)
            prompts = give_prompts(session, program)
            pair = PairFactory(program=program)
            meeting = add_meeting(session, pair, 1)
            session.commit()
            pair_id, mentee, key = pair.id, pair.mentee, f"meeting-{meeting.id}"

        def send(n: int, client) -> tuple[int, str]:
            token = "k" * 22 if same_key else f"tab{n}" + "k" * 20
            data = {"round": key, "idempotency_key": token, **full_answers(prompts, working=f"Copy {n}")}
            response = client.post(f"/pairs/{pair_id}/feedback", data=data)
            return response.status_code, response.headers.get("Location", "")

        answers = at_once(send, enumerate(clients_of(app, *[mentee] * copies)))
        with app.app_context():
            if same_key:
                assert [status for status, _ in answers] == [303] * copies
                assert {location for _, location in answers} == {f"/pairs/{pair_id}/feedback?saved={key}#round-{key}"}
            else:
                # One tab saved; the others get their words back with the round answered.
                assert sorted(status for status, _ in answers) == [303] + [409] * (copies - 1)
            assert db.session.scalar(select(func.count(FeedbackSubmission.id))) == 1
            texts = db.session.scalars(select(FeedbackAnswer.text).where(FeedbackAnswer.text != "")).all()
            assert len(texts) == 1  # one copy's answers, whole
