"""The goal board: both people's goals, grouped by status, moved by button, edited without losing
anyone's words, with milestones whose ticks fill a progress bar."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from factories import PairFactory
from sqlalchemy import func, select
from support.pages import inline_code_in, text, words
from support.records import read_back

from app.models import Goal, GoalStatus, Milestone, Role

HTMX = {"HX-Request": "true"}


def at(goal_id: int) -> dict[str, str]:
    """The headers htmx sends for a swap of one goal's card."""
    return {**HTMX, "HX-Target": f"goal-{goal_id}"}


SCRIPT = "<script>alert('pwned')</script>"
IMG = '"><img src=x onerror=alert(1)>'
HUGE = ("Reverse mentoring works both ways. " * 3000)[:100_000]
ODD = [
    "Pixel \u202eenohp\u202c",  # right-to-left override
    "\U0001f469\u200d\U0001f4bb laptop",  # zero-width joiner
    "Zo\u0065\u0301 phone\u0308",  # combining marks
    "\U0001f4f1 Pixel \U0001f680",  # emoji
]


@pytest.fixture
def base(pair) -> str:
    return f"/pairs/{pair.id}/goals"


def goal_values(**values) -> dict[str, str]:
    return {
        "learner": "mentor",
        "title": "Use TikTok to explain our product",
        "why": "",
        "success": "",
        "target_on": "",
        **values,
    }


def add_goal(client, base, htmx: bool = True, **values):
    data = {f"new-{key}": value for key, value in goal_values(**values).items()}
    headers = {**HTMX, "HX-Target": "board"} if htmx else {}
    return client.post(base, data=data, headers=headers)


def save_goal(client, base, goal: Goal, version: int | None = None, htmx: bool = True, **values):
    stored = {
        "learner": goal.learner.value,
        "title": goal.title,
        "why": goal.why,
        "success": goal.success,
        "target_on": goal.target_on.isoformat() if goal.target_on else "",
        "version": str(version if version is not None else goal.version),
    }
    data = {f"goal-{goal.id}-{key}": value for key, value in {**stored, **values}.items()}
    headers = {**HTMX, "HX-Target": f"goal-{goal.id}"} if htmx else {}
    return client.post(f"{base}/{goal.id}", data=data, headers=headers)


def move(client, base, goal: Goal, to: str, shown: str | None = None, htmx: bool = True):
    headers = {**HTMX, "HX-Target": "board"} if htmx else {}
    data = {"status": to, "shown": shown or goal.status.value}
    return client.post(f"{base}/{goal.id}/move", data=data, headers=headers)


def add_milestone(client, base, goal: Goal, title: str, htmx: bool = True):
    headers = {**HTMX, "HX-Target": f"goal-{goal.id}"} if htmx else {}
    return client.post(f"{base}/{goal.id}/milestones", data={f"goal-{goal.id}-milestone-title": title}, headers=headers)


def tick(client, base, milestone: Milestone, done: bool = True, htmx: bool = True):
    headers = {**HTMX, "HX-Target": f"goal-{milestone.goal_id}"} if htmx else {}
    return client.post(f"{base}/milestones/{milestone.id}/toggle", data={"done": "1" if done else "0"}, headers=headers)


def goal_titled(session, pair, title: str) -> Goal:
    goal = session.scalar(
        select(Goal).where(Goal.pair_id == pair.id, Goal.title == title).execution_options(populate_existing=True)
    )
    assert goal is not None, title
    return goal


def milestones_of(session, goal: Goal) -> list[Milestone]:
    return read_back(session, select(Milestone).where(Milestone.goal_id == goal.id).order_by(Milestone.position))


def groups(page_html: str) -> dict[str, str]:
    """Each status group's words as read on screen, by its status."""
    found = re.findall(r'<section id="group-([\w-]+)"[^>]*>(.*?)</section>', page_html, re.DOTALL)
    return {status: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inner)).split()) for status, inner in found}


def duplicate_ids(page_html: str) -> list[str]:
    ids = re.findall(r'\sid="([^"]+)"', page_html)
    return sorted({i for i in ids if ids.count(i) > 1})


