"""PyTorch backend: build, train (mixed precision on CUDA), predict, and weights as safetensors.

The loop indexes tensors already on the device instead of a DataLoader (no worker processes, no
per-batch collation), which is what keeps it within a few percent of a hand-written loop.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import safetensors.torch
import torch
from torch import nn

from core.dl import torch_nets
from core.dl.data import Prepared
from core.dl.loop import Tracker, out_of_memory
from core.dl.spec import TrainSpec

NAME = "pytorch"


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def version() -> dict[str, str]:
    return {"torch": torch.__version__}


def build(spec: TrainSpec, net: dict[str, Any]) -> nn.Module:
    """The network for `spec` and the input description `net` (kind, shape, n_out, vocab; see data.net_input)."""
    torch.manual_seed(spec.seed)
    return torch_nets.build(spec, net["kind"], tuple(net["shape"]), int(net["n_out"]), int(net["vocab"]))


def parameters(net: nn.Module) -> int:
    return int(sum(p.numel() for p in net.parameters()))


def _optimizer(spec: TrainSpec, params: Any) -> torch.optim.Optimizer:
    lr = spec.learning_rate
    return {"adam": lambda: torch.optim.Adam(params, lr=lr), "adamw": lambda: torch.optim.AdamW(params, lr=lr),
            "sgd": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
            "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr)}[spec.options.optimizer]()


def _tensor(array: np.ndarray, dev: str) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(dev)


def loss_fn(loss: str) -> nn.Module:
    return nn.CrossEntropyLoss() if loss == "ce" else nn.MSELoss()


def fit(net: nn.Module, prepared: Prepared, spec: TrainSpec, loss: str, tracker: Tracker) -> nn.Module:
    """Train `net`; return it with the weights of the best epoch. Raises ModelError for NaN loss or GPU OOM."""
    dev = device()
    try:
        if loss == "gan":
            return _fit_gan(net.to(dev), prepared, spec, tracker, dev)
        return _fit(net.to(dev), prepared, spec, loss, tracker, dev)
    except torch.cuda.OutOfMemoryError as exc:
        raise out_of_memory(spec.batch_size) from exc


def _fit(net: nn.Module, p: Prepared, spec: TrainSpec, loss: str, tracker: Tracker, dev: str) -> nn.Module:
    x, y = _tensor(p.x_train, dev), _tensor(_targets(p.y_train, loss), dev)
    xv, yv = _tensor(p.x_val, dev), _tensor(_targets(p.y_val, loss), dev)
    criterion, optimizer = loss_fn(loss), _optimizer(spec, net.parameters())
    step = _step(net, criterion, optimizer, amp=dev == "cuda")
    skip_single = _has_batchnorm(net)  # a batch of one row breaks batch normalisation; its row is seen next epoch
    generator = torch.Generator().manual_seed(spec.seed)
    best = _copy(net)
    batch = spec.batch_size
    for epoch in range(1, spec.epochs + 1):
        net.train()
        order = torch.randperm(len(x), generator=generator).to(dev)
        losses, sizes = [], []
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            if skip_single and start and len(idx) < 2:
                continue
            value = step(x[idx], y[idx])
            losses.append(value)
            sizes.append(len(idx))
            tracker.batch(epoch, value)
        train_loss = float((torch.stack(losses).float() * torch.tensor(sizes, device=dev)).sum()) / max(sum(sizes), 1)
        val_loss, metric = evaluate(net, xv, yv, criterion, loss, batch)
        improved, stop = tracker.epoch(epoch, train_loss, val_loss, metric)
        if improved:
            best = _copy(net)
        if stop:
            break
    net.load_state_dict(best)
    return net.eval()


def _step(net: nn.Module, criterion: nn.Module, optimizer: torch.optim.Optimizer, *, amp: bool) -> Any:
    """One optimisation step on a batch, returning its loss as a detached device tensor (no host sync).
    On CUDA: float16 autocast with a gradient scaler; elsewhere the plain step a hand-written loop takes."""
    if not amp:
        def plain(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            out = criterion(net(xb), yb)
            out.backward()
            optimizer.step()
            return out.detach()

        return plain
    scaler = torch.amp.GradScaler("cuda")

    def scaled(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with _autocast(True):
            out = criterion(net(xb), yb)
        scaler.scale(out).backward()
        scaler.step(optimizer)
        scaler.update()
        return out.detach()

    return scaled


def _copy(net: nn.Module) -> dict[str, torch.Tensor]:
    """The weights (and buffers) as they are now: a clone of each tensor, on its device."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _autocast(enabled: bool) -> contextlib.AbstractContextManager:
    return torch.autocast("cuda", dtype=torch.float16) if enabled else contextlib.nullcontext()


