"""The assignment: who is proposed to whom, and why, from intake answers alone.

Pure computation, no database: ``solve`` takes people and rules and returns proposals, each with
its reasons in plain words, and the people left unmatched, each with why.

How (the issue's "Decisions"):

- Rows are mentees, columns are mentor *places* (a mentor of capacity 2 is two columns) followed by
  one "unmatched" column per mentee, scored 0. ``linear_sum_assignment`` maximises the total.
- A pair a hard rule forbids gets ``FORBIDDEN``, a finite very low score. Every mentee has a zero
  "unmatched" column of its own and there are as many of them as mentees, so whenever a mentee
  sits on a forbidden cell some unmatched column is free and moving there raises the total: the
  optimum never takes a forbidden cell, and scipy is never handed ``-inf`` or an infeasible matrix.
- A pair with nothing to learn from each other (no skill either way) is not worth proposing: it
  is scored like a forbidden one, so the optimum leaves people unmatched rather than force it.
- "Either" people are placed before solving on the side the program is short of, then one
  bipartite assignment is solved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

MENTOR, MENTEE, EITHER = "mentor", "mentee", "either"
RHYTHMS = ("weekly", "fortnightly", "monthly")
FORBIDDEN = -1_000_000.0
# Working hours overlap: two people this many hours apart share no working day.
WORKING_HOURS = 8.0
DENSE_UP_TO = 1_000


@dataclass(frozen=True)
class Person:
    """One participant's answers, as the matching reads them. Sets hold case-folded keys."""

    id: int
    name: str
    role: str  # MENTOR, MENTEE or EITHER
    email: str = ""
    department: str = ""
    level: int | None = None
    teach: frozenset[str] = frozenset()
    learn: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    utc_offset: float | None = None  # hours
    rhythm: str = ""
    avoid: frozenset[str] = frozenset()  # normalised work emails
    # How a key reads on screen ("short-form video" → "Short-form video").
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name

    def label(self, key: str) -> str:
        return self.labels.get(key, key)


@dataclass(frozen=True)
class Rules:
    level_gap: int = 2
    higher_is_senior: bool = True
    different_department: bool = True
    shared_language: bool = True
    capacity: int = 1
    weight_skills: float = 3.0
    weight_interests: float = 1.0
    weight_time_zone: float = 1.0
    weight_rhythm: float = 1.0


@dataclass(frozen=True)
class Proposal:
    mentor: Person
    mentee: Person
    score: float
    reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons) + "."


@dataclass(frozen=True)
class Unmatched:
    person: Person
    role: str
    reason: str


@dataclass
class Result:
    proposals: list[Proposal]
    unmatched: list[Unmatched]
    # Where each "either" person was placed, and why, by participant id.
    placed: dict[int, tuple[str, str]]

    @property
    def total(self) -> float:
        return float(sum(p.score for p in self.proposals))


def unordered(a: int, b: int) -> frozenset[int]:
    return frozenset((a, b))


# --- placing "either" --------------------------------------------------------------------------


def place(people: Sequence[Person], rules: Rules, locked: Iterable[tuple[int, int]] = ()) -> dict[int, tuple[str, str]]:
    """The side each "either" person takes, with the reason in words: one by one (by id), on the
    side with fewer places, mentor places counted with the program's capacity."""
    locked = list(locked)
    taken = {mentor for mentor, _ in locked} | {mentee for _, mentee in locked}
    mentor_places = sum(rules.capacity for p in people if p.role == MENTOR) - len(locked)
    mentees = sum(1 for p in people if p.role == MENTEE and p.id not in taken)
    placed: dict[int, tuple[str, str]] = {}
    for person in sorted((p for p in people if p.role == EITHER and p.id not in taken), key=lambda p: p.id):
        if mentor_places <= mentees:
            why = (
                f"fewer mentor places ({mentor_places}) than mentees ({mentees})"
                if mentor_places < mentees
                else f"as many mentor places as mentees ({mentees})"
            )
            placed[person.id] = (
                MENTOR,
                f"{person.first_name} said either, and is proposed as a mentor: there were {why}",
            )
            mentor_places += rules.capacity
        else:
            placed[person.id] = (
                MENTEE,
                f"{person.first_name} said either, and is proposed as a mentee: there were fewer mentees "
                f"({mentees}) than mentor places ({mentor_places})",
            )
            mentees += 1
    return placed