def goal_block(page_html: str, goal: Goal) -> str:
    match = re.search(rf'<article id="goal-{goal.id}".*?</article>', page_html, re.DOTALL)
    assert match, f"goal {goal.id} is not on the page"
    return match.group(0)


@pytest.fixture
def goal(mentor, base, session, pair) -> Goal:
    assert add_goal(mentor, base, title="Run a meeting in Figma", why="Our designers live there.").status_code == 200
    return goal_titled(session, pair, "Run a meeting in Figma")


# --- the board ---------------------------------------------------------------------------------


def test_an_empty_board_invites_one_goal_each(mentee, base, queries):
    with queries() as log:
        response = mentee.get(base)
    assert response.status_code == 200 and log.writes == []
    page = words(response)
    assert "Start with one goal each" in page
    assert (
        "Write one goal for what you want to learn from Aisha, and one for what Aisha wants to learn from you." in page
    )
    assert list(groups(response.text)) == ["not-started", "in-progress", "done", "dropped"]
    assert re.findall(r'<h2 id="group-[\w-]+-heading">(.*?) <span', response.text) == [
        "Not started",
        "In progress",
        "Done",
        "Dropped",
    ]
    assert groups(response.text) == {
        "not-started": "Not started (0) Nothing waiting to start.",
        "in-progress": "In progress (0) Nothing in progress right now.",
        "done": "Done (0) Nothing done yet. It will come.",
        "dropped": "Dropped (0) Nothing dropped.",
    }
    assert '<details class="card add-goal" open>' in response.text  # the form is open, ready to write


def test_each_person_adds_a_goal_and_the_board_says_whose_it_is(mentor, mentee, base, session, pair):
    mine = add_goal(mentor, base, htmx=False, learner="mentor", title="Speak up in leadership meetings")
    assert mine.status_code == 303
    theirs = add_goal(mentor, base, learner="mentee", title="Post on LinkedIn without cringing", target_on="2027-03-01")
    assert theirs.status_code == 200 and theirs.text.lstrip().startswith('<div id="board"')

    aisha_goal = goal_titled(session, pair, "Speak up in leadership meetings")
    margaret_goal = goal_titled(session, pair, "Post on LinkedIn without cringing")
    assert mine.location.endswith(f"/goals#goal-{aisha_goal.id}")
    assert (aisha_goal.learner, aisha_goal.status, aisha_goal.version) == (Role.MENTOR, GoalStatus.NOT_STARTED, 1)
    assert (margaret_goal.learner, margaret_goal.target_on) == (Role.MENTEE, date(2027, 3, 1))
    assert aisha_goal.created_by_id == margaret_goal.created_by_id == pair.mentor.id

    # Each reads the board in their own words.
    as_aisha = words(mentor.get(base))
    assert "Your goal Speak up in leadership meetings" in as_aisha
    assert "Margaret's goal · by 1 Mar 2027 Post on LinkedIn without cringing" in as_aisha
    as_margaret = mentee.get(base)
    assert "Aisha's goal Speak up in leadership meetings" in words(as_margaret)
    assert "Your goal · by 1 Mar 2027 Post on LinkedIn without cringing" in words(as_margaret)

    board = groups(as_margaret.text)
    assert "Speak up in leadership meetings" in board["not-started"] and "Post on LinkedIn" in board["not-started"]
    assert "Not started (2)" in board["not-started"]
    assert board["in-progress"].endswith("Nothing in progress right now.")
    assert "Start with one goal each" not in words(as_margaret)


def test_goals_in_a_group_come_soonest_target_first(mentor, base):
    add_goal(mentor, base, title="Undated")
    add_goal(mentor, base, title="Later", target_on="2027-06-01")
    add_goal(mentor, base, title="Sooner", target_on="2027-01-01")
    titles = re.findall(r'<h3 id="goal-\d+-heading"><bdi>(.*?)</bdi>', mentor.get(base).text)
    assert titles == ["Sooner", "Later", "Undated"]


