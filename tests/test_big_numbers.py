"""Ids and numbers beyond the database's integer range, wherever they arrive: a URL answers 404,
a query string or a form a clear refusal, never a 500."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from app.models import Clause, ClauseKind, Meeting, Role, Topic
from app.numbers import INT_MAX, bounded_int

HUGE = [2**63, 2**31, 10**30]
INT_SEGMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")
OTHER_SEGMENT = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def int_routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method))
    return routes


def test_the_walk_finds_the_int_routes(app):
    assert len(int_routes(app)) >= 20  # pairs, clauses, goals, meetings, actions, passkeys, programs…


@pytest.mark.parametrize("number", HUGE)
def test_every_route_with_an_id_answers_404_for_an_id_too_big(app, mentor, pair, number):
    refused = {}
    for rule, method in int_routes(app):
        for segment in INT_SEGMENT.findall(rule):
            # The one huge id in each position; any other id is the member's own pair.
            url = INT_SEGMENT.sub(lambda m, s=segment: str(number) if m.group(1) == s else str(pair.id), rule)
            url = OTHER_SEGMENT.sub("x", url)
            status = mentor.open(url, method=method).status_code
            if status != 404:
                refused[(method, url)] = status
    assert refused == {}


def test_an_id_in_another_scripts_digits_matches_no_route(mentor, pair):
    """One URL for each pair: Arabic-Indic or full-width digits name no pair, not the same one."""
    for digits in (
        str(pair.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        str(pair.id).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ):
        assert mentor.get(f"/pairs/{digits}").status_code == 404
        assert mentor.get(f"/pairs/{digits}/changes?since=0").status_code == 404
    assert mentor.get(f"/pairs/{pair.id}").status_code == 200


def test_the_largest_id_the_database_holds_still_reaches_the_view(mentor, pair):
    assert mentor.get(f"/pairs/{INT_MAX}").status_code == 404  # not a member: the pair guard says so
    assert mentor.get(f"/pairs/{pair.id}/journal/meetings/{INT_MAX}").status_code == 404


@pytest.fixture
def ground_rules(mentor, pair) -> str:
    base = f"/pairs/{pair.id}/ground-rules"
    assert mentor.post(f"{base}/start").status_code in (200, 303)
    return base


@pytest.mark.parametrize("number", [*HUGE, -1, "1e9", "abc", "٣"])
@pytest.mark.parametrize(
    "query",
    ["history?from={}", "history?to={}", "history?from=1&to={}", "changes?since={}", "changes?since=1000&agreed={}"],
)
def test_numbers_in_the_query_string_are_refused_clearly(mentor, ground_rules, query, number):
    response = mentor.get(f"{ground_rules}/{query.format(number)}")
    assert response.status_code == 400
    assert "must be a whole number" in response.text


def test_ordinary_query_numbers_still_work(mentor, ground_rules):
    assert mentor.get(f"{ground_rules}/history?from=0&to=1").status_code == 200
    assert mentor.get(f"{ground_rules}/changes?since=0").status_code in (200, 204)


@pytest.mark.parametrize("number", [2**63, 2**31])
def test_a_huge_version_in_a_clause_save_is_a_conflict_not_a_500(mentor, ground_rules, session, pair, number):
    clause = session.scalars(
        select(Clause).where(Clause.pair_id == pair.id, Clause.kind == ClauseKind.TEXT).limit(1)
    ).one()
    response = mentor.post(
        f"{ground_rules}/clauses/{clause.id}",
        data={"title": clause.title, "body": "New words", "version": str(number)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409  # an unknown version: both texts shown, nothing lost
    assert "New words" in response.text


@pytest.mark.parametrize("number", [2**63, 2**31])
def test_a_huge_topic_id_in_the_journal_form_is_refused_with_a_message(mentor, pair, session, number):
    topic = Topic(pair_id=pair.id, text="Slack etiquette", added_by_id=pair.mentee.id, added_by_role=Role.MENTEE)
    session.add(topic)
    session.flush()
    response = mentor.post(
        f"/pairs/{pair.id}/journal/new",
        data={
            "held_on": date.today().isoformat(),
            "length_minutes": "45",
            "format": "video",
            "covered": [str(topic.id), str(number)],
        },
    )
    assert response.status_code == 422
    assert "Nothing is saved yet, and everything you typed is still here" in response.text
    assert session.scalar(select(func.count(Meeting.id)).where(Meeting.pair_id == pair.id)) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (str(INT_MAX), INT_MAX),
        (str(INT_MAX + 1), None),
        ("-1", None),
        ("1_0", None),
        (" 7 ", 7),
        ("", None),
        (None, None),
        ("١٢", None),
        (True, None),
        (12, 12),
    ],
)
def test_bounded_int(value, expected):
    assert bounded_int(value) == expected
