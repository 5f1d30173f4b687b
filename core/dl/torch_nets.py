"""PyTorch networks, one builder per architecture and input kind, all from a validated `TrainSpec`.

Input layouts (per sample): tabular (features,), image (channels, height, width), tokens (length,) of
word ids with 0 as padding, series (window, 1).
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import nn

from core.dl import custom
from core.dl.spec import TrainSpec
from core.errors import InvalidInput


def _mlp(sizes: list[int], dropout: float, act: type[nn.Module] = nn.ReLU) -> list[nn.Module]:
    out: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        out += [nn.Linear(a, b), act(), nn.Dropout(dropout)]
    return out


class TabularResNet(nn.Module):
    """Gorishniy et al. 2021: Linear, then blocks x + Dropout(Linear(Dropout(ReLU(Linear(BN(x)))))), then BN-ReLU-Linear."""

    def __init__(self, n_in: int, n_out: int, hidden: int, blocks: int, dropout: float) -> None:
        super().__init__()
        self.first = nn.Linear(n_in, hidden)
        self.blocks = nn.ModuleList(nn.Sequential(nn.BatchNorm1d(hidden), nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                                  nn.Dropout(dropout), nn.Linear(2 * hidden, hidden),
                                                  nn.Dropout(dropout)) for _ in range(blocks))
        self.head = nn.Sequential(nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.first(x)
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)


class FTTransformer(nn.Module):
    """Each feature becomes a token (x_j * w_j + b_j), a [CLS] token is prepended, the encoder's CLS output predicts."""

    def __init__(self, n_in: int, n_out: int, d: int, layers: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, d) * 0.1)
        self.bias = nn.Parameter(torch.zeros(n_in, d))
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.ReLU(), nn.Linear(d, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x[:, :, None] * self.weight + self.bias
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1)
        return self.head(self.encoder(tokens)[:, 0])


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                                  nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.skip = (nn.Identity() if stride == 1 and c_in == c_out
                     else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def _image_cnn(shape: tuple[int, ...], n_out: int, spec: TrainSpec) -> nn.Module:
    o = spec.options
    c, h, w = shape
    parts: list[nn.Module] = []
    for i in range(o.layers):
        f = o.filters * 2 ** i
        parts += [nn.Conv2d(c, f, 3, padding=1), nn.BatchNorm2d(f), nn.ReLU()]
        if min(h, w) >= 2:
            parts.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        c = f
    return nn.Sequential(*parts, nn.Flatten(), nn.Dropout(o.dropout), nn.Linear(c * h * w, o.hidden), nn.ReLU(),
                         nn.Linear(o.hidden, n_out))


def _image_resnet(shape: tuple[int, ...], n_out: int, spec: TrainSpec) -> nn.Module:
    o = spec.options
    blocks: list[nn.Module] = [nn.Conv2d(shape[0], o.filters, 3, padding=1, bias=False), nn.BatchNorm2d(o.filters),
                               nn.ReLU()]
    c = o.filters
    for i in range(o.layers):
        out = o.filters * 2 ** min(i, 3)
        blocks.append(BasicBlock(c, out, 2 if i > 0 and min(shape[1:]) >= 2 ** (i + 1) else 1))
        c = out
    return nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(o.dropout), nn.Linear(c, n_out))


