"""Compare-mode training beside FLAML AutoML on the same train/test split, and fit time per model family.

    .venv/bin/python bench/bench_ml.py [--quick] [--sizes 100000,1000000] [--churn-only] [--no-fit-times]

For scikit-learn's breast_cancer, wine, digits and diabetes sets and a generated churn table
(100,000 and 1,000,000 rows; 3,000 with --quick): `core.ml.train` in compare mode (every applicable model,
5-fold CV on small data, screening on samples on large data, its default 60 s budget) versus
`flaml.AutoML(time_budget=60)` (10 s with --quick) fitted on our training split and scored
on our held-out test split. Scores: accuracy (classification) or R2 (regression).
Each case records the load average (`os.getloadavg`) before it starts.
FLAML's pins clash with ours, so it runs in its own venv (.venv-bench-flaml, created when missing)
in a subprocess that reads the split from Parquet files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAML_VENV = ROOT / ".venv-bench-flaml"
FLAML_PACKAGES = ["flaml[automl]==2.7.0", "scikit-learn", "xgboost", "pandas", "pyarrow"]


# ---- the FLAML side (runs inside .venv-bench-flaml: no workbench imports here) ----------------------

def flaml_worker(split_dir: str, task: str, target: str, budget: int) -> None:
    import pandas as pd
    from flaml import AutoML
    from sklearn.metrics import accuracy_score, r2_score

    folder = Path(split_dir)
    train, test = pd.read_parquet(folder / "train.parquet"), pd.read_parquet(folder / "test.parquet")
    x_train, y_train = train.drop(columns=target), train[target]
    x_test, y_test = test.drop(columns=target), test[target]
    for column in x_train.columns:
        if x_train[column].dtype == object or str(x_train[column].dtype) in ("str", "string"):
            kinds = pd.CategoricalDtype(sorted(set(x_train[column].dropna().astype(str))))
            x_train[column] = x_train[column].astype(str).astype(kinds)
            x_test[column] = x_test[column].astype(str).astype(kinds)
    automl = AutoML()
    started = time.perf_counter()
    automl.fit(x_train, y_train, task=task, time_budget=budget, metric="accuracy" if task == "classification" else "r2",
               seed=42, verbose=0)
    wall = time.perf_counter() - started
    pred = automl.predict(x_test)
    score = accuracy_score(y_test, pred) if task == "classification" else r2_score(y_test, pred)
    print(json.dumps({"test": float(score), "val": 1 - float(automl.best_loss), "wall_s": wall,
                      "best": automl.best_estimator}))


def ensure_flaml_venv() -> Path:
    python = FLAML_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {FLAML_VENV} (pip install {' '.join(FLAML_PACKAGES)}) …", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(FLAML_VENV)])
        subprocess.check_call([str(python), "-m", "pip", "install", "-q", *FLAML_PACKAGES])
    return python


def run_flaml(split_dir: Path, task: str, target: str, budget: int) -> dict:
    out = subprocess.run([str(ensure_flaml_venv()), __file__, "--flaml-worker", str(split_dir), task, target,
                          str(budget)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"FLAML failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- our side ----------------------------------------------------------------------------------------

def churn_frame(rows: int, seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows)
    contract = rng.choice(["month", "one_year", "two_year"], rows, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["dsl", "fiber", "none"], rows, p=[0.35, 0.45, 0.2])
    payment = rng.choice(["card", "bank", "check", "electronic"], rows)
    monthly = (20 + 45 * (internet == "fiber") + 25 * (internet == "dsl") + rng.normal(0, 8, rows)).round(2)
    calls = rng.poisson(1.5, rows)
    senior = rng.random(rows) < 0.16
    region = np.array([f"r{i:02d}" for i in rng.integers(0, 50, rows)])
    logit = (1.2 - 0.05 * tenure + 1.3 * (contract == "month") - 0.8 * (contract == "two_year")
             + 0.6 * (internet == "fiber") + 0.5 * (payment == "electronic") + 0.35 * calls + 0.4 * senior
             + 0.01 * (monthly - 60) + 0.3 * np.sin(tenure / 6) * (calls > 2) + rng.normal(0, 0.5, rows))
    churn = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    total = (monthly * tenure * rng.uniform(0.9, 1.1, rows)).round(2)
    total[rng.random(rows) < 0.02] = np.nan
    return pd.DataFrame({"tenure": tenure, "contract": contract, "internet": internet, "payment": payment,
                         "monthly_charges": monthly, "total_charges": total, "support_calls": calls,
                         "senior": senior.astype(int), "region": region, "churn": churn})


def sklearn_frame(name: str):
    from sklearn import datasets as skd

    loader = {"breast_cancer": skd.load_breast_cancer, "wine": skd.load_wine, "digits": skd.load_digits,
              "diabetes": skd.load_diabetes}[name]
    frame = loader(as_frame=True).frame
    frame.columns = [str(c).replace("/", "_") for c in frame.columns]
    return frame


def split_files(frame, model, folder: Path) -> None:
    """Write our exact train/test split (same seed, size and stratification) as Parquet."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = frame[frame[model.target].notna()].reset_index(drop=True)
    schema = model.feature_schema
    stratify = pd.Index(schema["classes"]).get_indexer(frame[model.target]) if model.task == "classification" else None
    train_idx, test_idx = train_test_split(np.arange(len(frame)), test_size=int(schema["test_size"]),
                                           random_state=schema["seed"], stratify=stratify)
    folder.mkdir(parents=True, exist_ok=True)
    frame.iloc[train_idx].to_parquet(folder / "train.parquet")
    frame.iloc[test_idx].to_parquet(folder / "test.parquet")


