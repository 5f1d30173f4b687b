"""Saving test results (the `hypothesis_test` table) and listing them."""

from __future__ import annotations

import math
import uuid
from typing import Any

from sqlmodel import select

from core import db
from core.errors import NotFound
from core.models.analysis import HypothesisTest
from core.stats.registry import default_title
from core.stats.result import TestResult


def _json_safe(value: Any) -> Any:
    """Infinite CI bounds as strings: PostgreSQL's JSON has no Infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def save_result(result: TestResult, *, dataset_id: uuid.UUID | str | None = None, title: str = "") -> HypothesisTest:
    """Store a result; `dataset_id` (id or name) links it to the dataset it was run on.

    Without a title it gets one naming the test, its columns and the dataset (`default_title`).
    """
    ds_id, ds_name = None, ""
    if dataset_id is not None:
        from core import datasets

        ds = datasets.get_dataset(dataset_id)
        ds_id, ds_name = ds.id, ds.name
    row = HypothesisTest(
        test=result.test, method=result.method[:200], dataset_id=ds_id, dataset_name=ds_name,
        title=(title or default_title(result, ds_name))[:300], statistic=_finite(result.statistic), p_value=result.p_value,
        p_adjusted=result.p_adjusted, effect_size=_finite(result.effect_size), significant=result.significant,
        conclusion=result.conclusion, params=_json_safe(result.params), result=_json_safe(result.model_dump()),
    )
    with db.session() as s:
        s.add(row)
    return row


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def list_results(*, dataset_id: uuid.UUID | str | None = None, limit: int = 100) -> list[HypothesisTest]:
    """Saved results, newest first (optionally of one dataset)."""
    query = select(HypothesisTest).order_by(HypothesisTest.created.desc()).limit(limit)
    if dataset_id is not None:
        query = query.where(HypothesisTest.dataset_id == uuid.UUID(str(dataset_id)))
    with db.session() as s:
        return list(s.exec(query).all())


def get_result(result_id: uuid.UUID | str) -> TestResult:
    """A saved result back as a TestResult; NotFound if there is none."""
    with db.session() as s:
        row = s.get(HypothesisTest, uuid.UUID(str(result_id)))
    if row is None:
        raise NotFound(f"No saved test {str(result_id)!r}.")
    return TestResult.model_validate(row.result)


def delete_result(result_id: uuid.UUID | str) -> None:
    """Delete a saved result (no error if it is already gone)."""
    with db.session() as s:
        row = s.get(HypothesisTest, uuid.UUID(str(result_id)))
        if row is not None:
            s.delete(row)
