"""The "Hypothesis tests" tab of the Analyze page: pick a test and columns, read the result, save it,
correct a batch of tests for multiple testing, and plan sample sizes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from core import datasets, stats
from core.errors import InvalidInput
from core.models import Dataset
from core.numfmt import format_number, format_p
from ui.cache import per_user
from ui.errors import guard
from ui.fields import follow_default
from ui.picker import pick_dataset
from ui.project_scope import scoped
from ui.safe import escape_markdown, sanitize_reply

NUMBER_FORMAT = "%.4g"  # tables keep numbers (they sort) and show 4 significant digits
MAX_LEVELS = 20  # a grouping column offered in the UI has 2 to 20 distinct values
ONE_SIDED = {"ttest_1samp", "ttest_ind", "ttest_rel", "mannwhitney", "wilcoxon", "pearson", "spearman", "kendall",
             "fisher_exact", "binomial", "proportions"}


class StatsKeys:
    """Session-state keys of this tab (widget keys are the `stats-...` strings used inline)."""

    RESULT = "stats-state-result"  # {"dataset": id, "params": {...}, "result": TestResult dump}
    BATCH = "stats-state-batch"  # list of {"name": ..., "params": {...}}
    BATCH_RESULTS = "stats-state-batch-results"
    POWER = "stats-state-power"


@per_user(show_spinner=False, max_entries=8)
def _load(dataset_id: str, version: int) -> pd.DataFrame:
    return datasets.load_frame(dataset_id)


def _numeric(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


def _categorical(frame: pd.DataFrame, exactly: int | None = None) -> list[str]:
    counts = {c: frame[c].nunique(dropna=True) for c in frame.columns}
    return [c for c, k in counts.items() if (k == exactly if exactly else 2 <= k <= MAX_LEVELS)]


def _pick(label: str, options: list[str], key: str, index: int = 0) -> str | None:
    if not options:
        st.warning(f"No suitable column for {label.lower()} in this dataset.")
        return None
    return st.selectbox(label, options, index=min(index, len(options) - 1), key=key)


def _column_inputs(kind: str, name: str, frame: pd.DataFrame) -> dict[str, Any]:
    """The column widgets a test needs, offering only suitable columns."""
    num, cat = _numeric(frame), _categorical(frame)
    c1, c2 = st.columns(2)
    with c1:
        if kind in ("one_sample", "two_groups", "groups"):
            params = {"value": _pick("Value (numeric)", num, "stats-value")}
        elif kind in ("paired", "correlation"):
            params = {"x": _pick("X (numeric)", num, "stats-x")}
        elif kind == "contingency":
            params = {"x": _pick("Rows (categorical)", cat, "stats-x")}
        elif kind == "counts":
            params = {"value": _pick("Category column", cat, "stats-value")}
        elif kind == "binary":
            params = {"value": _pick("Outcome (yes/no)", _categorical(frame, 2) or cat, "stats-value")}
        else:
            params = {"formula": _formula_inputs(frame, num, cat)}
    with c2:
        if kind in ("two_groups", "groups") or (kind == "binary" and name == "proportions"):
            params["group"] = _pick("Group (categorical)", _categorical(frame, 2) if kind == "two_groups" else cat,
                                    "stats-group")
        elif kind in ("paired", "correlation"):
            params["y"] = _pick("Y (numeric)", num, "stats-y", index=1)
        elif kind == "contingency":
            params["y"] = _pick("Columns (categorical)", cat, "stats-y", index=1)
    return params


def _formula_inputs(frame: pd.DataFrame, num: list[str], cat: list[str]) -> str | None:
    response = _pick("Response (numeric)", num, "stats-value")
    factors = st.multiselect("Factors", cat, default=cat[:1], key="stats-factors")
    interact = st.toggle("Include interactions", value=True, key="stats-interactions")
    if not response or not factors:
        return None
    return f"`{response}` ~ " + (" * " if interact else " + ").join(f"`{f}`" for f in factors)


def _option_inputs(name: str) -> dict[str, Any]:
    c1, c2, c3 = st.columns(3)
    params: dict[str, Any] = {
        "alternative": c1.selectbox("Alternative", stats.ALTERNATIVES, key="stats-alternative",
                                    disabled=name not in ONE_SIDED),
        "alpha": c2.number_input("Alpha", 0.001, 0.5, 0.05, 0.01, format="%.3f", key="stats-alpha"),
    }
    if name in ("ttest_1samp", "wilcoxon"):
        params["mu"] = c3.number_input("Hypothesised mean / shift (mu)", value=0.0, key="stats-mu")
    if name in ("ttest_ind", "anova_oneway"):
        params["equal_var"] = c3.toggle("Assume equal variances", value=name == "anova_oneway", key="stats-equal-var")
    if name == "binomial":
        params["p"] = c3.number_input("Null proportion (p)", 0.0, 1.0, 0.5, 0.05, key="stats-p")
    if name not in ONE_SIDED:
        params.pop("alternative")
    return params


def _extra_inputs(name: str, params: dict[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Which level is a success (binary tests) and the expected proportions (goodness of fit)."""
    column = params.get("value")
    if name in ("binomial", "proportions") and column:
        levels = sorted(frame[column].dropna().unique(), key=str)
        return {"success": st.selectbox("Success is", levels, index=len(levels) - 1, key="stats-success")}
    if name == "chi2_goodness_of_fit" and column:
        levels = sorted(frame[column].dropna().astype(str).unique())
        text = st.text_input(f"Expected proportions for {escape_markdown(', '.join(levels[:12]))} (blank: equal)", key="stats-gof-p")
        return {"p": _proportions(text, levels)} if text.strip() else {}
    return {}


