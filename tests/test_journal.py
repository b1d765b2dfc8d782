"""The session journal: logging meetings from the agenda, action items, editing without losing a
word, search, and the private reflection that only its author can ever read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from factories import AdminFactory, PairFactory, UserFactory
from sqlalchemy import func, select
from support.apps import clients_of, committed_session
from support.pages import hidden_input, inline_code_in, text, words
from support.records import add_clause, read_back
from werkzeug.datastructures import ImmutableMultiDict

from app import htmx as htmx_helpers
from app.models import ActionItem, Goal, Meeting, Reflection, Role, Topic

SCRIPT = "<script>alert('pwned')</script>"
IMG = '"><img src=x onerror=alert(1)>'
HUGE = ("Reverse mentoring works both ways. " * 3000)[:100_000]
ODD = "\u202eevil\u200d\u0301 \U0001f469\u200d\U0001f4bb Zoe\u0301"
HOSTILE = [SCRIPT, IMG, "[click](javascript:alert(1))", "<a href='javascript:alert(1)'>x</a>", ODD]


@pytest.fixture
def base(pair) -> str:
    return f"/pairs/{pair.id}/journal"


def add_topic(session, pair, text: str, role: Role = Role.MENTEE) -> Topic:
    by = pair.mentee if role == Role.MENTEE else pair.mentor
    topic = Topic(pair_id=pair.id, text=text, added_by_id=by.id, added_by_role=role)
    session.add(topic)
    session.flush()
    return topic


def add_goal(session, pair, title: str = "Get comfortable with Figma", **values) -> Goal:
    goal = Goal(pair_id=pair.id, learner=Role.MENTEE, title=title, **values)
    session.add(goal)
    session.flush()
    return goal


def log(client, base, *, htmx: bool = False, url: str = "/new", **values):
    """Log a meeting through the form, as a person would; ``values`` override the defaults."""
    data = {
        "held_on": date.today().isoformat(),
        "length_minutes": "45",
        "format": "video",
        "notes": "",
        "reflection": "",
    }
    data.update(values)
    headers = {"HX-Request": "true", "HX-Target": "log_form"} if htmx else {}
    return client.post(f"{base}{url}", data=data, headers=headers)


def at_item(item: ActionItem) -> dict[str, str]:
    """The headers htmx sends for a tick swapped in place."""
    return {"HX-Request": "true", "HX-Target": f"action-{item.id}"}


def meetings_of(session, pair) -> list[Meeting]:
    return read_back(session, select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.id))


def only_meeting(session, pair) -> Meeting:
    [meeting] = meetings_of(session, pair)
    return meeting


def topics_of(session, pair) -> dict[str, int | None]:
    rows = session.execute(
        select(Topic.text, Topic.meeting_id).where(Topic.pair_id == pair.id).execution_options(populate_existing=True)
    )
    return {row.text: row.meeting_id for row in rows}


def items_of(session, pair) -> list[ActionItem]:
    return read_back(session, select(ActionItem).where(ActionItem.pair_id == pair.id).order_by(ActionItem.id))


# --- logging a meeting ---------------------------------------------------------------------------


def test_the_empty_journal_invites_rather_than_scolds(mentee, base):
    page = words(mentee.get(base))
    assert "Your journal starts with your next meeting" in page
    assert "Log a meeting" in page
    for shaming in ("missed", "overdue", "haven't met", "behind"):
        assert shaming not in page.lower()


def test_the_log_form_starts_from_today_the_agreed_length_and_the_open_agenda(mentor, base, pair, session):
    assert mentor.post(f"/pairs/{pair.id}/ground-rules/start").status_code == 303  # the template agrees 45 minutes
    add_topic(session, pair, "How promotions really happen", Role.MENTOR)
    add_topic(session, pair, "Slack etiquette", Role.MENTEE)
    page = mentor.get(f"{base}/new")
    assert page.status_code == 200
    html = page.text
    assert re.search(rf'name="held_on"[^>]*value="{date.today().isoformat()}"', html)
    assert re.search(r'name="length_minutes"[^>]*value="45"', html)
    assert "You agreed on about 45 minutes." in text(page)
    # The agenda is the open topics, the mentee's first, each ticked.
    boxes = re.findall(r'<input type="checkbox" name="covered" value="(\d+)"( checked)?>', html)
    assert len(boxes) == 2 and all(checked for _, checked in boxes)
    assert text(page).index("Slack etiquette") < text(page).index("How promotions really happen")
    # One empty action row (what, who, due), not a wall of them: "Add another action" adds the next.
    assert html.count('name="actions-') == 3 and 'name="actions-0-text"' in html


def test_without_agreed_ground_rules_the_length_is_left_for_the_pair(mentor, base):
    html = mentor.get(f"{base}/new").text
    assert re.search(r'name="length_minutes"[^>]*value=""', html)
    assert "You agreed on about" not in html


def test_covered_topics_leave_the_agenda_and_the_rest_carry_forward(mentor, mentee, base, pair, session):
    covered = add_topic(session, pair, "Slack etiquette")
    later = add_topic(session, pair, "What new hires notice first", Role.MENTOR)
    response = log(mentor, base, covered=[str(covered.id)], notes="We covered **Slack**.")
    assert response.status_code == 303
    meeting = only_meeting(session, pair)
    assert response.location == f"{base}#meeting-{meeting.id}"
    assert topics_of(session, pair) == {"Slack etiquette": meeting.id, "What new hires notice first": None}

    # The next log form offers only what is still open.
    form = text(mentee.get(f"{base}/new"))
    assert "What new hires notice first" in form and "Slack etiquette" not in form
    entry = words(mentee.get(f"{base}/meetings/{meeting.id}"))
    assert "Topics you covered Slack etiquette" in entry
    assert "What new hires notice first" not in entry

    # The carried-forward topic is covered the next time, and the first meeting keeps its own.
    log(mentee, base, covered=[str(later.id)])
    second = meetings_of(session, pair)[-1]
    assert topics_of(session, pair) == {"Slack etiquette": meeting.id, "What new hires notice first": second.id}


def test_a_topic_already_covered_or_from_another_pair_is_left_alone(mentor, base, pair, session):
    elsewhere = add_topic(session, PairFactory(), "Another pair's topic")
    mine = add_topic(session, pair, "Ours")
    log(mentor, base, covered=[str(mine.id)])
    first = only_meeting(session, pair)
    # A stale form (say, a second tab) ticks the same topic again, and another pair's.
    assert log(mentor, base, covered=[str(mine.id), str(elsewhere.id)]).status_code == 303
    assert topics_of(session, pair) == {"Ours": first.id}
    assert (
        session.scalar(
            select(Topic.meeting_id).where(Topic.id == elsewhere.id).execution_options(populate_existing=True)
        )
        is None
    )


def test_action_items_are_stored_with_who_when_and_which_goal(mentor, base, pair, session):
    goal = add_goal(session, pair)
    due = date.today() + timedelta(days=7)
    response = log(
        mentor,
        base,
        **{
            "actions-0-text": "Try Figma's auto layout",
            "actions-0-owner": str(pair.mentee.id),
            "actions-0-due_on": due.isoformat(),
            "actions-0-goal": str(goal.id),
            "actions-1-text": "Introduce Margaret to the design team",
            "actions-1-owner": str(pair.mentor.id),
            "actions-2-text": "Read the onboarding survey together",
            "actions-2-owner": "",
        },
    )
    assert response.status_code == 303
    stored = [(i.text, i.owner_id, i.due_on, i.goal_id, i.done) for i in items_of(session, pair)]
    assert stored == [
        ("Try Figma's auto layout", pair.mentee.id, due, goal.id, False),
        ("Introduce Margaret to the design team", pair.mentor.id, None, None, False),
        ("Read the onboarding survey together", None, None, None, False),
    ]
    page = words(mentor.get(base))
    assert f"Try Figma's auto layout Margaret · due {due.day} {due:%b %Y} · for “Get comfortable with Figma”" in page
    assert "Introduce Margaret to the design team You" in page
    assert "Read the onboarding survey together Both of you" in page


def test_an_action_for_someone_outside_the_pair_or_a_foreign_goal_is_refused(mentor, base, pair, session):
    outsider = UserFactory()
    foreign_goal = add_goal(session, PairFactory(), "Not ours")
    for row in ({"actions-0-owner": str(outsider.id)}, {"actions-0-goal": str(foreign_goal.id)}):
        response = log(mentor, base, notes="Kept notes", **{"actions-0-text": "Sneaky", **row})
        assert response.status_code == 422
        assert "Not a valid choice" in text(response)
        assert re.search(r">\s*Kept notes</textarea>", response.text)
    assert meetings_of(session, pair) == []


def test_an_action_row_needs_words(mentor, base, pair, session):
    response = log(mentor, base, **{"actions-0-due_on": date.today().isoformat()})
    assert response.status_code == 422
    assert "Say what the action is, or clear this row." in text(response)
    assert meetings_of(session, pair) == []


def test_add_another_action_works_with_and_without_javascript(mentor, base, pair, session):
    page = mentor.get(f"{base}/new").text
    assert f'formaction="{base}/new/rows"' in page and f'hx-post="{base}/new/rows"' in page
    plain = log(mentor, base, url="/new/rows", notes="Typed so far", **{"actions-0-text": "First"})
    assert plain.status_code == 200 and "<html" in plain.text
    assert 'name="actions-1-text"' in plain.text  # a second row…
    assert 'value="First"' in plain.text and "Typed so far</textarea>" in plain.text  # …and nothing typed is lost
    fragment = log(mentor, base, url="/new/rows", htmx=True)
    assert fragment.text.lstrip().startswith('<form id="log_form"')
    assert 'name="actions-1-text"' in fragment.text and 'name="actions-2-text"' not in fragment.text
    assert meetings_of(session, pair) == []  # nothing saved yet


def test_with_htmx_logging_navigates_to_the_journal(mentor, base, pair, session):
    response = log(mentor, base, htmx=True, notes="From a phone")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"{base}#meeting-{only_meeting(session, pair).id}"


def test_a_bad_date_or_length_is_explained_and_kept(mentor, base, pair, session):
    future = (date.today() + timedelta(days=30)).isoformat()
    response = log(mentor, base, held_on=future, length_minutes="9999", format="teleport")
    assert response.status_code == 422
    page = text(response)
    assert "That date hasn't come yet." in page
    assert "Between 1 minute and 12 hours." in page
    assert "Not a valid choice" in page
    assert f'value="{future}"' in response.text and 'value="9999"' in response.text
    response = log(mentor, base, held_on="last tuesday")
    assert response.status_code == 422 and "Use a date like 2026-03-14." in text(response)
    assert 'value="last tuesday"' in response.text
    assert meetings_of(session, pair) == []


# --- entries, paging -----------------------------------------------------------------------------


def test_entries_show_everything_about_the_meeting(mentor, mentee, base, pair, session):
    topic = add_topic(session, pair, "Slack etiquette")
    log(
        mentor,
        base,
        held_on="2026-01-05",
        length_minutes="50",
        format="in-person",
        covered=[str(topic.id)],
        notes="- threads, not channels\n- **emoji** reactions",
        **{"actions-0-text": "Set a status", "actions-0-owner": str(pair.mentee.id)},
    )
    page = mentee.get(base)
    entry = words(page)
    assert "5 Jan 2026 In person · 50 minutes · logged by Aisha" in entry
    assert "<li><strong>emoji</strong> reactions</li>" in page.text
    assert "Slack etiquette" in entry and "Set a status You" in entry
    assert "Your private reflection" in entry and "Write a reflection" in entry


def test_entries_are_newest_first_ten_to_a_page(mentor, base, pair, session):
    start = date(2025, 1, 1)
    for n in range(12):
        session.add(
            Meeting(
                pair_id=pair.id,
                held_on=start + timedelta(days=7 * n),
                notes=f"Meeting number {n}",
                author_id=pair.mentor.id,
            )
        )
    session.flush()
    first = mentor.get(base)
    numbers = [int(n) for n in re.findall(r"Meeting number (\d+)", first.text)]
    assert numbers == list(range(11, 1, -1))
    assert 'rel="next" href="' + f'{base}?page=2"' in first.text and 'rel="prev"' not in first.text
    second = mentor.get(f"{base}?page=2")
    assert [int(n) for n in re.findall(r"Meeting number (\d+)", second.text)] == [1, 0]
    assert f'rel="prev" href="{base}"' in second.text and 'rel="next"' not in second.text
    beyond = mentor.get(f"{base}?page=7")
    assert beyond.status_code == 200 and "There are no older meetings." in text(beyond)
    for odd in ("abc", "-3", "0", "99999999999999999999999999"):
        assert mentor.get(f"{base}?page={odd}").status_code == 200


def test_an_entry_has_its_own_page(mentor, base, pair, session):
    log(mentor, base, held_on="2026-02-02", notes="Own page")
    meeting = only_meeting(session, pair)
    page = mentor.get(f"{base}/meetings/{meeting.id}")
    assert page.status_code == 200
    assert "<title>Meeting on 2 Feb 2026 · Twoway</title>" in page.text
    assert "Own page" in text(page) and "← All meetings" in text(page)


# --- action items --------------------------------------------------------------------------------


def test_ticking_an_action_item_swaps_it_in_place(mentor, mentee, base, pair, session):
    goal = add_goal(session, pair, "Speak up in design reviews")
    log(
        mentor,
        base,
        **{"actions-0-text": "Book the review", "actions-0-owner": str(pair.mentee.id), "actions-0-goal": str(goal.id)},
    )
    [item] = items_of(session, pair)
    url = f"{base}/actions/{item.id}/toggle"
    ticked = mentee.post(url, data={"done": "1"}, headers=at_item(item))
    assert ticked.status_code == 200
    assert ticked.text.lstrip().startswith(f'<li id="action-{item.id}" class="action-item is-done">')
    assert 'aria-pressed="true"' in ticked.text and "for “Speak up in design reviews”" in text(ticked)
    assert "<html" not in ticked.text
    stored = items_of(session, pair)[0]
    assert stored.done and stored.done_at is not None
    # A double tap asks for the same state again: still done, not flipped back.
    assert mentee.post(url, data={"done": "1"}, headers=at_item(item)).status_code == 200
    assert items_of(session, pair)[0].done
    unticked = mentor.post(url, data={"done": "0"}, headers=at_item(item))
    assert 'aria-pressed="false"' in unticked.text
    stored = items_of(session, pair)[0]
    assert not stored.done and stored.done_at is None


def test_ticking_without_javascript_returns_to_the_page_it_came_from(mentor, base, pair, session):
    log(mentor, base, **{"actions-0-text": "Share the survey"})
    [item] = items_of(session, pair)
    back = mentor.post(
        f"{base}/actions/{item.id}/toggle",
        data={"done": "1"},
        headers={"Referer": f"http://localhost:5000{base}?page=1"},
    )
    assert back.status_code == 303 and back.location == f"{base}?page=1#action-{item.id}"
    unknown = mentor.post(f"{base}/actions/{item.id}/toggle", data={"done": "0"})
    assert unknown.status_code == 303 and unknown.location == f"{base}#action-{item.id}"
    assert not items_of(session, pair)[0].done


# --- editing -------------------------------------------------------------------------------------


def edit(client, base, meeting: Meeting, version: int, htmx: bool = True, **values):
    data = {
        "held_on": meeting.held_on.isoformat(),
        "length_minutes": str(meeting.length_minutes or ""),
        "format": meeting.format.value,
        "notes": meeting.notes,
        "version": str(version),
        **values,
    }
    headers = {"HX-Request": "true", "HX-Target": f"entry-{meeting.id}"} if htmx else {}
    return client.post(f"{base}/meetings/{meeting.id}", data=data, headers=headers)


def test_the_author_edits_an_entry_in_place(mentor, base, pair, session):
    log(mentor, base, notes="First draft")
    meeting = only_meeting(session, pair)
    form = mentor.get(
        f"{base}/meetings/{meeting.id}/edit", headers={"HX-Request": "true", "HX-Target": f"entry-{meeting.id}"}
    )
    assert form.text.lstrip().startswith(f'<div id="entry-{meeting.id}" class="entry entry-edit">')
    assert 'name="version" type="hidden" value="1"' in form.text
    saved = edit(mentor, base, meeting, 1, notes="Second **draft**", length_minutes="60", format="call")
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith(f'<div id="entry-{meeting.id}" class="entry entry-view">')
    assert "Second <strong>draft</strong>" in saved.text and "Call · 60 minutes" in text(saved)
    stored = only_meeting(session, pair)
    assert (stored.notes, stored.length_minutes, stored.format.value, stored.version) == (
        "Second **draft**",
        60,
        "call",
        2,
    )
    # Cancel brings back the entry as it is.
    shown = mentor.get(
        f"{base}/meetings/{meeting.id}", headers={"HX-Request": "true", "HX-Target": f"entry-{meeting.id}"}
    )
    assert shown.text.lstrip().startswith(f'<div id="entry-{meeting.id}"') and "Second" in shown.text


def test_without_javascript_editing_still_works(mentor, base, pair, session):
    log(mentor, base, notes="Plain")
    meeting = only_meeting(session, pair)
    page = mentor.get(f"{base}/meetings/{meeting.id}/edit")
    assert "<html" in page.text and f'action="{base}/meetings/{meeting.id}"' in page.text
    response = edit(mentor, base, meeting, 1, htmx=False, notes="Plain, edited")
    assert response.status_code == 303 and response.location == f"{base}/meetings/{meeting.id}"
    assert only_meeting(session, pair).notes == "Plain, edited"


def test_a_stale_save_is_refused_and_shows_both_versions(mentor, base, pair, session):
    log(mentor, base, notes="Original notes")
    meeting = only_meeting(session, pair)
    # Two tabs load version 1; the phone saves first…
    assert edit(mentor, base, meeting, 1, notes="Saved from my phone").status_code == 200
    # …then the laptop saves over the version it loaded.
    stale = edit(mentor, base, meeting, 1, notes="Typed on my laptop", length_minutes="30")
    assert stale.status_code == 409
    page = text(stale)
    assert "saved from another tab or device while you were editing it here" in page
    assert "Saved from my phone" in page  # the saved version…
    assert re.search(
        r'<textarea[^>]*name="notes"[^>]*>\s*Typed on my laptop</textarea>', stale.text
    )  # …beside the unsaved input
    assert re.search(r'name="length_minutes"[^>]*value="30"', stale.text)
    assert 'name="version" type="hidden" value="2"' in stale.text  # saving from here goes over the newer version
    assert only_meeting(session, pair).notes == "Saved from my phone"  # nothing overwritten

    merged = edit(mentor, base, only_meeting(session, pair), 2, notes="Phone and laptop")
    assert merged.status_code == 200 and only_meeting(session, pair).notes == "Phone and laptop"
    # Without JavaScript the conflict is a whole page, with the same 409.
    plain = edit(mentor, base, meeting, 1, htmx=False, notes="Old tab")
    assert plain.status_code == 409 and "<html" in plain.text and "Phone and laptop" in text(plain)


def test_saving_the_same_words_over_an_old_version_is_no_conflict(mentor, base, pair, session):
    log(mentor, base, notes="Same")
    meeting = only_meeting(session, pair)
    assert edit(mentor, base, meeting, 1, notes="Changed").status_code == 200
    assert edit(mentor, base, only_meeting(session, pair), 1, notes="Changed").status_code == 200


def test_only_the_author_can_edit_an_entry(mentor, mentee, base, pair, session):
    log(mentor, base, notes="Aisha's notes")
    meeting = only_meeting(session, pair)
    page = mentee.get(f"{base}/meetings/{meeting.id}")
    assert "Aisha's notes" in text(page)
    assert f"{base}/meetings/{meeting.id}/edit" not in page.text  # no edit control for the partner
    assert f"{base}/meetings/{meeting.id}/edit" in mentor.get(f"{base}/meetings/{meeting.id}").text
    refused = mentee.get(f"{base}/meetings/{meeting.id}/edit")
    assert refused.status_code == 403
    assert "Only its author can change this entry" in text(refused)
    assert edit(mentee, base, meeting, 1, notes="Margaret rewrote it").status_code == 403
    assert edit(mentee, base, meeting, 1, htmx=False, notes="Margaret rewrote it").status_code == 403
    assert only_meeting(session, pair).notes == "Aisha's notes"


def test_another_pairs_meetings_and_action_items_are_out_of_reach(mentor, base, pair, session, app, login):
    log(mentor, base, notes="Ours", reflection="Mine", **{"actions-0-text": "Our action"})
    meeting = only_meeting(session, pair)
    [item] = items_of(session, pair)
    other = PairFactory(mentor=pair.mentor)  # even the same person, through another pair's URL
    outsider = login(other.mentee, on=app.test_client())
    for client, other_base in ((outsider, f"/pairs/{other.id}/journal"), (mentor, f"/pairs/{other.id}/journal")):
        assert client.get(f"{other_base}/meetings/{meeting.id}").status_code == 404
        assert client.get(f"{other_base}/meetings/{meeting.id}/edit").status_code == 404
        assert edit(client, other_base, meeting, 1, notes="hijack").status_code == 404
        assert (
            client.post(
                f"{other_base}/meetings/{meeting.id}/reflection", data={f"reflection-{meeting.id}-body": "x"}
            ).status_code
            == 404
        )
        assert client.post(f"{other_base}/actions/{item.id}/toggle", data={"done": "1"}).status_code == 404
    # And someone outside the pair can't open the pair at all.
    assert outsider.get(base).status_code == 404
    assert only_meeting(session, pair).notes == "Ours" and not items_of(session, pair)[0].done
    assert session.scalar(select(func.count(Reflection.id))) == 1


# --- private reflections -------------------------------------------------------------------------

MARKER = "Quokka7f3e"  # what the partner searches for
SECRET = "only-Aisha-may-read-this-4b9d"  # the rest of the reflection: never shown to anyone else


def reflection_version(client, base, meeting: Meeting) -> str:
    """The version the reflection form on the entry's page carries, as a tab opened now has it."""
    page = client.get(f"{base}/meetings/{meeting.id}").text
    return re.search(
        rf'id="reflection-{meeting.id}-version" name="reflection-{meeting.id}-version" type="hidden" value="(\d+)"',
        page,
    ).group(1)


