"""Template filters and globals."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path

from flask import Flask


@cache
def _vendored(static_folder: str) -> dict[str, dict[str, str]]:
    return json.loads((Path(static_folder) / "vendor" / "VENDORED.json").read_text())


def init_app(app: Flask) -> None:
    @app.template_filter("date")
    def format_date(value: date | datetime | None) -> str:
        """22 Nov 2026: short, and unambiguous wherever the reader is."""
        return "" if value is None else f"{value.day} {value:%b %Y}"

    @app.template_global()
    def vendor_integrity(filename: str) -> str:
        """The Subresource Integrity value recorded when ``filename`` was vendored."""
        return "sha384-" + _vendored(app.static_folder)[filename]["sha384"]
