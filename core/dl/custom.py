"""Custom architectures: a JSON list of allow-listed layers, checked for shapes and size before anything is built.

Each layer is a small pydantic model (unknown types and keys refused); `check` walks the per-sample shape
through the list (channels first for images, (steps, features) for sequences) and counts parameters, so a
wrong shape or an absurd size is an InvalidInput naming the layer, never a framework traceback. Both
backends build from the checked list; nothing is executed from text.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.errors import InvalidInput

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu")


class _Layer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dense(_Layer):
    type: Literal["dense"]
    units: int = Field(ge=1, le=8192)


class Conv1d(_Layer):
    type: Literal["conv1d"]
    filters: int = Field(ge=1, le=1024)
    kernel: int = Field(3, ge=1, le=31)


class Conv2d(_Layer):
    type: Literal["conv2d"]
    filters: int = Field(ge=1, le=1024)
    kernel: int = Field(3, ge=1, le=15)


class Pool(_Layer):
    type: Literal["maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d"]
    size: int = Field(2, ge=1, le=16)


class Dropout(_Layer):
    type: Literal["dropout"]
    rate: float = Field(0.1, ge=0.0, le=0.9)


class Norm(_Layer):
    type: Literal["batchnorm", "layernorm"]


class Embedding(_Layer):
    type: Literal["embedding"]
    dim: int = Field(ge=2, le=1024)


class Recurrent(_Layer):
    type: Literal["rnn", "lstm", "gru"]
    units: int = Field(ge=1, le=2048)
    return_sequences: bool = False


class Attention(_Layer):
    type: Literal["attention"]
    heads: int = Field(2, ge=1, le=32)


class Flatten(_Layer):
    type: Literal["flatten"]


class Activation(_Layer):
    type: Literal["activation"]
    fn: Literal["relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu"] = "relu"


Layer = Annotated[Dense | Conv1d | Conv2d | Pool | Dropout | Norm | Embedding | Recurrent | Attention | Flatten
                  | Activation, Field(discriminator="type")]
TYPES = ("dense", "conv1d", "conv2d", "maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d", "dropout", "batchnorm",
         "layernorm", "embedding", "rnn", "lstm", "gru", "attention", "flatten", "activation")
_ADAPTER = TypeAdapter(Layer)


def parse(raw: list[dict[str, Any]]) -> list[Any]:
    """The layer objects; InvalidInput names the first unknown layer or bad field."""
    if not raw:
        raise InvalidInput("The Custom layer list is empty.", hint='Start with e.g. [{"type": "dense", "units": 32}].')
    out = []
    for i, item in enumerate(raw, start=1):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in TYPES:
            raise InvalidInput(f"Layer {i}: unknown layer type {str(kind)[:40]!r}.",
                               hint=f"Allowed types: {', '.join(TYPES)}.")
        try:
            out.append(_ADAPTER.validate_python(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ())[1:])
            raise InvalidInput(f"Layer {i} ({kind}): {field or 'value'} {err.get('msg', 'is invalid')}.".replace("  ", " ")[:300],
                               hint="See the allowed fields of each layer type in docs/notes/dl.md.") from exc
    return out


def check(layers: list[Any], input_shape: tuple[int, ...], *, tokens: bool, vocab: int, n_out: int,
          budget: int) -> tuple[tuple[int, ...], int]:
    """Walk the shape through the layers (and the automatic flatten + output layer); return (body output shape,
    parameter count). Raises InvalidInput naming the layer that does not fit."""
    shape, params = tuple(input_shape), 0
    if tokens and (not layers or layers[0].type != "embedding"):
        raise InvalidInput("Layer 1: text input is a sequence of word ids; the first layer must be an embedding.",
                           hint='Start with {"type": "embedding", "dim": 32}.')
    for i, layer in enumerate(layers, start=1):
        shape, added = _step(layer, shape, i, tokens and i == 1, vocab)
        params += added
        if params > budget:
            raise InvalidInput(f"Layer {i} ({layer.type}) brings the network to {params:,} parameters, over the "
                               f"budget of {budget:,}.", hint="Use fewer or smaller layers.")
    params += math.prod(shape) * n_out + n_out
    if params > budget:
        raise InvalidInput(f"The network has {params:,} parameters, over the budget of {budget:,}.",
                           hint="Use fewer or smaller layers, or add pooling before the output.")
    return shape, params


def _step(layer: Any, shape: tuple[int, ...], i: int, first_token: bool, vocab: int) -> tuple[tuple[int, ...], int]:
    kind = layer.type

    def need(rank: int, what: str) -> None:
        if len(shape) != rank:
            raise InvalidInput(f"Layer {i} ({kind}) needs {what}, but its input has shape {list(shape)}.",
                               hint=_shape_hint(kind))

    if kind == "embedding":
        if not first_token:
            raise InvalidInput(f"Layer {i} (embedding) is only allowed as the first layer of a text model.")
        return (*shape, layer.dim), vocab * layer.dim
    if kind == "dense":
        return (*shape[:-1], layer.units), shape[-1] * layer.units + layer.units
    if kind == "conv2d":
        need(3, "an image (channels, height, width)")
        return (layer.filters, shape[1], shape[2]), shape[0] * layer.filters * layer.kernel ** 2 + layer.filters
    if kind == "conv1d":
        need(2, "a sequence (steps, features)")
        return (shape[0], layer.filters), shape[1] * layer.filters * layer.kernel + layer.filters
    if kind.endswith("pool2d"):
        need(3, "an image (channels, height, width)")
        if min(shape[1], shape[2]) < layer.size:
            raise InvalidInput(f"Layer {i} ({kind}) pools by {layer.size} an image of {shape[1]}x{shape[2]}.",
                               hint="Use a smaller pool size or fewer pooling layers.")
        return (shape[0], shape[1] // layer.size, shape[2] // layer.size), 0
    if kind.endswith("pool1d"):
        need(2, "a sequence (steps, features)")
        if shape[0] < layer.size:
            raise InvalidInput(f"Layer {i} ({kind}) pools by {layer.size} a sequence of {shape[0]} steps.")
        return (shape[0] // layer.size, shape[1]), 0
    if kind in ("rnn", "lstm", "gru"):
        need(2, "a sequence (steps, features)")
        gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
        out = (shape[0], layer.units) if layer.return_sequences else (layer.units,)
        return out, gates * (layer.units * (shape[1] + layer.units) + 2 * layer.units)
    if kind == "attention":
        need(2, "a sequence (steps, features)")
        if shape[1] % layer.heads:
            raise InvalidInput(f"Layer {i} (attention): {layer.heads} heads do not divide {shape[1]} features.",
                               hint="Choose a number of heads that divides the feature size.")
        return shape, 4 * (shape[1] * shape[1] + shape[1])
    if kind == "batchnorm":
        if len(shape) == 2:
            raise InvalidInput(f"Layer {i} (batchnorm) on a sequence is not supported.", hint="Use layernorm there.")
        return shape, 2 * shape[0]
    if kind == "layernorm":
        return shape, 2 * shape[-1]
    if kind == "flatten":
        return (math.prod(shape),), 0
    return shape, 0  # dropout, activation


def _shape_hint(kind: str) -> str:
    if kind in ("conv2d", "maxpool2d", "avgpool2d"):
        return "2-D layers apply to image tasks only, before any flatten."
    return "Sequence layers apply to text (after the embedding) and series, before any flatten."