def reflect(client, base, meeting: Meeting, body: str, htmx: bool = True, version: str | None = None):
    """Save a reflection from the entry's page, opened just before (or at ``version``)."""
    version = reflection_version(client, base, meeting) if version is None else version
    headers = {"HX-Request": "true", "HX-Target": f"reflection-{meeting.id}"} if htmx else {}
    data = {f"reflection-{meeting.id}-body": body, f"reflection-{meeting.id}-version": version}
    return client.post(f"{base}/meetings/{meeting.id}/reflection", data=data, headers=headers)


def test_each_person_keeps_their_own_reflection_on_any_meeting(mentor, mentee, base, pair, session):
    log(mentor, base, notes="Shared")
    meeting = only_meeting(session, pair)
    response = reflect(mentee, base, meeting, "Margaret's own thought")  # on a meeting Aisha logged
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<section id="reflection-{meeting.id}"')
    assert "Margaret's own thought" in text(response) and "Saved." in text(response)
    reflect(mentor, base, meeting, "Aisha's own thought")
    reflect(mentor, base, meeting, "Aisha's second thought")  # an edit, not a second reflection
    stored = {
        r.author_id: r.body for r in session.scalars(select(Reflection).execution_options(populate_existing=True))
    }
    assert stored == {pair.mentee.id: "Margaret's own thought", pair.mentor.id: "Aisha's second thought"}
    mine = text(mentee.get(base))
    assert "Margaret's own thought" in mine and "Aisha's" not in mine
    # Clearing it removes it.
    plain = reflect(mentee, base, meeting, "", htmx=False)
    assert plain.status_code == 303 and plain.location == f"{base}/meetings/{meeting.id}#reflection-{meeting.id}"
    assert session.scalar(select(func.count(Reflection.id)).where(Reflection.author_id == pair.mentee.id)) == 0


