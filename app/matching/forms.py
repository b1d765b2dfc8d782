"""The intake form a participant fills in, and the admin's matching settings."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import Form, longest, number_between
from app.matching import intake
from app.models import AVOID_MAX, DEPARTMENT_MAX, LEVEL_MAX, Intake, MatchingSettings, Participant
from app.models.matching import (
    CAPACITY_MAX,
    INTERESTS_MAX,
    LANGUAGES_MAX,
    LEVEL_GAP_MAX,
    LOCATION_MAX,
    OTHER_MAX,
    SKILL_MAX,
    SKILLS_MAX,
    WEIGHT_MAX,
)
from app.models.user import zone_named

AVOID_TEXT_MAX = AVOID_MAX * 260


class CheckboxesField(SelectMultipleField):
    """Thumb-sized checkboxes rather than a multiple select, which phones draw badly."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IntakeForm(Form):
    role = RadioField(
        "Would you like to be a mentor or a mentee?", choices=[SelectChoice(k, v) for k, v in intake.ROLE_CHOICES]
    )
    teach = CheckboxesField("What I can teach", choices=[], validate_choice=True)
    teach_other = StringField("Anything else I can teach", validators=[longest(OTHER_MAX, "this")])
    learn = CheckboxesField("What I want to learn", choices=[], validate_choice=True)
    learn_other = StringField("Anything else I want to learn", validators=[longest(OTHER_MAX, "this")])
    department = StringField("Department", validators=[longest(DEPARTMENT_MAX, "the department")])
    level = StringField("Level", validators=[longest(LEVEL_MAX, "the level")])
    interests = StringField("Interests and hobbies", validators=[longest(INTERESTS_MAX, "your interests")])
    languages = StringField("Languages I can mentor in", validators=[longest(LANGUAGES_MAX, "the languages")])
    time_zone = StringField("Time zone", validators=[Optional(), Length(max=64)])
    rhythm = RadioField(
        "How often I'd like to meet",
        choices=[SelectChoice(k, v) for k, v in intake.RHYTHM_CHOICES],
        validators=[Optional()],
    )
    format = RadioField(
        "In person or by video", choices=[SelectChoice(k, v) for k, v in intake.FORMAT_CHOICES], validators=[Optional()]
    )
    location = StringField("Where I work", validators=[longest(LOCATION_MAX, "where you work")])
    avoid = TextAreaField(
        "People I shouldn't be paired with",
        validators=[Length(max=AVOID_TEXT_MAX, message=f"Up to {AVOID_MAX} work email addresses.")],
    )

    def validate_role(self, field: RadioField) -> None:
        if not field.data:
            raise ValidationError("Choose mentor, mentee or either.")

    def validate_time_zone(self, field: StringField) -> None:
        if field.data and zone_named(field.data.strip()) is None:
            raise ValidationError("Choose a time zone from the list, such as Europe/Berlin.")

    def validate_avoid(self, field: TextAreaField) -> None:
        good, bad = intake.emails(field.data or "")
        if bad:
            raise ValidationError("Write work email addresses only, one per line.")
        if len(good) > AVOID_MAX:
            raise ValidationError(f"Up to {AVOID_MAX} work email addresses.")

    def values(self) -> dict[str, Any]:
        """The answers to the questions this form asks (one switched off is not in it)."""

        def text(name: str) -> str:
            return " ".join((self._fields[name].data or "").split())

        asked = self._fields
        values: dict[str, Any] = {
            "role": self.role.data,
            "teach": list(self.teach.data or []),
            "teach_other": text("teach_other"),
            "learn": list(self.learn.data or []),
            "learn_other": text("learn_other"),
            "department": text("department"),
            "level": text("level"),
        }
        for name in ("interests", "languages", "location"):
            if name in asked:
                values[name] = text(name)
        if "time_zone" in asked:
            values["time_zone"] = (self.time_zone.data or "").strip()
        for name in ("rhythm", "format"):
            if name in asked:
                values[name] = asked[name].data or ""
        if "avoid" in asked:
            values["avoid"] = intake.emails(self.avoid.data or "")[0]
        return values


