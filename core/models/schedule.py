"""Schedules: recurring work (refresh a dataset, re-profile it, re-run a template) and every run they made."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Text, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, optional_json, owner_id_field, uuid_pk


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"

    @property
    def finished(self) -> bool:
        return self in (RunStatus.succeeded, RunStatus.failed)


class Schedule(SQLModel, table=True):
    """One recurring piece of work. Exactly one of `cron` and `every_minutes` is set; fire times are
    counted in `timezone`. `anchor_at` is when counting starts (creation, or the last resume), so a
    paused schedule never catches up on the runs it skipped."""

    __tablename__ = "schedule"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    kind: str = Field(index=True, max_length=50)
    target_id: str = Field(index=True, max_length=100)
    target_label: str = Field(default="", max_length=300)
    cron: str | None = Field(default=None, max_length=200)
    every_minutes: int | None = None
    timezone: str = Field(default="UTC", max_length=100)
    params: dict[str, Any] = json_column({})
    paused: bool = False
    anchor_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_run_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    created: datetime = created_at()

    @property
    def every(self) -> str:
        """How often it runs, in words."""
        if self.every_minutes:
            return f"every {self.every_minutes} min" if self.every_minutes != 1 else "every minute"
        return f"cron {self.cron} ({self.timezone})"


class ScheduleRun(SQLModel, table=True):
    """One firing of a schedule. The unique (schedule_id, fire_time) key is what makes a double fire
    impossible: two schedulers that pick the same slot both insert, and the database keeps one."""

    __tablename__ = "schedule_run"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_run_slot"),)

    id: uuid.UUID = uuid_pk()
    schedule_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("schedule.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    fire_time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    manual: bool = False
    job_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True, index=True))
    status: str = Field(default=RunStatus.queued, max_length=20)
    summary: str = Field(default="", max_length=2000)
    result: dict[str, Any] | None = optional_json()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    drift: bool = False
    created: datetime = created_at()
    finished: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
