"""``flask --app wsgi ending run [--at …]``: the ending pass for a moment (beat runs it hourly)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from app.ending import passes
from app.reminders.cli import _moment


@click.group("ending", cls=AppGroup)
def ending_group() -> None:
    """Closing pairs at their end, and deleting programs' words once retention runs out."""


@ending_group.command("run")
@click.option(
    "--at", "at", callback=_moment, help="The moment to run the pass for (default: now), e.g. 2027-06-01T03:00:00Z."
)
def run(at: datetime | None) -> None:
    """Close the pairs whose last day has passed; delete the words of programs past their retention."""
    outcome = passes.run(at)
    click.echo(
        f"Pairs closed, notices queued: {outcome.closed_notices}; pairs whose words were deleted: "
        f"{outcome.pairs_deleted}; programs finished: {outcome.programs_finished}."
    )
