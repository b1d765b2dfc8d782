"""How long matching takes, and how good it is, for 2,500 mentors × 2,500 mentees (and 100 × 100).

A script, not a test: it seeds a fresh database in bulk (participants with intake answers from a
list of 40 skills, eight departments, realistic levels, languages, time zones and rhythms), signs
an admin in with Flask's test client and times, end to end, the "Propose pairs" POST (reading the
population, building the score matrix, solving, storing the proposals) and the proposals page. It
then checks every proposal against the hard rules, independently of the solver's matrices, and
compares the total score with a greedy pass (best pair first) on the same data. Last, it times the
swap page of the best proposal (twenty others checked against the hard rules), sending every
proposal to both people at once, the page of proposals sent, and a run again for the people of half of them (as if they had said
no) while the other half wait, and the reminder pass a week on that closes those unanswered.

    .venv/bin/python bench/matching.py                        # a fresh SQLite file
    .venv/bin/python bench/matching.py postgresql://postgres@127.0.0.1:5432/postgres

Goals: 2,500 × 2,500 under 10 s, 100 × 100 under 1 s, 0 violations, the page under 300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from _common import insert_returning_ids, insert_rows, main, make_app, signed_in_client, time_get
from sqlalchemy import select, update

from app.extensions import db
from app.matching import intake, proposals, solver
from app.models import (
    Intake,
    IntakeRole,
    MatchingSettings,
    MatchProposal,
    Participant,
    Program,
    ProposalState,
    User,
    utcnow,
)
from app.reminders import passes

DEPARTMENTS = ["Sales", "Engineering", "Finance", "People", "Legal", "Operations", "Marketing", "Support"]
SKILLS = [f"Skill {n:02d}" for n in range(40)]
INTERESTS = ["hiking", "chess", "film", "cooking", "running", "music", "reading", "gardening", "climbing", "travel"]
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/Madrid"]


def seed(mentors: int, mentees: int, seed_value: int = 7) -> tuple[int, int]:
    """A program with ``mentors`` and ``mentees`` who answered the intake form; (program id, admin id)."""
    r = random.Random(seed_value)
    program = Program(
        name=f"Bench {mentors}x{mentees}", starts_on=date.today(), ends_on=date.today() + timedelta(days=180)
    )
    # An owner: administers every program, so needs no program admin row of its own.
    admin = User(name="Bench Admin", email=f"admin-{mentors}-{mentees}@bench.example", is_admin=True, is_owner=True)
    db.session.add_all([program, admin])
    db.session.flush()
    db.session.add(
        MatchingSettings(program_id=program.id, skills=SKILLS, questions=list(intake.OPTIONAL), capacity=1, level_gap=2)
    )
    total = mentors + mentees
    user_ids = insert_returning_ids(
        User,
        # Everyone has joined (signed in once): proposals are only sent to people who have.
        [
            {"name": f"Person {n}", "email": f"p{n}-{program.id}@bench.example", "first_signed_in_at": utcnow()}
            for n in range(total)
        ],
    )
    levels = [r.randint(1, 5) if n < mentors else r.randint(4, 10) for n in range(total)]
    participant_ids = insert_returning_ids(
        Participant,
        [
            {"program_id": program.id, "user_id": uid, "department": r.choice(DEPARTMENTS), "level": f"L{levels[n]}"}
            for n, uid in enumerate(user_ids)
        ],
    )
    emails = [f"p{n}-{program.id}@bench.example" for n in range(total)]
    insert_rows(
        Intake,
        [
            {
                "participant_id": pid,
                "role": IntakeRole.MENTOR if n < mentors else IntakeRole.MENTEE,
                "teach": r.sample(SKILLS, r.randint(2, 5)),
                "teach_other": "",
                "learn": r.sample(SKILLS, r.randint(2, 5)),
                "learn_other": "",
                "interests": ", ".join(r.sample(INTERESTS, r.randint(1, 3))),
                "location": "",
                "time_zone": r.choice(ZONES),
                "languages": ", ".join(r.sample(["English", "German", "Spanish"], r.randint(1, 2))),
                "rhythm": r.choice(["weekly", "fortnightly", "monthly"]),
                "format": "video",
                "avoid": [r.choice(emails)] if r.random() < 0.1 else [],
            }
            for n, pid in enumerate(participant_ids)
        ],
    )
    db.session.commit()
    return program.id, admin.id


def run(url: str, args: argparse.Namespace) -> None:
    sizes = [(n, n) for n in (args.size or [100, 2_500])]
    # The bench posts "Propose pairs" without drawing the page first: no CSRF token to send.
    app = make_app(url, {"WTF_CSRF_ENABLED": False})
    for mentors, mentees in sizes:
        with app.app_context():
            started = time.perf_counter()
            program_id, admin_id = seed(mentors, mentees)
            print(
                f"\n{mentors:,} × {mentees:,}: seeded in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})"
            )
        client = signed_in_client(app, admin_id)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            assert client.post(f"/admin/programs/{program_id}/matching/run").status_code == 303
            timings.append(time.perf_counter() - started)
        print(
            f"  propose pairs (POST, end to end): median {statistics.median(timings):.2f} s (min {min(timings):.2f}, max {max(timings):.2f}, 3 runs)"
        )
        pages = time_get(client, f"/admin/programs/{program_id}/matching?page=2", 5)
        print(f"  proposals page: median {statistics.median(pages):.0f} ms")
        with app.app_context():
            settings = intake.settings_for(program_id)
            rules = proposals.rules_of(settings)
            pop = proposals.population(program_id, settings)
            started = time.perf_counter()
            result = solver.solve(pop.people, rules, pop.never, pop.locked)
            solve_time = time.perf_counter() - started
            started = time.perf_counter()
            baseline = solver.greedy(pop.people, rules, pop.never, pop.locked)
            greedy_time = time.perf_counter() - started
            broken = solver.violations(result, pop.people, rules, pop.never, pop.locked)
            stored = proposals.counts(program_id)["proposed"]
            print(f"  solver alone: {solve_time:.2f} s; greedy alone: {greedy_time:.2f} s")
            print(
                f"  {len(result.proposals):,} proposals ({stored:,} stored), {len(result.unmatched):,} unmatched; "
                f"total score {result.total:,.1f} vs greedy {baseline:,.1f} (+{(result.total / baseline - 1) * 100 if baseline else 0:.1f} %); "
                f"{len(broken)} hard-rule violations"
            )
            db.engine.dispose()
        with app.app_context():
            first = db.session.scalar(
                select(MatchProposal.id)
                .where(MatchProposal.program_id == program_id)
                .order_by(MatchProposal.score.desc())
                .limit(1)
            )
        swaps = time_get(client, f"/admin/programs/{program_id}/matching/proposals/{first}/swap", 5)
        print(f"  swap page (20 proposals checked): median {statistics.median(swaps):.0f} ms")
        with app.app_context():
            db.session.execute(
                update(MatchProposal).where(MatchProposal.program_id == program_id).values(state=ProposalState.LOCKED)
            )
            db.session.commit()
        started = time.perf_counter()
        assert client.post(f"/admin/programs/{program_id}/matching/send-locked").status_code == 303
        print(f"  send every locked proposal to both (POST): {(time.perf_counter() - started) * 1000:.0f} ms")
        with app.app_context():
            # The reminder pass that tells both people of each (the mail is queued, not sent: no
            # worker runs here).
            started = time.perf_counter()
            outcome = passes.run(utcnow() + timedelta(minutes=1))
            print(
                f"  the reminder pass telling both of every proposal: {outcome.added:,} deliveries in "
                f"{time.perf_counter() - started:.2f} s"
            )
        sent_pages = time_get(client, f"/admin/programs/{program_id}/matching?view=sent&page=2", 5)
        print(f"  sent proposals page: median {statistics.median(sent_pages):.0f} ms")
        # Half the matches didn't go ahead (as after a no); run again for the people left while
        # the other half wait: those stay as they are, nobody in one is proposed to someone else,
        # and no two whose match didn't go ahead are proposed together again.
        with app.app_context():
            sent_ids = db.session.scalars(
                select(MatchProposal.id)
                .where(MatchProposal.program_id == program_id, MatchProposal.state == ProposalState.SENT)
                .order_by(MatchProposal.id)
            ).all()
            db.session.execute(
                update(MatchProposal)
                .where(MatchProposal.id.in_(sent_ids[::2]))
                .values(state=ProposalState.NOT_GOING_AHEAD, closed_at=utcnow())
            )
            db.session.commit()
        started = time.perf_counter()
        assert client.post(f"/admin/programs/{program_id}/matching/run").status_code == 303
        rerun = time.perf_counter() - started
        with app.app_context():
            rows = db.session.execute(
                select(MatchProposal.mentor_id, MatchProposal.mentee_id, MatchProposal.state).where(
                    MatchProposal.program_id == program_id
                )
            ).all()
            waiting = [(m, e) for m, e, state in rows if state == ProposalState.SENT]
            closed = {(m, e) for m, e, state in rows if state == ProposalState.NOT_GOING_AHEAD}
            fresh = [(m, e) for m, e, state in rows if state == ProposalState.PROPOSED]
            busy = {person for pair in waiting for person in pair}
            doubled = sum(1 for mentor, mentee in fresh if mentee in busy or mentor in busy)
            again = sum(1 for pair in fresh if pair in closed)
            print(
                f"  run again for the {len(closed) * 2:,} people whose match didn't go ahead, while "
                f"{len(waiting):,} proposals wait (POST): {rerun:.2f} s; {len(fresh):,} new proposals, "
                f"{doubled} proposing someone already waiting, {again} proposing two again"
            )
            # A week on, nobody answered: the pass closes every waiting proposal and tells both.
            ran_out = utcnow() + timedelta(days=7, minutes=2)
            started = time.perf_counter()
            outcome = passes.run(ran_out)
            closing = time.perf_counter() - started
            still = proposals.counts(program_id)["sent"]
            print(
                f"  the reminder pass a week on, closing {len(waiting):,} unanswered proposals: "
                f"{outcome.added:,} deliveries in {closing:.2f} s; {still} still waiting"
            )


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, action="append", help="mentors = mentees (default 100 and 2,500)")


if __name__ == "__main__":
    main(__doc__, run, "matching", arguments)
