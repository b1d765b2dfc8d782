"""Pages a phone opens stay small however long a pair's history grows: the home shows the first few
of each list with a "Show all" that pages the rest, each column of the goal board its first ten,
and the meeting form a bounded agenda (the newest open topics, and a search) and goal choice."""

from __future__ import annotations

import re
from datetime import date, timedelta

from support.pages import text

from app.goals import board
from app.journal import agenda, meetings
from app.models import ActionItem, Goal, GoalStatus, Meeting, Milestone, Role, Topic
from app.pairs import dashboard


def shown(page: str, words: str) -> set[int]:
    """The numbers of the items called ``words`` N that ``page`` shows (each may be named twice:
    its text and a button's label)."""
    return {int(n) for n in re.findall(rf"{words} (\d+)", page)}


def add_topics(session, pair, n: int, start: int = 0, by=None) -> None:
    by = by or pair.mentor
    role = Role.MENTOR if by.id == pair.mentor.id else Role.MENTEE
    for i in range(start, start + n):
        session.add(Topic(pair_id=pair.id, text=f"Topic number {i}", added_by_id=by.id, added_by_role=role))
    session.flush()


def add_goals(session, pair, n: int, status: GoalStatus, start: int = 0, milestones: int = 1) -> None:
    # One flush for the goals and one for their milestones: the doubling test adds hundreds.
    goals = [
        Goal(
            pair_id=pair.id,
            learner=Role.MENTEE,
            title=f"{status.label} goal {i}",
            status=status,
            created_by_id=pair.mentor.id,
            updated_by_id=pair.mentor.id,
        )
        for i in range(start, start + n)
    ]
    session.add_all(goals)
    session.flush()
    for goal in goals:
        for m in range(milestones):
            session.add(Milestone(goal_id=goal.id, pair_id=pair.id, title=f"Step {m}", position=m, done=m == 0))
    session.flush()


def add_meeting_with_actions(session, pair, n: int, held_on: date, start: int = 0) -> Meeting:
    [meeting] = add_meetings_with_actions(session, pair, n, [held_on], start)
    return meeting


def add_meetings_with_actions(session, pair, n: int, held_on: list[date], start: int = 0) -> list[Meeting]:
    """A meeting on each day of ``held_on``, each with ``n`` open action items numbered on from
    ``start``; one flush for the meetings and one for the items."""
    meetings = [Meeting(pair_id=pair.id, held_on=day, notes="Notes", author_id=pair.mentor.id) for day in held_on]
    session.add_all(meetings)
    session.flush()
    number = start
    for meeting in meetings:
        for _ in range(n):
            session.add(ActionItem(pair_id=pair.id, meeting_id=meeting.id, text=f"Action number {number}"))
            number += 1
    session.flush()
    return meetings


def grow(session, pair, k: int) -> None:
    """``k`` of everything: open topics, open action items, goals in each column, meetings."""
    start = session.query(Topic).filter_by(pair_id=pair.id).count()
    add_topics(session, pair, k, start=start)
    for status in GoalStatus:
        add_goals(session, pair, k, status, start=start)
    days = [date(2025, 1, 1) + timedelta(days=start + i) for i in range(k)]
    add_meetings_with_actions(session, pair, 1, days, start=start)


# --- the pair's home ---------------------------------------------------------------------------


def test_the_home_shows_the_first_few_of_each_list_and_links_them_all(mentee, pair, session):
    add_topics(session, pair, 12)
    add_goals(session, pair, 12, GoalStatus.IN_PROGRESS)
    add_meeting_with_actions(session, pair, 12, date.today() - timedelta(days=40))
    add_meeting_with_actions(session, pair, 0, date.today() - timedelta(days=3))
    page = text(mentee.get(f"/pairs/{pair.id}"))
    assert len(shown(page, "Topic number")) == dashboard.HOME_TOPICS
    assert len(shown(page, "Action number")) == meetings.HOME_ACTIONS
    assert len(shown(page, "In progress goal")) == dashboard.HOME_GOALS
    assert "Show all 12 topics" in page
    assert "Show all 12 open action items" in page
    assert "Show all 12 goals in progress" in page
    assert f'href="/pairs/{pair.id}/goals?status=in-progress"' in page


def test_a_short_list_has_no_show_all(mentee, pair, session):
    add_topics(session, pair, 2)
    page = text(mentee.get(f"/pairs/{pair.id}"))
    assert shown(page, "Topic number") == {0, 1} and "Show all" not in page


