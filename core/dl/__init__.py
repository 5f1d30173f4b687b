"""Deep learning: ten architectures in PyTorch or TensorFlow, built from a validated spec, stored like classical models.

    run = dl.train(ds.id, architecture="lstm", framework="tensorflow", task="sequence_prediction",
                   target="sales", options={"time_column": "date", "window": 30})   # -> DLRun
    dl.predict(run.model_id, new_rows)        # -> DataFrame with a `prediction` column first
    dl.generate(gan_run.model_id, 500)        # -> synthetic rows with the dataset's columns
    dl.evaluate(run.model_id)                 # -> core.ml Evaluation: test metrics and figures

Every network is made by a builder from `TrainSpec` (pydantic, ranges checked); a Custom network is a
JSON list of allow-listed layers, shape-checked with a parameter budget. Nothing is executed from text,
and weights are stored as signed safetensors (no pickle). Models are `MLModel` rows whose algorithm starts
with "dl.", so they sit in the same list and leaderboard as the classical ones.
"""

from core.dl.evaluate import evaluate
from core.dl.predict import generate, leaderboard, predict, save_anomalies, save_synthetic
from core.dl.spec import ARCHITECTURES, FRAMEWORKS, TASKS, ArchitectureSpec, Parameter, architectures, fitting
from core.dl.train import DLRun, is_deep, train

__all__ = ["ARCHITECTURES", "FRAMEWORKS", "TASKS", "ArchitectureSpec", "DLRun", "Parameter", "architectures",
           "evaluate", "fitting", "generate", "is_deep", "leaderboard", "predict", "save_anomalies", "save_synthetic", "train"]