def compare(name: str, frame, target: str, cv: int, budget: int, work: Path) -> dict:
    import pyarrow as pa

    from core import datasets, ml

    ds = datasets.store_table(pa.Table.from_pandas(frame, preserve_index=False), name=name, source="bench")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    run = ml.train(ds.id, target=target, cv=cv)
    wall = time.perf_counter() - started
    model = ml.get_model(run.best_model_id)
    split_files(frame, model, work / name)
    flaml_load = os.getloadavg()[0]
    flaml = run_flaml(work / name, run.task, target, budget)
    best = next(r for r in run.leaderboard if r.get("best"))
    primary = run.primary_metric
    return {"dataset": name, "rows": len(frame), "metric": primary, "best": best["label"],
            "cv": best[f"{primary}_mean"], "test": model.metrics["test"][primary], "wall_s": wall,
            "flaml_best": flaml["best"], "flaml_val": flaml["val"], "flaml_test": flaml["test"],
            "flaml_wall_s": flaml["wall_s"], "load": load, "flaml_load": flaml_load,
            "skipped": [m["label"] for m in run.params.get("skipped", [])],
            "rounds": run.params.get("rounds", [])}


def fit_times(rows: int) -> list[dict]:
    """One fit of every model family on the churn table's training split (80% of `rows`)."""
    from core.ml.catalog import get_spec
    from core.ml.metrics import compute_metrics, predict_scores
    from core.ml.preprocess import check_target, plan_features
    from core.ml.train import fit_pipeline, make_pipeline, make_split

    frame = churn_frame(rows, seed=11)
    task = check_target(frame, "churn", None, cv=5, test_size=0.2)
    plan = plan_features(frame, "churn", task)
    split = make_split(frame, plan, seed=42, test_size=0.2, cv=5, imbalance=False)
    out = []
    for key in ["logistic_regression", "decision_tree", "random_forest", "hist_gradient_boosting", "xgboost",
                "knn", "svm", "mlp"]:
        spec = get_spec(key, task)
        pipe = make_pipeline(spec, split)
        seconds = fit_pipeline(pipe, spec, split.x_train, split.y_train, split)
        started = time.perf_counter()
        pred, proba = predict_scores(pipe, split.x_test, split.n_classes)
        predict_s = time.perf_counter() - started
        acc = compute_metrics(task, split.y_test, pred, proba, split.n_classes)["accuracy"]
        out.append({"model": spec.label, "fit_s": seconds, "predict_s": predict_s, "accuracy": acc})
        print(f"  {spec.label:<32} fit {seconds:7.2f} s  predict {predict_s:6.2f} s  test accuracy {acc:.4f}",
              flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small data and a 10 s FLAML budget (smoke run)")
    parser.add_argument("--sizes", default="100000,1000000", help="rows of the churn tables, comma-separated")
    parser.add_argument("--churn-only", action="store_true", help="leave out the four scikit-learn sets")
    parser.add_argument("--no-fit-times", action="store_true", help="leave out the fit time per model family")
    args = parser.parse_args()
    budget, cv = (10, 3) if args.quick else (60, 5)
    sizes = [3_000] if args.quick else [int(v) for v in args.sizes.split(",") if v.strip()]
    rows = sizes[0] if sizes else 100_000
    work = Path(tempfile.mkdtemp(prefix="bench-ml-"))
    os.environ.update({"DATA_DIR": str(work / "data"), "DATABASE_URL": "", "REDIS_URL": ""})
    sys.path.insert(0, str(ROOT))
    ensure_flaml_venv()
    names = ["breast_cancer", "wine", "diabetes"] if args.quick else ["breast_cancer", "wine", "digits", "diabetes"]
    cases = [] if args.churn_only else [(n, lambda n=n: sklearn_frame(n), "target") for n in names]
    cases += [(f"churn_{size // 1000}k", lambda size=size: churn_frame(size), "churn") for size in sizes]
    results = []
    for name, make, target in cases:
        print(f"{name}: ours (compare mode) then FLAML (time_budget={budget})…", flush=True)
        results.append(compare(name, make(), target, cv, budget, work))
        r = results[-1]
        print(f"  ours {r['best']}: CV {r['cv']:.4f} test {r['test']:.4f} in {r['wall_s']:.1f} s "
              f"(load {r['load']:.1f}; skipped: {', '.join(r['skipped']) or 'none'}) | FLAML {r['flaml_best']}: "
              f"val {r['flaml_val']:.4f} test {r['flaml_test']:.4f} in {r['flaml_wall_s']:.1f} s "
              f"(load {r['flaml_load']:.1f})", flush=True)
    times = []
    if not args.no_fit_times:
        print(f"\nFit time per model family on {int(rows * 0.8):,} training rows of the churn table:", flush=True)
        times = fit_times(rows)
    report(results, times, rows, budget, cv)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "ml.json").write_text(json.dumps({"compare": results, "fit_times": times}, indent=2))


