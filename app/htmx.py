"""The one place that reads htmx's ``HX-*`` request headers and writes its response headers.

The headers are read through htmx-flask (``request.htmx``); no other module touches them (a test
makes sure). One URL serves a full page or, for htmx, a named block of the same template:
fragments are never separate template files, so the page and its fragments cannot drift apart.

A block is named after the DOM id it replaces. A view lists the blocks it can send; ``HX-Target``
picks one of them, and only one of them: the header is the client's word, so an unlisted target
gets the whole page, never an arbitrary block of the template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, current_app, flash, make_response, render_template
from flask import redirect as http_redirect
from htmx_flask import Htmx, request

_htmx = Htmx()
# The response headers Twoway sets for htmx (a stored answer replays them).
RESPONSE_HEADERS = ("HX-Redirect", "HX-Trigger", "HX-Location", "HX-Retarget")


def init_app(app: Flask) -> None:
    _htmx.init_app(app)


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def target() -> str | None:
    """The id of the element htmx will swap (``None`` outside htmx)."""
    return request.htmx.target if is_htmx() else None


def chosen_block(blocks: Iterable[str]) -> str | None:
    """The block of ``blocks`` that the htmx target names, if any.

    ``HX-Target: goal-12`` names the block ``goal``: per-object ids are the block's name, a dash
    and the object's id, so one block serves every object on the page."""
    wanted = target()
    if not wanted:
        return None
    for block in blocks:
        if wanted == block:
            return block
        prefix, _, rest = wanted.rpartition("-")
        if prefix == block and rest.isdigit():
            return block
    return None


def render_block(template_name: str, block: str, **context: Any) -> str:
    """Render one named block of a page template with the normal template context."""
    current_app.update_template_context(context)
    template = current_app.jinja_env.get_template(template_name)
    try:
        render = template.blocks[block]
    except KeyError:
        raise LookupError(f"{template_name} has no block {block!r}") from None
    return "".join(render(template.new_context(context)))


def render(template_name: str, *, blocks: Iterable[str] = (), status: int = 200, **context: Any) -> Response:
    """The whole page; for htmx, the one of ``blocks`` that ``HX-Target`` names."""
    return _respond(template_name, chosen_block(blocks), status, context)


def _respond(template_name: str, block: str | None, status: int, context: dict[str, Any]) -> Response:
    body = render_template(template_name, **context) if block is None else render_block(template_name, block, **context)
    return make_response(body, status)


def after_write(
    location: str,
    template_name: str | None = None,
    *,
    blocks: Iterable[str] = (),
    context: Callable[[], Mapping[str, Any]] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    """The answer to a successful POST: without JavaScript a redirect to ``location`` (so a reload
    never posts twice); with htmx, the block the target names, or a real navigation when the
    target is none of ``blocks``. ``context`` is only called when a block is sent. ``notice`` (what
    was done, in words) is flashed on the page redirected to, or given to the block as ``notice``."""
    blocks = tuple(blocks)
    chosen = chosen_block(blocks)
    if template_name is None or chosen is None:
        if notice:
            flash(notice, "success")
        return redirect(location)
    return _respond(template_name, chosen, status, {"notice": notice, **(context() if context else {})})


def with_block(response: Response, template_name: str, block: str, **context: Any) -> Response:
    """Add ``block`` of ``template_name`` to an htmx answer, for htmx to swap out of band (the
    block's root says ``hx-swap-oob``): a part of the page beyond the target that the write changed,
    such as a badge. Any other answer (a redirect, a whole page, an error) is left as it is."""
    if is_htmx() and response.status_code == 200 and response.mimetype == "text/html":
        response.set_data(response.get_data(as_text=True) + render_block(template_name, block, **context))
    return response


def trigger(response: Response, event: str) -> Response:
    """Ask htmx to fire ``event`` on the page once the swap is done (other parts listen for it)."""
    response.headers["HX-Trigger"] = event
    return response


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
    # The same URL answers with a page or with one of its blocks, chosen by these two headers:
    # caches must tell them apart.
    if "Vary" in response.headers:
        response.vary.update(("HX-Request", "HX-Target"))
    else:
        response.headers["Vary"] = "HX-Request, HX-Target"  # most answers: no Vary of their own yet
    return response
