"""Template filters and globals."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from flask import Flask

from app import markdown, page_cache
from app.dates import days_ago
from app.models import utcnow

# How long a partner's change is flagged as new.
RECENT = timedelta(minutes=10)


@cache
def _vendored(static_folder: str) -> dict[str, dict[str, str]]:
    return json.loads((Path(static_folder) / "vendor" / "VENDORED.json").read_text())


def init_app(app: Flask) -> None:
    @app.template_filter("date")
    def format_date(value: date | datetime | None) -> str:
        """22 Nov 2026: short, and unambiguous wherever the reader is."""
        return "" if value is None else f"{value.day} {value:%b %Y}"

    @app.template_filter("time")
    def format_time(value: datetime) -> str:
        return f"{value:%H:%M} UTC"

    @app.template_filter("recent")
    def is_recent(value: datetime | None) -> bool:
        """Changed in the last ten minutes: worth pointing out to the partner."""
        if value is None or utcnow() - value >= RECENT:
            return False
        page_cache.holds_until(value + RECENT)
        return True

    @app.template_filter("ago")
    def ago(value: datetime) -> str:
        minutes = int((utcnow() - value).total_seconds() // 60)
        if minutes < 60:
            page_cache.holds_until(value + timedelta(minutes=minutes + 1))
        if minutes < 1:
            return "just now"
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago" if minutes < 60 else f"on {format_date(value)}"

    app.add_template_filter(markdown.render, "markdown")
    app.add_template_filter(days_ago, "days_ago")

    @app.template_global()
    def vendor_integrity(filename: str) -> str:
        """The Subresource Integrity value recorded when ``filename`` was vendored."""
        return "sha384-" + _vendored(app.static_folder)[filename]["sha384"]