def report(results: list[dict], times: list[dict], rows: int, budget: int, cv: int) -> None:
    print(f"\n| dataset | metric | ours: best model | ours CV | ours test | ours wall s | "
          f"FLAML ({budget} s): best | FLAML test | FLAML wall s | test gap (ours − FLAML) | load (ours / FLAML) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['dataset']} | {r['metric']} | {r['best']} | {r['cv']:.4f} | {r['test']:.4f} | {r['wall_s']:.1f} | "
              f"{r['flaml_best']} | {r['flaml_test']:.4f} | {r['flaml_wall_s']:.1f} | {r['test'] - r['flaml_test']:+.4f} | "
              f"{r['load']:.1f} / {r['flaml_load']:.1f} |")
    for r in results:
        if r["rounds"] and r["rounds"][0]["rows"] < r["rows"] * 0.8 - 1:
            print(f"{r['dataset']}: screening rounds " + " → ".join(
                f"{len(x['models'])} model(s) on {x['rows']:,} rows" for x in r["rounds"]))
    if not times:
        return
    print(f"\n| model ({int(rows * 0.8):,} rows) | fit s | predict s | test accuracy |\n|---|---|---|---|")
    for t in times:
        print(f"| {t['model']} | {t['fit_s']:.2f} | {t['predict_s']:.2f} | {t['accuracy']:.4f} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--flaml-worker":
        flaml_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