def test_a_goal_is_edited_in_place(mentee, goal, base, session, pair):
    form = mentee.get(f"{base}/{goal.id}/edit", headers=at(goal.id))
    assert form.status_code == 200
    assert form.text.lstrip().startswith(f'<article id="goal-{goal.id}"') and "<html" not in form.text
    assert f'name="goal-{goal.id}-version" type="hidden" value="1"' in form.text
    assert re.search(rf'<textarea[^>]*name="goal-{goal.id}-why"[^>]*>\s*Our designers live there.', form.text)
    assert f'<label for="goal-{goal.id}-title">' in form.text  # every input has its label

    response = save_goal(mentee, base, goal, success="She runs **one** meeting:\n\n- shares the board\n- uses stickies")
    assert response.status_code == 200 and "<html" not in response.text
    assert "<strong>one</strong>" in response.text and "<li>uses stickies</li>" in response.text
    assert "Saved." in text(response)
    stored = goal_titled(session, pair, "Run a meeting in Figma")
    assert stored.version == 2 and stored.updated_by_id == pair.mentee.id
    assert stored.success.startswith("She runs **one** meeting")


def test_without_javascript_every_form_still_works(mentee, goal, base, session, pair):
    add_milestone(mentee, base, goal, "Make a board")
    page = mentee.get(f"{base}/{goal.id}/edit")
    # The goal's form, its milestone form and the new-goal form share the page: labels stay tied.
    assert duplicate_ids(page.text) == []
    assert "<html" in page.text and f'action="{base}/{goal.id}"' in page.text
    assert f'name="goal-{goal.id}-title"' in page.text
    response = save_goal(mentee, base, goal, htmx=False, title="Run a whole workshop in Figma")
    assert response.status_code == 303 and response.location.endswith(f"#goal-{goal.id}")
    goal = goal_titled(session, pair, "Run a whole workshop in Figma")

    assert add_milestone(mentee, base, goal, "Try the sticky notes", htmx=False).status_code == 303
    milestone = milestones_of(session, goal)[1]
    assert milestone.title == "Try the sticky notes"
    assert tick(mentee, base, milestone, htmx=False).status_code == 303
    assert milestones_of(session, goal)[1].done is True
    assert duplicate_ids(mentee.get(base).text) == []
    assert move(mentee, base, goal, "in-progress", htmx=False).status_code == 303
    assert goal_titled(session, pair, "Run a whole workshop in Figma").status == GoalStatus.IN_PROGRESS
    removed = mentee.post(f"{base}/milestones/{milestone.id}/remove")
    assert removed.status_code == 303 and [m.title for m in milestones_of(session, goal)] == ["Make a board"]


def test_two_people_saving_the_same_goal_lose_nothing(mentor, mentee, goal, base, session, pair):
    for person in (mentor, mentee):  # both open the goal at version 1
        assert 'type="hidden" value="1"' in person.get(f"{base}/{goal.id}/edit", headers=at(goal.id)).text
    first = save_goal(mentor, base, goal, version=1, why="Aisha's reason", target_on="2027-02-01")
    second = save_goal(mentee, base, goal, version=1, why="Margaret's reason", title="Margaret's title")
    assert first.status_code == 200
    assert second.status_code == 409

    conflict = text(second)
    assert "Aisha saved this goal while you were editing it" in conflict
    theirs = re.search(r'<section class="theirs".*?</section>', conflict, re.DOTALL).group(0)
    assert "Saved by Aisha" in theirs and "Aisha's reason" in theirs and "1 Feb 2027" in theirs
    mine = re.search(r'<section class="mine".*?</section>', conflict, re.DOTALL).group(0)
    assert re.search(rf'<textarea[^>]*name="goal-{goal.id}-why"[^>]*>\s*Margaret\'s reason', mine)
    assert re.search(rf'<input[^>]*name="goal-{goal.id}-title"[^>]*value="Margaret\'s title"', mine)
    assert (
        f'name="goal-{goal.id}-version" type="hidden" value="2"' in mine
    )  # saving from here goes over the new version
    assert "Save my version" in mine

    stored = goal_titled(session, pair, "Run a meeting in Figma")
    assert (stored.why, stored.version, stored.updated_by_id) == ("Aisha's reason", 2, pair.mentor.id)

    # Choosing "Save my version" goes through, on purpose this time.
    merged = save_goal(mentee, base, stored, version=2, why="Aisha's reason, and Margaret's")
    assert merged.status_code == 200
    assert goal_titled(session, pair, "Run a meeting in Figma").why == "Aisha's reason, and Margaret's"


