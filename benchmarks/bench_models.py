"""Embedder training throughput on CPU, as a fraction of the machine's measured fp32 matmul FLOP/s.

Measures (1) a 2048x2048 fp32 matmul, (2) forward+backward of every convolution shape of the CNN embedder
alone (batch 128, channels-last on/off), (3) full training steps (forward, backward, Adam) at batch 128 on
32x32 inputs for the CNN (channels-last on/off), the whitened CNN of `cifar10-embed` and VGG11, (4) the training step
of `cifar10-embed` at its own batch (320) with its SGD, with and without `heap_kept`, each in a fresh subprocess
(glibc's allocator state is per process). Model FLOPs
come from a forward-hook multiply-accumulate counter (2 FLOPs per MAC, x3 for forward + backward). Timings take
the median of repeated runs after warm-up; on a shared machine, numbers move by 2x from run to run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
from torch import nn

from latentatlas.config import load_config
from latentatlas.configs import CONFIG_DIR
from latentatlas.heap import heap_kept
from latentatlas.models.cnn import ConvEmbedder
from latentatlas.models.vgg import VGG11Embedder
from latentatlas.models.whitened import WhitenedConvNet

_M = load_config(CONFIG_DIR / "cifar10-triplet.yaml").model
DEFAULT = {"widths": tuple(_M.cnn_widths), "stem_width": _M.cnn_stem, "blocks": _M.cnn_blocks}  # the shipped default
_E = load_config(CONFIG_DIR / "cifar10-embed.yaml").model
EMBED = {"widths": tuple(_E.cnn_widths), "patch": _E.whiten_patch, "embedding_dim": _E.embedding_dim}
_T = load_config(CONFIG_DIR / "cifar10-embed.yaml").train
EMBED_BATCH = _T.classes_per_batch * _T.images_per_class

BATCH = 128


def median_time(fn: Callable[[], object], reps: int, warmup: int = 2) -> float:
    """Median wall time of `fn()` in seconds over `reps` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_flops(size: int = 2048, reps: int = 5) -> float:
    """Measured fp32 FLOP/s of a `size x size` matmul (2 n^3 FLOPs)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / median_time(lambda: a @ b, reps)


def count_macs(model: nn.Module, shape: tuple[int, ...] = (1, 3, 32, 32)) -> tuple[int, list[tuple]]:
    """Multiply-accumulates of one forward pass of a single input, and each conv's (module, input shape)."""
    total, convs = [0], []

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total[0] += output.numel() * k
            convs.append((module, tuple(inputs[0].shape)))
        elif isinstance(module, nn.Linear):
            total[0] += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()(torch.zeros(shape))
    model.train()
    for handle in handles:
        handle.remove()
    return total[0], convs


def train_step(model: nn.Module, opt: torch.optim.Optimizer, batch: int):
    """One training step (forward, backward, optimizer) of `model` on a fixed random batch, as a callable."""
    x = torch.randn(batch, 3, 32, 32)

    def step() -> None:
        loss = model(x).pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def step_time(model: nn.Module, reps: int) -> float:
    """Median seconds per training step (forward, backward, Adam) on a random batch of 128 images."""
    return median_time(train_step(model, torch.optim.Adam(model.parameters(), 1e-4), BATCH), reps)


def embed_step(kept: bool, reps: int) -> dict:
    """Seconds per `cifar10-embed` training step (its network, batch and SGD), with `heap_kept()` or without."""
    torch.manual_seed(0)
    model = WhitenedConvNet(**EMBED)
    macs, _ = count_macs(model)
    opt = torch.optim.SGD(model.parameters(), lr=_T.lr, momentum=0.9, nesterov=True, weight_decay=_T.weight_decay)
    step = train_step(model, opt, EMBED_BATCH)
    if kept:
        with heap_kept() as applies:
            seconds = median_time(step, reps)
    else:
        applies, seconds = False, median_time(step, reps)
    return {"seconds": seconds, "applies": applies, "flops": 3 * 2 * macs * EMBED_BATCH}