# --- the score matrix --------------------------------------------------------------------------


def _incidence(sets: list[frozenset[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    # scipy is imported where the solver runs, not with the module: importing it costs about a
    # second of CPU, which every web worker, Celery worker and CLI command would otherwise pay at
    # start for a page only admins open, once per run of the matching.
    from scipy import sparse

    rows, cols = [], []
    for row, keys in enumerate(sets):
        for key in keys:
            rows.append(row)
            cols.append(vocabulary.setdefault(key, len(vocabulary)))
    return sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sets), max(len(vocabulary), 1))
    )


def _common(left: list[frozenset[str]], right: list[frozenset[str]]) -> np.ndarray:
    """How many keys each left set shares with each right set (len(left) × len(right))."""
    vocabulary: dict[str, int] = {}
    a = _incidence(left, vocabulary)
    b = _incidence(right, vocabulary)
    size = max(len(vocabulary), 1)
    a.resize((a.shape[0], size))
    b.resize((b.shape[0], size))
    if size <= DENSE_UP_TO:
        # A program's own list of skills is short: a dense product (BLAS) beats a sparse one whose
        # result is nearly full anyway. Free text grows the vocabulary; then sparse wins.
        return a.toarray() @ b.toarray().T
    return np.asarray((a @ b.T).toarray(), dtype=np.float32)


def _levels(people: list[Person]) -> np.ndarray:
    return np.array([np.nan if p.level is None else p.level for p in people], dtype=np.float64)


def _categories(left: list, right: list) -> tuple[np.ndarray, np.ndarray, list]:
    """Each value as the index of its category, and the categories."""
    values = sorted({*left, *right}, key=repr)
    index = {value: i for i, value in enumerate(values)}
    return (
        np.array([index[v] for v in left], dtype=np.intp),
        np.array([index[v] for v in right], dtype=np.intp),
        values,
    )


def _overlap(a: float | None, b: float | None) -> float:
    """The share of a working day two people's clocks have in common (0 when one is unknown)."""
    if a is None or b is None:
        return 0.0
    return max(WORKING_HOURS - abs(a - b), 0.0) / WORKING_HOURS


def _same_rhythm(a: str, b: str) -> float:
    if a not in RHYTHMS or b not in RHYTHMS:
        return 0.0
    steps = abs(RHYTHMS.index(a) - RHYTHMS.index(b))
    return 1.0 if steps == 0 else 0.5 if steps == 1 else 0.0


@dataclass
class Matrices:
    """Each rule and each part of the score, mentees × mentors: kept apart so that an unmatched
    person's reason can say which rule left nobody."""

    level_ok: np.ndarray
    department_ok: np.ndarray
    language_ok: np.ndarray
    pair_ok: np.ndarray  # avoid lists, existing, past and rejected pairs
    teaches: np.ndarray  # what the mentor can teach that the mentee wants
    taught: np.ndarray  # what the mentee can teach that the mentor wants
    score: np.ndarray

    @property
    def allowed(self) -> np.ndarray:
        return self.level_ok & self.department_ok & self.language_ok & self.pair_ok

    @property
    def worth(self) -> np.ndarray:
        # Something to learn from each other, and a score above the zero of "unmatched" (with a
        # weight of 0 for skills, a pair can have both and still score nothing).
        return self.allowed & ((self.teaches + self.taught) > 0) & (self.score > 0)


