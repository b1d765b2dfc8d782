"""The assignment over random populations: no hard rule is ever broken, and the optimum is never
worse than the greedy pass. Plain random with fixed seeds, so a failure replays exactly."""

from __future__ import annotations

import random

import pytest

from app.matching import solver
from app.matching.solver import EITHER, MENTEE, MENTOR, Person, Rules

SKILLS = [f"skill {n}" for n in range(12)]
DEPARTMENTS = ["Finance", "Marketing", "IT", "Legal", ""]
LANGUAGES = ["english", "french", "german"]


def population(seed: int, size: int) -> tuple[list[Person], Rules, set[frozenset[int]], list[tuple[int, int]]]:
    r = random.Random(seed)
    rules = Rules(
        level_gap=r.choice([0, 1, 2, 3]),
        higher_is_senior=r.random() < 0.7,
        different_department=r.random() < 0.8,
        shared_language=r.random() < 0.7,
        capacity=r.choice([1, 1, 2, 3]),
        weight_skills=r.choice([0, 1, 3]),
        weight_interests=r.choice([0, 1, 2]),
        weight_time_zone=r.choice([0, 1]),
        weight_rhythm=r.choice([0, 1]),
    )
    people = []
    for n in range(1, size + 1):
        people.append(
            Person(
                id=n,
                name=f"Person {n}",
                email=f"p{n}@example.org",
                role=r.choice([MENTOR, MENTEE, MENTEE, EITHER]),
                department=r.choice(DEPARTMENTS),
                level=r.choice([None, 1, 2, 3, 4, 5, 6, 7, 8]),
                teach=frozenset(r.sample(SKILLS, r.randint(0, 3))),
                learn=frozenset(r.sample(SKILLS, r.randint(0, 3))),
                interests=frozenset(r.sample(["hiking", "chess", "film"], r.randint(0, 2))),
                languages=frozenset(r.sample(LANGUAGES, r.randint(0, 2))),
                utc_offset=r.choice([None, -5.0, 0.0, 1.0, 5.5]),
                rhythm=r.choice(["", *solver.RHYTHMS]),
                avoid=frozenset(f"p{r.randint(1, size)}@example.org" for _ in range(r.randint(0, 2))),
            )
        )
    ids = [p.id for p in people]
    never = {solver.unordered(*r.sample(ids, 2)) for _ in range(size // 4)}
    return people, rules, never, []


@pytest.mark.parametrize("seed", range(60))
def test_no_hard_rule_is_ever_broken_and_the_optimum_beats_or_equals_greedy(seed):
    people, rules, never, locked = population(seed, random.Random(seed).randint(2, 60))
    result = solver.solve(people, rules, never, locked)
    assert solver.violations(result, people, rules, never, locked) == []
    assert result.total >= solver.greedy(people, rules, never, locked) - 1e-6
    # Everyone is either proposed or listed as unmatched with a reason, exactly once.
    proposed = [p.mentor.id for p in result.proposals] + [p.mentee.id for p in result.proposals]
    left = [u.person.id for u in result.unmatched]
    assert set(proposed) | set(left) == {p.id for p in people}
    assert not set(left) & set(proposed) and len(left) == len(set(left))
    assert all(u.reason for u in result.unmatched)
    assert all(p.reasons and p.score > 0 for p in result.proposals)


@pytest.mark.parametrize("seed", range(20))
def test_locked_proposals_stay_and_the_rest_is_optimised_again(seed):
    people, rules, never, _ = population(seed, 40)
    first = solver.solve(people, rules, never)
    locked = [(p.mentor.id, p.mentee.id) for p in first.proposals[::2]]
    again = solver.solve(people, rules, never, locked)
    assert solver.violations(again, people, rules, never, locked) == []
    locked_mentees = {mentee for _, mentee in locked}
    assert not {p.mentee.id for p in again.proposals} & locked_mentees
    assert again.total >= solver.greedy(people, rules, never, locked) - 1e-6


def aisha_and_margaret(**margaret) -> list[Person]:
    aisha = Person(
        id=1,
        name="Aisha Khan",
        email="aisha@example.org",
        role=MENTOR,
        department="Marketing",
        level=2,
        teach=frozenset({"short-form video"}),
        learn=frozenset({"presenting to a board"}),
        interests=frozenset({"hiking"}),
        languages=frozenset({"english"}),
        labels={"short-form video": "Short-form video", "presenting to a board": "Presenting to a board"},
    )
    values = {
        "id": 2,
        "name": "Margaret Holloway",
        "email": "margaret@example.org",
        "role": MENTEE,
        "department": "Finance",
        "level": 5,
        "teach": frozenset({"presenting to a board"}),
        "learn": frozenset({"short-form video"}),
        "interests": frozenset({"hiking"}),
        "languages": frozenset({"english"}),
    } | margaret
    return [aisha, Person(**values)]


def test_a_proposal_explains_itself_in_plain_words():
    result = solver.solve(aisha_and_margaret(), Rules())
    (proposal,) = result.proposals
    assert proposal.explanation == (
        "Aisha can teach Short-form video, which Margaret wants to learn; Margaret can help Aisha with "
        "presenting to a board; both like hiking; Marketing and Finance; three levels apart."
    )


@pytest.mark.parametrize(
    "margaret, rules, reason",
    [
        ({"level": 3}, Rules(), "no mentee two levels up"),
        ({"department": "Marketing"}, Rules(), "no mentee two levels up outside Marketing"),
        ({"languages": frozenset({"french"})}, Rules(), "who speaks english"),
        ({"avoid": frozenset({"aisha@example.org"})}, Rules(), "isn't on an avoid list"),
        ({"teach": frozenset(), "learn": frozenset()}, Rules(), "can teach what Aisha wants to learn"),
        ({"level": None}, Rules(), "Margaret's level isn't known"),
    ],
)
def test_a_rule_that_leaves_nobody_is_named(margaret, rules, reason):
    result = solver.solve(aisha_and_margaret(**margaret), rules)
    assert result.proposals == []
    reasons = {u.person.first_name: u.reason for u in result.unmatched}
    assert any(reason in text for text in reasons.values()), reasons


def test_the_level_direction_is_the_program_s():
    people = aisha_and_margaret(level=1)  # Aisha 2, Margaret 1: senior only if lower numbers rank higher
    assert solver.solve(people, Rules(level_gap=1)).proposals == []
    assert len(solver.solve(people, Rules(level_gap=1, higher_is_senior=False)).proposals) == 1


def test_an_existing_or_rejected_pair_never_comes_back():
    people = aisha_and_margaret()
    assert solver.solve(people, Rules(), never={solver.unordered(1, 2)}).proposals == []


def test_either_goes_to_the_short_side_and_says_so():
    people = aisha_and_margaret(role=EITHER)
    result = solver.solve(people, Rules())
    assert result.placed[2][0] == MENTEE
    assert "said either, and is proposed as a mentee" in result.proposals[0].explanation


def test_capacity_two_gives_a_mentor_two_mentees():
    aisha, margaret = aisha_and_margaret()
    second = Person(**{**margaret.__dict__, "id": 3, "name": "Tom Reyes", "email": "tom@example.org"})
    assert len(solver.solve([aisha, margaret, second], Rules()).proposals) == 1
    result = solver.solve([aisha, margaret, second], Rules(capacity=2))
    assert {p.mentee.id for p in result.proposals} == {2, 3}
    assert solver.violations(result, [aisha, margaret, second], Rules(capacity=2)) == []


def test_a_forbidden_score_is_finite():
    # scipy refuses -inf when maximising: the matrix the solver builds has none.
    assert solver.FORBIDDEN > float("-inf") and solver.FORBIDDEN < 0


@pytest.mark.parametrize("seed", range(40))
def test_a_swap_the_check_allows_never_breaks_a_hard_rule(seed):
    """Swapping the mentees of two proposals: ``check`` allows exactly the new pairs that break no
    hard rule (as ``violations`` checks them, pair by pair in plain Python), and what it allows
    has something to learn either way."""
    people, rules, never, _ = population(seed, 40)
    result = solver.solve(people, rules, never)
    r = random.Random(seed)
    proposals = result.proposals
    for _ in range(30):
        if len(proposals) < 2:
            break
        one, two = r.sample(proposals, 2)
        for mentor, mentee in ((one.mentor, two.mentee), (two.mentor, one.mentee)):
            score, problem = solver.check(mentor, mentee, rules, never)
            alone = solver.Result([solver.Proposal(mentor, mentee, score, ())], [], {})
            broken = solver.violations(alone, people, rules, never)
            if problem is None:
                assert broken == [], (mentor.id, mentee.id, broken)
                assert score > 0 and (mentor.teach & mentee.learn or mentee.teach & mentor.learn)
            else:
                assert broken or not (mentor.teach & mentee.learn or mentee.teach & mentor.learn) or score <= 0