def _proportions(text: str, levels: list[str]) -> list[float]:
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError as exc:
        raise InvalidInput("Expected proportions must be numbers separated by commas.",
                           hint="Example: 0.5, 0.3, 0.2") from exc
    total = sum(values)
    if len(values) != len(levels) or total <= 0:
        raise InvalidInput(f"Give one proportion per category ({len(levels)}).", hint="Example: 0.5, 0.3, 0.2")
    return [v / total for v in values]


def _metrics(res: stats.TestResult) -> None:
    cols = st.columns(4)
    cols[0].metric(res.statistic_name or "Statistic", format_number(res.statistic))
    cols[1].metric("p-value", format_p(res.p_value))
    df = format_number(res.df) + (f", {format_number(res.df2)}" if res.df2 is not None else "")
    cols[2].metric("df", df)
    effect = format_number(res.effect_size, 3)
    cols[3].metric(res.effect_size_name or "Effect size", effect, res.effect_size_interpretation or None,
                   delta_color="off", delta_arrow="off")


def show_table(table: pd.DataFrame, *, key: str) -> None:
    """A results table: numbers stay numbers (so columns sort) and show with 4 significant digits."""
    config = {c: st.column_config.NumberColumn(c, format=NUMBER_FORMAT) for c in table.columns
              if pd.api.types.is_float_dtype(table[c])}
    st.dataframe(table, hide_index=True, width="stretch", key=key, column_config=config)


def _show_result(res: stats.TestResult, frame: pd.DataFrame, kind: str) -> None:
    st.subheader(res.method)
    _metrics(res)
    (st.success if res.significant else st.info)(sanitize_reply(res.conclusion))
    if res.estimate is not None:
        ci = (f"; {res.conf_level:.0%} CI [{format_number(res.ci_low)}, {format_number(res.ci_high)}]"
              if res.ci_low is not None else "")
        st.caption(f"Estimate — {escape_markdown(res.estimate_name)}: {format_number(res.estimate, 6)}{ci} · n = "
                   + ", ".join(f"{k}: {v}" for k, v in res.n.items()))
    for note in res.notes:
        st.caption(sanitize_reply(note))
    if res.assumptions:
        st.markdown("**Assumption checks**")
        rows = [{"check": c.name, "test": c.test, "statistic": c.statistic, "p-value": c.p_value,
                 "ok": {True: "✅", False: "⚠️", None: "—"}[c.passed], "detail": c.detail} for c in res.assumptions]
        show_table(pd.DataFrame(rows), key="stats-assumptions")
    for name, rows in res.tables.items():
        if rows and name in ("anova", "posthoc", "proportions", "counts"):
            st.markdown(f"**{ {'anova': 'ANOVA table', 'posthoc': 'Tukey HSD'}.get(name, name.title()) }**")
            show_table(pd.DataFrame(rows), key=f"stats-table-{name}")
    figure = _chart(res, frame, kind)
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key="stats-chart")