def matrices(
    mentees: list[Person], mentors: list[Person], rules: Rules, never: set[frozenset[int]] = frozenset()
) -> Matrices:
    shape = (len(mentees), len(mentors))
    e_level, m_level = _levels(mentees)[:, None], _levels(mentors)[None, :]
    # The mentor is the junior one: the mentee at least ``level_gap`` levels more senior.
    with np.errstate(invalid="ignore"):
        gap = (e_level - m_level) if rules.higher_is_senior else (m_level - e_level)
        level_ok = gap >= rules.level_gap  # NaN (a level unknown) compares False
    if rules.different_department:
        names = {}
        e_dept = np.array([names.setdefault(p.department.casefold(), len(names)) for p in mentees], dtype=np.int64)
        m_dept = np.array([names.setdefault(p.department.casefold(), len(names)) for p in mentors], dtype=np.int64)
        known = names.get("")
        department_ok = e_dept[:, None] != m_dept[None, :]
        if known is not None:  # an unknown department can't be shown to differ
            department_ok &= (e_dept != known)[:, None] & (m_dept != known)[None, :]
    else:
        department_ok = np.ones(shape, dtype=bool)
    if rules.shared_language:
        language_ok = _common([p.languages for p in mentees], [p.languages for p in mentors]) > 0
    else:
        language_ok = np.ones(shape, dtype=bool)

    pair_ok = np.ones(shape, dtype=bool)
    e_index = {p.id: i for i, p in enumerate(mentees)}
    m_index = {p.id: j for j, p in enumerate(mentors)}
    for pair in never:
        a, b = tuple(pair) if len(pair) == 2 else (next(iter(pair)),) * 2
        for x, y in ((a, b), (b, a)):
            if x in e_index and y in m_index:
                pair_ok[e_index[x], m_index[y]] = False
    e_email = {p.email: i for i, p in enumerate(mentees) if p.email}
    m_email = {p.email: j for j, p in enumerate(mentors) if p.email}
    for i, p in enumerate(mentees):
        for email in p.avoid:
            if email in m_email:
                pair_ok[i, m_email[email]] = False
    for j, p in enumerate(mentors):
        for email in p.avoid:
            if email in e_email:
                pair_ok[e_email[email], j] = False

    teaches = _common([p.learn for p in mentees], [p.teach for p in mentors])
    taught = _common([p.teach for p in mentees], [p.learn for p in mentors])
    interests = _common([p.interests for p in mentees], [p.interests for p in mentors])
    score = np.float32(rules.weight_skills) * (teaches + taught)
    score += np.float32(rules.weight_interests) * interests
    # Time zones and rhythms take few distinct values: score each pair of values once, then look
    # the table up for every pair of people (one pass over the matrix instead of several).
    if rules.weight_time_zone:
        e_zone, m_zone, offsets = _categories([p.utc_offset for p in mentees], [p.utc_offset for p in mentors])
        table = np.array([[_overlap(a, b) for b in offsets] for a in offsets], dtype=np.float32).reshape(
            len(offsets), len(offsets)
        ) * np.float32(rules.weight_time_zone)
        score += table[e_zone[:, None], m_zone[None, :]]
    if rules.weight_rhythm:
        e_rhythm, m_rhythm, rhythms = _categories([p.rhythm for p in mentees], [p.rhythm for p in mentors])
        table = np.array([[_same_rhythm(a, b) for b in rhythms] for a in rhythms], dtype=np.float32).reshape(
            len(rhythms), len(rhythms)
        )
        score += table[e_rhythm[:, None], m_rhythm[None, :]] * np.float32(rules.weight_rhythm)
    return Matrices(level_ok, department_ok, language_ok, pair_ok, teaches, taught, score)


# --- solving -------------------------------------------------------------------------------------


