"""Speed and size of the interactive explorer (issue 10's targets), in headless Debian chromium with --disable-gpu.

- redraw: median of 20 redraws after a pan/zoom, timed inside the page with performance.now() by
  `window.__explorer.setView` (points rasterized into the canvas, validity map and overlay drawn);
- write: `latentatlas explore emb.npz --out DIR` on N x 128 labelled embeddings (no thumbnails; neighbours only
  where they are precomputed), in a fresh process: wall time and peak resident memory (ru_maxrss);
- load: navigation start to `window.__explorer` ready (performance.now() at that moment);
- static neighbours: exact 10-NN of every point (`NeighbourIndex.all`), the precomputation of static pages;
- server: exact 10-NN of one point among N x 128 over HTTP (keep-alive connection), and a live decode + oracle
  verdict of a shapes VAE (`ConvVAE`, default widths, 2-D latent), median of repeated requests;
- size: bytes written with and without 32 x 32 grey thumbnails (1,000 rendered figures, cycled).
Usage: `python -m benchmarks.run_all --only bench_explore [--quick]`.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

MAKE = """
import numpy as np, torch
n, d, path = {n}, {d}, {path!r}
g = torch.Generator().manual_seed(0)
labels = torch.randint(0, 10, (n,), generator=g)
centers = torch.randn(10, d, generator=g)
x = torch.empty(n, d)
for s in range(0, n, 65536):
    x[s : s + 65536] = centers[labels[s : s + 65536]] + torch.randn(min(65536, n - s), d, generator=g)
np.savez(path, embeddings=x.numpy(), labels=labels.numpy())
"""

WRITE = """
import json, resource, time
from latentatlas.cli.main import main
t = time.perf_counter()
assert main(["explore", {path!r}, "--out", {out!r}]) == 0
seconds = time.perf_counter() - t
print(json.dumps(dict(seconds=seconds, peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _coords_explorer(n: int, out: Path, thumbnails: np.ndarray | None = None) -> Path:
    """A labelled 10-cluster map of n points (no embeddings), optionally with thumbnails."""
    from latentatlas.explorer import ExplorerData, write_explorer

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)
    coords = (rng.normal(size=(n, 2)) + 3 * rng.normal(size=(10, 2))[labels]).astype(np.float32)
    data = ExplorerData(coords=coords, labels=labels, class_names=[f"c{i}" for i in range(10)], thumbnails=thumbnails)
    return write_explorer(data, out)


def _thumbnails(n: int) -> np.ndarray:
    from latentatlas.data.shapes import ShapesConfig, generate

    images, _ = generate(ShapesConfig(), 1000, seed=0)
    small = images.reshape(1000, 32, 2, 32, 2).mean(axis=(2, 4))  # 64 -> 32 px
    tiles = (255 * (1 - small)).astype(np.uint8)
    return tiles[np.arange(n) % 1000]


def _browser_times(pages: list[Path]) -> list[tuple[float, float]]:
    """(load-to-interactive ms, median redraw ms over 20 pans/zooms) of each page."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS, headless=True)
        for page_path in pages:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_path.as_uri())
            page.wait_for_function("window.__explorer && window.__explorer.ready", timeout=120_000)
            ready = page.evaluate("__explorer.readyMs")
            times = page.evaluate(
                """() => { const v = __explorer.view(), out = [];
                for (let k = 0; k < 23; k++) out.push(__explorer.setView(v.scale * (1 + 0.01 * (k % 3)),
                    v.cx + (k % 5) / v.scale, v.cy - (k % 7) / v.scale));
                return out.slice(3); }"""
            )
            out.append((ready, statistics.median(times)))
            page.close()
        browser.close()
    return out


def _python(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with this checkout's sources first on the path."""
    head = f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\n"
    return subprocess.run([sys.executable, "-c", head + textwrap.dedent(code)], capture_output=True, text=True,
                          check=True)  # fmt: skip


def _write_run(n: int, d: int, tmp: Path) -> dict:
    """`latentatlas explore emb.npz --out DIR` end to end (reading the file included) in a fresh process."""
    path = str(tmp / f"emb-{n}.npz")
    _python(MAKE.format(n=n, d=d, path=path))
    res = _python(WRITE.format(path=path, out=str(tmp / f"write-{n}")))
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["bytes"] = _folder_bytes(tmp / f"write-{n}")
    return out


def _static_neighbours(n: int, d: int) -> float:
    from latentatlas.explorer import NeighbourIndex

    x = np.random.default_rng(0).normal(size=(n, d)).astype(np.float32)
    t = time.perf_counter()
    NeighbourIndex(x, "cosine").all(10)
    return time.perf_counter() - t


def _post_median(server, path: str, bodies: list[dict]) -> float:
    conn = http.client.HTTPConnection(*server.address, timeout=120)
    times = []
    for body in bodies:
        data = json.dumps(body).encode()
        t = time.perf_counter()
        conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        times.append(time.perf_counter() - t)
        assert resp.status == 200, resp.status
    conn.close()
    return statistics.median(times[2:]) * 1e3


def _server_latency(n: int, d: int) -> tuple[float, float]:
    """(ms per 10-NN query among n x d, ms per live VAE decode + oracle verdict), both over HTTP."""
    import torch

    from latentatlas.data.oracle import ValidityOracle
    from latentatlas.explorer import ExplorerData, generative_explorer_data, model_decoder, oracle_validity
    from latentatlas.explorer.server import open_server
    from latentatlas.models.autoencoder import ConvVAE

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)).astype(np.float32)
    data = ExplorerData(coords=np.ascontiguousarray(x[:, :2]), embeddings=x, metric="cosine", neighbours=False)
    with open_server(data) as server:
        server.start()
        knn = _post_median(server, "/api/neighbours", [{"index": int(i), "k": 10} for i in rng.integers(0, n, 22)])
    torch.manual_seed(0)
    decode, valid = model_decoder(ConvVAE(latent_dim=2)), oracle_validity(ValidityOracle().fit())
    shapes = generative_explorer_data(rng.normal(size=(200, 2)), decode, valid, grid_n=8)
    with open_server(shapes, decoder=decode, oracle=valid) as server:
        server.start()
        dec = _post_median(server, "/api/decode", [{"z": [rng.normal(size=2).tolist()]} for _ in range(22)])
    return knn, dec


