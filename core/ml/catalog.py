"""The model catalog: every algorithm the workbench trains, in its classification and regression forms.

No model is ever built from generated code: a key picks a factory from this table.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)
SVM_EXACT_MAX_ROWS = 10_000  # above this an RBF SVM is too slow: a linear SVM takes its place
PARALLEL_MIN_ROWS = 50_000  # below this, fits run single-threaded (see cpu_threads)
LARGE_TREE_ROWS = 20_000  # above this a random forest grows fewer trees on row subsamples


@dataclass(frozen=True)
class ModelSpec:
    key: str
    label: str
    tasks: tuple[str, ...]
    build: Callable[[str, int, dict[str, Any]], Any]  # (task, seed, options) -> estimator
    tree: bool = False
    sample_weight: bool = True  # its fit() accepts sample_weight (used by the class-imbalance option)
    space: dict[str, tuple] = field(default_factory=dict)  # Optuna search space: name -> (kind, low, high)


def cpu_threads(rows: int) -> int | None:
    """Threads for OpenMP-parallel fits: one on small data or a busy machine (OpenMP threads that wait on
    each other at every barrier slow down badly when cores are oversubscribed), else the library default."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if rows < PARALLEL_MIN_ROWS or cores < 2 or os.getloadavg()[0] >= cores:
        return 1
    return None


def _nvidia_driver() -> bool:
    """False when no NVIDIA driver is visible, so the GPU check need not import torch (seconds) to learn it."""
    if os.name == "nt":
        return True  # no device files to look at: torch decides
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia", "/dev/dxg"))


@functools.cache
def gpu_available() -> bool:
    """True when XGBoost was built with CUDA and a GPU is visible (checked once, lazily)."""
    import xgboost

    if not xgboost.build_info().get("USE_CUDA") or not _nvidia_driver():
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover - torch is a pinned dependency
        return False


def _logistic(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, C=o.get("C", 1.0), random_state=seed)