def sides(
    people: Sequence[Person], rules: Rules, locked: Sequence[tuple[int, int]]
) -> tuple[list[Person], list[Person], dict[int, int], dict[int, tuple[str, str]]]:
    """Mentees and mentors still to match, the mentor places left to each mentor, and the placing
    of "either" people. People in a locked proposal keep it: a mentee is out, a mentor has
    one place fewer."""
    placed = place(people, rules, locked)
    locked_mentees = {mentee for _, mentee in locked}
    used: dict[int, int] = {}
    for mentor, _ in locked:
        used[mentor] = used.get(mentor, 0) + 1
    mentees, mentors = [], []
    for p in people:
        role = placed[p.id][0] if p.id in placed else p.role
        if p.id in locked_mentees:
            continue
        if p.id in used:
            role = MENTOR  # a locked mentor, whatever they said
        (mentors if role == MENTOR else mentees).append(p)
    places = {p.id: max(rules.capacity - used.get(p.id, 0), 0) for p in mentors}
    return mentees, mentors, places, placed


def solve(
    people: Sequence[Person],
    rules: Rules,
    never: set[frozenset[int]] = frozenset(),
    locked: Sequence[tuple[int, int]] = (),
) -> Result:
    """The optimal proposals for ``people`` under ``rules``. ``never`` holds pairs (unordered
    participant ids) that may not be proposed: existing and past pairs, rejected proposals.
    ``locked`` (mentor id, mentee id) are kept as they are and not proposed again."""
    mentees, mentors, places, placed = sides(people, rules, locked)
    m = matrices(mentees, mentors, rules, never)
    worth = m.worth
    owner = np.repeat(np.arange(len(mentors)), [places[p.id] for p in mentors])
    cost = np.zeros((len(mentees), len(owner) + len(mentees)), dtype=np.float64)
    if len(owner):
        cost[:, : len(owner)] = np.where(worth, m.score, FORBIDDEN)[:, owner]
    proposals: list[Proposal] = []
    matched_e: set[int] = set()
    matched_m: set[int] = set()
    if len(mentees):
        from scipy.optimize import linear_sum_assignment  # imported here: see _incidence

        rows, cols = linear_sum_assignment(cost, maximize=True)
        for i, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if c < len(owner) and worth[i, owner[c]]:
                j = int(owner[c])
                matched_e.add(i)
                matched_m.add(j)
                proposals.append(_proposal(mentors[j], mentees[i], float(m.score[i, j]), rules, placed))
    unmatched = [
        Unmatched(mentees[i], MENTEE, _why_unmatched(mentees[i], MENTEE, m, i, rules, worth))
        for i in range(len(mentees))
        if i not in matched_e
    ]
    locked_mentors = {mentor for mentor, _ in locked}
    unmatched += [
        Unmatched(mentors[j], MENTOR, _why_unmatched(mentors[j], MENTOR, m, j, rules, worth))
        for j in range(len(mentors))
        if j not in matched_m and mentors[j].id not in locked_mentors
    ]
    proposals.sort(key=lambda p: (-p.score, p.mentee.name.casefold(), p.mentee.id))
    return Result(proposals, unmatched, placed)


def greedy(
    people: Sequence[Person],
    rules: Rules,
    never: set[frozenset[int]] = frozenset(),
    locked: Sequence[tuple[int, int]] = (),
) -> float:
    """The total score of the obvious greedy pass (best allowed pair first), to compare with."""
    mentees, mentors, places, _ = sides(people, rules, locked)
    m = matrices(mentees, mentors, rules, never)
    worth = m.worth
    flat = np.flatnonzero(worth)
    order = flat[np.argsort(-m.score.ravel()[flat], kind="stable")]
    left = np.array([places[p.id] for p in mentors], dtype=np.int64)
    taken = np.zeros(len(mentees), dtype=bool)
    total, free = 0.0, len(mentees)
    width = max(len(mentors), 1)
    for cell in order.tolist():
        i, j = divmod(cell, width)
        if taken[i] or left[j] == 0:
            continue
        taken[i] = True
        left[j] -= 1
        total += float(m.score[i, j])
        free -= 1
        if free == 0:
            break
    return total


