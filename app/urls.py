"""Absolute URLs for people to open later (mail, the CLI), always on the configured BASE_URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def absolute_url(endpoint: str, **values: Any) -> str:
    """Build ``endpoint``'s URL on BASE_URL, never on the Host header of the current request."""
    return _adapter().build(endpoint, values, force_external=True)


def local_path(endpoint: str, **values: Any) -> str:
    """``endpoint``'s path on BASE_URL, with or without a request (a task in a worker has none)."""
    return _adapter().build(endpoint, values)


def _adapter():
    base = urlsplit(current_app.config["BASE_URL"])
    return current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to continue to after sign-in; anything that could lead elsewhere falls back to
    ``default``. Browsers drop tabs and newlines inside URLs and read "\\" as "/", so "/\t/evil"
    would become "//evil": any white space, control character or backslash is refused outright."""
    if not target or any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