def test_a_reflection_written_while_logging_is_the_authors(mentor, base, pair, session):
    log(mentor, base, reflection="Written with the log")
    [reflection] = session.scalars(select(Reflection)).all()
    assert (reflection.author_id, reflection.body, reflection.pair_id) == (
        pair.mentor.id,
        "Written with the log",
        pair.id,
    )


def crawl_params(session, pair, meeting: Meeting, item: ActionItem, goal: Goal) -> dict[str, object]:
    """A plausible value for every URL parameter a GET route takes."""
    return {
        "pair_id": pair.id,
        "meeting_id": meeting.id,
        "action_id": item.id,
        "goal_id": goal.id,
        "topic_id": session.scalar(select(Topic.id).where(Topic.pair_id == pair.id)),
        "clause_id": add_clause(session, pair).id,
        "passkey_id": 1,
        "milestone_id": 1,
        "feed_id": 1,
        "program_id": pair.program.id,
        "participant_id": 1,
        "request_id": 1,
        "proposal_id": 1,
        "token": "no-such-token",
        "filename": "css/app.css",
    }


class _ReadArgs(ImmutableMultiDict):
    """The query string, noting each name the view asks it for (present or not)."""

    read: set[str] = set()

    def get(self, key, *args, **kwargs):
        self.read.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key, *args, **kwargs):
        self.read.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def _everything(self, name: str):
        # A view that lists the whole query string may read any name: it gets every variant.
        self.read.add("*")
        return getattr(super(), name)

    def __iter__(self):
        return self._everything("__iter__")()

    def keys(self):
        return self._everything("keys")()

    def items(self, *args, **kwargs):
        return self._everything("items")(*args, **kwargs)

    def lists(self):
        return self._everything("lists")()

    def to_dict(self, *args, **kwargs):
        return self._everything("to_dict")(*args, **kwargs)