def test_where_you_left_off_still_names_every_open_item_of_the_last_meeting(mentee, pair, session):
    add_meeting_with_actions(session, pair, 6, date.today() - timedelta(days=30))
    add_meeting_with_actions(session, pair, 3, date.today() - timedelta(days=2), start=100)
    page = text(mentee.get(f"/pairs/{pair.id}"))
    # The list shows the first five by due date (ties: the oldest first); the recap the last meeting's three.
    assert "Still open from that meeting: Action number 100; Action number 101; Action number 102." in page


def test_all_topics_and_all_open_action_items_are_paged(mentee, pair, session):
    add_topics(session, pair, 25)
    add_meeting_with_actions(session, pair, 45, date.today() - timedelta(days=3))
    first, second = (text(mentee.get(f"/pairs/{pair.id}/topics?page={n}")) for n in (1, 2))
    assert len(shown(first, "Topic number")) == agenda.PER_PAGE and 'rel="next"' in first
    assert len(shown(second, "Topic number")) == 5 and 'rel="next"' not in second
    assert shown(first, "Topic number") | shown(second, "Topic number") == set(range(25))

    pages = [text(mentee.get(f"/pairs/{pair.id}/journal/actions?page={n}")) for n in (1, 2, 3)]
    assert [len(shown(p, "Action number")) for p in pages] == [20, 20, 5]
    assert "Nothing further." in text(mentee.get(f"/pairs/{pair.id}/journal/actions?page=4"))


# --- the goal board ----------------------------------------------------------------------------


def test_each_column_shows_its_first_ten_and_how_many_it_holds(mentee, pair, session):
    add_goals(session, pair, 25, GoalStatus.DONE)
    add_goals(session, pair, 3, GoalStatus.IN_PROGRESS)
    page = text(mentee.get(f"/pairs/{pair.id}/goals"))
    assert len(shown(page, "Done goal")) == board.PER_GROUP
    assert shown(page, "In progress goal") == {0, 1, 2}
    assert 'Done <span class="goal-count">(25)</span>' in page
    assert 'In progress <span class="goal-count">(3)</span>' in page
    assert page.count("Show all 25") == 1


def test_a_column_pages_through_every_goal(mentee, pair, session):
    add_goals(session, pair, 25, GoalStatus.DONE)
    first = text(mentee.get(f"/pairs/{pair.id}/goals?status=done"))
    second = text(mentee.get(f"/pairs/{pair.id}/goals?status=done&page=2"))
    assert len(shown(first, "Done goal")) == board.PER_PAGE and "Not started <span" not in first
    assert len(shown(second, "Done goal")) == 5
    assert shown(first, "Done goal") | shown(second, "Done goal") == set(range(25))
    # Anything else in the query string is just the board.
    assert "Not started <span" in text(mentee.get(f"/pairs/{pair.id}/goals?status=<script>"))