def test_a_stale_save_without_javascript_shows_the_conflict_on_the_page(mentor, mentee, goal, base, session, pair):
    save_goal(mentor, base, goal, version=1, why="Aisha's reason")
    response = save_goal(mentee, base, goal, version=1, htmx=False, why="Margaret's reason")
    assert response.status_code == 409 and "<html" in response.text
    assert "Aisha saved this goal while you were editing it" in text(response)
    assert "Margaret's reason" in text(response)


def test_a_save_without_its_version_becomes_a_conflict_not_a_dead_end(mentee, goal, base, session, pair):
    response = save_goal(mentee, base, goal, version="", why="Margaret's reason")
    assert response.status_code == 409
    assert f'name="goal-{goal.id}-version" type="hidden" value="1"' in response.text
    assert "Margaret's reason" in text(response)
    assert save_goal(mentee, base, goal, version=1, why="Margaret's reason").status_code == 200


def test_saving_the_same_words_twice_is_no_conflict(mentor, mentee, goal, base, session, pair):
    assert save_goal(mentor, base, goal, version=1, why="Same").status_code == 200
    assert save_goal(mentee, base, goal, version=1, why="Same").status_code == 200
    assert goal_titled(session, pair, "Run a meeting in Figma").version == 2


# --- milestones --------------------------------------------------------------------------------


def test_milestone_ticks_drive_the_progress_bar(mentor, mentee, goal, base, session):
    first = add_milestone(mentor, base, goal, "  Make a board  ")
    assert first.status_code == 200 and first.text.lstrip().startswith(f'<article id="goal-{goal.id}"')
    assert "No milestones yet" not in text(first)
    add_milestone(mentor, base, goal, "Run a retro on it")
    made, retro = milestones_of(session, goal)
    assert (made.title, made.position, retro.position) == ("Make a board", 0, 1)

    response = tick(mentee, base, made)
    assert response.status_code == 200
    assert f'<progress id="goal-{goal.id}-progress" value="50" max="100"' in response.text
    assert "1 of 2 milestones ticked" in words(response)
    assert f'id="milestone-{made.id}-tick" class="goal-tick" aria-pressed="true"' in response.text
    stored = milestones_of(session, goal)[0]
    assert stored.done is True and stored.done_at is not None

    # A double tap asks for "ticked" twice: it stays ticked.
    assert 'value="50"' in tick(mentor, base, made).text
    assert "2 of 2 milestones ticked" in words(tick(mentor, base, retro))
    assert "Every milestone is ticked" in words(mentor.get(base))

    unticked = tick(mentee, base, made, done=False)
    assert 'value="50"' in unticked.text
    stored = milestones_of(session, goal)[0]
    assert stored.done is False and stored.done_at is None
    # Ticking leaves the goal's version alone: an open edit form is not made stale by it.
    assert session.get(Goal, goal.id, populate_existing=True).version == 1


def test_removing_a_milestone_updates_the_progress(mentor, goal, base, session):
    add_milestone(mentor, base, goal, "Make a board")
    add_milestone(mentor, base, goal, "Run a retro on it")
    made, retro = milestones_of(session, goal)
    tick(mentor, base, made)
    response = mentor.post(f"{base}/milestones/{retro.id}/remove", headers=at(retro.goal_id))
    assert response.status_code == 200
    assert 'value="100"' in response.text and "1 of 1 milestone ticked" in words(response)
    assert "Removed “<bdi>Run a retro on it</bdi>”." in text(response)
    assert [m.title for m in milestones_of(session, goal)] == ["Make a board"]


