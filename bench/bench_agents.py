"""Offline assistant benchmark: planner accuracy on phrasings it was not tuned on, multi-step plans, latency.

    .venv/bin/python bench/bench_agents.py [--quick]

Grounded planner (issue 20): the hold-out phrasings (bench/agents_holdout.py, written before tuning, over the
admissions and staff datasets whose vocabulary the planner was not developed on) and the tuning phrasings
(bench/agents_tuning.py, orders and telco), scored for tool and tool + arguments, beside two baselines in the
same run: the keyword rules as they were before the grounded planner (commit BASELINE_COMMIT, run from a
`git archive` copy with their own parser) and the keyword rules on the new grounding (`plan_rules`). Both
encoders of the intent classifier are measured. Multi-step: a request is right when every step's tool and
arguments are right, in order. Latency: `plan_request` per message against datasets in the database.

The older held-out set below (houses/customers) still scores the rules' own phrasings, with a keyword-only
router as its baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HOUSES = {"city": "categorical", "district": "categorical", "area_sqm": "numeric", "price": "numeric",
          "bedrooms": "numeric", "garage": "categorical", "year_built": "numeric"}
CUSTOMERS = {"customer_id": "numeric", "age": "numeric", "income": "numeric", "gender": "categorical",
             "churn": "categorical", "plan": "categorical", "monthly_spend": "numeric"}

# (message, current dataset, expected tool, expected arguments)
HELD_OUT: list[tuple[str, str, str, dict[str, Any]]] = [
    ("give me a quick summary of the houses table", "houses", "eda_analysis", {"analysis": "overview"}),
    ("what fields does the customers dataset contain", "houses", "get_dataset_info", {"dataset": "customers"}),
    ("list my datasets", "houses", "list_datasets", {}),
    ("count the missing values in each column", "houses", "eda_analysis", {"analysis": "missing"}),
    ("do we have null incomes?", "customers", "eda_analysis", {"analysis": "missing"}),
    ("mean and std of monthly spend", "customers", "eda_analysis", {"analysis": "statistics",
                                                                     "columns": ["monthly_spend"]}),
    ("describe bedrooms", "houses", "eda_analysis", {"analysis": "statistics", "columns": ["bedrooms"]}),
    ("corr of price with area", "houses", "eda_analysis", {"analysis": "correlation",
                                                           "columns": ["price", "area_sqm"]}),
    ("which numeric columns are correlated", "houses", "eda_analysis", {"analysis": "correlation"}),
    ("show me how bedrooms are distributed", "houses", "eda_analysis", {"analysis": "distribution",
                                                                        "columns": ["bedrooms"]}),
    ("detect outliers in income", "customers", "eda_analysis", {"analysis": "outliers", "columns": ["income"]}),
    ("any duplicated records in customers?", "houses", "eda_analysis", {"analysis": "duplicates",
                                                                        "dataset": "customers"}),
    ("most frequent districts", "houses", "eda_analysis", {"analysis": "top_values", "columns": ["district"]}),
    ("what plans are most popular", "customers", "eda_analysis", {"analysis": "top_values", "columns": ["plan"]}),
    ("average income per gender", "customers", "sql_query", {
        "sql": 'SELECT "gender", AVG("income") AS "mean_income" FROM "customers" GROUP BY 1 ORDER BY 2 DESC'}),
    ("number of houses by city", "houses", "sql_query", {
        "sql": 'SELECT "city", COUNT(*) AS count FROM "houses" GROUP BY 1 ORDER BY count DESC'}),
    ("lowest price in each district", "houses", "sql_query", {
        "sql": 'SELECT "district", MIN("price") AS "min_price" FROM "houses" GROUP BY 1 ORDER BY 2 DESC'}),
    ("total monthly spend", "customers", "sql_query", {
        "sql": 'SELECT SUM("monthly_spend") AS "sum_monthly_spend" FROM "customers"'}),
    ("how many records does customers have", "houses", "sql_query", {
        "sql": 'SELECT COUNT(*) AS row_count FROM "customers"'}),
    ("select gender, count(*) from customers group by gender", "customers", "sql_query", {
        "sql": "select gender, count(*) from customers group by gender"}),
    ("scatter area_sqm vs price", "houses", "create_visualization", {"kind": "scatter", "x": "area_sqm",
                                                                     "y": "price"}),
    ("graph income against age", "customers", "create_visualization", {"kind": "scatter", "x": "income",
                                                                       "y": "age"}),
    ("show a histogram of monthly spend", "customers", "create_visualization", {"kind": "histogram",
                                                                               "x": "monthly_spend"}),
    ("box plot of price per district", "houses", "create_visualization", {"kind": "box", "y": "price",
                                                                          "x": "district"}),
    ("bar chart of average income by plan", "customers", "create_visualization", {
        "kind": "bar", "x": "plan", "y": "income", "agg": "mean"}),
    ("pie chart of gender", "customers", "create_visualization", {"kind": "pie", "x": "gender"}),
    ("plot price over year_built as a line", "houses", "create_visualization", {"kind": "line"}),
    ("plot the price distribution", "houses", "create_visualization", {"kind": "histogram", "x": "price"}),
    ("t test: income by churn", "customers", "hypothesis_test", {"test": "ttest_ind", "value": "income",
                                                                  "group": "churn"}),
    ("compare age between genders with mann whitney", "customers", "hypothesis_test", {
        "test": "mannwhitney", "value": "age", "group": "gender"}),
    ("anova for monthly spend across plans", "customers", "hypothesis_test", {
        "test": "anova_oneway", "value": "monthly_spend", "group": "plan"}),
    ("is there a difference in price between cities", "houses", "hypothesis_test", {
        "test": "anova_oneway", "value": "price", "group": "city"}),
    ("chi square test of plan and churn", "customers", "hypothesis_test", {
        "test": "chi2_independence", "x": "plan", "y": "churn"}),
    ("are gender and plan independent", "customers", "hypothesis_test", {
        "test": "chi2_independence", "x": "gender", "y": "plan"}),
    ("does area follow a normal distribution", "houses", "hypothesis_test", {"test": "shapiro",
                                                                            "value": "area_sqm"}),
    ("check normality of age", "customers", "hypothesis_test", {"test": "shapiro", "value": "age"}),
    ("train a model that predicts price", "houses", "train_ml_model", {"target": "price"}),
    ("can you build a model to forecast monthly spend", "customers", "train_ml_model",
     {"target": "monthly_spend"}),
    ("classify churn", "customers", "train_ml_model", {"target": "churn"}),
    ("what's the status of my job", "houses", "get_job_status", {}),
    ("is training finished?", "houses", "get_job_status", {}),
    ("what does the contract say about termination?", "houses", "query_documents", {}),
    ("find passages in the documents about pricing", "houses", "search_documents", {}),
    ("histogram of prise", "houses", "create_visualization", {"kind": "histogram", "x": "price"}),
    ("statistics of incme", "customers", "eda_analysis", {"analysis": "statistics", "columns": ["income"]}),
]

KEYWORDS = (
    (r"\bselect\b", "sql_query"), (r"\bjob|status\b", "get_job_status"), (r"document|contract|passage",
                                                                          "query_documents"),
    (r"train|predict|classify|forecast", "train_ml_model"),
    (r"test|anova|normal|independent|difference", "hypothesis_test"),
    (r"plot|chart|graph|histogram|scatter", "create_visualization"),
    (r"average|count|number|total|how many|lowest|highest", "sql_query"),
    (r"missing|null|outlier|duplicat|frequent|popular|distribut|corr|mean|describe|summary", "eda_analysis"),
    (r"field|column|schema", "get_dataset_info"), (r"datasets", "list_datasets"),
)


def baseline(message: str, kinds: dict[str, str]) -> tuple[str | None, dict[str, Any]]:
    """Keyword-only router: the first keyword family picks the tool; columns named verbatim fill x, y."""
    low = message.lower()
    tool = next((t for pattern, t in KEYWORDS if re.search(pattern, low)), None)
    cols = [c for c in kinds if re.search(rf"\b{re.escape(c)}\b", low)]
    args: dict[str, Any] = {}
    if cols:
        args |= {"x": cols[0], "value": cols[0], "target": cols[0], "columns": cols}
    if len(cols) > 1:
        args |= {"y": cols[1], "group": cols[1]}
    return tool, args


def _right(tool: str | None, args: dict[str, Any], want_tool: str, want: dict[str, Any]) -> tuple[bool, bool]:
    name_ok = tool == want_tool
    return name_ok, name_ok and all(args.get(k) == v for k, v in want.items())


def accuracy() -> dict[str, float]:
    from agents import planner
    from agents.planner import Schema

    schemas = [Schema("h", "houses", HOUSES), Schema("c", "customers", CUSTOMERS)]
    scores = {"planner_tool": 0, "planner_full": 0, "baseline_tool": 0, "baseline_full": 0}
    misses = []
    for message, current, want_tool, want in HELD_OUT:
        ctx = planner.context(message, dataset_id=current[0], schemas=schemas)
        calls = planner.plan(ctx)
        tool, args = (calls[0].name, calls[0].arguments) if calls else (None, {})
        a, b = _right(tool, args, want_tool, want)
        scores["planner_tool"] += a
        scores["planner_full"] += b
        if not b:
            misses.append(f"  miss: {message!r} -> {tool} {args}")
        c, d = _right(*baseline(message, HOUSES if current == "houses" else CUSTOMERS), want_tool, want)
        scores["baseline_tool"] += c
        scores["baseline_full"] += d
    print("\n".join(misses))
    return {k: v / len(HELD_OUT) for k, v in scores.items()}


def tuned() -> float:
    """Tool+arguments accuracy on the tuning set (tests/unit/test_planner_cases.py), for comparison only."""
    from agents import planner
    from tests.unit.test_planner_cases import CASES, SCHEMAS, _dataset_for

    right = 0
    for message, want_tool, want in CASES:
        calls = planner.plan(planner.context(message, dataset_id=_dataset_for(message), schemas=SCHEMAS))
        right += bool(calls) and _right(calls[0].name, calls[0].arguments, want_tool, want)[1]
    return right / len(CASES)


def _dataset_csvs(folder: Path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 2000
    pd.DataFrame({"city": rng.choice(["Lyon", "Nantes", "Lille"], n), "district": rng.choice(list("ABCD"), n),
                  "area_sqm": rng.normal(80, 20, n).round(1), "price": rng.normal(300, 80, n).round(),
                  "bedrooms": rng.integers(1, 6, n), "garage": rng.choice(["yes", "no"], n),
                  "year_built": rng.integers(1900, 2024, n)}).to_csv(folder / "houses.csv", index=False)
    pd.DataFrame({"customer_id": range(n), "age": rng.integers(18, 90, n), "income": rng.normal(40, 10, n),
                  "gender": rng.choice(["f", "m"], n), "churn": rng.choice(["yes", "no"], n),
                  "plan": rng.choice(["basic", "pro", "team"], n), "monthly_spend": rng.gamma(2, 20, n)}
                 ).to_csv(folder / "customers.csv", index=False)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def latency(repeats: int) -> dict[str, float]:
    """Milliseconds per turn: the planner alone, and a whole offline ask minus the tools' own time."""
    folder = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    os.environ.update({"DATA_DIR": str(folder / "data"), "DATABASE_URL": "", "OPENAI_API_KEY": "",
                       "REDIS_URL": ""})
    os.chdir(folder)
    from agents import orchestrator, plan_offline
    from core import datasets
    from core.config import reload_settings

    reload_settings()
    _dataset_csvs(folder)
    ids = {name: str(datasets.ingest_file(folder / f"{name}.csv", name=name).id) for name in ("houses", "customers")}
    plan_times, turn_times, tool_time = [], [], [0.0]
    real_run = orchestrator.run_tool

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return real_run(*args, **kwargs)
        finally:
            tool_time[0] += time.perf_counter() - start

    orchestrator.run_tool = timed_run
    phrasings = [(m, ids[current]) for m, current, tool, _ in HELD_OUT if tool != "train_ml_model"]
    for _ in range(repeats):
        for message, ds_id in phrasings:
            start = time.perf_counter()
            plan_offline(message, dataset_id=ds_id)
            plan_times.append(time.perf_counter() - start)
    for message, ds_id in phrasings[: max(10, len(phrasings) // (1 if repeats > 1 else 3))]:
        tool_time[0] = 0.0
        start = time.perf_counter()
        orchestrator.ask(message, dataset_id=ds_id)
        turn_times.append(time.perf_counter() - start - tool_time[0])
    return {"planner_p50_ms": _pct(plan_times, 0.5), "planner_p95_ms": _pct(plan_times, 0.95),
            "turn_overhead_p50_ms": _pct(turn_times, 0.5), "turn_overhead_p95_ms": _pct(turn_times, 0.95),
            "planner_samples": len(plan_times), "turn_samples": len(turn_times)}


BASELINE_COMMIT = "36bf089"


def _score_grounded(cases: list, datasets_: dict, *, encoder: str | None = None, rules: bool = False) -> tuple:
    """(tool accuracy, tool + arguments accuracy, misses) of the planner on `cases`."""
    from agents import planner
    from agents.planner import dispatch, steps
    from bench.agents_scoring import first_call, matches, schemas

    found = schemas(datasets_)
    by_name = {s.name: s.id for s in found}
    tool_ok = full_ok = 0
    misses = []
    for message, current, want_tool, want in cases:
        if rules:
            calls = dispatch.plan_rules(planner.context(message, dataset_id=by_name[current], schemas=found))
        else:
            calls = steps.plan_request(message, dataset_id=by_name[current], schemas=found, encoder=encoder)[0].calls
        a, b = matches(*first_call(calls), want_tool, want)
        tool_ok, full_ok = tool_ok + a, full_ok + b
        if not b:
            misses.append(message)
    return tool_ok / len(cases), full_ok / len(cases), misses


def _score_baseline_commit(cases: list, datasets_: dict) -> tuple[float, float] | None:
    """The rules at BASELINE_COMMIT, with their own parser, on `cases` (None when git cannot give that commit)."""
    import json
    import shutil
    import subprocess

    folder = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE_COMMIT, "agents", "core", "jobs"],
                                 capture_output=True, timeout=60, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True, timeout=60)
        code = (f"import sys; sys.path[:0] = [{str(folder)!r}, {str(ROOT)!r}]; "
                "from bench.agents_scoring import _main; _main()")
        out = subprocess.run([sys.executable, "-c", code], input=json.dumps({"datasets": datasets_, "cases": [
            [m, d, t, {k: sorted(v, key=str) if isinstance(v, set) else v for k, v in a.items()}]
            for m, d, t, a in cases]}, default=str), capture_output=True, text=True, timeout=600, cwd=folder)
        if out.returncode:
            print(f"  (baseline commit failed: {out.stderr.strip().splitlines()[-1:]})")
            return None
        rows = json.loads(out.stdout)
        return sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  (baseline commit {BASELINE_COMMIT} unavailable: {exc})")
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _multi(cases: list, datasets_: dict, *, rules: bool = False) -> float:
    """Share of multi-step requests whose every step has the right tool and arguments, in order."""
    from agents import planner
    from agents.planner import dispatch, steps
    from bench.agents_scoring import matches, schemas

    found = schemas(datasets_)
    by_name = {s.name: s.id for s in found}
    right = 0
    for message, current, want in cases:
        if rules:
            calls = dispatch.plan_rules(planner.context(message, dataset_id=by_name[current], schemas=found))
        else:
            calls = steps.plan_request(message, dataset_id=by_name[current], schemas=found)[0].calls
        right += len(calls) == len(want) and all(matches(c.name, c.arguments, t, a)[1]
                                                 for c, (t, a) in zip(calls, want, strict=False))
    return right / len(cases)


