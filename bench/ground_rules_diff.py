"""How long the ground rules take when clauses are long and rewritten: the diff, and every page
that shows one.

A script, not a test. It times ``diff.sentences`` on two 10,000-character versions of a clause (a
full rewrite, and the same text with one word in twenty changed), and on 100 KB of hostile text, then seeds a pair on a fresh SQLite
file whose four clauses were each rewritten at 10,000 characters after both agreed, and times the
page, its status fragment, the history, the print view and the Markdown download.

    .venv/bin/python bench/ground_rules_diff.py [--runs N]

Before the diff was bounded, one such page took 11 to 19 seconds, and four such clauses ran past
gunicorn's worker timeout. The goal is well under a second for every page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta

from _common import make_app, signed_in_client
from sqlalchemy import select

from app.extensions import db
from app.ground_rules import agreement, diff
from app.models import BODY_MAX, Clause, ClauseKind, Pair, PairMember, Program, User

LONG_CLAUSES = 4


def prose(rng: random.Random, length: int = BODY_MAX) -> str:
    """``length`` characters of word-like text: a vocabulary of a few thousand words, as prose has,
    in sentences of 5 to 20 words."""
    vocabulary = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    out: list[str] = []
    size = 0
    while size < length:
        sentence = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 20))).capitalize() + "."
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)[:length]


def sprinkle(rng: random.Random, text: str) -> str:
    """``text`` with about one word in twenty changed."""
    return " ".join("changed" if rng.random() < 0.05 else word for word in text.split(" "))[:BODY_MAX]


def median_ms(action, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), max(timings)


def time_diff(runs: int) -> None:
    rng = random.Random(1)
    before = prose(rng)
    for label, after in (("rewritten", prose(rng)), ("one word in 20", sprinkle(rng, before))):
        median, worst = median_ms(lambda after=after: diff.sentences(before, after), runs)
        print(f"diff.sentences, 10,000 characters, {label:>14}: median {median:7.1f} ms  (max {worst:.1f})")
    hostile = (
        ("repeated sentences", "Yes. " * 20_000, "Yes. No. " * 10_000),
        ("one mark repeated", "." * 100_000, "。" * 100_000),
        ("one long sentence", "a" * 100_000, "a" * 99_999 + "b"),
    )
    for label, before, after in hostile:
        median, worst = median_ms(lambda before=before, after=after: diff.sentences(before, after), runs)
        print(f"diff.sentences, 100 KB, {label:>18}: median {median:7.1f} ms  (max {worst:.1f})")


def seed() -> tuple[int, int]:
    """A pair who agreed to their ground rules, then rewrote four clauses at full length."""
    rng = random.Random(2)
    program = Program(
        name="Bench", starts_on=date.today() - timedelta(days=30), ends_on=date.today() + timedelta(days=90)
    )
    mentor, mentee = (
        User(name="Maya Okafor", email="maya@example.org"),
        User(name="Harold Finch", email="harold@example.org"),
    )
    pair = Pair.create(program, mentor=mentor, mentee=mentee)
    db.session.add(pair)
    db.session.flush()
    members = list(db.session.scalars(select(PairMember).where(PairMember.pair_id == pair.id)))
    agreement.start(members[0])
    texts = [c for c in agreement.clauses(pair.id) if c.kind == ClauseKind.TEXT][:LONG_CLAUSES]
    for clause in texts:
        agreement.save(members[0], clause, clause.version, {"body": prose(rng)})
    version = agreement.load(pair.id).version
    for member in members:
        agreement.agree(member, version)
    for clause in texts:
        fresh = db.session.get(Clause, clause.id)
        agreement.save(members[1], fresh, fresh.version, {"body": prose(rng)})
    db.session.commit()
    return pair.id, mentor.id


def time_pages(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(f"sqlite:///{tmp}/bench.sqlite3")
        with app.app_context():
            pair_id, mentor_id = seed()
        client = signed_in_client(app, mentor_id)
        base = f"/pairs/{pair_id}/ground-rules"
        pages = (
            ("page", base, {}),
            ("status fragment", base, {"HX-Request": "true", "HX-Target": "agreement_status"}),
            ("history", f"{base}/history", {}),
            ("print", f"{base}/print", {}),
            ("download", f"{base}/ground-rules.md", {}),
        )
        for label, url, headers in pages:

            def get(url=url, headers=headers):
                response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, response.status_code)

            get()  # warm up: templates compiled, connection open
            median, worst = median_ms(get, runs)
            print(
                f"{LONG_CLAUSES} rewritten 10,000-character clauses, {label:>15}: median {median:7.1f} ms  (max {worst:.1f})"
            )
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    time_diff(args.runs)
    time_pages(args.runs)


if __name__ == "__main__":
    main()