@contextmanager
def what_views_read(app) -> Iterator[tuple[set[str], set[str]]]:
    """The query-string names and the htmx blocks the requests in the block read or offered: a
    variant that changes only what a view never looks at answers as the plain request does."""
    args: set[str] = set()
    blocks: set[str] = set()
    chosen = htmx_helpers.chosen_block

    def offered(listed):
        listed = tuple(listed)
        blocks.update(listed)
        return chosen(listed)

    original = app.request_class.parameter_storage_class
    _ReadArgs.read = args
    app.request_class.parameter_storage_class = _ReadArgs
    htmx_helpers.chosen_block = offered
    try:
        yield args, blocks
    finally:
        app.request_class.parameter_storage_class = original
        htmx_helpers.chosen_block = chosen


def crawl(app, client, params: dict[str, object], meeting_id: int) -> dict[str, str]:
    """Every GET route, as a page and as htmx asks for it; then as each journal fragment it serves
    (the blocks it lists: ``HX-Target`` picks only among those) and with and without a search for
    the marker and a page number, where it reads ``q`` or ``page``. Returns each response's status,
    headers and text by request."""
    seen = {}
    queries = ["", f"?q={MARKER}", f"?q={MARKER.lower()[:12]}", "?page=1", "?page=2", f"?q={MARKER}&page=1"]
    journal_targets = {
        block: {"HX-Request": "true", "HX-Target": target}
        for block, target in (
            ("entry", f"entry-{meeting_id}"),
            ("reflection", f"reflection-{meeting_id}"),
            ("log_form", "log_form"),
            ("entries", "entries"),
            ("search_results", "search_results"),
        )
    }

    def get(url: str, headers: dict[str, str]) -> None:
        if f"GET {url} {headers}" in seen:
            return
        response = client.get(url, headers=headers)
        assert response.status_code < 500, f"GET {url} {headers}"
        seen[f"GET {url} {headers}"] = f"{response.status_code}\n{response.headers}{response.get_data(as_text=True)}"

    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        missing = set(rule.arguments) - params.keys()
        assert not missing, f"{rule.rule} takes {sorted(missing)}: give the reflection crawl a value for it"
        url = app.url_map.bind("localhost").build(rule.endpoint, {k: params[k] for k in rule.arguments})
        fragments: list[dict[str, str]] = [{}, {"HX-Request": "true"}]
        # htmx.render hands chosen_block the view's blocks with or without a target: the page and
        # its htmx request tell which blocks, and which query-string names, the view knows of.
        with what_views_read(app) as (args, blocks):
            for headers in fragments:
                get(url, headers)
        fragments += [headers for block, headers in journal_targets.items() if block in blocks]
        for query in queries:
            if "*" in args or set(re.findall(r"[?&](\w+)=", query)) <= args:
                for headers in fragments:
                    get(url + query, headers)
    return seen


