"""The preferences form: a channel per kind, built for the kinds a person receives, and quiet hours."""

from __future__ import annotations

from wtforms import RadioField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from app.forms import Form
from app.models import Channel, Kind
from app.reminders.kinds import SPECS

CHANNEL_CHOICES = [
    SelectChoice(Channel.EMAIL.value, "Email"),
    SelectChoice(Channel.PUSH.value, "Push"),
    SelectChoice(Channel.OFF.value, "Off"),
]


class QuietHoursForm(Form):
    quiet_from = TimeField("From", validators=[Optional()])
    quiet_until = TimeField("Until", validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        # Checked here, not in a field's validator: Optional() stops a field's checks when it is empty.
        start, end = self.quiet_from.data, self.quiet_until.data
        if (start is None) != (end is None):
            (self.quiet_until if end is None else self.quiet_from).errors.append(
                "Give both times, or clear both to have no quiet hours."
            )
            return False
        if start is not None and start == end:
            self.quiet_until.errors.append("Quiet hours need to end at a different time than they start.")
            return False
        return True


def preferences_form(kinds: list[Kind]) -> type[QuietHoursForm]:
    """A form class with one channel field per kind in ``kinds`` (named by the kind's value)."""
    fields = {
        _field_name(kind): RadioField(
            SPECS[kind].label,
            choices=CHANNEL_CHOICES,
            validators=[InputRequired("Choose how this reaches you.")],
        )
        for kind in kinds
    }
    return type("PreferencesForm", (QuietHoursForm,), fields)


def _field_name(kind: Kind) -> str:
    return "kind_" + kind.value.replace("-", "_")


def channel_field(form: QuietHoursForm, kind: Kind):
    return form[_field_name(kind)]
