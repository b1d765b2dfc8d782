"""Test data. Factories flush into the test's own session, inside the test's rolled-back transaction."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from app.models import Pair, Program, ProgramAdmin, User


class _SessionSlot:
    """The current test's session; the `session` fixture fills it and empties it afterwards."""

    session: Session | None = None


def use_session(session: Session | None) -> None:
    _SessionSlot.session = session


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: _SessionSlot.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(_Base):
    class Meta:
        model = User

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")


class AdminFactory(UserFactory):
    """An owner: administers every program (tests of one program's admin use ``ProgramAdminFactory``)."""

    name = "Ruth Adeyemi"
    is_admin = True
    is_owner = True


class ProgramAdminFactory(UserFactory):
    """An admin of ``program`` alone: ``ProgramAdminFactory(program=...)``."""

    name = "Kwame Mensah"
    is_admin = True

    @factory.post_generation
    def program(self, create, program, **_kwargs):
        if program is not None:
            _SessionSlot.session.add(ProgramAdmin(program_id=program.id, user_id=self.id))
            _SessionSlot.session.flush()


class ProgramFactory(_Base):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Reverse mentoring cohort {n}")
    starts_on = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    ends_on = factory.LazyFunction(lambda: date.today() + timedelta(days=150))

    class Params:
        # ``no_rounds=True``: no check-in round opens unless the test turns one on.
        no_rounds = factory.Trait(
            feedback_after_meeting=False, feedback_every_weeks=0, feedback_at_midpoint=False, feedback_at_end=False
        )


class PairFactory(_Base):
    """A pair with its mentor and mentee: ``PairFactory(mentor=alice)`` to choose one of them."""

    class Meta:
        model = Pair

    program = factory.SubFactory(ProgramFactory)
    mentor = factory.SubFactory(UserFactory)
    mentee = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        pair = Pair.create(kwargs.pop("program"), mentor=kwargs.pop("mentor"), mentee=kwargs.pop("mentee"))
        session = _SessionSlot.session
        session.add(pair)
        session.flush()
        return pair
