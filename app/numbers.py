"""Whole numbers from URLs, query strings and forms, bounded to what the database can hold.

Ids and versions are INTEGER columns: a bigger number can't name anything stored, and handed to
the database it fails the query (OverflowError on SQLite, NumericValueOutOfRange on PostgreSQL).
So it never gets that far: in a URL it matches no route (404), in a query string or a form it is
refused with a message saying what was wrong.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from flask import abort, request
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

INT_MAX = 2**31 - 1  # PostgreSQL's INTEGER, the narrowest of the databases Twoway runs on


def _digits_up_to(limit: int) -> str:
    r"""A regular expression for the whole numbers 0 to ``limit``, written in decimal: ASCII digits
    only (``\d`` takes any script's, and ``int()`` reads them, so ``/pairs/١`` was pair 1 again)."""
    digits = str(limit)
    options = [rf"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            lower = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            rest = len(digits) - i - 1
            options.append(digits[:i] + lower + (rf"[0-9]{{{rest}}}" if rest else ""))
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IntConverter(IntegerConverter):
    """Werkzeug's ``int`` URL converter, capped at INT_MAX. ``create_app`` installs it as ``int``.

    The cap is in the pattern, not only in ``to_python``: Werkzeug picks the rule by its pattern
    and checks the method before converting, so a number refused only by ``to_python`` would turn
    into 405 wherever a GET route shares the path of a POST one."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed=False):  # noqa: A002
        cap = INT_MAX if max is None else builtins.min(max, INT_MAX)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=cap, signed=signed)
        if not signed and not fixed_digits:
            self.regex = _digits_up_to(cap)


def bounded_int(value: Any, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    """``value`` as a whole number from ``minimum`` to ``maximum``, or None if it is anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        # int() would also take "1_000", " +5" and 4,000-digit strings; a number here is plain digits.
        if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
            return None
        number = int(text)
    return number if minimum <= number <= maximum else None


def arg_int(
    name: str,
    default: int | None = None,
    minimum: int = 0,
    maximum: int = INT_MAX,
    args: Mapping[str, str] | None = None,
) -> int | None:
    """The query-string parameter ``name`` (of this request, or of ``args``) as a bounded whole
    number; ``default`` when it is absent or empty; a 400 that says what is wrong when it is
    anything else."""
    raw = (request.args if args is None else args).get(name, "")
    if raw == "":
        return default
    number = bounded_int(raw, minimum, maximum)
    if number is None:
        abort(400, description=f"“{name}” must be a whole number from {minimum} to {maximum:,}, not {raw[:20]!r}.")
    return number


def page_number(maximum: int, name: str = "page") -> int:
    """The query-string page ``name`` from 1 to ``maximum``: an edited page link lands on the
    nearest page there is, never on an error."""
    return min(max(request.args.get(name, type=int, default=1), 1), maximum)


class IntRange:
    """A WTForms validator: the field's whole number (or each of a list of them) lies from
    ``minimum`` to ``maximum``; use with ``coerce=int`` fields and IntegerFields."""

    def __init__(self, minimum: int = 0, maximum: int = INT_MAX, message: str | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.message = message or "That number is out of range. Reload the page and try again."

    def __call__(self, _form, field) -> None:
        values = field.data if isinstance(field.data, list | tuple) else [field.data]
        if any(v is not None and bounded_int(v, self.minimum, self.maximum) is None for v in values):
            raise ValidationError(self.message)