def heap_table(reps: int, peak: float) -> list[str]:
    """The `cifar10-embed` step with and without `heap_kept`, each measured in a fresh process."""
    rows = ["| allocator | ms / step | images/s | % of matmul |", "|---|---|---|---|"]
    for kept in (False, True):
        proc = subprocess.run(
            [sys.executable, __file__, "--embed-step", "kept" if kept else "default", str(reps)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if kept and not out["applies"]:
            return [f"`heap_kept` does not apply here (not glibc): {rows[0]}"]
        name = "`heap_kept()` (as `train` runs)" if kept else "glibc defaults"
        rows.append(
            f"| {name} | {out['seconds'] * 1e3:.0f} | {EMBED_BATCH / out['seconds']:.0f} "
            f"| {100 * out['flops'] / out['seconds'] / peak:.0f}% |"
        )
    return rows


def conv_table(reps: int) -> list[str]:
    """Forward+backward time of each convolution of the default CNN, alone, channels-last on and off."""
    _, convs = count_macs(ConvEmbedder(channels_last=False, **DEFAULT))
    rows = ["| conv (in -> out, stride, input HxW) | NCHW ms | channels-last ms | channels-last GFLOP/s |"]
    rows.append("|---|---|---|---|")
    for conv, shape in convs:
        x = torch.randn(BATCH, *shape[1:])
        out_hw = (shape[2] // conv.stride[0]) ** 2
        passes = 2 if conv.in_channels == 3 else 3  # the stem computes no input gradient
        flops = 2 * passes * BATCH * out_hw * conv.out_channels * conv.in_channels * 9
        times = []
        for channels_last in (False, True):
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            layer = nn.Conv2d(conv.in_channels, conv.out_channels, 3, conv.stride, 1, bias=False).to(memory_format=fmt)
            # The stem's input is data: no input gradient, as in the model.
            xi = x.contiguous(memory_format=fmt).requires_grad_(conv.in_channels != 3)
            grad = torch.randn(BATCH, conv.out_channels, shape[2] // conv.stride[0], shape[3] // conv.stride[1])
            grad = grad.contiguous(memory_format=fmt)
            times.append(median_time(lambda layer=layer, xi=xi, grad=grad: layer(xi).backward(grad), reps, warmup=1))
        rows.append(
            f"| {conv.in_channels} -> {conv.out_channels}, s{conv.stride[0]}, {shape[2]}x{shape[3]} "
            f"| {times[0] * 1e3:.1f} | {times[1] * 1e3:.1f} | {flops / times[1] / 1e9:.1f} |"
        )
    return rows


def run(quick: bool = False) -> str:
    reps = 2 if quick else 10
    peak = matmul_flops(reps=reps + 3)
    models = {
        "CNN (default of cifar10-triplet), channels-last": lambda: ConvEmbedder(channels_last=True, **DEFAULT),
        "CNN (default of cifar10-triplet), NCHW": lambda: ConvEmbedder(channels_last=False, **DEFAULT),
        f"whitened CNN {list(EMBED['widths'])} (cifar10-embed), channels-last": lambda: WhitenedConvNet(**EMBED),
        "VGG11 + Linear(512, 128), channels-last": lambda: VGG11Embedder(channels_last=True),
    }
    if not quick:
        models["CNN default, norm=group, channels-last"] = lambda: ConvEmbedder(norm="group", **DEFAULT)
        models["CNN widths (64, 128, 256), stem 32 (earlier default)"] = lambda: ConvEmbedder()
        models["VGG11, NCHW"] = lambda: VGG11Embedder(channels_last=False)
    rows = ["| model | params | MFLOP / image (fwd) | images/s | GFLOP/s | % of matmul |", "|---|---|---|---|---|---|"]
    for name, make in models.items():
        torch.manual_seed(0)
        model = make()
        macs, _ = count_macs(model)
        seconds = step_time(model, reps)
        achieved = 3 * 2 * macs * BATCH / seconds
        params = sum(p.numel() for p in model.parameters())
        rows.append(
            f"| {name} | {params / 1e6:.2f} M | {2 * macs / 1e6:.0f} | {BATCH / seconds:.0f} "
            f"| {achieved / 1e9:.0f} | {100 * achieved / peak:.0f}% |"
        )
    return "\n".join(
        [
            "## Embedders: training throughput on CPU",
            "",
            f"fp32 2048x2048 matmul: **{peak / 1e9:.0f} GFLOP/s** ({torch.get_num_threads()} threads). "
            f"Training step = forward + backward + Adam, batch {BATCH}, 32x32; FLOPs = 3 x forward "
            "(hook-counted MACs x 2). Median of "
            f"{reps} steps after 2 warm-up steps.",
            "",
            *rows,
            "",
            f"The `cifar10-embed` training step at its batch ({EMBED_BATCH}) with its SGD (Nesterov momentum), each "
            f"row in a fresh process, median of {reps} steps. glibc serves every chunk above 32 MiB with a fresh "
            "`mmap` (its first stage's activations and gradients are 59 MiB at this batch), so without `heap_kept` "
            "each step faults in and zeroes new pages:",
            "",
            *heap_table(reps, peak),
            "",
            "Each convolution of the default CNN alone (forward + backward, batch 128):",
            "",
            *conv_table(1 if quick else 5),
        ]
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--embed-step"]:
        print(json.dumps(embed_step(sys.argv[2] == "kept", int(sys.argv[3]))))
    else:
        print(run(quick="--quick" in sys.argv))
