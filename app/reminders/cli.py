"""``flask --app wsgi reminders due --at … [--dry-run]`` and ``reminders failed``."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from app.reminders import passes

# The pass looks a day back and a few days ahead of --at: moments near the calendar's ends would
# overflow. Any real run, past or planned, lies well within these.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _moment(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("give a moment such as 2026-12-02T09:00:00Z") from None
    if moment.tzinfo is None:
        raise click.BadParameter("say which clock: end it with Z for UTC, or an offset such as +01:00")
    if not EARLIEST <= moment < LATEST:
        raise click.BadParameter(f"give a moment between {EARLIEST:%Y} and {LATEST:%Y}")
    return moment.astimezone(UTC)


@click.group("reminders", cls=AppGroup)
def reminders_group() -> None:
    """The reminder pass, and what it could not deliver."""


@reminders_group.command("due")
@click.option(
    "--at", "at", callback=_moment, help="The moment to run the pass for (default: now), e.g. 2026-12-02T09:00:00Z."
)
@click.option("--dry-run", is_flag=True, help="List what is due; queue and record nothing.")
def due(at: datetime | None, dry_run: bool) -> None:
    """List (and without --dry-run, queue) what is due at --at: the same pass beat runs every minute."""
    outcome = passes.run(at, dry_run=dry_run)
    click.echo(f"Due in ({outcome.since:%Y-%m-%d %H:%M:%S}Z, {outcome.at:%Y-%m-%d %H:%M:%S}Z]: {len(outcome.planned)}")
    for p in outcome.planned:
        held = f" until {p.send_after:%Y-%m-%d %H:%M}Z" if p.send_after else ""
        why = f" ({p.why})" if p.why else ""
        click.echo(
            f"  {p.due.due_at:%Y-%m-%d %H:%M}Z  user {p.due.user_id:<6} {p.due.kind.value:<22} {p.due.subject}  {p.state.value}{held}{why}"
        )
    if dry_run:
        click.echo("Dry run: nothing was queued.")
    else:
        click.echo(
            f"New: {outcome.added} (the rest were taken by an earlier run); released from quiet hours: "
            f"{outcome.released}; queued again after being lost: {outcome.swept}."
        )


@reminders_group.command("failed")
def failed() -> None:
    """List deliveries that failed after their retries, and those a worker claimed but never finished."""
    rows = passes.failed()
    if not rows:
        click.echo("Nothing failed.")
        return
    for d in rows:
        state = "unfinished (claimed, may or may not have gone)" if d.state.value == "sending" else "failed"
        click.echo(
            f"{d.id:<8} {d.created_at:%Y-%m-%d %H:%M}Z  user {d.user_id:<6} {d.kind.value:<22} {state}, "
            f"{d.attempts} tries: {d.error}"
        )
    raise SystemExit(1)
