"""What can be trained: the ten architectures, the tasks each fits, and the validated training spec.

Everything a model is built from is in `TrainSpec` (pydantic, extra keys refused, every number range-checked),
so a stored spec rebuilds exactly the same network; nothing is ever executed from text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidInput

CLASSIFICATION = "classification"
REGRESSION = "regression"
IMAGE = "image_classification"
TEXT = "text_classification"
SEQUENCE = "sequence_prediction"
ANOMALY = "anomaly_detection"
GENERATIVE = "generative"
TASKS = (CLASSIFICATION, REGRESSION, IMAGE, TEXT, SEQUENCE, ANOMALY, GENERATIVE)
CLASSIFIERS = (CLASSIFICATION, IMAGE, TEXT)
FRAMEWORKS = ("pytorch", "tensorflow")

WHY_NOT = {  # why an architecture is not offered for a task (shown by the UI)
    "mlp": "an MLP treats inputs as an unordered feature vector; it is offered for tables",
    "cnn": "a CNN needs a grid (image pixels) or an ordered axis (text tokens, time steps)",
    "rnn": "recurrent networks need an ordered sequence (text tokens or time steps)",
    "resnet": "ResNet is offered for tables (Gorishniy et al. 2021) and images",
    "transformer": "a Transformer needs tokens: features of a table, words of a text or time steps",
    "autoencoder": "an autoencoder learns to reconstruct rows; it serves anomaly detection",
    "gan": "a GAN generates synthetic rows; it serves the generative task",
    "custom": "a custom layer list needs a supervised task with a known input shape",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "int" | "float" | "choice"
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class ArchitectureSpec:
    """An architecture: its name, the tasks it fits and the parameters it takes (with ranges and defaults)."""

    name: str
    label: str
    tasks: tuple[str, ...]
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    description: str = ""


COMMON = (
    Parameter("epochs", "int", 50, 1, 1000, help="passes over the training rows"),
    Parameter("batch_size", "int", 32, 1, 512, help="rows per gradient step"),
    Parameter("learning_rate", "float", 1e-3, 1e-5, 1.0, help="optimizer step size"),
    Parameter("patience", "int", 10, 0, 1000, help="epochs without validation improvement before stopping (0: never)"),
    Parameter("validation_fraction", "float", 0.2, 0.05, 0.5, help="share of the training rows used to validate"),
    Parameter("optimizer", "choice", "adam", choices=("adam", "adamw", "sgd", "rmsprop")),
)
HIDDEN = Parameter("hidden", "int", 64, 4, 1024, help="units per layer")
LAYERS = Parameter("layers", "int", 2, 1, 8, help="number of layers or blocks")
DROPOUT = Parameter("dropout", "float", 0.1, 0.0, 0.9)
FILTERS = Parameter("filters", "int", 32, 4, 256, help="convolution filters of the first block")
HEADS = Parameter("heads", "int", 4, 1, 16, help="attention heads (must divide `hidden`)")
LATENT = Parameter("latent", "int", 8, 2, 256, help="size of the bottleneck / noise vector")
SHAPED = (HIDDEN, LAYERS, DROPOUT)

ARCHITECTURES: dict[str, ArchitectureSpec] = {a.name: a for a in (
    ArchitectureSpec("mlp", "MLP", (CLASSIFICATION, REGRESSION), COMMON + SHAPED, "dense layers with ReLU and dropout"),
    ArchitectureSpec("cnn", "CNN", (IMAGE, TEXT, SEQUENCE), COMMON + SHAPED + (FILTERS,),
                     "convolution blocks (2-D for images, 1-D for text and series)"),
    ArchitectureSpec("rnn", "RNN", (TEXT, SEQUENCE), COMMON + SHAPED, "an Elman recurrent network"),
    ArchitectureSpec("lstm", "LSTM", (TEXT, SEQUENCE), COMMON + SHAPED, "long short-term memory"),
    ArchitectureSpec("gru", "GRU", (TEXT, SEQUENCE), COMMON + SHAPED, "gated recurrent units"),
    ArchitectureSpec("transformer", "Transformer", (CLASSIFICATION, REGRESSION, TEXT, SEQUENCE),
                     COMMON + SHAPED + (HEADS,), "self-attention over feature tokens (FT-Transformer), words or steps"),
    ArchitectureSpec("autoencoder", "Autoencoder", (ANOMALY,), COMMON + SHAPED + (LATENT,),
                     "reconstruction error per row as the anomaly score"),
    ArchitectureSpec("gan", "GAN", (GENERATIVE,), COMMON + SHAPED + (LATENT,), "generator vs discriminator on table rows"),
    ArchitectureSpec("resnet", "ResNet", (CLASSIFICATION, REGRESSION, IMAGE), COMMON + SHAPED + (FILTERS,),
                     "residual blocks (tabular ResNet of Gorishniy et al. 2021, or a small image ResNet)"),
    ArchitectureSpec("custom", "Custom", (CLASSIFICATION, REGRESSION, IMAGE, TEXT, SEQUENCE), COMMON,
                     "a JSON list of allow-listed layers, shape-checked, with a parameter budget"),
)}

def architectures() -> list[ArchitectureSpec]:
    """The ten architectures with their tasks and parameters."""
    return list(ARCHITECTURES.values())


def fitting(task: str) -> tuple[list[str], dict[str, str]]:
    """The architectures offered for `task`, and for each other one the reason it is not."""
    check_task(task)
    offered = [a.name for a in ARCHITECTURES.values() if task in a.tasks]
    reasons = {a.name: WHY_NOT.get(a.name, "") for a in ARCHITECTURES.values() if task not in a.tasks}
    return offered, reasons


def check_task(task: str) -> str:
    if task not in TASKS:
        raise InvalidInput(f"Unknown deep-learning task {task!r}.", hint=f"Choose one of: {', '.join(TASKS)}.")
    return task


def get_architecture(name: str) -> ArchitectureSpec:
    key = str(name).strip().lower()
    if key not in ARCHITECTURES:
        raise InvalidInput(f"Unknown architecture {name!r}.", hint=f"Choose one of: {', '.join(ARCHITECTURES)}.")
    return ARCHITECTURES[key]


def check_framework(name: str) -> str:
    key = str(name).strip().lower()
    key = {"torch": "pytorch", "tf": "tensorflow", "keras": "tensorflow"}.get(key, key)
    if key not in FRAMEWORKS:
        raise InvalidInput(f"Unknown framework {name!r}.", hint="Choose pytorch or tensorflow.")
    return key


def check_fit(architecture: str, task: str) -> None:
    arch = get_architecture(architecture)
    if task not in arch.tasks:
        offered, _ = fitting(task)
        raise InvalidInput(f"{arch.label} does not fit the task {task}: {WHY_NOT[arch.name]}.",
                           hint=f"For {task} choose one of: {', '.join(offered)}.")


class Options(BaseModel):
    """Every option `core.dl.train` takes beyond the common four, range-checked."""

    model_config = ConfigDict(extra="forbid")

    patience: int = Field(10, ge=0, le=1000)
    validation_fraction: float = Field(0.2, ge=0.05, le=0.5)
    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    hidden: int = Field(64, ge=4, le=1024)
    layers: int = Field(2, ge=1, le=8)
    dropout: float = Field(0.1, ge=0.0, le=0.9)
    filters: int = Field(32, ge=4, le=256)
    heads: int = Field(4, ge=1, le=16)
    latent: int = Field(8, ge=2, le=256)
    image_shape: list[int] | None = Field(None, min_length=2, max_length=3)
    image_size: int = Field(32, ge=4, le=128)
    text_column: str | None = Field(None, max_length=300)
    max_tokens: int = Field(5000, ge=10, le=50_000)
    sequence_length: int = Field(64, ge=4, le=512)
    embedding: int = Field(32, ge=4, le=256)
    time_column: str | None = Field(None, max_length=300)
    window: int = Field(12, ge=2, le=1000)
    horizon: int = Field(1, ge=1, le=100)
    season: int | None = Field(None, ge=1, le=1000)
    threshold_quantile: float = Field(0.95, ge=0.5, le=0.9999)
    test_size: float = Field(0.2, ge=0.05, le=0.5)
    layers_spec: list[dict[str, Any]] | None = Field(None, max_length=64, alias="layers_json")
    max_parameters: int = Field(5_000_000, ge=1_000, le=50_000_000)


class TrainSpec(BaseModel):
    """The whole, validated description of one network and its training."""

    model_config = ConfigDict(extra="forbid")

    architecture: str
    framework: Literal["pytorch", "tensorflow"]
    task: str
    epochs: int = Field(50, ge=1, le=1000)
    batch_size: int = Field(32, ge=1, le=512)
    learning_rate: float = Field(1e-3, ge=1e-5, le=1.0)
    seed: int = Field(42, ge=0, le=2**31 - 1)
    options: Options = Field(default_factory=Options)


def make_spec(*, architecture: str, framework: str, task: str, epochs: int, batch_size: int, learning_rate: float,
              seed: int, options: dict[str, Any] | None) -> TrainSpec:
    """Validate a training request; raises InvalidInput naming the first parameter out of range."""
    arch = get_architecture(architecture)
    framework = check_framework(framework)
    check_task(task)
    opts = dict(options or {})
    if isinstance(opts.get("layers"), list | str):  # Custom: `layers` is the (JSON) list of layers
        opts["layers_json"] = _layer_list(opts.pop("layers"))
    if arch.name == "custom" and "layers_json" not in opts:
        raise InvalidInput("A Custom architecture needs `layers`: a JSON list of layers such as "
                           '[{"type": "dense", "units": 32}, {"type": "activation", "fn": "relu"}].')
    try:
        return TrainSpec(architecture=arch.name, framework=framework, task=task, epochs=epochs,
                         batch_size=batch_size, learning_rate=learning_rate, seed=seed, options=Options(**opts))
    except ValidationError as exc:
        raise InvalidInput(f"Invalid training parameter: {_first_error(exc)}.",
                           hint="See core.dl.architectures() for each parameter's range.") from exc
    except TypeError as exc:
        raise InvalidInput(f"Invalid training options: {exc}.") from exc


def _layer_list(value: list[Any] | str) -> list[Any]:
    """The Custom layer list, given as a list or as JSON text (parsed as data, never run)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidInput(f"The Custom layer list is not valid JSON: {exc}.",
                               hint='Write a list such as [{"type": "dense", "units": 32}].') from exc
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidInput("The Custom layer list must be a JSON list of objects, one per layer.",
                           hint='For example [{"type": "dense", "units": 32}, {"type": "dropout", "rate": 0.2}].')
    return value


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "options")
    where = "layers" if where.startswith("layers_json") else where
    return f"{where}: {err.get('msg', 'invalid')} (got {err.get('input')!r})"[:300]
