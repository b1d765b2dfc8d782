"""Every kind of message Twoway sends: its name on the preferences page, its default channel,
whether a person may hold or turn it off, how the reminder pass finds what is due, and its words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from app.models import Channel, Delivery, Kind, User
from app.reminders import (
    account,
    actions,
    admin,
    checkins,
    ending,
    exports,
    ground_rules,
    help_answers,
    matching,
    meetings,
    quiet_pairs,
)

if TYPE_CHECKING:
    from app.reminders.messages import Message
    from app.reminders.outbox import Due
    from app.reminders.preferences import Settings

Finder = Callable[[datetime, datetime], "list[Due]"]
Composer = Callable[[Delivery, User, "Settings"], "Message | None"]


@dataclass(frozen=True)
class KindSpec:
    label: str
    # One line on the preferences page: when it comes.
    explains: str
    compose: Composer
    # Who it is for: "pair" (people in a pair), "admin", or "anyone".
    audience: str = "pair"
    default: Channel = Channel.EMAIL
    # Sign-in links and security notices are never held by quiet hours and never turned off.
    optional: bool = True
    # The reminder pass's search for what fell due in (since, at]; None for what is sent at once.
    find: Finder | None = None


SPECS: dict[Kind, KindSpec] = {
    Kind.SIGN_IN: KindSpec(
        "Sign-in links", "When you ask for one.", account.compose_sign_in, audience="anyone", optional=False
    ),
    Kind.SECURITY: KindSpec(
        "Security notices",
        "When a passkey or new recovery codes are added to your account.",
        account.compose_security,
        audience="anyone",
        optional=False,
    ),
    Kind.MEETING_DAY_BEFORE: KindSpec(
        "The day before a meeting",
        "At 9:00 your time the day before you meet (at once if the meeting was planned later).",
        meetings.compose,
        find=meetings.find_day_before,
    ),
    Kind.MEETING_HOUR_BEFORE: KindSpec(
        "An hour before a meeting",
        "An hour before you meet, with the place.",
        meetings.compose,
        find=meetings.find_hour_before,
    ),
    Kind.CHECK_IN_OPEN: KindSpec(
        "A check-in opens",
        "At 9:00 your time on the day a check-in opens, if you haven't answered it.",
        checkins.compose,
        find=checkins.find,
    ),
    Kind.CHECK_IN_LAPSING: KindSpec(
        "A check-in is about to close",
        "Once, when an unanswered check-in will close as the next one opens.",
        checkins.compose,
        find=checkins.find,
    ),
    Kind.ACTION_DUE: KindSpec(
        "An action due tomorrow",
        "At 9:00 your time the day before an action of yours is due.",
        actions.compose,
        find=actions.find,
    ),
    Kind.GROUND_RULES_WAITING: KindSpec(
        "Ground rules waiting for you",
        "At 9:00 your time two days after your partner agreed, if you haven't yet.",
        ground_rules.compose,
        find=ground_rules.find,
    ),
    Kind.QUIET_PAIR: KindSpec(
        "A while since you met",
        "Once, at 9:00 your time, when it's been longer than you agreed and nothing is planned.",
        quiet_pairs.compose,
        find=quiet_pairs.find,
    ),
    Kind.HELP_REQUEST: KindSpec(
        "A new request for help",
        "At once, when a participant asks the program for help: that one arrived, never its words or who sent it.",
        admin.compose_help_request,
        audience="admin",
    ),
    Kind.ADMIN_DIGEST: KindSpec(
        "The weekly digest",
        "Mondays at 9:00 your time: each program's dashboard figures and its open requests for help.",
        admin.compose_digest,
        audience="admin",
        find=admin.find_digest,
    ),
    Kind.HELP_ANSWER: KindSpec(
        "An answer to your request for help",
        "At once, when the program's admin answers a request you sent. The answer itself is on your program page.",
        help_answers.compose,
    ),
    # For every participant, paired or not yet: a proposal comes before there is a pair.
    Kind.MATCH: KindSpec(
        "Your match",
        "When the program proposes a partner for you, and when your pair is made (or the match didn't go ahead).",
        matching.compose,
        find=matching.find,
    ),
    Kind.PAIR_ENDING_SOON: KindSpec(
        "Two weeks before your pair ends",
        "At 9:00 your time, two weeks before the last day you agreed (or the program's end).",
        ending.compose_soon,
        find=ending.find_soon,
    ),
    Kind.PAIR_CLOSED: KindSpec(
        "Your pair has closed",
        "At once, when your pair closes: that it closed, never why.",
        ending.compose_closed,
    ),
    Kind.EXPORT_READY: KindSpec(
        "Your data export is ready",
        "At once, when an export of your data you asked for is ready on your account page.",
        exports.compose,
        # The answer to the person's own request, as a sign-in link is: by email, at once.
        audience="anyone",
        optional=False,
    ),
}


def optional_kinds(audience: str) -> list[Kind]:
    """The kinds a person of ``audience`` ("pair" or "admin") chooses a channel for."""
    return [kind for kind, spec in SPECS.items() if spec.optional and spec.audience == audience]
