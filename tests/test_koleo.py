"""KoLeo against a brute-force double loop, finiteness with duplicates, and the micro-batch bias."""

import math

import pytest
import torch

from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.koleo import KoLeoLoss, koleo_loss


def koleo_ref(x):
    rows = []
    for v in x.tolist():
        norm = math.sqrt(sum(c * c for c in v))
        rows.append([c / norm for c in v])
    total = 0.0
    for i, xi in enumerate(rows):
        nearest = min(math.dist(xi, xj) for j, xj in enumerate(rows) if j != i)
        total += math.log(nearest)
    return -total / len(rows)


@pytest.mark.parametrize("n, dim", [(2, 3), (17, 5), (40, 16)])
def test_matches_double_loop(rng, n, dim):
    x = torch.tensor(rng.normal(size=(n, dim)) * rng.uniform(0.1, 10))  # any scale: normalized inside
    assert koleo_loss(x).item() == pytest.approx(koleo_ref(x), abs=1e-6)


def test_duplicates_give_finite_loss_and_gradient(rng):
    base = torch.tensor(rng.normal(size=(6, 8)), dtype=torch.float32)
    x = torch.cat([base, base[:3]]).requires_grad_(True)  # three exact duplicates
    loss = koleo_loss(x)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all()
    assert loss.item() > 10  # -log(~1e-8): duplicates are heavily penalized, as they should be
    same = torch.ones(4, 3, requires_grad=True)  # every vector identical
    koleo_loss(same).backward()
    assert torch.isfinite(same.grad).all()


def test_gradient_matches_finite_differences(rng):
    x = torch.tensor(rng.normal(size=(9, 4)), requires_grad=True)
    torch.autograd.gradcheck(koleo_loss, (x,), eps=1e-6, atol=1e-5)


def test_micro_batch_mean_is_below_whole_batch(rng):
    # Each point's nearest neighbour within its micro-batch is at least as far as within the whole batch,
    # so the mean of per-micro-batch KoLeo is <= the whole-batch KoLeo (seed: 3.279 vs 4.714 for 100 = 4 x 25).
    x = torch.tensor(rng.normal(size=(100, 128)))
    whole = koleo_loss(x).item()
    micro = torch.stack([koleo_loss(part) for part in x.split(25)]).mean().item()
    assert micro < whole - 1e-3
    assert whole == pytest.approx(koleo_ref(x), abs=1e-6)


def test_module_weight_and_errors():
    x = torch.randn(8, 3)
    assert KoLeoLoss(0.1)(x).item() == pytest.approx(0.1 * koleo_loss(x).item())
    with pytest.raises(DataError, match=r"koleo: expected \(n >= 2, D\)"):
        koleo_loss(torch.randn(1, 4))
    with pytest.raises(ConfigError, match="koleo weight: must be >= 0"):
        KoLeoLoss(-0.1)