def test_the_private_reflection_never_reaches_the_partner_or_an_admin(app, mentor, mentee, base, pair, session, login):
    goal = add_goal(session, pair, "Learn the informal organisation", why="Promotions", success="A mentor of my own")
    topic = add_topic(session, pair, "Covered topic")
    add_topic(session, pair, "Still open")
    log(
        mentor,
        base,
        covered=[str(topic.id)],
        notes="Shared notes",
        reflection=f"{MARKER} {SECRET} written while logging",
        **{"actions-0-text": "Shared action", "actions-0-goal": str(goal.id)},
    )
    meeting = only_meeting(session, pair)
    log(mentor, base, held_on=(date.today() - timedelta(days=14)).isoformat(), notes="An older meeting")
    older = meetings_of(session, pair)[-1]
    reflect(mentor, base, older, f"And {MARKER} {SECRET} again on the older one")
    partners_own = "Margaret-only-reflection-9c1d"
    reflect(mentee, base, meeting, partners_own)
    [item] = items_of(session, pair)
    params = crawl_params(session, pair, meeting, item, goal)

    admin = login(AdminFactory(), on=app.test_client())
    for who, client in (("partner", mentee), ("admin", admin)):
        seen = crawl(app, client, params, meeting.id)
        assert len(seen) > 100, "the crawl should have reached every route"
        # A search page repeats what was searched for; the reflection's own words never appear.
        leaks = [
            request
            for request, body in seen.items()
            if SECRET.lower() in body.lower() or ("q=" not in request and MARKER.lower() in body.lower())
        ]
        assert leaks == [], f"{who} saw the private reflection: {leaks[:5]}"
        searched = [
            body for request, body in seen.items() if "/journal/search?q=" in request and body.startswith("200")
        ]
        # Two searches, as a page and for htmx (the search lists no block a target could pick; it
        # reads no page number); admins get 404.
        assert len(searched) == (4 if who == "partner" else 0)
        assert all("Your private reflections" not in body for body in searched)
        if who == "partner":
            # The control: the crawl does reach pages that show reflections (the partner's own).
            assert any(partners_own in body for body in seen.values())
    # A partner's write answers don't carry it either.
    for response in (
        reflect(mentee, base, meeting, "Margaret again"),
        mentee.post(f"{base}/actions/{item.id}/toggle", data={"done": "1"}, headers=at_item(item)),
        log(mentee, base, htmx=True, add_action="1"),
        log(mentee, base, held_on="not a date"),
    ):
        assert MARKER not in response.text and SECRET not in response.text
    assert "Nothing mentions “Quokka7f3e” yet" in words(mentee.get(f"{base}/search?q={MARKER}"))

    # The author sees it: on the entry, in the journal, and in search (whatever the case).
    assert SECRET in text(mentor.get(f"{base}/meetings/{meeting.id}"))
    assert SECRET in text(mentor.get(base))
    found = mentor.get(f"{base}/search?q={MARKER.upper()}")
    assert "Your private reflections" in text(found) and SECRET in text(found)
    assert f"{base}/meetings/{older.id}#reflection-{older.id}" in found.text
    assert partners_own not in text(mentor.get(f"{base}/search?q=Margaret-only"))


