"""SHAP on the Models page: the global summary of a model, and why one prediction came out as it did."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.ml import explain
from core.models.ml import MLModel
from ui.cache import per_user
from ui.errors import guard


def _class_choice(model: MLModel, *, key: str, default: str | None = None) -> str | None:
    """The class whose score is explained (classification only)."""
    classes = explain.classes_of(model)
    if model.task != "classification":
        return None
    if default not in classes:
        default = classes[1] if len(classes) == 2 else classes[0]
    return st.selectbox("Explain the score of class", classes, index=classes.index(default),
                        key=f"{key}-{model.id}")


def shap_summary(model: MLModel) -> None:
    """Mean |SHAP value| and a beeswarm over a sample of the test split."""
    st.subheader("What drives the predictions (SHAP)")
    chosen = _class_choice(model, key="ml-shap-class")
    if explain.method_for(model.algorithm) == "permutation" and not st.toggle(
            "Compute SHAP values (this model needs the slow model-agnostic explainer)", key=f"ml-shap-on-{model.id}"):
        st.caption("SHAP values for this model are computed on request, on a small sample of rows.")
        return
    with guard():
        expl = _summary(str(model.id), chosen)
        st.caption(explain.caption(expl))
        figures = explain.summary_figures(expl)
        for col, (name, fig) in zip(st.columns(2), figures.items(), strict=False):
            col.plotly_chart(fig, width="stretch", key=f"ml-fig-{name}")


@per_user(show_spinner="Computing SHAP values…", max_entries=20)
def _summary(model_id: str, target_class: str | None) -> explain.Explanation:
    return explain.explain_model(model_id, target_class=target_class)


def explain_prediction(model: MLModel, predicted: pd.DataFrame) -> None:
    """A waterfall of one predicted row: the features that pushed it up or down from the base value."""
    st.subheader("Why this prediction (SHAP)")
    row = 0
    if len(predicted) > 1:
        row = int(st.number_input("Row to explain", 1, len(predicted), 1, key=f"ml-explain-row-{model.id}")) - 1
    default = str(predicted["prediction"].iloc[row]) if model.task == "classification" else None
    chosen = _class_choice(model, key="ml-explain-class", default=default)
    with guard():
        expl = _rows(str(model.id), predicted.iloc[[row]].reset_index(drop=True), chosen)
        st.caption(explain.caption(expl))
        st.plotly_chart(explain.waterfall_figure(expl, 0), width="stretch", key="ml-shap-waterfall")


@per_user(show_spinner="Explaining the prediction…", max_entries=50)
def _rows(model_id: str, rows: pd.DataFrame, target_class: str | None) -> explain.Explanation:
    return explain.explain_rows(model_id, rows, target_class=target_class)
