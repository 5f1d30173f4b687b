"""The Home dashboard: counts of what the workbench holds and a feed of recent activity.

Reads the tables directly so the dashboard never imports the heavy feature libraries.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import SQLModel, func, select

from core.db import session
from core.models import Dataset, Job, JobStatus
from core.models.analysis import HypothesisTest
from core.models.conversation import Conversation
from core.models.documents import Document
from core.models.explore import Visualization
from core.models.ml import MLModel


class Summary(BaseModel):
    datasets: int
    models: int
    documents: int
    charts: int
    conversations: int
    jobs_active: int
    jobs_failed: int
    jobs_succeeded: int


class Event(BaseModel):
    when: datetime
    what: str
    icon: str
    page: str


def _count(s, table: type[SQLModel], *where) -> int:
    return s.exec(select(func.count()).select_from(table).where(*where)).one()


def summary() -> Summary:
    """How many datasets, models, documents, charts, conversations and jobs there are."""
    with session() as s:
        return Summary(
            datasets=_count(s, Dataset), models=_count(s, MLModel), documents=_count(s, Document),
            charts=_count(s, Visualization), conversations=_count(s, Conversation),
            jobs_active=_count(s, Job, Job.status.in_([JobStatus.queued, JobStatus.running])),
            jobs_failed=_count(s, Job, Job.status == JobStatus.failed),
            jobs_succeeded=_count(s, Job, Job.status == JobStatus.succeeded),
        )


def recent(limit: int = 12) -> list[Event]:
    """The newest datasets, jobs, models, documents, tests, charts and conversations, merged by time."""
    with session() as s:
        events = [
            *(Event(when=r.created, what=f"Dataset **{r.name}** ({r.rows:,} rows)", icon="📁",
                    page="pages/1_Datasets.py") for r in _latest(s, Dataset, limit)),
            *(Event(when=r.created, what=f"Job **{r.title or r.kind}** {r.status}", icon="⚙️",
                    page="pages/8_Jobs.py") for r in _latest(s, Job, limit)),
            *(Event(when=r.created, what=f"Model **{r.name}** ({r.algorithm})", icon="🤖",
                    page="pages/4_Models.py") for r in _latest(s, MLModel, limit)),
            *(Event(when=r.created, what=f"Document **{r.name}** {r.status}", icon="📄",
                    page="pages/5_Documents.py") for r in _latest(s, Document, limit)),
            *(Event(when=r.created, what=f"Test **{r.title or r.test}** on {r.dataset_name or 'data'}", icon="🧪",
                    page="pages/3_Analyze.py") for r in _latest(s, HypothesisTest, limit)),
            *(Event(when=r.created, what=f"Chart **{r.name or r.kind}**", icon="📈",
                    page="pages/2_Visualize.py") for r in _latest(s, Visualization, limit)),
            *(Event(when=r.created, what=f"Conversation **{r.title}**", icon="💬",
                    page="pages/6_Assistant.py") for r in _latest(s, Conversation, limit)),
        ]
    return sorted(events, key=lambda e: e.when, reverse=True)[:limit]


def _latest(s, table: type[SQLModel], limit: int) -> list:
    return list(s.exec(select(table).order_by(table.created.desc()).limit(limit)).all())
