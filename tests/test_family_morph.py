"""The families' latent path with a decoder that draws true figures: a perfect model recognizes every waypoint."""

import numpy as np
import torch

from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import FAMILIES, ShapesConfig, generate, render
from latentatlas.latentmaps.family_morph import PATH, family_morph, family_separation, representative


class FactorModel(torch.nn.Module):
    """encode -> (family code, height, radius) of the nearest training figure; decode renders those factors."""

    latent_dim, variational = 3, False

    def __init__(self, images, factors):
        super().__init__()
        self.images = torch.as_tensor(np.asarray(images), dtype=torch.float32).flatten(1)
        self.z = torch.as_tensor(
            np.stack([factors["family"], factors["height"], factors["radius"]], 1), dtype=torch.float32
        )

    def encode(self, x):
        d = torch.cdist(x.flatten(1), self.images)
        return self.z[d.argmin(1)], None

    def decode(self, z):
        fam = np.clip(np.round(z[:, 0].numpy()), 0, len(FAMILIES) - 1).astype(int)
        f = {"family": fam, "height": z[:, 1].numpy(), "radius": z[:, 2].numpy(), "orientation": np.zeros(len(z), int)}
        img = torch.as_tensor(render(f), dtype=torch.float32)[:, None]
        return (img * 2 - 1) * 20  # logits


def test_path_starts_and_ends_on_the_right_families_and_separation_is_measured():
    cfg = ShapesConfig(family=list(FAMILIES), p_lying=0.0)
    images, factors = generate(cfg, 200, seed=0)
    oracle = ValidityOracle(families=tuple(FAMILIES), shapes_cfg=cfg).fit()
    fm = family_morph(FactorModel(images, factors), images, factors, oracle, steps_per_leg=4)
    assert len(fm.frames) == 9 and fm.waypoints == [0, 4, 8]
    assert [fm.families[k] for k in fm.waypoints] == list(PATH)
    assert fm.valid[fm.waypoints].all()
    mu = np.stack([factors["family"] * 100.0, factors["height"], factors["radius"]], 1)
    assert family_separation(mu, factors) > 0.9  # families far apart along the first axis
    assert family_separation(mu, {"family": np.zeros(len(mu))}) is None


def test_representative_is_a_standing_figure_of_the_family_or_none():
    factors = {"family": np.array([0, 0, 3, 3]), "orientation": np.array([0, 1, 1, 0]),
               "height": np.array([10.0, 20, 30, 40]), "radius": np.array([5.0, 6, 7, 8])}  # fmt: skip
    assert representative(factors, "cylinder") == 0
    assert representative(factors, "capsule") == 3
    assert representative(factors, "sphere") is None
