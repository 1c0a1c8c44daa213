"""GradCache gives the large-batch gradient exactly; per-micro-batch KoLeo does not; gather across processes."""

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from latentatlas.dist import all_gather_with_grad
from latentatlas.errors import ConfigError, DataError
from latentatlas.losses.koleo import koleo_loss
from latentatlas.losses.objective import MetricObjective
from latentatlas.losses.triplet import TripletLoss
from latentatlas.models.cnn import ConvEmbedder
from latentatlas.train.gradcache import accumulate_gradients

K, T = 4, 3  # micro-batches, triplets per micro-batch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny float64 models gain nothing from threads, and lose a lot to spin-waiting on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny(norm="group", seed=0):
    torch.manual_seed(seed)
    return ConvEmbedder(8, widths=(4, 8), stem_width=4, norm=norm, channels_last=False).double()


def images(n, seed):
    return torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def triplet_micro_batches(seed=1):
    """K micro-batches of T fixed triplets, each stacked [a; p; n] -> (3T, 3, 8, 8)."""
    a, p, n = (images(K * T, seed + i) for i in range(3))
    return [(torch.cat([a[s], p[s], n[s]]), None) for s in torch.arange(K * T).split(T)]


def grads(model):
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def full_batch_grads(model, micro_batches, loss_fn):
    """Reference: one forward/backward over the concatenated inputs, same loss on the same rows."""
    model.zero_grad()
    emb = model(torch.cat([x for x, _ in micro_batches]))
    loss, _ = loss_fn(emb, [t for _, t in micro_batches], [len(x) for x, _ in micro_batches])
    loss.backward()
    return grads(model), loss.item()


def gradcache_grads(model, micro_batches, loss_fn):
    model.zero_grad()
    result = accumulate_gradients(model, micro_batches, loss_fn)
    return grads(model), result


@pytest.mark.parametrize("mining", ["none", "hard"])
def test_effective_koleo_equals_large_batch(mining):
    model = tiny()
    if mining == "none":
        batches = triplet_micro_batches()
    else:
        labels = torch.arange(K * 6) % 3
        batches = [(images(6, 10 + k), labels[k * 6 : (k + 1) * 6]) for k in range(K)]
    loss_fn = MetricObjective(TripletLoss(0.4, mining=mining), koleo_weight=0.1, koleo_scope="effective")
    want, want_loss = full_batch_grads(model, batches, loss_fn)
    got, result = gradcache_grads(model, batches, loss_fn)
    assert (got - want).abs().max().item() < 1e-10
    assert result.loss == pytest.approx(want_loss, rel=1e-12)
    assert set(result.stats) == {"triplet", "active_fraction", "koleo", "loss"}


def test_micro_koleo_differs_from_effective():
    model, batches = tiny(), triplet_micro_batches()
    effective = MetricObjective(TripletLoss(), 0.1, "effective")
    micro = MetricObjective(TripletLoss(), 0.1, "micro")
    g_eff, r_eff = gradcache_grads(model, batches, effective)
    g_micro, r_micro = gradcache_grads(model, batches, micro)
    assert r_micro.stats["koleo"] < r_eff.stats["koleo"] - 1e-3  # micro NN distances are larger
    assert (g_eff - g_micro).abs().max().item() > 1e-4


def test_triplet_loss_scaling_matches_large_batch():
    # Plain accumulation: backward(loss_k / K) per micro-batch == one batch of K*T triplets.
    model, batches = tiny(), triplet_micro_batches()
    loss = TripletLoss()
    model.zero_grad()
    for x, _ in batches:
        (loss(model(x))[0] / K).backward()
    accumulated = grads(model)
    model.zero_grad()
    rows = [model(x).unflatten(0, (3, T)) for x, _ in batches]  # (3, T, D) per micro-batch
    big = torch.cat(rows, dim=1).flatten(0, 1)  # [all a; all p; all n]
    loss(big)[0].backward()
    assert (accumulated - grads(model)).abs().max().item() < 1e-10
    cached, _ = gradcache_grads(model, batches, MetricObjective(loss, koleo_weight=0.0))
    assert (cached - accumulated).abs().max().item() < 1e-10


def test_rng_is_replayed_for_dropout():
    model = nn.Sequential(nn.Dropout(0.3), tiny())
    batches, loss = triplet_micro_batches(), TripletLoss()
    torch.manual_seed(5)
    model.zero_grad()
    for x, _ in batches:  # plain accumulation draws one dropout mask per micro-batch
        (loss(model(x))[0] / K).backward()
    want, rng_after = grads(model), torch.get_rng_state()
    torch.manual_seed(5)
    got, _ = gradcache_grads(model, batches, MetricObjective(loss, koleo_weight=0.0))
    assert (got - want).abs().max().item() < 1e-10  # the replayed masks are the cached ones
    assert torch.equal(torch.get_rng_state(), rng_after)


def test_batchnorm_breaks_equality_unless_frozen():
    batches = triplet_micro_batches()
    loss_fn = MetricObjective(TripletLoss(), 0.1, "effective")
    model = tiny("batch")
    ref_model = tiny("batch")
    with torch.no_grad():
        for x, _ in batches:  # running statistics after one pass per micro-batch
            ref_model(x)
    got, _ = gradcache_grads(model, batches, loss_fn)
    for buf, ref in zip(model.buffers(), ref_model.buffers()):
        torch.testing.assert_close(buf, ref)  # updated once, not twice
    want, _ = full_batch_grads(tiny("batch"), batches, loss_fn)
    assert (got - want).abs().max().item() > 1e-6  # micro vs full batch statistics
    frozen = tiny("batch").eval()
    got, _ = gradcache_grads(frozen, batches, loss_fn)
    want, _ = full_batch_grads(frozen, batches, loss_fn)
    assert (got - want).abs().max().item() < 1e-10


def test_errors():
    model = tiny()
    with pytest.raises(DataError, match="micro_batches: empty"):
        accumulate_gradients(model, [], lambda e, t, s: e.sum())
    with pytest.raises(DataError, match=r"loss_fn: returned shape \(9, 8\)"):
        accumulate_gradients(model, triplet_micro_batches()[:1], lambda e, t, s: e * 2)
    with pytest.raises(ConfigError, match="loss.koleo.scope: unknown value 'batch'"):
        MetricObjective(TripletLoss(), 0.1, "batch")
    x = torch.randn(3, 2)
    assert all_gather_with_grad(x) is x  # not distributed: identity


WORLD, PER_RANK = 2, 6


def _objective(emb, labels):
    return TripletLoss(0.4, mining="hard")(emb, labels)[0] + 0.1 * koleo_loss(emb)


def _worker(rank, port, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        model = tiny()
        x, labels = images(WORLD * PER_RANK, 3), torch.arange(WORLD * PER_RANK) % 3
        mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
        _objective(all_gather_with_grad(model(x[mine])), labels).backward()
        for p in model.parameters():  # each rank holds d L / d theta through its own rows: sum them
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
        if rank == 0:
            torch.save(grads(model), out)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_all_gather_with_grad_two_processes(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "grads.pt"
    mp.spawn(_worker, args=(port, str(out)), nprocs=WORLD, join=True)
    model = tiny()
    _objective(model(images(WORLD * PER_RANK, 3)), torch.arange(WORLD * PER_RANK) % 3).backward()
    assert (torch.load(out, weights_only=True) - grads(model)).abs().max().item() < 1e-10