def test_an_empty_or_long_milestone_is_explained_and_kept(mentor, goal, base, session):
    empty = add_milestone(mentor, base, goal, "   ")
    assert empty.status_code == 422 and "Write the milestone: one small step." in text(empty)
    long = add_milestone(mentor, base, goal, HUGE)
    assert long.status_code == 422
    assert "Keep a milestone under 200 characters." in text(long)
    assert f'value="{HUGE}"' in text(long)
    assert milestones_of(session, goal) == []
    plain = add_milestone(mentor, base, goal, HUGE, htmx=False)
    assert plain.status_code == 422 and "<html" in plain.text and HUGE in plain.text


# --- moving ------------------------------------------------------------------------------------


def test_moving_a_goal_is_a_button(mentor, mentee, goal, base, session, pair):
    page = mentor.get(base).text
    block = goal_block(page, goal)
    buttons = re.findall(r'<button type="submit" class="[^"]*goal-to-([\w-]+)"', block)
    assert buttons == ["in-progress", "done", "dropped"]  # every place but where it is, the next step first

    response = move(mentee, base, goal, "in-progress")
    assert response.status_code == 200 and response.text.lstrip().startswith('<div id="board"')
    assert "Moved “<bdi>Run a meeting in Figma</bdi>” to In progress." in text(response)
    assert "Run a meeting in Figma" in groups(response.text)["in-progress"]
    assert "Run a meeting in Figma" not in groups(response.text)["not-started"]
    assert f'<h3 id="goal-{goal.id}-heading" tabindex="-1" autofocus>' in response.text  # focus follows the goal
    stored = goal_titled(session, pair, "Run a meeting in Figma")
    assert stored.status == GoalStatus.IN_PROGRESS and stored.version == 1

    assert move(mentee, base, stored, "done", htmx=False).status_code == 303
    assert "Run a meeting in Figma" in groups(mentor.get(base).text)["done"]


def test_a_move_from_an_outdated_page_is_refused(mentor, mentee, goal, base, session, pair):
    assert move(mentor, base, goal, "done", shown="not-started").status_code == 200
    # Margaret's page still shows the goal as not started when she presses "In progress".
    response = move(mentee, base, goal, "in-progress", shown="not-started")
    assert response.status_code == 409
    assert "was moved to Done while you had this page open, so it stays there" in words(response)
    assert goal_titled(session, pair, "Run a meeting in Figma").status == GoalStatus.DONE
    # Both pressing the same button is no conflict.
    assert move(mentee, base, goal, "done", shown="not-started").status_code == 200


def test_a_forged_move_is_refused_without_harm(mentor, goal, base, session, pair):
    response = mentor.post(
        f"{base}/{goal.id}/move", data={"status": "archived"}, headers={**HTMX, "HX-Target": "board"}
    )
    assert response.status_code == 422 and "Nothing moved" in words(response)
    assert goal_titled(session, pair, "Run a meeting in Figma").status == GoalStatus.NOT_STARTED


# --- another pair ------------------------------------------------------------------------------


def test_another_pairs_goals_and_milestones_are_out_of_reach(app, mentor, goal, base, session, pair, login):
    add_milestone(mentor, base, goal, "Make a board")
    [milestone] = milestones_of(session, goal)
    outsider_pair = PairFactory()
    outsider = login(outsider_pair.mentor, on=app.test_client())
    theirs = f"/pairs/{outsider_pair.id}/goals"
    assert outsider.get(theirs).status_code == 200
    assert "Run a meeting in Figma" not in outsider.get(theirs).text

    for response in (
        outsider.get(f"{theirs}/{goal.id}"),
        outsider.get(f"{theirs}/{goal.id}/edit"),
        save_goal(outsider, theirs, goal, title="hijacked"),
        move(outsider, theirs, goal, "dropped"),
        add_milestone(outsider, theirs, goal, "hijacked"),
        tick(outsider, theirs, milestone),
        outsider.post(f"{theirs}/milestones/{milestone.id}/remove"),
    ):
        assert response.status_code == 404
    stored = goal_titled(session, pair, "Run a meeting in Figma")
    assert stored.status == GoalStatus.NOT_STARTED and stored.version == 1
    assert [(m.title, m.done) for m in milestones_of(session, stored)] == [("Make a board", False)]
    # And through our pair's URL, nobody outside the pair gets in at all.
    assert outsider.get(base).status_code == 404


