"""A stored model's evaluation on its held-out test split (classical model or network): notes, then figures two
per row. Cached per model id: a model never changes once stored."""

from __future__ import annotations

import streamlit as st

from core import dl, ml
from core.models.ml import MLModel
from ui.cache import per_user
from ui.safe import sanitize_reply


def evaluation_view(model: MLModel) -> None:
    """Notes and figures of `ml.evaluate` (classical) or `dl.evaluate` (network); errors go to the caller's guard."""
    evaluation = _evaluation(str(model.id), dl.is_deep(model))
    for note in evaluation.notes:
        st.caption(f"ℹ️ {sanitize_reply(note)}")
    names = list(evaluation.figures)
    for i in range(0, len(names), 2):
        for col, name in zip(st.columns(2), names[i:i + 2], strict=False):
            col.plotly_chart(evaluation.figures[name], width="stretch", key=f"ml-fig-{name}")


@per_user(show_spinner="Evaluating on the test split…", max_entries=20)
def _evaluation(model_id: str, deep: bool) -> ml.Evaluation:
    return dl.evaluate(model_id) if deep else ml.evaluate(model_id)
