"""Machine learning: train and compare models, evaluate them, keep them, predict with them.

    run = ml.train(ds.id, target="churn")            # -> TrainingRun with a CV leaderboard
    ml.predict(run.best_model_id, new_rows)            # -> DataFrame with predictions
"""

from core.ml.artifacts import delete_model, get_model, get_run, list_models, list_runs
from core.ml.catalog import CATALOG, available_models
from core.ml.evaluate import Evaluation, evaluate
from core.ml.predict import check_input, predict, read_rows
from core.ml.train import Preflight, check_training, train

__all__ = ["CATALOG", "Evaluation", "Preflight", "available_models", "check_input", "check_training", "delete_model", "evaluate", "get_model",
           "get_run", "list_models", "list_runs", "predict", "read_rows", "train"]