def grounded_report() -> None:
    from bench import agents_holdout as H
    from bench import agents_tuning as T

    print(f"\ngrounded planner: {len(H.HOLD_OUT)} hold-out + {len(T.TUNING)} tuning phrasings "
          f"({len(H.HOLD_OUT) + len(T.TUNING)} new), {len(H.MULTI_HOLD_OUT)} + {len(T.MULTI_TUNING)} multi-step")
    for label, cases, ds in (("hold-out", H.HOLD_OUT, H.DATASETS), ("tuning", T.TUNING, T.DATASETS)):
        rows = []
        for name, kwargs in (("grounded (static MiniLM word pieces)", {"encoder": "static"}),
                             ("grounded (contextual MiniLM)", {"encoder": "contextual"}),
                             ("rules on the new grounding", {"rules": True})):
            tool, full, misses = _score_grounded(cases, ds, **kwargs)
            rows.append((name, tool, full))
            if label == "hold-out" and kwargs.get("encoder") == "static":
                print(f"  hold-out misses (reported, not tuned on): {len(misses)}")
                for m in misses:
                    print(f"    miss: {m!r}")
        base = _score_baseline_commit(cases, ds)
        if base:
            rows.append((f"baseline: rules at {BASELINE_COMMIT}", *base))
        for name, tool, full in rows:
            print(f"  {label:8s} {name:40s}: tool {tool:6.1%}, tool+arguments {full:6.1%}")
        if base:
            print(f"  {label:8s} tool+arguments ratio grounded/baseline: {rows[0][2] / max(base[1], 1e-9):.2f}x")
    for label, cases, ds in (("hold-out", H.MULTI_HOLD_OUT, H.DATASETS), ("tuning", T.MULTI_TUNING, T.DATASETS)):
        print(f"  multi-step {label:8s}: grounded {_multi(cases, ds):6.1%}, rules {_multi(cases, ds, rules=True):6.1%}")