def test_a_goal_just_added_shows_even_beyond_the_first_ten(mentee, pair, session):
    for i in range(12):
        session.add(
            Goal(
                pair_id=pair.id,
                learner=Role.MENTEE,
                title=f"Dated goal {i}",
                target_on=date.today() + timedelta(days=30 + i),
                created_by_id=pair.mentor.id,
                updated_by_id=pair.mentor.id,
            )
        )
    session.flush()
    # Undated goals come after dated ones: a new one is twelfth in its column.
    response = mentee.post(
        f"/pairs/{pair.id}/goals",
        data={"new-title": "A brand new goal", "new-learner": "mentee", "new-why": "", "new-success": ""},
        headers={"HX-Request": "true", "HX-Target": "board"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "A brand new goal" in page and 'Not started <span class="goal-count">(13)</span>' in page


# --- the meeting form --------------------------------------------------------------------------


def test_the_meeting_form_offers_the_newest_open_topics_and_finds_older_ones(mentee, pair, session):
    add_topics(session, pair, agenda.AGENDA_LIMIT + 10)
    page = text(mentee.get(f"/pairs/{pair.id}/journal/new"))
    offered = re.findall(r'name="covered" value="(\d+)"', page)
    assert len(offered) == agenda.AGENDA_LIMIT
    assert shown(page, "Topic number") == set(range(10, agenda.AGENDA_LIMIT + 10))
    assert f"the newest {agenda.AGENDA_LIMIT} of your {agenda.AGENDA_LIMIT + 10} open topics" in page

    found = text(mentee.get(f"/pairs/{pair.id}/journal/new?topic=number 3"))
    assert shown(found, "Topic number") == {3} | set(range(30, 40))
    nothing = text(mentee.get(f"/pairs/{pair.id}/journal/new?topic=%25_nope"))
    assert 'name="covered"' not in nothing and "Show the newest" in nothing


def test_a_ticked_older_topic_stays_ticked_when_the_form_comes_back(mentee, pair, session):
    add_topics(session, pair, agenda.AGENDA_LIMIT + 10)
    oldest = session.query(Topic).filter_by(pair_id=pair.id, text="Topic number 0").one()
    response = mentee.post(
        f"/pairs/{pair.id}/journal/new", data={"held_on": "", "format": "video", "covered": [str(oldest.id)]}
    )
    assert response.status_code == 422
    assert re.search(rf'name="covered" value="{oldest.id}" checked', response.get_data(as_text=True))


def test_the_meeting_form_offers_open_goals_only_and_a_bounded_number(mentee, pair, session):
    add_goals(session, pair, 2, GoalStatus.DONE)
    add_goals(session, pair, 2, GoalStatus.DROPPED)
    add_goals(session, pair, meetings.GOAL_CHOICES, GoalStatus.NOT_STARTED)
    add_goals(session, pair, 2, GoalStatus.IN_PROGRESS)
    page = text(mentee.get(f"/pairs/{pair.id}/journal/new"))
    # Offered in the action row.
    assert shown(page, "In progress goal") == {0, 1}
    assert len(shown(page, "Not started goal")) == meetings.GOAL_CHOICES - 2
    assert "Done goal" not in page and "Dropped goal" not in page


# --- weight and query counts, flat as the history doubles --------------------------------------


def test_pages_stay_the_same_size_and_query_count_as_the_history_doubles(mentee, pair, session, queries):
    urls = {
        "home": f"/pairs/{pair.id}",
        "goal board": f"/pairs/{pair.id}/goals",
        "one column": f"/pairs/{pair.id}/goals?status=done",
        "topics": f"/pairs/{pair.id}/topics",
        "open action items": f"/pairs/{pair.id}/journal/actions",
        "meeting form": f"/pairs/{pair.id}/journal/new",
        "journal": f"/pairs/{pair.id}/journal",
    }

    def measure() -> tuple[dict[str, int], dict[str, int]]:
        counts, sizes = {}, {}
        for name, url in urls.items():
            with queries() as log:
                response = mentee.get(url)
            assert response.status_code == 200, name
            counts[name], sizes[name] = log.count, len(response.data)
        return counts, sizes

    grow(session, pair, 60)  # beyond every bound: 60 topics, 60 goals a column, 60 open items
    counts, sizes = measure()
    # Each a page of the pair: its tab bar's badges are one query of it (app/pairs/badges.py), but
    # on the home, which reads them with its own.
    assert counts == {
        "home": 7,
        "goal board": 4 + 1,
        "one column": 4 + 1,
        "topics": 3 + 1,
        "open action items": 3 + 1,
        "meeting form": 5 + 1,
        "journal": 6 + 1,
    }
    grow(session, pair, 60)
    grow(session, pair, 120)  # four times as much
    again, resized = measure()
    assert again == counts
    for name, size in sizes.items():
        # The same number of items, with a few more digits in their ids and counts.
        assert resized[name] < size * 1.05, name


def test_a_topic_just_added_shows_even_past_the_first_few(mentor, pair, session):
    add_topics(session, pair, dashboard.HOME_TOPICS + 2, by=pair.mentee)  # the mentee's come first
    response = mentor.post(
        f"/pairs/{pair.id}/topics",
        data={"text": "How we review pull requests"},
        headers={"HX-Request": "true", "HX-Target": "topics"},
    )
    assert response.status_code == 200
    block = text(response)
    assert "How we review pull requests" in block and "Added for next time." in block
    assert len(shown(block, "Topic number")) == dashboard.HOME_TOPICS
    assert f"Show all {dashboard.HOME_TOPICS + 3} topics" in block
    # On the next visit it takes its place in the agenda's order.
    assert "How we review pull requests" not in text(mentor.get(f"/pairs/{pair.id}"))
