import math

import torch

from latentatlas.losses.elbo import elbo_loss, kl_divergence, kl_weight, reconstruction_loss


def test_reconstruction_is_bce_summed_over_pixels_by_hand():
    torch.manual_seed(0)
    logits = torch.randn(3, 1, 4, 4)
    target = (torch.rand(3, 1, 4, 4) > 0.5).float()
    total = 0.0
    for b in range(3):
        for i in range(4):
            for j in range(4):
                p = 1 / (1 + math.exp(-logits[b, 0, i, j].item()))
                t = target[b, 0, i, j].item()
                total += -(t * math.log(p) + (1 - t) * math.log(1 - p))
    assert math.isclose(reconstruction_loss(logits, target).item(), total / 3, rel_tol=1e-5)


def test_kl_matches_monte_carlo():
    torch.manual_seed(1)
    mu = torch.randn(2, 3) * 0.7
    logvar = torch.randn(2, 3) * 0.5
    std = (0.5 * logvar).exp()
    z = mu + std * torch.randn(200_000, 2, 3, dtype=torch.float64)
    q = torch.distributions.Normal(mu.double(), std.double())
    p = torch.distributions.Normal(0.0, 1.0)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)  # (2,)
    assert torch.allclose(kl_divergence(mu, logvar).double(), mc, atol=0.02)


def test_kl_zero_at_prior_and_positive_elsewhere():
    assert kl_divergence(torch.zeros(4, 2), torch.zeros(4, 2)).abs().max() == 0
    assert (kl_divergence(torch.randn(4, 2) + 0.1, torch.randn(4, 2)) > 0).all()


def test_elbo_combines_parts_with_beta_and_ae_has_no_kl():
    torch.manual_seed(2)
    logits, target = torch.randn(2, 1, 5, 5), (torch.rand(2, 1, 5, 5) > 0.5).float()
    mu, logvar = torch.randn(2, 2), torch.randn(2, 2)
    loss, parts = elbo_loss(logits, target, mu, logvar, beta=0.25)
    assert math.isclose(loss.item(), parts["recon"] + 0.25 * parts["kl"], rel_tol=1e-6)
    ae_loss, ae_parts = elbo_loss(logits, target, mu, None)
    assert ae_parts["kl"] == 0.0 and math.isclose(ae_loss.item(), parts["recon"], rel_tol=1e-6)


def test_kl_warmup_is_linear_then_constant():
    assert [kl_weight(2.0, e, 4) for e in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    assert kl_weight(2.0, 0, 0) == 2.0