def grounded_latency(repeats: int) -> None:
    """Milliseconds per message for `plan_request` (schemas and levels from the database), beside the old rules."""
    from agents.planner import dispatch, steps
    from agents.planner.parse import context, load_schemas
    from bench import agents_holdout as H
    from core import datasets

    folder = Path(tempfile.mkdtemp(prefix="bench-grounded-"))
    _holdout_csvs(folder)
    ids = {name: str(datasets.ingest_file(folder / f"{name}.csv", name=name).id) for name in ("admissions", "staff")}
    messages = [(m, ids[d]) for m, d, _, _ in H.HOLD_OUT]
    steps.plan_request("warm up", dataset_id=ids["staff"])
    ours, rules, ours_cpu = [], [], []
    for _ in range(repeats):
        for message, ds_id in messages:
            start, cpu = time.perf_counter(), time.process_time()
            steps.plan_request(message, dataset_id=ds_id)
            ours.append(time.perf_counter() - start)
            ours_cpu.append(time.process_time() - cpu)
            start = time.perf_counter()
            dispatch.plan_rules(context(message, dataset_id=ds_id, schemas=load_schemas()))
            rules.append(time.perf_counter() - start)
    print(f"  latency per message (wall): grounded p50 {_pct(ours, .5):.1f} ms, p95 {_pct(ours, .95):.1f} ms; rules "
          f"(same parse) p50 {_pct(rules, .5):.1f} ms, p95 {_pct(rules, .95):.1f} ms; p95 ratio "
          f"{_pct(ours, .95) / max(_pct(rules, .95), 1e-9):.2f}x ({len(ours)} samples)")
    print(f"  grounded CPU time per message (less sensitive to a busy machine): p50 {_pct(ours_cpu, .5):.1f} ms, "
          f"p95 {_pct(ours_cpu, .95):.1f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def _holdout_csvs(folder: Path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    n = 1500
    pd.DataFrame({"patient_id": range(n), "ward": rng.choice(["cardiology", "oncology", "pediatrics", "maternity"], n),
                  "admission_type": rng.choice(["emergency", "elective", "urgent"], n),
                  "length_of_stay": rng.integers(1, 30, n), "patient_age": rng.integers(0, 95, n),
                  "readmitted": rng.choice([True, False], n), "insurance": rng.choice(["private", "public", "uninsured"], n),
                  "bill_amount": rng.gamma(2, 900, n).round(2), "satisfaction_score": rng.integers(1, 6, n),
                  "smoker": rng.choice(["yes", "no"], n)}).to_csv(folder / "admissions.csv", index=False)
    pd.DataFrame({"employee_id": range(n), "department": rng.choice(["Sales", "Engineering", "Support", "Finance"], n),
                  "seniority": rng.choice(["junior", "mid", "senior", "lead"], n),
                  "annual_salary": rng.normal(60000, 15000, n).round(), "years_of_service": rng.integers(0, 30, n),
                  "works_remotely": rng.integers(0, 2, n), "has_left": rng.choice([True, False], n),
                  "performance_score": rng.integers(1, 6, n), "office_city": rng.choice(["Berlin", "Paris", "Madrid"], n),
                  "bonus_pct": rng.uniform(0, 20, n).round(1)}).to_csv(folder / "staff.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition instead of five")
    args = parser.parse_args()
    acc = accuracy()
    print(f"held-out phrasings: {len(HELD_OUT)}")
    print(f"offline planner (grounded): tool {acc['planner_tool']:.1%}, tool+arguments {acc['planner_full']:.1%}")
    old = _score_baseline_commit(HELD_OUT, {"houses": {"kinds": HOUSES}, "customers": {"kinds": CUSTOMERS}})
    if old:
        print(f"rules at {BASELINE_COMMIT}      : tool {old[0]:.1%}, tool+arguments {old[1]:.1%}")
    print(f"baseline keyword-only : tool {acc['baseline_tool']:.1%}, tool+arguments {acc['baseline_full']:.1%}")
    print(f"tuning set (not a measure, it was tuned on): tool+arguments {tuned():.1%}")
    grounded_report()
    lat = latency(1 if args.quick else 5)
    print(f"planner latency per message : p50 {lat['planner_p50_ms']:.1f} ms, p95 {lat['planner_p95_ms']:.1f} ms "
          f"({lat['planner_samples']} samples)")
    print(f"offline turn minus tool time: p50 {lat['turn_overhead_p50_ms']:.1f} ms, "
          f"p95 {lat['turn_overhead_p95_ms']:.1f} ms ({lat['turn_samples']} turns, storage included)")
    grounded_latency(1 if args.quick else 3)


if __name__ == "__main__":
    main()
