"""Publishing dashboard snapshots in tests, as the scheduled task does."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from app.admin import snapshots
from app.extensions import db
from app.models import Program, SnapshotKind


def publish_exact(app: Flask, session: Session, program: Program, as_of: date | None = None, *months: date) -> None:
    """Publish the program's weekly and monthly snapshots as of ``as_of`` (today by default)
    without noise, and a monthly one for each month of ``months``: the rules at work on exact
    figures (tests/test_snapshots.py covers the noise)."""
    as_of = as_of or date.today()
    session.flush()
    periods = [
        snapshots.Period(SnapshotKind.WEEKLY, f"{as_of:%G-W%V}", as_of - timedelta(days=6), as_of),
        snapshots.Period(SnapshotKind.MONTHLY, f"{as_of:%Y-%m}", as_of.replace(day=1), as_of),
    ]
    for month in months:
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        periods.append(snapshots.Period(SnapshotKind.MONTHLY, f"{month:%Y-%m}", month.replace(day=1), last))
    with app.app_context():
        program = db.session.get(Program, program.id)
        for period in periods:
            assert snapshots.publish_one(program, period, snapshots.NoNoise()).outcome == "published"
        db.session.commit()