def _chart(res: stats.TestResult, frame: pd.DataFrame, kind: str) -> Any:
    p = res.params
    if kind in ("two_groups", "groups"):
        return px.box(frame, x=p["group"], y=p["value"], points="all", title=f"{p['value']} by {p['group']}")
    if kind == "correlation":
        return px.scatter(frame, x=p["x"], y=p["y"], title=f"{p['y']} against {p['x']}")
    if kind == "paired":
        long = frame[[p["x"], p["y"]]].melt(var_name="measure", value_name="value")
        return px.box(long, x="measure", y="value", points="all", title="Paired measurements")
    if kind == "contingency" and "x" in p:
        return px.imshow(pd.crosstab(frame[p["x"]], frame[p["y"]]), text_auto=True, title="Contingency table")
    if kind == "one_sample":
        return px.histogram(frame, x=p["value"], title=f"Distribution of {p['value']}")
    if "counts" in res.tables:
        return px.bar(pd.DataFrame(res.tables["counts"]), x="category", y=["observed", "expected"], barmode="group")
    if "proportions" in res.tables:
        return px.bar(pd.DataFrame(res.tables["proportions"]), x="group", y="proportion", title="Proportion of successes")
    return None


def _save_controls(res: stats.TestResult, ds: Dataset) -> None:
    shown = f"{ds.id}:{res.test}:{sorted(res.params.items())}"
    follow_default("stats-save-title", stats.default_title(res, ds.name), shown=shown)
    c1, c2 = st.columns([3, 1])
    title = c1.text_input("Title", key="stats-save-title")
    if c2.button("Save result", key="stats-save", width="stretch"):
        with guard():
            stats.save_result(res, dataset_id=ds.id, title=title)
            st.toast("Result saved")
    if c2.button("Add to batch", key="stats-batch-add", width="stretch"):
        st.session_state.setdefault(StatsKeys.BATCH, []).append({"name": res.test, "params": res.params})


def _saved_results(ds: Dataset) -> None:
    with st.expander("Saved results", expanded=False), guard():
        rows = scoped(stats.list_results(dataset_id=ds.id), "test", what="saved results")
        if not rows:
            st.caption("No saved results for this dataset yet.")
            return
        table = pd.DataFrame([{"title": r.title, "test": r.test, "statistic": r.statistic, "p-value": r.p_value,
                               "adjusted p": r.p_adjusted, "effect size": r.effect_size,
                               "significant": r.significant, "saved": r.created, "conclusion": r.conclusion}
                              for r in rows])
        if table["adjusted p"].isna().all():  # only results of a batch have one
            table = table.drop(columns="adjusted p")
        show_table(table, key="stats-saved-table")


def _batch(ds: Dataset) -> None:
    with st.expander("Batch of tests with multiple-testing correction", expanded=False):
        items = st.session_state.setdefault(StatsKeys.BATCH, [])
        if not items:
            st.caption("Run a test and press 'Add to batch' to collect several tests here.")
            return
        st.dataframe(pd.DataFrame([{"test": i["name"], "parameters": str(i["params"])} for i in items]),
                     hide_index=True, width="stretch", key="stats-batch-table")
        c1, c2, c3 = st.columns(3)
        method = c1.radio("Correction", ["holm", "BH"], horizontal=True, key="stats-batch-method",
                          format_func={"holm": "Holm", "BH": "Benjamini-Hochberg"}.get)
        if c2.button("Run batch", key="stats-batch-run", type="primary"):
            with guard():
                results = stats.run_batch(items, _load(str(ds.id), ds.version), method=method)
                st.session_state[StatsKeys.BATCH_RESULTS] = [r.summary() | {"conclusion": r.conclusion} for r in results]
        if c3.button("Clear batch", key="stats-batch-clear"):
            st.session_state[StatsKeys.BATCH] = []
            st.session_state.pop(StatsKeys.BATCH_RESULTS, None)
            st.rerun()
        if st.session_state.get(StatsKeys.BATCH_RESULTS):
            show_table(pd.DataFrame(st.session_state[StatsKeys.BATCH_RESULTS]), key="stats-batch-results")


