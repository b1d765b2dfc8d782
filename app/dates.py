"""Days in words and days from text: one way for each, for views, templates and models alike."""

from __future__ import annotations

from datetime import date


def days_ago(days: int) -> str:
    """ "today", "yesterday" or "5 days ago": how long since, in the words a person would use."""
    if days == 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def iso_date(value: str | None) -> date | None:
    """The day ``value`` (2026-12-01) names, or None when it is empty or names no day: stored
    clause fields are JSON written by earlier versions of the app, so a bad one reads as unset."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