# --- search --------------------------------------------------------------------------------------


def test_search_finds_notes_goals_topics_and_actions_whatever_the_case(mentor, mentee, base, pair, session):
    goal = add_goal(
        session,
        pair,
        "Present at the Town Hall",
        why="Visibility with the LEADERSHIP team",
        success="Questions answered calmly",
    )
    covered = add_topic(session, pair, "Reading the org chart")
    add_topic(session, pair, "Leadership styles across teams")
    log(
        mentor,
        base,
        held_on="2026-03-02",
        covered=[str(covered.id)],
        notes="We talked about leadership offsites.",
        **{"actions-0-text": "Ask a LeaderShip coach", "actions-0-goal": str(goal.id)},
    )
    meeting = only_meeting(session, pair)
    [item] = items_of(session, pair)
    page = mentee.get(f"{base}/search?q=leadership")
    assert page.status_code == 200
    found = words(page)
    assert "Found in 4 places" in found
    assert "Meeting notes Meeting on 2 Mar 2026" in found
    assert f'href="{base}/meetings/{meeting.id}"' in page.text
    assert f'href="/pairs/{pair.id}/goals#goal-{goal.id}">Goal: Present at the Town Hall</a>' in page.text
    assert f'href="/pairs/{pair.id}">On the agenda for next time</a>' in page.text
    assert (
        f'href="{base}/meetings/{meeting.id}#action-{item.id}">Action from the meeting on 2 Mar 2026</a>' in page.text
    )
    assert "<mark>LEADERSHIP</mark>" in page.text and "<mark>LeaderShip</mark>" in page.text
    # A covered topic links to its meeting; goal success is searched too.
    assert (
        f'#meeting-{meeting.id}">Covered at the meeting on 2 Mar 2026' in mentee.get(f"{base}/search?q=ORG CHART").text
    )
    assert "Goal: Present at the Town Hall" in text(mentee.get(f"{base}/search?q=calmly"))


def test_search_treats_percent_and_underscore_as_plain_characters(mentor, base, pair, session):
    log(mentor, base, notes="We are 100% sure about snake_case names.")
    log(mentor, base, notes="A thousand reasons: 1000 sure, snakeXcase.")
    assert "Found in 1 place" in words(mentor.get(f"{base}/search?q=0%25 sure"))
    assert "Found in 1 place" in words(mentor.get(f"{base}/search?q=e_c"))
    assert "Nothing mentions “%%%” yet" in words(mentor.get(f"{base}/search?q=%25%25%25"))
    assert "Found in 2 places" in words(mentor.get(f"{base}/search?q=sure"))


def test_search_never_looks_at_another_pairs_journal(mentor, base, pair, session, app, login):
    other = PairFactory()
    other_client = login(other.mentor, on=app.test_client())
    log(other_client, f"/pairs/{other.id}/journal", notes="Zebra crossing", **{"actions-0-text": "Zebra action"})
    add_goal(session, other, "Zebra goal")
    add_topic(session, other, "Zebra topic")
    assert "Nothing mentions “zebra” yet" in words(mentor.get(f"{base}/search?q=zebra"))


