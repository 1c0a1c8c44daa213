"""Counting-based retrieval against brute force, on heavy ties, lone queries and imbalanced classes.

Data whose float32 scores are exact (so float32, float64 and the float64 brute force rank alike, ties included):
rows with four +-1 entries (cosine: unit rows are +-0.5, cosines multiples of 1/4) and small integers with
their negatives (euclidean: the mean is exactly 0). The counting path is forced (and the ranked path, for
comparison; float64 is always ranked by topk); a small column sample makes the threshold an estimate, a negative
bound makes rows fall back.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import latentatlas.analysis.retrieval_blocks as blocks
import latentatlas.analysis.retrieval_layout as layout_mod
import latentatlas.analysis.retrieval_ranks as ranks_mod
from latentatlas.analysis.inputs import as_labels
from latentatlas.analysis.neighbours import top_k_by_index
from latentatlas.analysis.retrieval import retrieval_metrics

KEYS = ("precision_at_1", "r_precision", "mean_average_precision_at_r", "knn_accuracy")


def exact_data(rng: np.random.Generator, metric: str, n: int) -> np.ndarray:
    if metric == "cosine":
        x = np.zeros((n, 6), dtype=np.float32)
        for i in range(n):
            x[i, rng.choice(6, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
        return x
    half = rng.integers(-2, 3, size=(n // 2, 3))
    return np.concatenate([half, -half]).astype(np.float32)


def imbalanced_labels(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Labels tied to the points (class = sign pattern of two coordinates, so ranks mean something), one large
    class, several one-member classes."""
    labels = (x[:, 0] > 0).astype(int) * 2 + (x[:, 1] > 0).astype(int)
    labels[rng.random(len(x)) < 0.4] = 0  # class 0 much larger
    lone = rng.choice(len(x), 5, replace=False)
    labels[lone] = 100 + np.arange(5)  # one-member classes: lone queries
    return labels


def brute_force(x: np.ndarray, labels: np.ndarray, metric: str, ks: tuple[int, ...], knn_k: int) -> dict:
    """Per query: every other point sorted by (float64 distance, index), then the definitions."""
    v = x.astype(np.float64)
    if metric == "cosine":
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        dist = -(v @ v.T)
    else:
        dist = ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    rows = []
    for q in range(len(x)):
        r = int((labels == labels[q]).sum()) - 1
        if r == 0:
            continue
        others = np.delete(np.arange(len(x)), q)
        ranked = others[np.lexsort((others, dist[q, others]))]
        rel = labels[ranked] == labels[q]
        hits = np.cumsum(rel[:r])
        ap = float((rel[:r] * hits / np.arange(1, r + 1)).sum() / r)
        near = list(labels[ranked[:knn_k]])
        votes = {lab: near.count(lab) for lab in near}
        vote = next(lab for lab in near if votes[lab] == max(votes.values()))
        rows.append([rel[0], hits[-1] / r, ap, vote == labels[q]] + [rel[:kv].any() for kv in ks])
    mean = np.mean(np.array(rows, dtype=float), axis=0)
    return dict(zip(list(KEYS) + [f"recall_at_{kv}" for kv in ks], mean.tolist()))


def force(monkeypatch, counted: bool, sample: int | None = None, z: float | None = None) -> None:
    monkeypatch.setattr(blocks, "COUNTING_MIN_FRACTION", 0.0 if counted else 1e9)
    if sample is not None:
        monkeypatch.setattr(layout_mod, "SAMPLE_COLUMNS", sample)
    if z is not None:
        monkeypatch.setattr(layout_mod, "Z_BOUND", z)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("counted,sample,z", [(True, 2, None), (True, 7, None), (True, None, None),
                                               (True, None, -40.0), (False, None, None)])  # fmt: skip
def test_heavy_ties_equal_brute_force(rng, monkeypatch, metric, dtype, counted, sample, z):
    force(monkeypatch, counted, sample, z)
    x = exact_data(rng, metric, 240)
    labels = imbalanced_labels(rng, x)
    ref = brute_force(x, labels, metric, (1, 4), knn_k=5)
    for block in (13, None):  # ragged blocks mixing classes, and blocks of one class
        got = retrieval_metrics(x, labels, metric=metric, k=(1, 4), knn_k=5, block_size=block, dtype=dtype)
        for key, value in ref.items():
            assert got[key] == pytest.approx(value, abs=1e-12), (key, block)
        assert got["n_lone_queries"] == 5 and got["n_queries"] == len(x) - 5


