"""Forms of the sign-in pages and the account pages."""

from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app.forms import Form, email_field
from app.models.user import Passkey


class EmailLinkForm(Form):
    email = email_field("Email address", "Enter the email address you use for Twoway.")
    next = HiddenField()


class RecoveryCodeForm(Form):
    code = StringField(
        "Recovery code",
        validators=[
            DataRequired("Enter one of your recovery codes."),
            Length(max=64, message="Recovery codes are 16 letters and digits."),
        ],
    )


class RenamePasskeyForm(Form):
    nickname = StringField(
        "Name",
        validators=[
            DataRequired("Give the passkey a name, such as the device it lives on."),
            Length(
                max=Passkey.nickname.type.length,
                message=f"Keep the name to {Passkey.nickname.type.length} characters or fewer.",
            ),
        ],
    )
