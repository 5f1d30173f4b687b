"""TensorFlow (Keras 3) networks mirroring `core.dl.torch_nets` layer for layer, from the same `TrainSpec`.

Images arrive channels-last here (the backend transposes), so a spec gives the same network shape in
both frameworks. Import this module only through `core.dl.tf_backend`, which fixes Keras's backend.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers as L
from keras import ops

from core.dl import custom
from core.dl.spec import TrainSpec
from core.dl.torch_nets import _check_heads


@keras.saving.register_keras_serializable(package="workbench")
class FeatureTokens(L.Layer):
    """FT-Transformer tokenizer: feature j becomes x_j * w_j + b_j, with a learned [CLS] token first."""

    def __init__(self, d: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.d = d

    def build(self, shape: tuple[int, ...]) -> None:
        n = int(shape[-1])
        self.w = self.add_weight(shape=(n, self.d), initializer=keras.initializers.RandomNormal(stddev=0.1))
        self.b = self.add_weight(shape=(n, self.d), initializer="zeros")
        self.cls = self.add_weight(shape=(1, 1, self.d), initializer="zeros")

    def call(self, x: Any) -> Any:
        tokens = ops.expand_dims(x, -1) * self.w + self.b
        cls = ops.broadcast_to(ops.cast(self.cls, tokens.dtype), (ops.shape(x)[0], 1, self.d))
        return ops.concatenate([cls, tokens], axis=1)


@keras.saving.register_keras_serializable(package="workbench")
class Position(L.Layer):
    """A learned position embedding added to (batch, steps, d)."""

    def build(self, shape: tuple[int, ...]) -> None:
        self.p = self.add_weight(shape=(1, int(shape[1]), int(shape[2])), initializer="zeros")

    def call(self, x: Any) -> Any:
        return x + ops.cast(self.p, x.dtype)


@keras.saving.register_keras_serializable(package="workbench")
class MaskedMean(L.Layer):
    """Mean over the steps whose word id is not padding (0)."""

    def call(self, h: Any, ids: Any) -> Any:
        weights = ops.expand_dims(ops.cast(ops.not_equal(ids, 0), h.dtype), -1)
        return ops.sum(h * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


def _encoder_block(x: Any, d: int, heads: int, dropout: float) -> Any:
    """Pre-norm Transformer encoder layer (as torch's `norm_first=True`)."""
    h = L.LayerNormalization(epsilon=1e-5)(x)
    h = L.MultiHeadAttention(heads, d // heads, dropout=dropout)(h, h)
    x = L.Add()([x, L.Dropout(dropout)(h)])
    h = L.LayerNormalization(epsilon=1e-5)(x)
    h = L.Dense(d)(L.Dropout(dropout)(L.Dense(2 * d, activation="relu")(h)))
    return L.Add()([x, L.Dropout(dropout)(h)])


def _head(x: Any, n_out: int) -> Any:
    return L.Dense(n_out, dtype="float32")(x)


def _tabular(arch: str, inp: Any, n_out: int, o: Any) -> Any:
    if arch == "mlp":
        x = inp
        for _ in range(o.layers):
            x = L.Dropout(o.dropout)(L.Dense(o.hidden, activation="relu")(x))
        return _head(x, n_out)
    if arch == "resnet":
        x = L.Dense(o.hidden)(inp)
        for _ in range(o.layers):
            h = L.Dense(2 * o.hidden, activation="relu")(L.BatchNormalization(epsilon=1e-5, momentum=0.9)(x))
            h = L.Dropout(o.dropout)(L.Dense(o.hidden)(L.Dropout(o.dropout)(h)))
            x = L.Add()([x, h])
        return _head(L.ReLU()(L.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)), n_out)
    _check_heads(o.hidden, o.heads)
    x = FeatureTokens(o.hidden)(inp)
    for _ in range(o.layers):
        x = _encoder_block(x, o.hidden, o.heads, o.dropout)
    return _head(L.ReLU()(L.LayerNormalization(epsilon=1e-5)(x[:, 0])), n_out)


def _image(arch: str, inp: Any, n_out: int, o: Any, shape: tuple[int, ...]) -> Any:
    _, h, w = shape
    if arch == "cnn":
        x = inp
        for i in range(o.layers):
            x = L.ReLU()(L.BatchNormalization(epsilon=1e-5, momentum=0.9)(L.Conv2D(o.filters * 2 ** i, 3, padding="same")(x)))
            if min(h, w) >= 2:
                x, h, w = L.MaxPooling2D(2)(x), h // 2, w // 2
        x = L.Dense(o.hidden, activation="relu")(L.Dropout(o.dropout)(L.Flatten()(x)))
        return _head(x, n_out)
    x = L.ReLU()(L.BatchNormalization(epsilon=1e-5, momentum=0.9)(L.Conv2D(o.filters, 3, padding="same", use_bias=False)(inp)))
    c = o.filters
    for i in range(o.layers):
        out = o.filters * 2 ** min(i, 3)
        stride = 2 if i > 0 and min(shape[1:]) >= 2 ** (i + 1) else 1
        body = L.Conv2D(out, 3, strides=stride, padding="same", use_bias=False)(x)
        body = L.ReLU()(L.BatchNormalization(epsilon=1e-5, momentum=0.9)(body))
        body = L.BatchNormalization(epsilon=1e-5, momentum=0.9)(L.Conv2D(out, 3, padding="same", use_bias=False)(body))
        skip = x if stride == 1 and c == out else L.BatchNormalization(epsilon=1e-5, momentum=0.9)(
            L.Conv2D(out, 1, strides=stride, use_bias=False)(x))
        x, c = L.ReLU()(L.Add()([body, skip])), out
    return _head(L.Dropout(o.dropout)(L.GlobalAveragePooling2D()(x)), n_out)


def _sequence(arch: str, inp: Any, n_out: int, o: Any, vocab: int) -> Any:
    tokens = vocab > 0
    x = inp
    if tokens:
        x = L.Embedding(vocab, o.hidden if arch == "transformer" else o.embedding)(inp)
    if arch == "cnn":
        for _ in range(o.layers):
            x = L.Conv1D(o.filters, 3, padding="same", activation="relu")(x)
        x = L.GlobalMaxPooling1D()(x) if tokens else L.Flatten()(x)
    elif arch == "transformer":
        _check_heads(o.hidden, o.heads)
        x = Position()(x if tokens else L.Dense(o.hidden)(x))
        for _ in range(o.layers):
            x = _encoder_block(x, o.hidden, o.heads, o.dropout)
        x = MaskedMean()(x, inp) if tokens else x[:, -1]
    else:
        cls = {"rnn": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU}[arch]
        for i in range(o.layers):
            last = i == o.layers - 1
            x = cls(o.hidden, return_sequences=not last)(x)
            if not last and o.dropout:
                x = L.Dropout(o.dropout)(x)
    return _head(L.Dropout(o.dropout)(x), n_out)


def _custom(inp: Any, shape: tuple[int, ...], n_out: int, spec: TrainSpec, vocab: int) -> Any:
    layers = custom.parse(spec.options.layers_spec or [])
    out_shape, _ = custom.check(layers, shape, tokens=vocab > 0, vocab=vocab, n_out=n_out,
                                budget=spec.options.max_parameters)
    x = inp
    acts = {"leaky_relu": "leaky_relu"}
    for layer in layers:
        kind = layer.type
        if kind == "embedding":
            x = L.Embedding(vocab, layer.dim)(x)
        elif kind == "dense":
            x = L.Dense(layer.units)(x)
        elif kind == "conv2d":
            x = L.Conv2D(layer.filters, layer.kernel, padding="same")(x)
        elif kind == "conv1d":
            x = L.Conv1D(layer.filters, layer.kernel, padding="same")(x)
        elif kind in ("maxpool2d", "avgpool2d"):
            x = (L.MaxPooling2D if kind == "maxpool2d" else L.AveragePooling2D)(layer.size)(x)
        elif kind in ("maxpool1d", "avgpool1d"):
            x = (L.MaxPooling1D if kind == "maxpool1d" else L.AveragePooling1D)(layer.size)(x)
        elif kind in ("rnn", "lstm", "gru"):
            x = {"rnn": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU}[kind](layer.units,
                                                                       return_sequences=layer.return_sequences)(x)
        elif kind == "attention":
            d = int(x.shape[-1])
            x = L.MultiHeadAttention(layer.heads, d // layer.heads)(x, x)
        elif kind == "batchnorm":
            x = L.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)
        elif kind == "layernorm":
            x = L.LayerNormalization(epsilon=1e-5)(x)
        elif kind == "flatten":
            x = L.Flatten()(x)
        elif kind == "dropout":
            x = L.Dropout(layer.rate)(x)
        else:
            x = L.Activation(acts.get(layer.fn, layer.fn))(x)
    if len(out_shape) > 1:
        x = L.Flatten()(x)
    return _head(x, n_out)


class GAN:
    """Generator and discriminator as two Keras models (trained by the backend's own step)."""

    def __init__(self, n_in: int, spec: TrainSpec) -> None:
        o = spec.options
        self.latent = o.latent
        self.generator = keras.Sequential([keras.Input((o.latent,)), *[L.Dense(o.hidden, activation="leaky_relu")
                                                                     for _ in range(o.layers)], L.Dense(n_in, dtype="float32")])
        d_layers: list[Any] = []
        for _ in range(o.layers):
            d_layers += [L.Dense(o.hidden, activation="leaky_relu"), L.Dropout(o.dropout)]
        self.discriminator = keras.Sequential([keras.Input((n_in,)), *d_layers, L.Dense(1, dtype="float32")])

    def count_params(self) -> int:
        return int(self.generator.count_params() + self.discriminator.count_params())

    def get_weights(self) -> list[Any]:
        return self.generator.get_weights() + self.discriminator.get_weights()

    def set_weights(self, weights: list[Any]) -> None:
        n = len(self.generator.weights)
        self.generator.set_weights(weights[:n])
        self.discriminator.set_weights(weights[n:])


def _autoencoder(inp: Any, n_in: int, o: Any) -> Any:
    sizes = [max(o.hidden // 2 ** i, o.latent) for i in range(o.layers)]
    x = inp
    for size in sizes:
        x = L.Dropout(o.dropout)(L.Dense(size, activation="relu")(x))
    x = L.Dense(o.latent)(x)
    for size in sizes[::-1]:
        x = L.Dense(size, activation="relu")(x)
    return L.Dense(n_in, dtype="float32")(x)


def build(spec: TrainSpec, kind: str, shape: tuple[int, ...], n_out: int, vocab: int = 0) -> Any:
    """The Keras model for `spec` (per-sample `shape` channels first, as in torch_nets)."""
    arch, o = spec.architecture, spec.options
    if arch == "gan":
        return GAN(shape[0], spec)
    keras_shape = (shape[1], shape[2], shape[0]) if kind == "image" else tuple(shape)
    inp = keras.Input(keras_shape, dtype="int32" if kind == "tokens" else "float32")
    if arch == "custom":
        out = _custom(inp, shape, n_out, spec, vocab)
    elif arch == "autoencoder":
        out = _autoencoder(inp, shape[0], o)
    elif kind in ("tokens", "series"):
        out = _sequence(arch, inp, n_out, o, vocab)
    elif kind == "image":
        out = _image(arch, inp, n_out, o, shape)
    else:
        out = _tabular(arch, inp, n_out, o)
    return keras.Model(inp, out)