# --- words -------------------------------------------------------------------------------------

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _proposal(
    mentor: Person, mentee: Person, score: float, rules: Rules, placed: dict[int, tuple[str, str]]
) -> Proposal:
    reasons: list[str] = []
    forward = sorted(mentor.teach & mentee.learn)
    back = sorted(mentee.teach & mentor.learn)
    if forward:
        reasons.append(
            f"{mentor.first_name} can teach {_listing([mentor.label(k) for k in forward])}, "
            f"which {mentee.first_name} wants to learn"
        )
    if back:
        reasons.append(
            f"{mentee.first_name} can help {mentor.first_name} with {_listing([mentee.label(k) for k in back])}"
        )
    shared = sorted(mentor.interests & mentee.interests)
    if shared:
        reasons.append(f"both like {_listing([mentor.label(k) for k in shared])}")
    if rules.different_department or (mentor.department and mentee.department):
        if mentor.department.casefold() != mentee.department.casefold():
            reasons.append(f"{mentor.department} and {mentee.department}")
    if mentor.level is not None and mentee.level is not None:
        apart = abs(mentee.level - mentor.level)
        reasons.append(f"{number(apart)} level{'s' if apart != 1 else ''} apart")
    if mentor.utc_offset is not None and mentee.utc_offset is not None:
        hours = abs(mentor.utc_offset - mentee.utc_offset)
        reasons.append("same time zone" if hours == 0 else f"{hours:g} hour{'s' if hours != 1 else ''} apart in time")
    if mentor.rhythm and mentor.rhythm == mentee.rhythm:
        reasons.append(f"both would meet {mentor.rhythm}")
    reasons += [placed[p.id][1] for p in (mentor, mentee) if p.id in placed]
    return Proposal(mentor, mentee, score, tuple(reasons))


def _why_unmatched(person: Person, role: str, m: Matrices, index: int, rules: Rules, worth: np.ndarray) -> str:
    """Which rule left nobody for ``person``, in words ("no mentee two levels up outside Finance")."""
    row = (lambda a: a[index, :]) if role == MENTEE else (lambda a: a[:, index])
    other = "mentor" if role == MENTEE else "mentee"
    if row(m.level_ok).size == 0:
        return f"there is no {other} to match with"
    if person.level is None:
        return f"{person.first_name}'s level isn't known, so it can't be compared"
    if rules.different_department and not person.department:
        return f"{person.first_name}'s department isn't known, and the program pairs people across departments"
    # In seniority, whichever way the program numbers its levels.
    direction = "below" if role == MENTEE else "up"
    words = f"no {other} {number(rules.level_gap)} level{'s' if rules.level_gap != 1 else ''} {direction}"
    ok = row(m.level_ok)
    if not ok.any():
        return words
    if rules.different_department:
        words += f" outside {person.department}"
        ok = ok & row(m.department_ok)
        if not ok.any():
            return words
    if rules.shared_language:
        words += f" who speaks {_listing(sorted(person.languages)) if person.languages else 'a language they gave'}"
        ok = ok & row(m.language_ok)
        if not ok.any():
            return words
    ok = ok & row(m.pair_ok)
    if not ok.any():
        return words + " who isn't on an avoid list or already paired with them before"
    if not row(worth).any():
        return f"no {other} who fits the rules can teach what {person.first_name} wants to learn, or wants what they can teach"
    return f"every {other} who fits was a better match for someone else"


