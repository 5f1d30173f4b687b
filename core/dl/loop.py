"""The framework-neutral part of a training loop: progress, cancel checks, early stopping, NaN detection.

Both backends call `Tracker.batch()` between batches (the job's cancel flag is read there, at most every
0.1 s by `jobs.progress`) and `Tracker.epoch()` after each epoch, which appends a history point
(train/validation loss and the task's metric), writes it to the Job row and decides on early stopping.
A batch's loss is handed over as it is (a device tensor) and read only when a point is due, every
`BATCH_POINT_EVERY` batches: reading it every batch would wait for the device each time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from core.errors import ModelError
from core.progress import Progress, no_progress

BATCH_POINT_EVERY = 200  # a progress point every this many batches, for long epochs
NAN_HINT = "Lower the learning rate (for example by a factor of 10), or standardise the inputs."
OOM_HINT = "Lower the batch size, or choose a smaller network."


def nan_loss(epoch: int) -> ModelError:
    return ModelError(f"Training stopped at epoch {epoch}: the loss became NaN (it diverged). "
                      "Lower the learning rate.", hint=NAN_HINT)


def out_of_memory(batch_size: int) -> ModelError:
    return ModelError(f"Training stopped: the GPU ran out of memory with batches of {batch_size} rows. "
                      "Lower the batch size.", hint=OOM_HINT)


@dataclass
class Tracker:
    """History and early stopping for one training run."""

    epochs: int
    patience: int
    metric: str
    progress: Progress = no_progress
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = math.inf
    stopped: str = ""
    batches: int = 0
    started: float = field(default_factory=time.monotonic)

    def batch(self, epoch: int, loss: Any = None) -> None:
        """Between batches: the cancel check (raises JobCancelled) and, every `BATCH_POINT_EVERY` batches, a
        point with the batch's loss (anything `float()` reads: a number, a 0-d tensor; read only then)."""
        self.batches += 1
        if self.batches % BATCH_POINT_EVERY or loss is None:
            self.progress(None, None, None)
            return
        value = float(loss)
        if not math.isfinite(value):
            raise nan_loss(epoch)
        self.progress(None, f"Epoch {epoch}, batch {self.batches}", {"epoch": epoch, "batch": self.batches,
                                                                      "batch_loss": round(value, 6)})

    def epoch(self, epoch: int, train_loss: float, val_loss: float | None, metric: float | None) -> tuple[bool, bool]:
        """Record an epoch; return (improved: keep these weights, stop: no improvement for `patience` epochs)."""
        if not math.isfinite(train_loss) or (val_loss is not None and not math.isfinite(val_loss)):
            raise nan_loss(epoch)
        point = {"epoch": epoch, "train_loss": _round(train_loss), "val_loss": _round(val_loss),
                 self.metric: _round(metric), "seconds": round(time.monotonic() - self.started, 3)}
        self.history.append(point)
        score = val_loss if val_loss is not None else train_loss
        improved = score < self.best_loss - 1e-9
        if improved:
            self.best_loss, self.best_epoch = score, epoch
        stop = bool(self.patience) and epoch - self.best_epoch >= self.patience
        if stop:
            self.stopped = f"early stopping at epoch {epoch}: no validation improvement for {self.patience} epochs"
        message = f"Epoch {epoch}/{self.epochs}: train loss {train_loss:.4f}" + (
            f", validation loss {val_loss:.4f}" if val_loss is not None else "")
        self.progress(min(0.95, 0.05 + 0.9 * epoch / self.epochs), message, point)
        return improved, stop


def _round(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)
