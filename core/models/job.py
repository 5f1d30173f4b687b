"""Background jobs and the workers that run them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from core.db import utcnow
from core.models.base import created_at, json_column, optional_json, owner_id_field, uuid_pk


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


class Job(SQLModel, table=True):
    """One unit of background work, polled by the pages."""

    __tablename__ = "job"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    kind: str = Field(index=True, max_length=50)
    queue: str = Field(default="default", max_length=50)
    title: str = Field(default="", max_length=300)
    params: dict[str, Any] = json_column({})
    status: str = Field(default=JobStatus.queued, index=True, max_length=20)
    progress: float = 0.0
    message: str = Field(default="", max_length=2000)
    metrics: list[dict[str, Any]] = json_column([])
    result: dict[str, Any] | None = optional_json()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    cancel_requested: bool = False
    worker: str = Field(default="", max_length=200)
    heartbeat_at: datetime | None = None
    enqueued_at: datetime | None = None
    enqueued_by: str = Field(default="", max_length=200)
    requeues: int = 0
    created: datetime = created_at()
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def state(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def shown_status(self) -> str:
        """The status as a page shows it: `cancelling` from the moment a running job's cancel is asked for."""
        if self.cancel_requested and self.status == JobStatus.running:
            return "cancelling"
        return self.status

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish (to now while it runs); None before it starts."""
        if self.started is None:
            return None
        end = self.finished or utcnow()
        return max((end - self.started).total_seconds(), 0.0)


class WorkerBeat(SQLModel, table=True):
    """A worker process's heartbeat; the Settings page counts the live ones."""

    __tablename__ = "worker_beat"

    id: str = Field(primary_key=True, max_length=200)
    hostname: str = Field(default="", max_length=200)
    pid: int = 0
    queues: str = Field(default="", max_length=300)
    mode: str = Field(default="embedded", max_length=20)
    gpu: str = Field(default="", max_length=200)
    started: datetime = created_at()
    last_seen: datetime = created_at()