# --- hostile and odd input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [SCRIPT, IMG, "[click](javascript:alert(1))", *ODD],
    ids=["script", "img", "js-link", "rtl", "zwj", "combining", "emoji"],
)
def test_hostile_text_in_every_field_is_rendered_harmless(mentor, mentee, base, session, pair, hostile):
    title = f"Goal {hostile}"
    response = add_goal(mentor, base, title=title, why=hostile, success=hostile)
    assert response.status_code == 200
    goal = goal_titled(session, pair, title)
    assert (goal.why, goal.success) == (hostile.strip(), hostile.strip())
    assert add_milestone(mentor, base, goal, f"Step {hostile}").status_code == 200
    [milestone] = milestones_of(session, goal)
    assert milestone.title == f"Step {hostile}"
    # A conflict shows both versions of the hostile words side by side.
    save_goal(mentor, base, goal, version=1, why=f"{hostile} saved")
    conflict = save_goal(mentee, base, goal, version=1, why=f"{hostile} mine")
    assert conflict.status_code == 409

    for page in (
        mentee.get(base),
        conflict,
        mentee.get(f"{base}/{goal.id}", headers=at(goal.id)),
        mentee.get(f"{base}/{goal.id}/edit"),
        tick(mentee, base, milestone),
        move(mentee, base, goal, "in-progress"),
    ):
        assert page.status_code in (200, 409)
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert inline_code_in(page.text) == []  # no handler, no script, no javascript: link got through


@pytest.mark.parametrize(
    "field_name, message",
    [
        ("title", "Keep the title under 200 characters."),
        ("why", "Keep it under 10,000 characters"),
        ("success", "Keep it under 10,000 characters"),
    ],
)
def test_too_long_input_is_explained_and_kept(mentor, goal, base, session, pair, field_name, message):
    for response in (add_goal(mentor, base, **{field_name: HUGE}), save_goal(mentor, base, goal, **{field_name: HUGE})):
        assert response.status_code == 422
        assert message in text(response)
        assert HUGE in text(response)
    assert session.scalar(select(func.count(Goal.id)).where(Goal.pair_id == pair.id)) == 1
    assert goal_titled(session, pair, "Run a meeting in Figma").version == 1


def test_missing_or_odd_values_are_explained_and_kept(mentor, base, session, pair):
    response = add_goal(mentor, base, title="  ", why="kept words")
    assert response.status_code == 422 and "Give the goal a title" in text(response)
    assert re.search(r">\s*kept words</textarea>", response.text)
    response = add_goal(mentor, base, target_on="next Tuesday")
    assert response.status_code == 422 and "Pick a date, or leave it empty." in text(response)
    assert 'value="next Tuesday"' in response.text
    response = add_goal(mentor, base, learner="admin")
    assert response.status_code == 422 and "Choose whose goal this is." in text(response)
    plain = add_goal(mentor, base, htmx=False, title="")
    assert plain.status_code == 422 and "<html" in plain.text and '<details class="card add-goal" open>' in plain.text
    assert session.scalar(select(func.count(Goal.id)).where(Goal.pair_id == pair.id)) == 0


def test_control_characters_never_reach_the_database(mentor, base, session, pair):
    assert add_goal(mentor, base, title="Phone\x00 7", why="tab\tand\x07bell").status_code == 200
    goal = goal_titled(session, pair, "Phone 7")
    assert goal.why == "tab\tandbell"


# --- queries -----------------------------------------------------------------------------------


