"""Disentanglement scores: time of MIG, SAP and DCI on 10,000 encoded figures of a 10-D latent, and of the
FactorVAE and BetaVAE scores with their documented sample counts, including generation and encoding.

The model is an untrained `ConvVAE(latent_dim=10)` with the default widths on the five families (64x64), its
encoder head rescaled so the codes spread about 1 per dim like a trained VAE's active dims (untrained, they
spread ~0.002, FactorVAE would prune every dim and stop before its batches): the scores' cost does not depend
on what the weights learned. Issue 14's targets: MIG + SAP + DCI <= 30 s;
FactorVAE + BetaVAE <= 2 minutes. The table says which step dominates each.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from latentatlas.data.shapes import FAMILIES, ShapesConfig, generate
from latentatlas.latentmaps.disentanglement import (
    ShapesSampler,
    beta_vae_score,
    dci,
    factor_vae_score,
    mig,
    sap,
    shapes_factors,
)
from latentatlas.latentmaps.disentanglement.beta_vae import DEFAULTS as BETA_VAE_DEFAULTS
from latentatlas.latentmaps.disentanglement.dci import DEFAULT_MAX_TRAIN
from latentatlas.latentmaps.disentanglement.factor_vae import DEFAULTS as FACTOR_VAE_DEFAULTS
from latentatlas.models.autoencoder import ConvVAE

CFG = ShapesConfig(family=list(FAMILIES))


class TimedSampler(ShapesSampler):
    """A ShapesSampler that adds up the seconds spent drawing factors, rendering and encoding."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = {"draw factors": 0.0, "render": 0.0, "encode": 0.0}

    def _timed(self, key, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        self.seconds[key] += time.perf_counter() - start
        return out

    def sample(self, n, rng):
        return self._timed("draw factors", super().sample, n, rng)

    def render(self, factors):
        return self._timed("render", super().render, factors)

    def encode(self, images):
        return self._timed("encode", super().encode, images)


def spread_model(latent_dim: int = 10) -> ConvVAE:
    """An untrained ConvVAE whose posterior means have standard deviation ~1 per dim on the figures."""
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=latent_dim)
    codes = ShapesSampler(model, CFG).encode(generate(CFG, 512, seed=1)[0])
    with torch.no_grad():
        scale = torch.from_numpy(1.0 / codes.std(axis=0)).float()
        model.head.weight[:latent_dim] *= scale[:, None]  # the mean half of the VAE head
        model.head.bias[:latent_dim] *= scale
    return model


def _timed(fn, *args, **kwargs) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _rows(steps: dict[str, float]) -> list[str]:
    total = sum(steps.values())
    return [f"| {name} | {sec:.2f} s | {sec / total:.0%} |" for name, sec in steps.items()] + [
        f"| **total** | **{total:.2f} s** | |"
    ]


def _fixed_data(model: torch.nn.Module, n: int, dci_max_train: int | None) -> dict[str, float]:
    sampler = TimedSampler(model, CFG)
    (images, factors), gen_s = _timed(generate, CFG, n, 0)
    codes, enc_s = _timed(lambda: np.concatenate([sampler.encode(images[s : s + 4096]) for s in range(0, n, 4096)]))
    f = shapes_factors(factors, CFG)
    return {
        f"generate {n:,} figures": gen_s,
        f"encode {n:,} figures": enc_s,
        "MIG": _timed(mig, codes, f)[1],
        "SAP": _timed(sap, codes, f)[1],
        f"DCI (gradient boosting on {dci_max_train} training codes)": _timed(dci, codes, f, max_train=dci_max_train)[1],
    }


def _with_sampler(model: torch.nn.Module, score, kwargs: dict) -> dict[str, float]:
    sampler = TimedSampler(model, CFG)
    _, total = _timed(score, sampler, **kwargs)
    return {**sampler.seconds, "variances, votes, classifier": total - sum(sampler.seconds.values())}


def _dominant(steps: dict[str, float]) -> str:
    name = max(steps, key=steps.get)
    return f"{name} ({steps[name] / sum(steps.values()):.0%})"


def _sampler_section(fv: dict, bv: dict, fv_kw: dict, bv_kw: dict) -> list[str]:
    fv_images = fv_kw["num_variance_estimate"] + fv_kw["batch_size"] * (fv_kw["num_train"] + fv_kw["num_eval"])
    bv_images = 2 * bv_kw["batch_size"] * (bv_kw["num_train"] + bv_kw["num_eval"])
    total = sum(fv.values()) + sum(bv.values())
    return [
        f"### FactorVAE ({fv_images:,} figures: {fv_kw}) and BetaVAE ({bv_images:,} figures: {bv_kw})",
        "",
        f"Both together, generation and encoding included: {total:.1f} s (target <= 120 s).",
        "",
        "| FactorVAE step | time | share |",
        "|---|---|---|",
        *_rows(fv),
        "",
        "| BetaVAE step | time | share |",
        "|---|---|---|",
        *_rows(bv),
        "",
        f"Dominant steps: FactorVAE {_dominant(fv)}, BetaVAE {_dominant(bv)}.",
    ]


def run(quick: bool = False) -> str:
    model = spread_model()
    n, dci_max_train = (600, 200) if quick else (10_000, DEFAULT_MAX_TRAIN)
    fv_kw, bv_kw = dict(FACTOR_VAE_DEFAULTS), dict(BETA_VAE_DEFAULTS)
    if quick:
        fv_kw.update(num_train=10, num_eval=10, num_variance_estimate=200)
        bv_kw.update(num_train=10, num_eval=10)
    fixed = _fixed_data(model, n, dci_max_train)
    fv, bv = _with_sampler(model, factor_vae_score, fv_kw), _with_sampler(model, beta_vae_score, bv_kw)
    scores_only = sum(v for k, v in fixed.items() if not k.startswith(("generate", "encode")))
    names = ", ".join(shapes_factors(generate(CFG, 2, 0)[1], CFG))
    return "\n".join(
        [
            "## Disentanglement scores",
            "",
            f"Untrained `ConvVAE(latent_dim=10)` (codes rescaled to spread ~1), five families at 64x64, torch threads "
            f"{torch.get_num_threads()}. Factors: {names} (height and radius in 20 bins).",
            "",
            f"### MIG, SAP, DCI on {n:,} codes (scores alone: {scores_only:.1f} s; target <= 30 s)",
            "",
            "| step | time | share |",
            "|---|---|---|",
            *_rows(fixed),
            "",
            f"Dominant step: {_dominant(fixed)}.",
            "",
            *_sampler_section(fv, bv, fv_kw, bv_kw),
        ]
    )