def test_an_empty_or_huge_search(mentor, base):
    empty = mentor.get(f"{base}/search")
    assert empty.status_code == 200 and "Found in" not in text(empty) and "Nothing mentions" not in text(empty)
    huge = mentor.get(f"{base}/search?q={'x' * 5000}")
    assert huge.status_code == 422 and "Search for something shorter" in text(huge)
    assert 'value="' + "x" * 5000 + '"' in huge.text


# --- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_every_field_is_rendered_harmless(mentor, mentee, base, pair, session, hostile):
    goal = add_goal(session, pair, f"Goal {hostile}")
    topic = add_topic(session, pair, f"Topic {hostile}")
    response = log(
        mentor,
        base,
        covered=[str(topic.id)],
        notes=f"Notes {hostile}",
        reflection=f"Mine {hostile}",
        **{"actions-0-text": f"Action {hostile}", "actions-0-goal": str(goal.id)},
    )
    assert response.status_code == 303
    meeting = only_meeting(session, pair)
    [item] = items_of(session, pair)
    assert (meeting.notes, item.text) == (f"Notes {hostile}".strip(), f"Action {hostile}".strip())  # stored as typed
    assert edit(mentor, base, meeting, 1, notes=f"Edited {hostile}").status_code == 200
    assert reflect(mentee, base, meeting, f"Hers {hostile}").status_code == 200
    word = hostile[:6]
    for client, url, headers in (
        (mentor, base, {}),
        (mentee, base, {}),
        (mentor, f"{base}/meetings/{meeting.id}", {}),
        (mentor, f"{base}/meetings/{meeting.id}/edit", {}),
        (mentor, f"{base}/meetings/{meeting.id}/edit", {"HX-Request": "true", "HX-Target": f"entry-{meeting.id}"}),
        (mentor, f"{base}/new", {}),
        (mentor, f"{base}/search?q={word}", {}),
        (mentee, f"{base}/search?q=Hers", {}),
    ):
        page = client.get(url, headers=headers)
        assert page.status_code == 200, url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, url
        assert 'href="javascript:' not in page.text.lower(), url
        assert inline_code_in(page.text) == [], url
    toggled = mentee.post(f"{base}/actions/{item.id}/toggle", data={"done": "1"}, headers=at_item(item))
    assert inline_code_in(toggled.text) == [] and "<script>alert" not in toggled.text


@pytest.mark.parametrize("field", ["notes", "reflection", "actions-0-text"])
def test_too_much_text_in_the_log_form_is_refused_clearly_and_kept(mentor, base, pair, session, field):
    response = log(mentor, base, **{field: HUGE})
    assert response.status_code == 422
    page = text(response)
    assert "Keep it under" in page
    assert HUGE in page  # what was typed is still there to copy
    assert meetings_of(session, pair) == []


def test_too_much_text_when_editing_or_reflecting_is_refused_clearly_and_kept(mentor, base, pair, session):
    log(mentor, base, notes="Short")
    meeting = only_meeting(session, pair)
    for htmx in (True, False):
        refused = edit(mentor, base, meeting, 1, htmx=htmx, notes=HUGE)
        assert (
            refused.status_code == 422 and "Keep it under 10,000 characters" in text(refused) and HUGE in text(refused)
        )
        refused = reflect(mentor, base, meeting, HUGE, htmx=htmx)
        assert (
            refused.status_code == 422 and "Keep it under 10,000 characters" in text(refused) and HUGE in text(refused)
        )
    assert only_meeting(session, pair).notes == "Short"
    assert session.scalar(select(func.count(Reflection.id))) == 0


def test_control_characters_never_reach_the_database(mentor, base, pair, session):
    log(mentor, base, notes="Tab\there, NUL\x00 gone", **{"actions-0-text": "Bell\x07 rings"})
    assert only_meeting(session, pair).notes == "Tab\there, NUL gone"
    assert items_of(session, pair)[0].text == "Bell rings"


# --- with CSRF protection on, every journal form carries its token -------------------------------


def test_every_journal_form_works_with_its_own_token_and_not_without(csrf_app):
    app = csrf_app
    with committed_session(app) as session:
        pair = PairFactory()
        session.commit()
        (client,) = clients_of(app, pair.mentor)
        base = f"/pairs/{pair.id}/journal"

        form = client.get(f"{base}/new").text
        data = {
            "held_on": date.today().isoformat(),
            "format": "call",
            "notes": "With a token",
            "actions-0-text": "Tick me",
        }
        assert client.post(f"{base}/new", data=data).status_code == 400  # no token: refused
        assert (
            client.post(f"{base}/new", data=dict(data, csrf_token=hidden_input(form, "csrf_token")[1])).status_code
            == 303
        )

        journal = client.get(base).text
        meeting_id = int(re.search(r'id="meeting-(\d+)"', journal).group(1))
        action_id = int(re.search(r'id="action-(\d+)"', journal).group(1))
        name, token = hidden_input(journal, f"reflection-{meeting_id}-csrf_token")  # each entry's own form
        reflected = client.post(
            f"{base}/meetings/{meeting_id}/reflection", data={name: token, f"reflection-{meeting_id}-body": "Mine"}
        )
        assert reflected.status_code == 303
        ticked = client.post(
            f"{base}/actions/{action_id}/toggle",
            data={"done": "1", "csrf_token": hidden_input(journal, "csrf_token")[1]},
        )
        assert ticked.status_code == 303
        edit_page = client.get(f"{base}/meetings/{meeting_id}/edit").text
        edited = client.post(
            f"{base}/meetings/{meeting_id}",
            data={
                "csrf_token": hidden_input(edit_page, "csrf_token")[1],
                "version": "1",
                "held_on": date.today().isoformat(),
                "format": "call",
                "notes": "Edited with a token",
            },
        )
        assert edited.status_code == 303
        assert "Edited with a token" in text(client.get(base))
        assert client.post(f"{base}/actions/{action_id}/toggle", data={"done": "0"}).status_code == 400