def test_query_counts_are_pinned_and_flat(mentor, base, session, pair, queries):
    def grow(n: int) -> None:
        for i in range(n):
            add_goal(mentor, base, title=f"Goal {n}-{i}", learner="mentee" if i % 2 else "mentor")
            goal = goal_titled(session, pair, f"Goal {n}-{i}")
            for j in range(2):
                add_milestone(mentor, base, goal, f"Step {j}")
            move(mentor, base, goal, ("not-started", "in-progress", "done", "dropped")[i % 4])

    def measure() -> dict[str, int]:
        goal = goal_titled(session, pair, "Goal 2-0")
        milestone = milestones_of(session, goal)[0]
        counts = {}
        board = {**HTMX, "HX-Target": "board"}
        for name, method, url, data, headers in (
            ("page", "get", base, None, {}),
            ("board", "get", base, None, board),
            ("goal", "get", f"{base}/{goal.id}", None, at(goal.id)),
            ("edit", "get", f"{base}/{goal.id}/edit", None, at(goal.id)),
            ("tick", "post", f"{base}/milestones/{milestone.id}/toggle", {"done": "1"}, at(goal.id)),
            ("untick", "post", f"{base}/milestones/{milestone.id}/toggle", {"done": "0"}, at(goal.id)),
            ("move", "post", f"{base}/{goal.id}/move", {"status": "in-progress", "shown": "not-started"}, board),
            ("move back", "post", f"{base}/{goal.id}/move", {"status": "not-started", "shown": "in-progress"}, board),
        ):
            with queries() as log:
                response = getattr(mentor, method)(url, data=data, headers=headers)
            assert response.status_code == 200, name
            if method == "get":
                assert log.writes == [], name  # looking never writes
            counts[name] = log.count
        return counts

    grow(2)
    first = measure()
    # Pinned: the signed-in person (1) and the membership with both people (1), then the view's own:
    # goals and their milestones (2); one goal with its milestones (1), or a milestone with its goal
    # and that goal's milestones (1); a write is one statement, and one more counts the change for
    # the partner's open pages (app/pairs/changes.py). The whole page also reads its tab bar's badges.
    assert first == {"page": 4 + 1, "board": 4, "goal": 3, "edit": 3, "tick": 5, "untick": 5, "move": 7, "move back": 7}
    grow(4)  # three times the goals and milestones, in every group
    assert session.scalar(select(func.count(Milestone.id)).where(Milestone.pair_id == pair.id)) == 12
    assert measure() == first


def test_saving_adding_and_removing_stay_within_budget(mentor, goal, base, session, pair, queries):
    for n in range(2):
        with queries() as log:
            assert add_milestone(mentor, base, goal, f"Step {n}").status_code == 200
        assert log.count == 5  # person, membership, goal with its milestones, the insert, the pair's count
    with queries() as log:
        assert save_goal(mentor, base, goal, why="Because").status_code == 200
    # person, membership, goal with its milestones, the conditional update, the earlier words
    # kept in the history, the pair's count
    assert log.count == 6
    milestone = milestones_of(session, goal)[0]
    with queries() as log:
        assert mentor.post(f"{base}/milestones/{milestone.id}/remove", headers=at(goal.id)).status_code == 200
    # person, membership, milestone with its goal and the goal's milestones, its words kept in the
    # history, the delete, the pair's count
    assert log.count == 6


# --- for the pair's home -----------------------------------------------------------------------


def test_the_pairs_home_lists_goals_in_progress_soonest_first(mentor, base, session, pair):
    soon = (date.today() + timedelta(days=10)).isoformat()
    later = (date.today() + timedelta(days=40)).isoformat()
    for title, target in (("Undated old", ""), ("Later", later), ("Soon", soon), ("Undated new", ""), ("Waiting", "")):
        add_goal(mentor, base, title=title, target_on=target)
        if title != "Waiting":
            move(mentor, base, goal_titled(session, pair, title), "in-progress")
    add_milestone(mentor, base, goal_titled(session, pair, "Soon"), "First step")
    other = PairFactory()
    session.add(Goal(pair_id=other.id, learner=Role.MENTOR, title="Someone else's", status=GoalStatus.IN_PROGRESS))
    session.flush()

    home = mentor.get(f"/pairs/{pair.id}").text
    section = re.search(r'<section id="goals".*?</section>', home, re.DOTALL).group(0)
    shown = re.findall(r'#goal-\d+">([^<]+)</a>', section)
    assert shown == ["Soon", "Later", "Undated new", "Undated old"]
    assert "0 of 1 milestones" in section


