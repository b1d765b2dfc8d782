"""The quick-add topic box on the pair's home."""

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.forms import Form
from app.idempotency import IdempotentForm
from app.models import TOPIC_MAX


class TopicForm(IdempotentForm, Form):
    text = StringField(
        "A topic for next time",
        validators=[
            DataRequired("Write the topic first."),
            Length(
                max=TOPIC_MAX, message=f"Keep it under {TOPIC_MAX} characters: the details can wait for the meeting."
            ),
        ],
    )
