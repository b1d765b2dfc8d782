"""The goal board: learning goals for both people, with milestones that drive their progress."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.program import Role
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow

GOAL_TITLE_MAX = 200


class GoalStatus(LabelledEnum):
    NOT_STARTED = "not-started", "Not started"
    IN_PROGRESS = "in-progress", "In progress"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class Goal(db.Model):
    """Something one of the two wants to learn. Both can edit it; ``version`` guards collisions."""

    __tablename__ = "goal"
    __table_args__ = (Index("ix_goal_pair_id_status", "pair_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    # Whose learning this is: in reverse mentoring both people learn.
    learner: Mapped[Role] = mapped_column(enum_column(Role, "goal_learner"))
    title: Mapped[str] = mapped_column(String(GOAL_TITLE_MAX))
    why: Mapped[str] = mapped_column(Text, default="")
    success: Mapped[str] = mapped_column(Text, default="")
    target_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(enum_column(GoalStatus, "goal_status"), default=GoalStatus.NOT_STARTED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="goal", lazy="raise", cascade="all, delete-orphan", order_by="[Milestone.position, Milestone.id]"
    )

    @property
    def progress(self) -> int:
        """Per cent of milestones ticked (the milestones must be loaded)."""
        if not self.milestones:
            return 100 if self.status == GoalStatus.DONE else 0
        return round(100 * sum(m.done for m in self.milestones) / len(self.milestones))


class Milestone(db.Model):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    # Repeated from the goal so that every lookup can be filtered by the pair directly.
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(GOAL_TITLE_MAX))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    goal: Mapped[Goal] = relationship(back_populates="milestones", lazy="raise")