def _linear(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def _ridge(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=o.get("alpha", 1.0), random_state=seed)


def _forest(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if task == CLASSIFICATION else RandomForestRegressor
    rows = o.get("n_rows", 0)
    large = rows > LARGE_TREE_ROWS  # on large data each tree sees a bootstrap sample of LARGE_TREE_ROWS rows
    return cls(n_estimators=o.get("n_estimators", 100 if large else 200), max_depth=o.get("max_depth"),
               min_samples_leaf=o.get("min_samples_leaf", _leaf(rows)), max_features=o.get("max_features", "sqrt"),
               max_samples=LARGE_TREE_ROWS / rows if large else None, n_jobs=o.get("n_jobs", -1), random_state=seed)


def _leaf(rows: int) -> int:
    """Default smallest leaf: 1 on small data, growing with the rows so large noisy tables do not overfit."""
    return max(1, rows // 5000)


def _tree(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if task == CLASSIFICATION else DecisionTreeRegressor
    return cls(max_depth=o.get("max_depth"), min_samples_leaf=o.get("min_samples_leaf", _leaf(o.get("n_rows", 0))),
               random_state=seed)


def _knn(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if task == CLASSIFICATION else KNeighborsRegressor
    return cls(n_neighbors=o.get("n_neighbors", 5), weights=o.get("weights", "distance"), n_jobs=o.get("n_jobs", -1))


def _svm(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR

    if o.get("n_rows", 0) > SVM_EXACT_MAX_ROWS:
        if task == CLASSIFICATION:
            from sklearn.calibration import CalibratedClassifierCV

            return CalibratedClassifierCV(LinearSVC(C=o.get("C", 1.0), random_state=seed), cv=3)
        return LinearSVR(C=o.get("C", 1.0), random_state=seed, max_iter=5000)
    if task == CLASSIFICATION:
        return SVC(C=o.get("C", 1.0), gamma=o.get("gamma", "scale"), probability=True, random_state=seed)
    return SVR(C=o.get("C", 1.0), gamma=o.get("gamma", "scale"))


def _hgb(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if task == CLASSIFICATION else HistGradientBoostingRegressor
    return cls(learning_rate=o.get("learning_rate", 0.1), max_iter=o.get("max_iter", 200),
               max_leaf_nodes=o.get("max_leaf_nodes", 31), l2_regularization=o.get("l2_regularization", 0.0),
               early_stopping=o.get("n_rows", 0) >= 1000, random_state=seed)


def _xgboost(task: str, seed: int, o: dict[str, Any]) -> Any:
    from xgboost import XGBClassifier, XGBRegressor

    cls = XGBClassifier if task == CLASSIFICATION else XGBRegressor
    return cls(n_estimators=o.get("n_estimators", 300), learning_rate=o.get("learning_rate", 0.1),
               max_depth=o.get("max_depth", 6), subsample=o.get("subsample", 1.0),
               colsample_bytree=o.get("colsample_bytree", 1.0), min_child_weight=o.get("min_child_weight", 1.0),
               reg_lambda=o.get("reg_lambda", 1.0), tree_method="hist",
               device="cuda" if gpu_available() else "cpu", n_jobs=o.get("n_jobs", cpu_threads(o.get("n_rows", 0))),
               random_state=seed)


def _mlp(task: str, seed: int, o: dict[str, Any]) -> Any:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == CLASSIFICATION else MLPRegressor
    width = int(o.get("width", 64))
    return cls(hidden_layer_sizes=(width, width), alpha=o.get("alpha", 1e-4),
               learning_rate_init=o.get("learning_rate_init", 1e-3), max_iter=o.get("max_iter", 300),
               early_stopping=o.get("n_rows", 0) >= 1000, random_state=seed)


BOTH = (CLASSIFICATION, REGRESSION)
CATALOG: dict[str, ModelSpec] = {spec.key: spec for spec in [
    ModelSpec("logistic_regression", "Logistic regression", (CLASSIFICATION,), _logistic,
              space={"C": ("log", 1e-3, 100.0)}),
    ModelSpec("linear_regression", "Linear regression", (REGRESSION,), _linear),
    ModelSpec("ridge", "Ridge regression", (REGRESSION,), _ridge, space={"alpha": ("log", 1e-3, 100.0)}),
    ModelSpec("random_forest", "Random forest", BOTH, _forest, tree=True,
              space={"n_estimators": ("int", 100, 500), "max_depth": ("int", 3, 30),
                     "min_samples_leaf": ("int", 1, 10), "max_features": ("float", 0.2, 1.0)}),
    ModelSpec("decision_tree", "Decision tree", BOTH, _tree, tree=True,
              space={"max_depth": ("int", 2, 30), "min_samples_leaf": ("int", 1, 20)}),
    ModelSpec("knn", "k-nearest neighbours", BOTH, _knn, sample_weight=False,
              space={"n_neighbors": ("int", 1, 50)}),
    ModelSpec("svm", "Support vector machine", BOTH, _svm, space={"C": ("log", 1e-2, 100.0)}),
    ModelSpec("hist_gradient_boosting", "Gradient boosting (histogram)", BOTH, _hgb, tree=True,
              space={"learning_rate": ("log", 0.01, 0.3), "max_iter": ("int", 100, 600),
                     "max_leaf_nodes": ("int", 8, 128), "l2_regularization": ("log", 1e-6, 10.0)}),
    ModelSpec("xgboost", "XGBoost", BOTH, _xgboost, tree=True,
              space={"n_estimators": ("int", 100, 800), "learning_rate": ("log", 0.01, 0.3),
                     "max_depth": ("int", 2, 10), "subsample": ("float", 0.5, 1.0),
                     "colsample_bytree": ("float", 0.5, 1.0), "min_child_weight": ("log", 0.5, 20.0),
                     "reg_lambda": ("log", 1e-3, 10.0)}),
    ModelSpec("mlp", "Neural network (MLP)", BOTH, _mlp, sample_weight=False,
              space={"width": ("int", 16, 256), "alpha": ("log", 1e-6, 1e-1),
                     "learning_rate_init": ("log", 1e-4, 1e-2)}),
]}


def check_task(task: str) -> str:
    """Normalise a task name ('binary' and 'multiclass' mean classification)."""
    name = (task or "").strip().lower()
    if name in ("binary", "multiclass", "classifier"):
        return CLASSIFICATION
    if name == "regressor":
        return REGRESSION
    if name not in TASKS:
        raise InvalidInput(f"Unknown task {task!r}.", hint="Use 'classification' or 'regression'.")
    return name


def available_models(task: str) -> list[str]:
    """The model keys that can train for `task` ('classification' or 'regression')."""
    task = check_task(task)
    return [key for key, spec in CATALOG.items() if task in spec.tasks]


def get_spec(key: str, task: str) -> ModelSpec:
    """The spec of model `key`; raises InvalidInput when unknown or not applicable to `task`."""
    spec = CATALOG.get(key)
    if spec is None:
        raise InvalidInput(f"Unknown model {key!r}.", hint=f"Known models: {', '.join(CATALOG)}")
    if task not in spec.tasks:
        raise InvalidInput(f"{spec.label} cannot be used for {task}.",
                           hint=f"Models for {task}: {', '.join(available_models(task))}")
    return spec


def label(key: str) -> str:
    spec = CATALOG.get(key)
    return spec.label if spec else key
