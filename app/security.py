"""Response headers that every page carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request

from app import htmx

# No inline scripts or styles anywhere, so the policy can forbid them outright.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def check_origin() -> None:
    """Refuse a write whose Origin (or, failing that, Referer) is not Twoway's own BASE_URL: a
    second line of defence behind the CSRF token, and independent of the Host header."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = current_app.config["WEBAUTHN_ORIGIN"]
    sent = request.headers.get("Origin")
    if sent is None and request.referrer:
        sent = "{0.scheme}://{0.netloc}".format(urlsplit(request.referrer))
    if sent not in (None, "null") and sent != origin:
        abort(400)


_EVERY_ANSWER = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_OVER_HTTPS = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)


def add_security_headers(response: Response) -> Response:
    return secure(response, https=current_app.config["SESSION_COOKIE_SECURE"], static=request.endpoint == "static")


def secure(response: Response, *, https: bool, static: bool = False) -> Response:
    """What every answer carries; also called by app/light.py, outside the request cycle."""
    headers = response.headers
    # Each one unless the view set its own; looked up once, as every answer pays for this.
    present = {name.lower() for name in headers.keys()}
    wanted = _EVERY_ANSWER + _OVER_HTTPS if https else _EVERY_ANSWER
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    # Pages are personal (and sign-in pages carry tokens): nothing dynamic is stored by browsers or
    # proxies unless a view chose its own caching (the manifest, the service worker, static files).
    if not static and "cache-control" not in present:
        headers["Cache-Control"] = "no-store"
    return htmx.add_vary(response)


def init_app(app: Flask) -> None:
    app.before_request(check_origin)
    app.after_request(add_security_headers)