def check(
    mentor: Person, mentee: Person, rules: Rules, never: set[frozenset[int]] = frozenset()
) -> tuple[float, str | None]:
    """One pair's score, and the first hard rule it breaks in words (None when it may be
    proposed): for a swap the admin asks for, checked by the same matrices as a run."""
    m = matrices([mentee], [mentor], rules, never)
    a, b = mentor.first_name, mentee.first_name
    if not m.level_ok[0, 0]:
        if mentor.level is None or mentee.level is None:
            return 0.0, f"{a if mentor.level is None else b}'s level isn't known, so it can't be compared"
        gap = number(rules.level_gap)
        return 0.0, f"{b} isn't at least {gap} level{'s' if rules.level_gap != 1 else ''} more senior than {a}"
    if not m.department_ok[0, 0]:
        if not mentor.department or not mentee.department:
            return 0.0, f"{a if not mentor.department else b}'s department isn't known"
        return 0.0, f"{a} and {b} are both in {mentee.department}"
    if not m.language_ok[0, 0]:
        return 0.0, f"{a} and {b} share no language"
    if not m.pair_ok[0, 0]:
        # Never which: the admin doesn't see avoid lists.
        return 0.0, (
            f"{a} and {b} can't be paired: they are or were a pair, were rejected or didn't go ahead before, "
            "or one of them asked not to be"
        )
    if not m.worth[0, 0]:
        return 0.0, f"neither {a} nor {b} can teach what the other wants to learn"
    return float(m.score[0, 0]), None


def placement(reasons: Iterable[str], person: Person) -> str | None:
    """The sentence saying which side an "either" person was placed on, from their proposal's
    reasons (a swap keeps each person on their side, so it keeps the sentence too)."""
    start = f"{person.first_name} said either, and is proposed as a "
    return next((reason for reason in reasons if reason.startswith(start)), None)


def explain(mentor: Person, mentee: Person, score: float, rules: Rules, placed: dict[int, tuple[str, str]]) -> Proposal:
    """A proposal of these two, with its reasons in words."""
    return _proposal(mentor, mentee, score, rules, placed)


# --- checking, independently of the matrices -----------------------------------------------------


def violations(
    result: Result,
    people: Sequence[Person],
    rules: Rules,
    never: set[frozenset[int]] = frozenset(),
    locked: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """Every hard rule a result breaks, checked pair by pair in plain Python (not with the
    matrices the solver used), for tests and the benchmark."""
    problems: list[str] = []
    mentor_load: dict[int, int] = {}
    for mentor, _ in locked:
        mentor_load[mentor] = mentor_load.get(mentor, 0) + 1
    seen_mentees = {mentee for _, mentee in locked}
    mentors_seen: set[int] = set(mentor_load)
    for p in result.proposals:
        a, b = p.mentor, p.mentee
        if a.id == b.id:
            problems.append(f"{a.id} paired with themselves")
        if b.id in seen_mentees:
            problems.append(f"mentee {b.id} twice")
        seen_mentees.add(b.id)
        mentor_load[a.id] = mentor_load.get(a.id, 0) + 1
        mentors_seen.add(a.id)
        if mentor_load[a.id] > rules.capacity:
            problems.append(f"mentor {a.id} over capacity")
        if a.level is None or b.level is None:
            problems.append(f"{a.id}-{b.id}: level unknown")
        else:
            gap = b.level - a.level if rules.higher_is_senior else a.level - b.level
            if gap < rules.level_gap:
                problems.append(f"{a.id}-{b.id}: level gap {gap}")
        if rules.different_department and (not a.department or a.department.casefold() == b.department.casefold()):
            problems.append(f"{a.id}-{b.id}: same department")
        if rules.shared_language and not (a.languages & b.languages):
            problems.append(f"{a.id}-{b.id}: no shared language")
        if (a.email and a.email in b.avoid) or (b.email and b.email in a.avoid):
            problems.append(f"{a.id}-{b.id}: on an avoid list")
        if unordered(a.id, b.id) in never:
            problems.append(f"{a.id}-{b.id}: an existing, past or rejected pair")
    if mentors_seen & seen_mentees:
        problems.append(f"both mentor and mentee: {sorted(mentors_seen & seen_mentees)}")
    return problems