def _power() -> None:
    with st.expander("Power and sample size planner (t-tests, A/B proportions)", expanded=False), guard():
        kind = st.radio("Design", ["t-test", "A/B proportions"], horizontal=True, key="stats-power-kind")
        c1, c2, c3 = st.columns(3)
        solve = c1.selectbox("Solve for", ["sample size", "power"], key="stats-power-solve")
        sig = c2.number_input("Significance level", 0.001, 0.5, 0.05, 0.01, key="stats-power-alpha")
        sides = c3.selectbox("Alternative", ["two-sided", "one-sided"], key="stats-power-sides")
        d1, d2, d3 = st.columns(3)
        n = d3.number_input("n per group", 2, 10_000_000, 50, key="stats-power-n") if solve == "power" else None
        power = d3.number_input("Power", 0.05, 0.999, 0.8, 0.05, key="stats-power-power") if solve != "power" else None
        if kind == "t-test":
            delta = d1.number_input("Difference in means", value=1.0, key="stats-power-delta")
            sd = d2.number_input("Standard deviation", 0.0001, value=1.0, key="stats-power-sd")
            design = st.selectbox("Samples", ["two.sample", "one.sample", "paired"], key="stats-power-type")
            plan = stats.power_ttest(n=n, delta=delta, sd=sd, sig_level=sig, power=power, type=design, alternative=sides)
        else:
            p1 = d1.number_input("Baseline rate (p1)", 0.0001, 0.9999, 0.10, 0.01, format="%.4f", key="stats-power-p1")
            p2 = d2.number_input("Target rate (p2)", 0.0001, 0.9999, 0.12, 0.01, format="%.4f", key="stats-power-p2")
            plan = stats.power_proportions(n=n, p1=p1, p2=p2, sig_level=sig, power=power, alternative=sides)
        st.session_state[StatsKeys.POWER] = plan.model_dump()
        if plan.solved_for == "n":
            st.metric("Required n", f"{plan.n_required:,}", help=f"exact solution {plan.n:.2f}; {plan.note}")
        else:
            st.metric("Power", f"{plan.power:.1%}")
        st.caption(plan.note)


def render_stats() -> None:
    """The whole tab; every core call is guarded so an error shows as a message, never a traceback."""
    ds = pick_dataset(key="stats-dataset")
    if ds is not None:
        with guard():
            _run_section(ds)
        _saved_results(ds)
        _batch(ds)
    _power()


def _run_section(ds: Dataset) -> None:
    frame = _load(str(ds.id), ds.version)
    name = st.selectbox("Test", stats.TEST_NAMES, key="stats-test",
                        format_func=lambda n: f"{stats.TESTS[n].title}  ({n})")
    kind = stats.get_spec(name).kind
    params = _column_inputs(kind, name, frame)
    params = {**params, **_extra_inputs(name, params, frame), **_option_inputs(name)}
    if st.button("Run test", type="primary", key="stats-run"):
        if any(v is None for v in params.values()):
            st.warning("Choose the columns first.")
        else:
            res = stats.run_test(name, frame, **params)
            st.session_state[StatsKeys.RESULT] = {"dataset": str(ds.id), "result": res.model_dump()}
    saved = st.session_state.get(StatsKeys.RESULT)
    if saved and saved["dataset"] == str(ds.id) and saved["result"]["test"] == name:
        res = stats.TestResult.model_validate(saved["result"])
        _show_result(res, frame, kind)
        _save_controls(res, ds)
