"""The next-meeting form."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import VersionedForm
from app.models import MEETING_FORMAT_LABELS, MeetingFormat


class NextMeetingForm(VersionedForm):
    day = DateField("Day", validators=[InputRequired("Pick the day you'll meet.")])
    time = TimeField("Time", validators=[InputRequired("Pick a time.")])
    length_minutes = IntegerField(
        "How long, in minutes",
        validators=[Optional(), NumberRange(min=10, max=480, message="Between 10 minutes and 8 hours.")],
    )
    format = SelectField("How", choices=[SelectChoice(f.value, MEETING_FORMAT_LABELS[f]) for f in MeetingFormat])
    place = StringField(
        "Where (a room, or the link)", validators=[Length(max=200, message="Keep it under 200 characters.")]
    )
    # Filled in by the browser (Intl) so the time means the person's own clock; UTC otherwise.
    timezone = HiddenField(default="UTC")

    def zone(self) -> ZoneInfo:
        name = (self.timezone.data or "UTC").strip()
        try:
            return ZoneInfo(name) if name in _zones() else ZoneInfo("UTC")
        except ZoneInfoNotFoundError:
            return ZoneInfo("UTC")

    def starts_at(self) -> datetime:
        return datetime.combine(self.day.data, self.time.data, tzinfo=self.zone()).astimezone(UTC)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
