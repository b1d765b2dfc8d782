"""Static files with content-hashed names, so browsers may keep them for good.

WhiteNoise serves ``app/build/static``: a copy of ``app/static`` in which every file also has a
copy named after its content (``css/app.css`` → ``css/app.1f2e3d4c5b6a.css``), with brotli and gzip
versions beside each file worth compressing, and ``manifest.json`` mapping each name to its hashed
one. ``url_for("static", filename=...)`` links the hashed name, so a deploy that changes a file
changes its URL and the old copy can be cached as immutable.

Build it with ``python -m app.static_build`` (``make run`` and ``make test`` do). In development
and tests the app rebuilds it at start when a file changed; in production it refuses to start
with a stale or missing build, since pages would link files that aren't there.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import brotli
from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from app.config import ConfigError

SOURCE = Path(__file__).resolve().parent / "static"
TARGET = Path(__file__).resolve().parent / "build" / "static"
MANIFEST = "manifest.json"
HASH_LENGTH = 12
# A compressed copy is kept only when it saves at least this much (WhiteNoise's own rule).
WORTH_IT = 0.95


class StaleBuild(Exception):
    """The build is missing or older than the files it was made from."""


def hashed_name(name: str, data: bytes) -> str:
    """``css/app.css`` → ``css/app.<first 12 hex digits of its SHA-256>.css``."""
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    path = Path(name)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def _sources(source: Path) -> dict[str, bytes]:
    return {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in sorted(source.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def expected_manifest(source: Path = SOURCE) -> dict[str, str]:
    return {name: hashed_name(name, data) for name, data in _sources(source).items()}


def read_manifest(target: Path = TARGET) -> dict[str, str] | None:
    try:
        return json.loads((target / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: bytes) -> None:
    # Through a temporary file and a rename: two processes starting at once (gunicorn's workers,
    # test workers) may both build, and neither may serve the other's half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def _compressed(name: str, data: bytes) -> dict[str, bytes]:
    if not Compressor().should_compress(name) or not data:
        return {}
    found = {}
    for suffix, packed in ((".br", brotli.compress(data)), (".gz", gzip.compress(data, compresslevel=9, mtime=0))):
        if len(packed) / len(data) < WORTH_IT:
            found[suffix] = packed
    return found


def build(source: Path = SOURCE, target: Path = TARGET) -> dict[str, str]:
    """Write the hashed copies, their compressed versions and the manifest; return the manifest.
    Copies from earlier builds are kept: a page already open may still ask for them."""
    manifest = {}
    for name, data in _sources(source).items():
        hashed = hashed_name(name, data)
        manifest[name] = hashed
        for written in (name, hashed):
            _write(target / written, data)
            for suffix, packed in _compressed(written, data).items():
                _write(target / (written + suffix), packed)
    _write(target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return manifest


def current(source: Path = SOURCE, target: Path = TARGET) -> dict[str, str]:
    """The manifest, if the build matches the files in ``source``; ``StaleBuild`` otherwise."""
    manifest = read_manifest(target)
    if manifest is None:
        raise StaleBuild(f"the static files have not been built into {target}")
    if manifest != expected_manifest(source) or not all((target / hashed).is_file() for hashed in manifest.values()):
        raise StaleBuild(f"the static files changed since they were built into {target}")
    return manifest


def ensure(source: Path = SOURCE, target: Path = TARGET) -> dict[str, str]:
    """The manifest, building first when the build is missing or stale."""
    try:
        return current(source, target)
    except StaleBuild:
        return build(source, target)


class StaticFiles(WhiteNoise):
    # A year, as RFC 8246 and browsers expect of an immutable file (WhiteNoise's default is ten).
    FOREVER = 365 * 24 * 60 * 60


def _nosniff(headers, _path: str, _url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    """Serve the build through WhiteNoise and make ``url_for("static", ...)`` link hashed names."""
    # Read at call time, not bound as defaults: tests point them elsewhere.
    source, target = SOURCE, TARGET
    if app.debug or app.testing:
        manifest = ensure(source, target)
    else:
        try:
            manifest = current(source, target)
        except StaleBuild as error:
            raise ConfigError(f"{error}: run `python -m app.static_build` after each deploy") from None
    hashed_urls = {f"{app.static_url_path}/{hashed}" for hashed in manifest.values()}
    app.wsgi_app = StaticFiles(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(target),
        prefix=app.static_url_path,
        immutable_file_test=lambda _path, url: url in hashed_urls,
        add_headers_function=_nosniff,
    )

    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])


if __name__ == "__main__":
    built = build()
    sys.stdout.write(f"Built {len(built)} static files into {TARGET}\n")
