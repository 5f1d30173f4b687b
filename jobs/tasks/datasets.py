"""Dataset jobs: imports from external databases (large results stream with progress)."""

from __future__ import annotations

from typing import Any

from core import connections, secret_box
from core.progress import Progress
from jobs.registry import task


@task("datasets.import_database", queue="default", title="Import from database")
def import_database(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Params: connection_id, table or query, name, limit, and `secret`: a one-time token for a password
    typed in the page (the password itself never enters the job row)."""
    password = secret_box.take(params.get("secret"))
    ds = connections.import_database(params["connection_id"], table=params.get("table"), query=params.get("query"),
                                     name=params.get("name"), limit=params.get("limit"), password=password,
                                     progress=progress)
    return {"dataset_id": str(ds.id), "name": ds.name, "rows": ds.rows, "columns": ds.columns}
