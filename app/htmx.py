"""The one place that reads htmx's ``HX-*`` request headers and writes its response headers.

One URL serves a full page or, for htmx, a named block of the same template: fragments are never
separate template files, so the page and its fragments cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, make_response, render_template, request
from flask import redirect as http_redirect


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def target() -> str | None:
    """The id of the element htmx will swap, which names the template block to send back."""
    return request.headers.get("HX-Target") if is_htmx() else None


def trigger(response: Response, event: str) -> Response:
    """Ask htmx to fire ``event`` on the page once the swap is done (other parts listen for it)."""
    response.headers["HX-Trigger"] = event
    return response


def render_block(template_name: str, block: str, **context: Any) -> str:
    """Render one named block of a page template with the normal template context."""
    current_app.update_template_context(context)
    template = current_app.jinja_env.get_template(template_name)
    return "".join(template.blocks[block](template.new_context(context)))


def render(template_name: str, block: str | None = None, *, status: int = 200, **context: Any) -> Response:
    """The whole page, or only ``block`` when htmx asked for it."""
    if block is not None and is_htmx():
        body = render_block(template_name, block, **context)
    else:
        body = render_template(template_name, **context)
    return make_response(body, status)


def redirect(location: str) -> Response:
    """Send the browser to ``location``: a real navigation for htmx too, never a page swapped into a card."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return http_redirect(location, 303)


def client_redirect(response: Response, location: str) -> Response:
    """Add htmx's full-page redirect to an existing response (for errors such as 401)."""
    response.headers["HX-Redirect"] = location
    return response


def add_vary(response: Response) -> Response:
    # The same URL answers with a page or a fragment: caches must tell them apart.
    response.vary.add("HX-Request")
    return response
