"""Data loading and augmentation speed: decoding the shared CIFAR-10 JPEG zip, and batched augmentation."""

from __future__ import annotations

import tempfile
import time
import zipfile
from pathlib import Path

import torch

from latentatlas.data.augment import Augment, normalize

SHARED_ZIP = Path("/work/shared/data/cifar10-train-jpg.zip")


def _subset_zip(src: Path, dest: Path, per_class: int) -> None:
    """Copy the first `per_class` images of every class folder of `src` into `dest`."""
    taken: dict[str, int] = {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or len(parts) < 3:
                continue
            if taken.get(parts[-2], 0) < per_class:
                taken[parts[-2]] = taken.get(parts[-2], 0) + 1
                zout.writestr(info, zin.read(info))


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _decode_rows(quick: bool) -> list[str]:
    from latentatlas.data.folder import load_image_folder

    if not SHARED_ZIP.exists():
        return [f"| decode | {SHARED_ZIP} missing | - | - |"]
    with tempfile.TemporaryDirectory() as tmp:
        source = SHARED_ZIP
        if quick:
            source = Path(tmp) / "subset.zip"
            _subset_zip(SHARED_ZIP, source, per_class=200)
        cache = Path(tmp) / "cache"
        first, data = _timed(lambda: load_image_folder(source, cache_dir=cache, progress=False))
        again, _ = _timed(lambda: load_image_folder(source, cache_dir=cache, progress=False))
    n = len(data)
    return [
        f"| first load (decode + write cache) | {n:,} | {first:.2f} | {n / first:,.0f} |",
        f"| second load (from cache) | {n:,} | {again:.2f} | {n / again:,.0f} |",
    ]


def _loop_reference(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The per-image way (torchvision-style transforms applied one image at a time), for comparison."""
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    out = []
    for img in padded:
        top, left = torch.randint(0, 9, (2,), generator=gen).tolist()
        crop = img[:, top : top + 32, left : left + 32]
        if torch.rand(1, generator=gen).item() < 0.5:
            crop = crop.flip(-1)
        out.append(crop)
    return normalize(torch.stack(out))


def _augment_rows(quick: bool) -> list[str]:
    batch = torch.randint(0, 256, (256, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    reps = 10 if quick else 100
    cases = {
        "batched, contiguous": Augment(),
        "batched, channels_last": Augment(channels_last=True),
        "per-image loop (reference)": None,
    }
    rows = []
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        for name, aug in cases.items():
            gen = torch.Generator().manual_seed(1)
            seconds = []
            for _ in range(reps + 1):  # the first call is a warm-up
                start = time.perf_counter()
                aug(batch, gen) if aug is not None else _loop_reference(batch, gen)
                seconds.append(time.perf_counter() - start)
            # Median per batch: robust to other processes sharing the CPU.
            median = sorted(seconds[1:])[reps // 2]
            rows.append(f"| {name}, {threads} thread(s) | 256 | {median:.4f} | {256 / median:,.0f} |")
    torch.set_num_threads(default_threads)
    return rows


def run(quick: bool = False) -> str:
    """Markdown section with decode and augmentation timings."""
    what = "a 2,000-image subset (200 per class)" if quick else "all 50,000 images"
    lines = [
        "## Data: decoding and augmentation",
        "",
        f"Decoding `{SHARED_ZIP.name}` ({what}) with `load_image_folder` into a fresh temporary cache, then "
        "loading it again from the cache. Augmentation: `Augment()` (random crop 32 with 4-pixel zero padding, "
        "flip p = 0.5, CIFAR-10 normalization) on a uint8 batch of 256 images of 32x32 on CPU, against a "
        "per-image Python loop doing the same; median time per batch over "
        f"{10 if quick else 100} batches, with 1 torch thread and with the default number.",
        "",
        "| step | images | seconds | images/s |",
        "|---|---:|---:|---:|",
        *_decode_rows(quick),
        *_augment_rows(quick),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