def test_counted_values_equal_topk_on_continuous_data(rng):
    # Continuous data (natural float32 ties now and then), four class sizes and three lone points; the column
    # sample smaller than N (the threshold is an estimate) and equal to N; blocks of one class and across two.
    n = 1000
    sizes = rng.multinomial(n - 3, [0.6, 0.3, 0.07, 0.03])
    labels = np.concatenate([np.repeat(np.arange(4), sizes), [7, 8, 9]])
    rng.shuffle(labels)
    x = torch.from_numpy(rng.normal(size=(20, 12))[labels] * 0.4 + rng.normal(size=(n, 12)))
    codes, _, counts = as_labels(labels, n)
    order = torch.argsort(codes, stable=True)
    order = order[torch.as_tensor(counts)[codes[order]] > 1]
    buffer = torch.empty(150, n, dtype=torch.float32)
    for k in (None, n):
        scorer, layout = blocks.prepare(x, codes, counts, "cosine", torch.float32, k)
        for s in range(0, len(order), 150):
            rows = order[s : s + 150]
            a = blocks.query_values(scorer, layout, rows, [1, 3], 5, buffer, counting=True)
            b = blocks.query_values(scorer, layout, rows, [1, 3], 5, buffer, counting=False)
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_fallback_rows_of_mixed_blocks_equal_topk(rng, monkeypatch):
    # Rows sent to the topk fallback: in blocks that mix a large and a small class, the small class's rows, ranked
    # to their own depth, shallower than the block's largest R (a bug once broke on that); elsewhere every other.
    n = 600
    labels = rng.permutation(np.repeat([0, 1, 2], [400, 150, 50]))
    x = torch.from_numpy(rng.normal(size=(3, 8))[labels] * 0.5 + rng.normal(size=(n, 8)))
    codes, _, counts = as_labels(labels, n)
    scorer, layout = blocks.prepare(x, codes, counts, "cosine", torch.float32)
    order = torch.argsort(codes, stable=True)
    real = ranks_mod.counted_ranks

    def half_ranks(scores, rows, layout, depth, small):  # mixed block: its shallower rows; else every other row
        ranks, first, exact = real(scores, rows, layout, depth, small)
        deepest = depth == depth.max()
        return ranks, first, exact & deepest & ((depth != depth.min()) | (torch.arange(len(depth)) % 2 == 0))

    monkeypatch.setattr(blocks, "counted_ranks", half_ranks)
    buffer = torch.empty(120, n, dtype=torch.float32)
    for s in range(0, n, 120):  # blocks 3 and 4 hold both the 400-member class and the 150 one
        rows = order[s : s + 120]
        a = blocks.query_values(scorer, layout, rows, [1, 3], 5, buffer, counting=True)
        b = blocks.query_values(scorer, layout, rows, [1, 3], 5, buffer, counting=False)
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_member_ranks_and_rank_values_equal_brute_force(rng):
    b, depth, width = 40, 30, 45  # relevance known to a depth shallower than the table
    rel = torch.from_numpy(rng.random((b, depth)) < 0.4)
    r = torch.from_numpy(rng.integers(1, depth + 1, size=b))
    ranks = blocks.member_ranks(rel, r, width)
    values = blocks.rank_values(ranks, r).numpy()
    for i in range(b):
        hits = [j + 1 for j in range(int(r[i])) if rel[i, j]]  # 1-based ranks of the members within the first R
        expected = hits + [layout_mod.UNRANKED] * (width - len(hits))
        assert ranks[i].tolist() == expected
        ap = sum((t + 1) / rho for t, rho in enumerate(hits)) / int(r[i])
        np.testing.assert_allclose(values[i], [float(rel[i, 0]), len(hits) / int(r[i]), ap], rtol=1e-12)


@pytest.mark.parametrize("quantized", [False, True])
def test_threshold_ranks_equal_topk_on_both_paths(rng, monkeypatch, quantized):
    # counted_ranks' NumPy path (CPU) and its torch path (other devices, run here on CPU) against the members'
    # ranks from top_k_by_index, row by row: continuous data and data rounded to a coarse grid (many equal scores
    # at the threshold), blocks of one class and across classes, a sample smaller than N and equal to it.
    n = 900
    labels = rng.permutation(np.repeat([0, 1, 2, 3], [500, 250, 120, 30]))
    x = rng.normal(size=(4, 10))[labels] * 0.5 + rng.normal(size=(n, 10))
    x = torch.from_numpy(np.round(x * 2) / 2 if quantized else x)
    codes, _, counts = as_labels(labels, n)
    order = torch.argsort(codes, stable=True)
    buffer = torch.empty(128, n, dtype=torch.float32)
    for k in (None, n):
        scorer, layout = blocks.prepare(x, codes, counts, "cosine", torch.float32, k)
        exact_rows = 0
        for s in range(0, n, 128):
            rows = order[s : s + 128]
            r = layout.counts[codes[rows]] - 1
            depth = torch.clamp(r, min=5)
            scores = blocks._leave_one_out_scores(scorer, layout, rows, buffer)
            nn = top_k_by_index(scores.clone(), int(depth.max()), layout.members, layout.column)
            want = blocks.member_ranks(codes[nn] == codes[rows][:, None], r, int(layout.counts[codes[rows]].max()))
            got = [ranks_mod.counted_ranks(scores, rows, layout, depth, 5)]
            cut = ranks_mod.plan_cut(n, rows, layout, depth)
            got.append(ranks_mod._ranks_torch(scores, rows, layout, depth, 5, cut))
            for ranked, first, exact in got:
                assert torch.equal(exact, got[0][2])
                for i in exact.nonzero().squeeze(1).tolist():
                    within = want[i] <= r[i]  # both give the true ranks of the members within the first R
                    assert torch.equal(ranked[i][within], want[i][within]), (s, i)
                    assert bool((ranked[i][~within] > r[i]).all()), (s, i)
                    assert torch.equal(first[i], nn[i, :5]), (s, i)
            exact_rows += int(got[0][2].sum())
        assert exact_rows > 0.99 * n  # the sample's threshold rarely sends a row to topk
