"""The single exception hierarchy. Every message is written for an analyst.

`message` says what is wrong; `hint` says what to do about it. The UI shows both
with `st.error` in one place (`ui.errors`).
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InvalidInput(WorkbenchError):
    """An argument or a value given by the user is not acceptable."""


class NotFound(WorkbenchError):
    """A dataset, job, model or document id or name that does not exist."""


class ReadOnly(WorkbenchError):
    """An item the acting user may see but not change: shared read-only, or not theirs to delete or share."""


class Conflict(WorkbenchError):
    """The request clashes with existing state (a duplicate name, a finished job)."""


class IngestError(WorkbenchError):
    """A file, URL, Kaggle or database import that could not be read."""


class UnsupportedFormat(IngestError):
    """A file type the workbench cannot read."""


class TooLarge(IngestError):
    """A file or response over the configured size limit."""


class ConnectionFailed(WorkbenchError):
    """An external database, URL or service that cannot be reached or refuses us."""


class InvalidSql(WorkbenchError):
    """A SQL statement that is refused or fails."""


class StatsError(WorkbenchError):
    """A statistical test that cannot run on the given data."""


class ModelError(WorkbenchError):
    """Training or prediction that cannot run on the given data."""


class DocumentError(WorkbenchError):
    """A document that cannot be parsed or indexed."""


class LLMError(WorkbenchError):
    """The language-model endpoint failed or answered something unusable."""


class JobCancelled(WorkbenchError):
    """Raised inside a running job once the user has cancelled it."""

    def __init__(self, message: str = "The job was cancelled.") -> None:
        super().__init__(message)


class BrokerUnavailable(WorkbenchError):
    """The job queue (Redis) cannot be reached, so a job cannot be queued."""


class StorageUnavailable(WorkbenchError):
    """The shared object store (DATA_DIR=s3://...) could not be reached or refused a read or write."""