def intake_form(
    settings: MatchingSettings,
    participant: Participant,
    answers: Intake | None,
    *,
    from_request: bool = False,
) -> IntakeForm:
    """The program's intake form: its skills, and only the questions it asks."""
    if from_request:
        form = IntakeForm()
    else:
        data: dict[str, Any] = {"department": participant.department, "level": participant.level}
        if answers is not None:
            data |= {
                "role": answers.role.value,
                "teach": answers.teach,
                "teach_other": answers.teach_other,
                "learn": answers.learn,
                "learn_other": answers.learn_other,
                "interests": answers.interests,
                "languages": answers.languages,
                "time_zone": answers.time_zone,
                "rhythm": answers.rhythm,
                "format": answers.format,
                "location": answers.location,
                "avoid": "\n".join(answers.avoid),
            }
        form = IntakeForm.blank(**data)
    # A skill the admin has since removed stays ticked for those who chose it, so saving the
    # form again never drops it silently.
    kept = set(answers.teach if answers else ()) | set(answers.learn if answers else ())
    choices = [SelectChoice(skill, skill) for skill in settings.skills] + [
        SelectChoice(skill, skill) for skill in sorted(kept) if skill not in settings.skills
    ]
    form.teach.choices = choices
    form.learn.choices = choices
    for key in intake.OPTIONAL:
        if key not in settings.questions:
            delattr(form, key)
    return form


class SettingsForm(Form):
    skills = TextAreaField("Skills, one per line")
    interests = BooleanField(intake.BY_KEY["interests"].label)
    languages = BooleanField(intake.BY_KEY["languages"].label)
    time_zone = BooleanField(intake.BY_KEY["time_zone"].label)
    rhythm = BooleanField(intake.BY_KEY["rhythm"].label)
    format = BooleanField(intake.BY_KEY["format"].label)
    location = BooleanField(intake.BY_KEY["location"].label)
    avoid = BooleanField(intake.BY_KEY["avoid"].label)
    level_gap = IntegerField(
        "The mentor is at least this many levels below the mentee",
        validators=number_between(0, LEVEL_GAP_MAX, f"Enter a number of levels from 0 to {LEVEL_GAP_MAX}."),
    )
    higher_is_senior = BooleanField("A higher level number means more senior")
    different_department = BooleanField("Pair people from different departments")
    capacity = IntegerField(
        "Mentees one mentor may take",
        validators=number_between(1, CAPACITY_MAX, f"Enter a number from 1 to {CAPACITY_MAX}."),
    )
    weight_skills = IntegerField("What each can teach the other")
    weight_interests = IntegerField("Shared interests")
    weight_time_zone = IntegerField("Overlapping working hours")
    weight_rhythm = IntegerField("The same rhythm")

    WEIGHTS = ("weight_skills", "weight_interests", "weight_time_zone", "weight_rhythm")

    def validate_skills(self, field: TextAreaField) -> None:
        skills = self._skills()
        if not skills:
            raise ValidationError("List at least one skill: people choose from it.")
        if len(skills) > SKILLS_MAX:
            raise ValidationError(f"Up to {SKILLS_MAX} skills.")
        if any(len(skill) > SKILL_MAX for skill in skills):
            raise ValidationError(f"Keep each skill to {SKILL_MAX} characters or fewer.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in self.WEIGHTS:
            field = self[name]
            if field.data is None or not 0 <= field.data <= WEIGHT_MAX:
                field.errors = [*field.errors, f"Enter a weight from 0 to {WEIGHT_MAX}."]
                valid = False
        return valid

    def _skills(self) -> list[str]:
        """One skill a line, trimmed, each once (case aside), in the admin's order."""
        seen: dict[str, str] = {}
        for line in (self.skills.data or "").splitlines():
            skill = " ".join(line.split())
            if skill and skill.casefold() not in seen:
                seen[skill.casefold()] = skill
        return list(seen.values())

    def values(self) -> dict[str, Any]:
        return {
            "skills": self._skills(),
            "questions": [key for key in intake.OPTIONAL if self[key].data],
            "level_gap": self.level_gap.data,
            "higher_is_senior": self.higher_is_senior.data,
            "different_department": self.different_department.data,
            "capacity": self.capacity.data,
            **{name: self[name].data for name in self.WEIGHTS},
        }


def settings_form(settings: MatchingSettings, *, from_request: bool = False) -> SettingsForm:
    if from_request:
        return SettingsForm()
    data: dict[str, Any] = {key: key in settings.questions for key in intake.OPTIONAL}
    data |= {
        name: getattr(settings, name)
        for name in ("level_gap", "higher_is_senior", "different_department", "capacity", *SettingsForm.WEIGHTS)
    }
    return SettingsForm.blank(skills="\n".join(settings.skills), **data)
