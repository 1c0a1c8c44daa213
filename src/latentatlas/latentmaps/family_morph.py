"""Seed 004's announced "other figures": how families separate in the latent space, and what a path from a
cylinder to a capsule to a sphere decodes to (each frame judged by the oracle, with the family it recognizes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from latentatlas.data.shapes_config import FAMILIES
from latentatlas.latentmaps.codec import decode_latents, encode_dataset
from latentatlas.latentmaps.morph import lerp
from latentatlas.latentmaps.units import silhouette

PATH = ("cylinder", "capsule", "sphere")


@dataclass
class FamilyMorph:
    """Frames (T, S, S) along the waypoints' path, the oracle's verdict and recognized family per frame."""

    frames: np.ndarray
    valid: np.ndarray
    families: list[str]
    waypoints: list[int]  # frame index of each waypoint
    names: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "family_morph_path": "->".join(self.names),
            "family_morph_validity": float(np.mean(self.valid)),
            "family_morph_families": self.families,
        }


def representative(factors: dict[str, np.ndarray], family: str) -> int | None:
    """Index of a standing training figure of `family` closest to the family's median height and radius."""
    code = FAMILIES.index(family)
    idx = np.flatnonzero((np.asarray(factors["family"]) == code) & (np.asarray(factors["orientation"]) == 0))
    if len(idx) == 0:
        return None
    h, r = np.asarray(factors["height"])[idx], np.asarray(factors["radius"])[idx]
    score = np.abs(h - np.median(h)) / (np.ptp(h) + 1e-9) + np.abs(r - np.median(r)) / (np.ptp(r) + 1e-9)
    return int(idx[np.argmin(score)])


def family_morph(model, images, factors, oracle, names=PATH, steps_per_leg: int = 8) -> FamilyMorph | None:
    """Linear path through the latent means of one representative figure per family; None if a family is missing."""
    picks = [representative(factors, name) for name in names]
    if any(p is None for p in picks):
        return None
    mu, _ = encode_dataset(model, np.asarray(images)[picks])
    legs = [lerp(mu[k], mu[k + 1], steps_per_leg + 1)[:-1] for k in range(len(picks) - 1)]
    z = np.concatenate([*legs, mu[-1:]])
    frames = decode_latents(model, z)
    scores = oracle.score(frames)
    # the family of the best match, for valid frames only: an invalid frame matches no figure well
    recognized = [FAMILIES[int(c)] if ok else "invalid" for c, ok in zip(scores.factors["family"], scores.valid)]
    waypoints = [k * steps_per_leg for k in range(len(picks))]
    return FamilyMorph(frames, np.asarray(scores.valid), recognized, waypoints, tuple(names))


def family_separation(mu: np.ndarray, factors: dict[str, np.ndarray]) -> float | None:
    """Mean silhouette of the latent means grouped by family (1 = families apart, 0 = mixed); None for one family."""
    fam = np.asarray(factors.get("family", np.zeros(len(mu))))
    return silhouette(mu, fam) if len(np.unique(fam)) > 1 else None
