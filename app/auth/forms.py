"""Forms of the sign-in pages and the account pages."""

from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app.forms import EmailAddress, Form
from app.models.user import Passkey


class EmailLinkForm(Form):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter the email address you use for Twoway."),
            Length(max=254, message="That is longer than any email address can be."),
            EmailAddress(),
        ],
    )
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
