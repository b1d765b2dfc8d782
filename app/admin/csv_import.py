"""Reading a CSV of participants (name, email, department, level) and saying what is wrong with it.

Optional columns carry the intake form's answers (``INTAKE_COLUMNS``: role, teach, learn,
interests, languages, time_zone, rhythm, format, location, avoid), so HR's spreadsheet can fill
the form for people; lists in a cell are separated by semicolons or commas.

A file is all or nothing: ``read`` either returns every row ready to add, or every problem it
found, each with its line number, so the admin can fix the spreadsheet once and upload again.
Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from app.admin.forms import NAME_MAX
from app.forms import drop_control_characters
from app.models import DEPARTMENT_MAX, LEVEL_MAX, normalise_email, valid_email

COLUMNS = ("name", "email", "department", "level")
# A few thousand people fit well below the request size limit; more is a mistake or a different tool.
MAX_BYTES = 512 * 1024
MAX_ROWS = 2_000
LIMITS = {"name": NAME_MAX, "department": DEPARTMENT_MAX, "level": LEVEL_MAX}
INTAKE_COLUMNS = (
    "role",
    "teach",
    "learn",
    "interests",
    "languages",
    "time_zone",
    "rhythm",
    "format",
    "location",
    "avoid",
)


@dataclass(frozen=True)
class Row:
    line: int
    name: str
    email: str
    department: str
    level: str
    # The intake columns the file has, by name, as typed (checked by ``_intake_problems``).
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    line: int | None  # None: the whole file
    reason: str


class Invalid(Exception):
    """The file can't be imported; ``problems`` says why, line by line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def read(data: bytes, already_in_program: set[str] | None = None) -> list[Row]:
    """Every row of the CSV ``data``; raises ``Invalid`` listing every problem found.

    ``already_in_program`` holds the (normalised) emails of the program's participants, which the
    file may not add again.
    """
    if len(data) > MAX_BYTES:
        raise Invalid([Problem(None, f"The file is larger than {MAX_BYTES // 1024} KB. Split it into smaller files.")])
    try:
        # utf-8-sig: spreadsheets often start a "CSV UTF-8" file with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            [
                Problem(
                    None, "The file is not in UTF-8. In your spreadsheet, save it as “CSV UTF-8” and upload it again."
                )
            ]
        ) from None
    text = drop_control_characters(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise Invalid(
            [
                Problem(
                    None, "The file is empty. Its first line should name the columns: name, email, department, level."
                )
            ]
        )

    try:
        return _rows(csv.reader(io.StringIO(text), delimiter=_delimiter(text)), already_in_program or set())
    except csv.Error as error:
        raise Invalid([Problem(None, f"The file can't be read as CSV ({error}).")]) from None


def _rows(reader, already: set[str]) -> list[Row]:
    header = [column.strip().lower() for column in next(reader)]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise Invalid(
            [
                Problem(
                    1,
                    f"The header row has no {_names(missing)} column{'s' if len(missing) > 1 else ''}. "
                    "The first line should name the columns: name, email, department, level.",
                )
            ]
        )
    index = {column: header.index(column) for column in COLUMNS}
    intake_index = {column: header.index(column) for column in INTAKE_COLUMNS if column in header}

    rows: list[Row] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    end_of_previous = reader.line_num
    for fields in reader:
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not any(field.strip() for field in fields):
            continue  # blank lines (and rows of empty cells) are ignored
        if len(rows) + len(problems) >= MAX_ROWS:
            raise Invalid([Problem(None, f"The file has more than {MAX_ROWS:,} people. Split it into smaller files.")])
        absent = [column for column in COLUMNS if index[column] >= len(fields)]
        if absent:
            problems.append(
                Problem(line, f"The {_names(absent)} column{'s are' if len(absent) > 1 else ' is'} missing.")
            )
            continue
        values = {column: fields[index[column]].strip() for column in COLUMNS}
        reasons = _row_problems(values, line, first_seen, already)
        answers = {column: fields[i].strip() if i < len(fields) else "" for column, i in intake_index.items()}
        reasons += _intake_problems(answers)
        if reasons:
            problems += [Problem(line, reason) for reason in reasons]
            continue
        rows.append(Row(line=line, answers={k: v for k, v in answers.items() if v}, **values))
    if problems:
        raise Invalid(problems)
    if not rows:
        raise Invalid([Problem(None, "The file has a header row but nobody in it.")])
    return rows


def _row_problems(values: dict[str, str], line: int, first_seen: dict[str, int], already: set[str]) -> list[str]:
    reasons = []
    if not values["name"]:
        reasons.append("The name is empty.")
    for column, limit in LIMITS.items():
        if len(values[column]) > limit:
            reasons.append(f"The {column} is longer than {limit} characters.")
    raw_email = values["email"]
    email = normalise_email(raw_email)
    if not raw_email:
        reasons.append("The email is empty.")
    elif not valid_email(raw_email):
        reasons.append(f"“{_shorten(raw_email)}” is not an email address.")
    elif email in first_seen:
        reasons.append(f"{email} is already on line {first_seen[email]}.")
    elif email in already:
        reasons.append(f"{email} is already in this program.")
    else:
        first_seen[email] = line
    values["email"] = email
    return reasons


def _intake_problems(answers: dict[str, str]) -> list[str]:
    from app.matching import intake

    return intake.answer_problems(answers)


def _delimiter(text: str) -> str:
    # Spreadsheets in many European locales save "CSV" with semicolons.
    first_line = text.split("\n", 1)[0]
    return ";" if ";" in first_line and "," not in first_line else ","


def _names(columns: list[str]) -> str:
    quoted = [f"“{column}”" for column in columns]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _shorten(value: str, limit: int = 60) -> str:
    """Enough of a bad value to find it in the spreadsheet, without echoing a whole page back."""
    return value if len(value) <= limit else value[:limit] + "…"