def run(quick: bool = False) -> str:
    sizes = [2_000, 20_000] if quick else [100_000, 1_000_000]
    big, dim = (20_000, 32) if quick else (1_000_000, 128)
    nn_sizes = [2_000, 5_000] if quick else [50_000, 100_000, 200_000]
    tmp = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    try:
        plain = [_coords_explorer(n, tmp / f"plain-{n}") for n in sizes]
        thumbs = [_coords_explorer(n, tmp / f"thumbs-{n}", _thumbnails(n)) for n in sizes]
        browser = _browser_times(plain)
        write = _write_run(big, dim, tmp)
        neighbours = [(n, _static_neighbours(n, dim)) for n in nn_sizes]
        knn_ms, decode_ms = _server_latency(big, dim)
        rows = [
            f"| {n:,} | {r:.1f} | {load / 1e3:.2f} | {_folder_bytes(p.parent) / 1e6:.1f} | "
            f"{_folder_bytes(t.parent) / 1e6:.1f} |"
            for n, (load, r), p, t in zip(sizes, browser, plain, thumbs)
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "## Explorer: redraw, write, load, neighbours, server",
        "",
        "Headless Debian chromium (`--disable-gpu`, canvas 2D on the CPU), 1280 x 800 viewport, 10 classes.",
        "",
        "| points | redraw median (ms) | load to interactive (s) | size (MB) | size with thumbnails (MB) |",
        "|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"`latentatlas explore emb.npz --out DIR` of {big:,} x {dim} labelled embeddings (reading the file, PCA map, "
        f"class matrix, ellipses, distance to class centre; no thumbnails; neighbours precomputed only up to "
        f"N = 200,000): {write['seconds']:.1f} s, peak memory {write['peak_mb'] / 1024:.2f} GiB, "
        f"{write['bytes'] / 1e6:.1f} MB written.",
        "",
        "| static exact 10-NN of every point (N x " + str(dim) + ", cosine) | seconds |",
        "|---:|---:|",
        *[f"| {n:,} | {s:.1f} |" for n, s in neighbours],
        "",
        f"`--serve`: exact 10-NN of one point among {big:,} x {dim} over HTTP: {knn_ms:.1f} ms (median); "
        f"live decode + oracle verdict of a shapes VAE: {decode_ms:.1f} ms (median).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
