"""The next-meeting form: a day and a time on the viewer's own clock, and the rest of the plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_login import current_user
from wtforms import DateField, HiddenField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app.forms import VersionedForm, planned_length
from app.models import MeetingFormat, utcnow
from app.models.user import zone_named

# How far ahead a plan may be: further than this is a typo (2062 for 2026), not a meeting.
FURTHEST_AHEAD = timedelta(days=2 * 366)
OUT_OF_RANGE = "Pick a day within the next two years."


class NextMeetingForm(VersionedForm):
    day = DateField("Day", validators=[InputRequired("Pick the day you'll meet.")])
    time = TimeField("Time", validators=[InputRequired("Pick a time.")])
    length_minutes = planned_length()
    format = SelectField("How", choices=[SelectChoice(f.value, f.label) for f in MeetingFormat])
    place = StringField(
        "Where (a room, or the link)", validators=[Length(max=200, message="Keep it under 200 characters.")]
    )
    # The clock the form was drawn on (the viewer's zone), so the day and time are read back on
    # the same clock. On a first visit, before the server knows the person's zone, app.js puts
    # the browser's zone into a new plan's form.
    timezone = HiddenField()
    # Which of a time the clocks show twice (01:30 on the night they go back) the plan is: "1" for
    # the second. Drawn from the stored plan, so saving it unchanged never moves it by an hour.
    fold = HiddenField()

    def zone(self) -> ZoneInfo:
        return zone_named((self.timezone.data or "").strip()) or current_user.zone

    def local_start(self) -> datetime:
        fold = 1 if (self.fold.data or "").strip() == "1" else 0
        return datetime.combine(self.day.data, self.time.data, tzinfo=self.zone()).replace(fold=fold)

    def starts_at(self) -> datetime:
        return self.local_start().astimezone(UTC)

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            starts_at = self.starts_at()
        except (OverflowError, ValueError):
            # The first and last days of the calendar have no UTC equivalent in every zone.
            self.day.errors.append(OUT_OF_RANGE)
            return False
        if not _on_the_clock(self.local_start()):
            zone = self.zone().key.replace("_", " ")
            self.time.errors.append(
                f"The clocks go forward that night in {zone}, so {self.time.data:%H:%M} never happens: pick another time."
            )
            return False
        now = utcnow().replace(second=0, microsecond=0)
        if starts_at < now:
            if self.day.data < now.astimezone(self.zone()).date():
                self.day.errors.append("That day has passed: pick today or a day ahead.")
            else:
                self.time.errors.append("That time has passed today: pick a later time, or another day.")
            return False
        if starts_at > now + FURTHEST_AHEAD:
            self.day.errors.append(OUT_OF_RANGE)
            return False
        return True


def _on_the_clock(local: datetime) -> bool:
    """False for a time the clocks skip (02:30 in Berlin on the night they go forward), which
    would otherwise be read silently as an hour later or earlier."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)