class SequenceNet(nn.Module):
    """Text (word ids, embedded) or a series (window, 1) through CNN / RNN / LSTM / GRU / Transformer, then a head."""

    def __init__(self, arch: str, shape: tuple[int, ...], n_out: int, spec: TrainSpec, vocab: int) -> None:
        super().__init__()
        o = spec.options
        self.arch, self.tokens = arch, vocab > 0
        d_in = 1
        if self.tokens:
            d_in = o.hidden if arch == "transformer" else o.embedding
            self.embed = nn.Embedding(vocab, d_in, padding_idx=0)
        steps = shape[0]
        if arch == "cnn":
            convs: list[nn.Module] = []
            for i in range(o.layers):
                convs += [nn.Conv1d(d_in if i == 0 else o.filters, o.filters, 3, padding=1), nn.ReLU()]
            self.body = nn.Sequential(*convs)
            feat = o.filters if self.tokens else o.filters * steps
        elif arch == "transformer":
            _check_heads(o.hidden, o.heads)
            self.project = nn.Identity() if self.tokens else nn.Linear(1, o.hidden)
            self.position = nn.Parameter(torch.zeros(1, steps, o.hidden))
            layer = nn.TransformerEncoderLayer(o.hidden, o.heads, 2 * o.hidden, o.dropout, batch_first=True,
                                               norm_first=True)
            self.body = nn.TransformerEncoder(layer, o.layers, enable_nested_tensor=False)
            feat = o.hidden
        else:
            cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[arch]
            self.body = cls(d_in, o.hidden, num_layers=o.layers, batch_first=True,
                            dropout=o.dropout if o.layers > 1 else 0.0)
            feat = o.hidden
        self.head = nn.Sequential(nn.Dropout(o.dropout), nn.Linear(feat, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x != 0 if self.tokens else None
        h = self.embed(x) if self.tokens else x
        if self.arch == "cnn":
            h = self.body(h.transpose(1, 2))
            h = h.max(dim=2).values if self.tokens else h.flatten(1)
        elif self.arch == "transformer":
            h = self.body(self.project(h) + self.position)
            if mask is not None:
                weights = mask.unsqueeze(-1).to(h.dtype)
                h = (h * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            else:
                h = h[:, -1]
        else:
            h = self.body(h)[0][:, -1]
        return self.head(h)


class Autoencoder(nn.Module):
    def __init__(self, n_in: int, spec: TrainSpec) -> None:
        super().__init__()
        o = spec.options
        sizes = [max(o.hidden // 2 ** i, o.latent) for i in range(o.layers)]
        self.encoder = nn.Sequential(*_mlp([n_in, *sizes], o.dropout), nn.Linear(sizes[-1], o.latent))
        self.decoder = nn.Sequential(*_mlp([o.latent, *sizes[::-1]], 0.0), nn.Linear(sizes[0], n_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class GAN(nn.Module):
    """A generator from noise to encoded rows and a discriminator telling them from real ones."""

    def __init__(self, n_in: int, spec: TrainSpec) -> None:
        super().__init__()
        o = spec.options
        self.latent = o.latent
        sizes = [o.hidden] * o.layers
        self.generator = nn.Sequential(*_mlp([o.latent, *sizes], 0.0, nn.LeakyReLU), nn.Linear(o.hidden, n_in))
        self.discriminator = nn.Sequential(*_mlp([n_in, *sizes], o.dropout, nn.LeakyReLU), nn.Linear(o.hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


class Last(nn.Module):
    """Apply a (batch, channels, steps) layer to a (batch, steps, features) input."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x.transpose(1, 2)).transpose(1, 2)


class Recurrent(nn.Module):
    def __init__(self, layer: nn.Module, sequences: bool) -> None:
        super().__init__()
        self.layer, self.sequences = layer, sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer(x)[0]
        return out if self.sequences else out[:, -1]


class SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.layer = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x, x, x, need_weights=False)[0]


ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "elu": nn.ELU,
        "leaky_relu": nn.LeakyReLU}


def _custom(shape: tuple[int, ...], n_out: int, spec: TrainSpec, vocab: int) -> nn.Module:
    layers = custom.parse(spec.options.layers_spec or [])
    out_shape, _ = custom.check(layers, shape, tokens=vocab > 0, vocab=vocab, n_out=n_out,
                                budget=spec.options.max_parameters)
    modules: list[nn.Module] = []
    current = tuple(shape)
    for layer in layers:
        modules.append(_custom_layer(layer, current, vocab))
        current, _ = custom._step(layer, current, 0, vocab > 0 and not modules[:-1], vocab)
    if len(out_shape) > 1:
        modules.append(nn.Flatten())
    modules.append(nn.Linear(int(torch.tensor(out_shape).prod()), n_out))
    return nn.Sequential(*modules)


def _custom_layer(layer: Any, shape: tuple[int, ...], vocab: int) -> nn.Module:
    kind = layer.type
    if kind == "embedding":
        return nn.Embedding(vocab, layer.dim, padding_idx=0)
    if kind == "dense":
        return nn.Linear(shape[-1], layer.units)
    if kind == "conv2d":
        return nn.Conv2d(shape[0], layer.filters, layer.kernel, padding="same")
    if kind == "conv1d":
        return Last(nn.Conv1d(shape[1], layer.filters, layer.kernel, padding="same"))
    if kind in ("maxpool2d", "avgpool2d"):
        return (nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d)(layer.size)
    if kind in ("maxpool1d", "avgpool1d"):
        return Last((nn.MaxPool1d if kind == "maxpool1d" else nn.AvgPool1d)(layer.size))
    if kind in ("rnn", "lstm", "gru"):
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        return Recurrent(cls(shape[1], layer.units, batch_first=True), layer.return_sequences)
    if kind == "attention":
        return SelfAttention(shape[1], layer.heads)
    if kind == "batchnorm":
        return nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])
    if kind == "layernorm":
        return nn.LayerNorm(shape[-1])
    if kind == "flatten":
        return nn.Flatten()
    if kind == "dropout":
        return nn.Dropout(layer.rate)
    return ACTS[layer.fn]()


def _check_heads(hidden: int, heads: int) -> None:
    if hidden % heads:
        raise InvalidInput(f"The Transformer's {heads} attention heads do not divide its width of {hidden} units.",
                           hint="Choose a width (hidden) that is a multiple of the number of heads.")


def build(spec: TrainSpec, kind: str, shape: tuple[int, ...], n_out: int, vocab: int = 0) -> nn.Module:
    """The network for `spec` on inputs of `kind` and per-sample `shape`, with `n_out` outputs."""
    arch, o = spec.architecture, spec.options
    if arch == "custom":
        return _custom(shape, n_out, spec, vocab)
    if kind in ("tokens", "series"):
        return SequenceNet(arch, shape, n_out, spec, vocab)
    if kind == "image":
        return _image_cnn(shape, n_out, spec) if arch == "cnn" else _image_resnet(shape, n_out, spec)
    n_in = shape[0]
    if arch == "mlp":
        return nn.Sequential(*_mlp([n_in] + [o.hidden] * o.layers, o.dropout), nn.Linear(o.hidden, n_out))
    if arch == "resnet":
        return TabularResNet(n_in, n_out, o.hidden, o.layers, o.dropout)
    if arch == "transformer":
        _check_heads(o.hidden, o.heads)
        return FTTransformer(n_in, n_out, o.hidden, o.layers, o.heads, o.dropout)
    if arch == "autoencoder":
        return Autoencoder(n_in, spec)
    return GAN(n_in, spec)