# --- the helpers the rest of Twoway reads --------------------------------------------------------


def test_the_journal_helpers_for_the_pairs_home(app, mentor, base, pair, session):
    from app.journal import meetings

    goal = add_goal(session, pair)
    topic = add_topic(session, pair, "Covered last time")
    soon, later = date.today() + timedelta(days=2), date.today() + timedelta(days=9)
    log(mentor, base, held_on=(date.today() - timedelta(days=20)).isoformat(), notes="Older")
    log(
        mentor,
        base,
        held_on=(date.today() - timedelta(days=6)).isoformat(),
        notes="Newest",
        covered=[str(topic.id)],
        **{
            "actions-0-text": "No date",
            "actions-1-text": "Later",
            "actions-1-due_on": later.isoformat(),
            "actions-2-text": "Soon",
            "actions-2-due_on": soon.isoformat(),
            "actions-2-goal": str(goal.id),
        },
    )
    done = log(
        mentor, base, held_on=(date.today() - timedelta(days=30)).isoformat(), **{"actions-0-text": "Done already"}
    )
    assert done.status_code == 303
    finished = items_of(session, pair)[-1]
    mentor.post(f"{base}/actions/{finished.id}/toggle", data={"done": "1"})
    session.expunge_all()
    with app.app_context():
        found, count = meetings.first_open_action_items(pair.id, 10)
        assert [i.text for i in found] == ["Soon", "Later", "No date"] and count == 3
        assert meetings.last_met_on(pair.id) == date.today() - timedelta(days=6)
        assert meetings.last_met_on(PairFactory().id) is None
        page, has_more = meetings.meetings_page(pair.id, 1, per_page=2)
        assert [m.notes for m in page] == ["Newest", "Older"] and has_more
        page, has_more = meetings.meetings_page(pair.id, 2, per_page=2)
        assert len(page) == 1 and not has_more
        assert page[0].action_items[0].text == "Done already"


# --- query counts --------------------------------------------------------------------------------


def add_meetings(session, pair, how_many: int, goal: Goal, start: int = 0) -> None:
    for n in range(start, start + how_many):
        meeting = Meeting(
            pair_id=pair.id,
            held_on=date(2025, 1, 1) + timedelta(days=n),
            notes=f"Notes {n} leadership",
            author_id=pair.mentor.id,
        )
        session.add(meeting)
        session.flush()
        for k in range(2):
            session.add(
                Topic(
                    pair_id=pair.id,
                    text=f"Topic {n}.{k} leadership",
                    added_by_id=pair.mentee.id,
                    added_by_role=Role.MENTEE,
                    meeting_id=meeting.id,
                )
            )
            session.add(
                ActionItem(pair_id=pair.id, meeting_id=meeting.id, text=f"Action {n}.{k} leadership", goal_id=goal.id)
            )
        session.add(
            Topic(pair_id=pair.id, text=f"Open topic {n}", added_by_id=pair.mentor.id, added_by_role=Role.MENTOR)
        )
        session.add(
            Reflection(
                pair_id=pair.id, meeting_id=meeting.id, author_id=pair.mentor.id, body=f"Reflection {n} leadership"
            )
        )
    session.flush()


def test_query_counts_are_pinned_and_flat(mentor, base, pair, session, queries):
    goal = add_goal(session, pair, "Leadership")
    add_meetings(session, pair, 3, goal)

    def measure() -> dict[str, int]:
        newest = session.scalar(
            select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.held_on.desc()).limit(1)
        )
        item = session.scalar(select(ActionItem).where(ActionItem.meeting_id == newest.id).limit(1))
        fragment = {"HX-Request": "true", "HX-Target": f"entry-{newest.id}"}
        counts = {}
        for name, method, url, headers in (
            ("journal", "GET", base, {}),
            ("older page", "GET", f"{base}?page=2", {}),
            ("entry page", "GET", f"{base}/meetings/{newest.id}", {}),
            ("log form", "GET", f"{base}/new", {}),
            ("search", "GET", f"{base}/search?q=leadership", {}),
            ("entry fragment", "GET", f"{base}/meetings/{newest.id}", fragment),
            ("edit fragment", "GET", f"{base}/meetings/{newest.id}/edit", fragment),
            ("tick fragment", "POST", f"{base}/actions/{item.id}/toggle", at_item(item)),
        ):
            with queries() as log_:
                response = mentor.open(
                    url, method=method, headers=headers, data={"done": "1"} if method == "POST" else None
                )
                assert response.status_code == 200, name
            counts[name] = log_.count
        return counts

    first = measure()
    # Pinned: the signed-in person (1) and the membership with both people (1), then the page's own:
    # the journal reads meetings, their topics, action items, your reflections and goal titles;
    # the log form the open topics, the agreed length and the goals; search one query per kind;
    # a fragment only the meeting; a tick reads the item, writes it, counts the change for the
    # partner's open pages and names its goal. Every whole page also reads its tab bar's badges (1).
    assert first == {
        "journal": 7 + 1,
        "older page": 2 + 1 + 1,
        "entry page": 7 + 1,
        "log form": 5 + 1,
        "search": 7 + 1,
        "entry fragment": 3,
        "edit fragment": 3,
        # …and the tab bar, sent out of band with its badge of items due (1).
        "tick fragment": 6 + 1,
    }
    assert max(first[k] for k in ("journal", "entry page", "log form", "search")) <= 8
    assert max(first[k] for k in ("entry fragment", "edit fragment")) <= 4
    add_meetings(session, pair, 30, goal, start=3)  # ten times the meetings, topics, items and reflections
    second = measure()
    second["older page"] = first["older page"]  # page 2 now has entries: measured below
    assert second == first
    with queries() as log_:
        assert mentor.get(f"{base}?page=2").status_code == 200
    assert log_.count == first["journal"]