def test_a_milestone_tied_to_another_pairs_goal_opens_nothing(mentor, goal, base, session, pair):
    """The goal loaded beside a milestone is filtered by the pair too: rows tampered with so that
    one of this pair's milestones names another pair's goal show and change nothing of it."""
    other = PairFactory()
    theirs = Goal(pair_id=other.id, learner=Role.MENTEE, title="Their goal", version=1)
    session.add(theirs)
    session.flush()
    add_milestone(mentor, base, goal, "Step")
    milestone = milestones_of(session, goal)[0]
    milestone.goal_id = theirs.id
    session.flush()
    for action in ("toggle", "remove"):
        response = mentor.post(f"{base}/milestones/{milestone.id}/{action}", data={"done": "1"}, headers=at(goal.id))
        assert response.status_code == 404, action
        assert "Their goal" not in response.text
    session.refresh(milestone)
    assert milestone.done is False


# --- one action in sight, the rest behind a menu ------------------------------------------------


def actions_of(page_html: str, goal: Goal) -> tuple[list[str], list[str]]:
    """What the goal card offers: the buttons in sight under it, and what its "More" menu holds."""
    block = goal_block(page_html, goal)
    actions = re.search(r'<div class="goal-actions">(.*?)</div>\s*</article>', block, re.S).group(1)
    outside, menu = actions.split('<details class="item-menu">')
    label = r">([^<]+)</(?:button|a)>"
    return re.findall(label, outside), re.findall(label, menu.split("</summary>", 1)[1])


@pytest.mark.parametrize(
    ("status", "in_sight", "in_menu"),
    [
        ("not-started", ["Start"], ["Edit", "Move to Done", "Move to Dropped"]),
        ("in-progress", ["Mark done"], ["Edit", "Move to Not started", "Move to Dropped"]),
        ("done", [], ["Edit", "Move to Not started", "Move to In progress", "Move to Dropped"]),
        ("dropped", [], ["Edit", "Move to Not started", "Move to In progress", "Move to Done"]),
    ],
)
def test_a_goal_card_shows_one_next_step_and_the_rest_in_its_menu(
    mentor, mentee, goal, base, session, pair, status, in_sight, in_menu
):
    if status != "not-started":
        assert move(mentor, base, goal, status).status_code == 200
    stored = goal_titled(session, pair, "Run a meeting in Figma")
    for client in (mentor, mentee):
        page = client.get(base).text
        assert actions_of(page, stored) == (in_sight, in_menu)
        # The milestone form and ticks stay as they were: only the card's actions moved.
        assert "Add milestone" in goal_block(page, stored)
    # Each move in the menu is a real form with its CSRF token, so it works without JavaScript.
    menu = goal_block(mentor.get(base).text, stored).split('<details class="item-menu">')[1]
    moves = len([label for label in in_menu if label.startswith("Move to")])
    assert menu.count('method="post"') == moves and menu.count('name="csrf_token"') == moves


def test_the_next_step_and_a_move_from_the_menu_work_without_javascript(mentor, goal, base, session, pair):
    started = mentor.post(f"{base}/{goal.id}/move", data={"status": "in-progress", "shown": "not-started"})
    assert started.status_code == 303
    stored = goal_titled(session, pair, "Run a meeting in Figma")
    assert stored.status == GoalStatus.IN_PROGRESS
    assert actions_of(mentor.get(base).text, stored)[0] == ["Mark done"]
    dropped = mentor.post(f"{base}/{goal.id}/move", data={"status": "dropped", "shown": "in-progress"})
    assert dropped.status_code == 303
    assert goal_titled(session, pair, "Run a meeting in Figma").status == GoalStatus.DROPPED