def _has_batchnorm(net: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


def _targets(y: np.ndarray, loss: str) -> np.ndarray:
    if loss == "ce":
        return y.astype("int64")
    y = y.astype("float32")
    return y[:, None] if y.ndim == 1 else y


@torch.no_grad()
def evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, criterion: nn.Module, loss: str,
             batch: int) -> tuple[float, float]:
    """Validation loss, and accuracy (classifiers) or RMSE in standardised units (others)."""
    net.eval()
    outs = torch.cat([net(x[i:i + max(batch, 256)]).float() for i in range(0, len(x), max(batch, 256))])
    value = float(criterion(outs, y))
    if loss == "ce":
        return value, float((outs.argmax(1) == y).float().mean())
    return value, math.sqrt(max(value, 0.0))


def _fit_gan(net: torch_nets.GAN, p: Prepared, spec: TrainSpec, tracker: Tracker, dev: str) -> nn.Module:
    x = _tensor(p.x_train, dev)
    xv = _tensor(p.x_val, dev)
    g_opt = torch.optim.Adam(net.generator.parameters(), lr=spec.learning_rate, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(net.discriminator.parameters(), lr=spec.learning_rate, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(spec.seed)
    for epoch in range(1, spec.epochs + 1):
        net.train()
        order = torch.randperm(len(x), generator=generator).to(dev)
        g_losses = []
        for start in range(0, len(x), spec.batch_size):
            real = x[order[start:start + spec.batch_size]]
            z = torch.randn(len(real), net.latent, generator=generator).to(dev)
            fake = net.generator(z)
            d_opt.zero_grad(set_to_none=True)
            d_loss = (bce(net.discriminator(real), torch.ones(len(real), 1, device=dev))
                      + bce(net.discriminator(fake.detach()), torch.zeros(len(real), 1, device=dev)))
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad(set_to_none=True)
            g_loss = bce(net.discriminator(fake), torch.ones(len(real), 1, device=dev))
            g_loss.backward()
            g_opt.step()
            g_losses.append(g_loss.detach() * len(real))
            tracker.batch(epoch, d_loss.detach())
        g_mean = float(torch.stack(g_losses).sum()) / len(x)
        tracker.epoch(epoch, g_mean, _gan_val(net, xv, generator, dev), float(d_loss.detach()))
    tracker.best_epoch = spec.epochs  # a GAN keeps its last state: its losses do not measure quality
    return net.eval()


@torch.no_grad()
def _gan_val(net: torch_nets.GAN, xv: torch.Tensor, generator: torch.Generator, dev: str) -> float:
    """Mean gap between the validation rows' and generated rows' column means and stds (lower is closer)."""
    net.eval()
    fake = net.generator(torch.randn(len(xv), net.latent, generator=generator).to(dev))
    return float((fake.mean(0) - xv.mean(0)).abs().mean() + (fake.std(0) - xv.std(0)).abs().mean())


@torch.no_grad()
def predict(net: nn.Module, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Raw outputs (logits, standardised values or reconstructions) for `x`."""
    net.eval()
    dev = next(net.parameters()).device
    outs = [net(_tensor(x[i:i + batch], str(dev))).float().cpu().numpy() for i in range(0, len(x), batch)]
    return np.concatenate(outs) if outs else np.empty((0,))


@torch.no_grad()
def generate(net: torch_nets.GAN, n_rows: int, seed: int) -> np.ndarray:
    net.eval()
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n_rows, net.latent, generator=generator)
    dev = next(net.parameters()).device
    return net.generator(z.to(dev)).float().cpu().numpy()


def dump(net: nn.Module) -> bytes:
    """The weights as safetensors bytes (tensors only: nothing in the file can run)."""
    return safetensors.torch.save({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()})


def load(spec: TrainSpec, net_input: dict[str, Any], blob: bytes) -> nn.Module:
    """Rebuild the network from its spec and load the stored weights (strict: every tensor must match)."""
    net = build(spec, net_input)
    net.load_state_dict(safetensors.torch.load(blob))
    return net.to(device()).eval()
