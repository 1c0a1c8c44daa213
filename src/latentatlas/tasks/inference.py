"""Running a trained model on data: rebuild a run's model from a checkpoint, then embed images or encode figures.

A run folder holds `checkpoints/{best,last}.safetensors` whose metadata carries the resolved config, so the model
is rebuilt from the checkpoint alone. Images go through the run's own evaluation transform (normalization with the
CIFAR-10 statistics the training used, no crop or flip) in batches under `torch.inference_mode`: the seed series
embedded one image at a time, which is two orders of magnitude slower on CPU.

Embedder runs (`cnn`, `vgg11`) give their L2-normalized outputs. Autoencoder runs (`ae`, `vae`, shapes data) give
the encoder means `model.encode(x)[0]`, labelled by figure type (and family when the run draws several).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from latentatlas.analysis.io import EmbeddingSet
from latentatlas.config import Config, config_from_dict
from latentatlas.data.augment import Augment
from latentatlas.data.images import load_image_dataset
from latentatlas.data.shapes import generate
from latentatlas.data.shapes_config import FAMILIES, ORIENTATIONS
from latentatlas.device import resolve_device
from latentatlas.errors import DataError, LatentAtlasError
from latentatlas.latentmaps.codec import encode_dataset
from latentatlas.models.build import build_model
from latentatlas.models.config import AUTOENCODERS
from latentatlas.tasks.metric_data import load_metric_data
from latentatlas.tasks.shapes_data import VAL_SEED_OFFSET
from latentatlas.train.checkpoint import load_checkpoint, load_model_state

__all__ = [
    "checkpoint_path",
    "embed_dataset",
    "embed_images",
    "embed_run",
    "encode_figures",
    "eval_transform",
    "load_run_model",
    "run_image_shape",
]

log = logging.getLogger("latentatlas")

CHECKPOINTS = ("best", "last")


def checkpoint_path(run_dir: str | Path, checkpoint: str = "best") -> Path:
    """`run_dir/checkpoints/<checkpoint>.safetensors` (`best` or `last`), or `checkpoint` itself if it is a file."""
    run_dir = Path(run_dir)
    if checkpoint not in CHECKPOINTS:
        if Path(checkpoint).is_file():
            return Path(checkpoint)
        raise LatentAtlasError(f"checkpoint {checkpoint!r}: use 'best', 'last' or the path of a .safetensors file")
    if not run_dir.is_dir():
        raise LatentAtlasError(f"run folder {str(run_dir)!r} not found; pass a folder written by `latentatlas train`")
    path = run_dir / "checkpoints" / f"{checkpoint}.safetensors"
    if not path.is_file():
        other = CHECKPOINTS[1 - CHECKPOINTS.index(checkpoint)]
        raise LatentAtlasError(
            f"{str(run_dir)!r} has no checkpoints/{path.name}; train it first or pass --checkpoint {other}"
        )
    return path


def load_run_model(
    run_dir: str | Path, checkpoint: str = "best", device: str | torch.device | None = None
) -> tuple[torch.nn.Module, Config]:
    """Rebuild a run's model from its checkpoint's config, load the weights, and put it in eval mode.

    Args:
        run_dir: a run folder (`runs/<time>-<name>/`).
        checkpoint: `best`, `last`, or the path of a checkpoint file.
        device: where the model goes (`cpu`, `cuda`, `auto`); default CPU.

    Returns:
        (model in eval mode, the run's Config).
    """
    path = checkpoint_path(run_dir, checkpoint)
    ckpt = load_checkpoint(path)
    config = config_from_dict(ckpt.config)
    # No `pretrained`: the checkpoint holds every weight, and re-reading ImageNet weights could download.
    model = build_model(config.model, image_size=config.data.shapes.size)
    load_model_state(model, ckpt, path)
    model = model.to(resolve_device(device))
    return model.eval(), config


def eval_transform(config: Config) -> Augment:
    """The evaluation transform of a run: normalize only (the seed's validation transform), no crop or flip."""
    return Augment(size=None, padding=0, channels_last=config.model.channels_last, train=False)


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise LatentAtlasError(f"batch size must be >= 1, got {batch_size}; pass e.g. --batch-size 512")


@torch.no_grad()
def embed_images(
    model: torch.nn.Module, images: torch.Tensor, transform: Augment, batch_size: int = 512, progress: bool = False
) -> torch.Tensor:
    """Embed uint8 images (N, C, H, W) in batches with `transform` -> (N, D) float32 on CPU (unit-norm rows)."""
    _check_batch_size(batch_size)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    with tqdm(total=len(images), desc="embedding", unit="img", disable=None if progress else True, leave=False) as bar:
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size].to(device)
            out.append(model(transform(batch)).float().cpu())
            bar.update(len(batch))
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0, 0)


def encode_figures(
    model: torch.nn.Module, config: Config, figures: np.ndarray, batch_size: int = 512, progress: bool = True
) -> np.ndarray:
    """Encoder means of binary figures (N, S, S) bool -> (N, L) float32, in the run's memory format."""
    _check_batch_size(batch_size)
    mu, _ = encode_dataset(model, figures, batch_size, channels_last=config.model.channels_last, progress=progress)
    return mu


def run_image_shape(config: Config) -> tuple[int, int, int] | None:
    """(C, H, W) of the images a run trained on, or None when its dataset is no longer where the config says."""
    im = config.data.images
    path = Path(im.path).expanduser()
    if im.path.lower() in ("cifar10", "cifar-10") or (path.is_dir() and any(path.rglob("data_batch_1.bin"))):
        return (3, 32, 32)  # the CIFAR-10 binary format has a single image size
    if not path.exists():
        return None
    # Image folders are decoded once into a cache, so reading their size again is cheap.
    return tuple(load_image_dataset(im.path, data_dir=im.data_dir).images.shape[1:])  # type: ignore[return-value]


def _present_classes(labels: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Relabel to 0..C'-1 over the classes that occur, keeping their names: files then round-trip exactly."""
    present, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), [names[int(c)] for c in present]


def embed_dataset(
    model: torch.nn.Module,
    config: Config,
    data_path: str | Path,
    batch_size: int = 512,
    device: str | torch.device | None = None,
    *,
    data_dir: str | Path | None = None,
    split: str = "train",
    progress: bool = True,
) -> EmbeddingSet:
    """Embed every image of a labelled dataset with a run's embedder.

    Args:
        model, config: from `load_run_model` (an embedder run: `cnn` or `vgg11`).
        data_path: an image folder, a `.zip` of one, a folder of CIFAR-10 binary batches, or `cifar10`.
        device: move the model there first (`cpu`, `cuda`, `auto`); default: where the model is.
        data_dir, split: where the CIFAR-10 release lives and which of its splits (`train`, `test`).

    Returns:
        EmbeddingSet: embeddings (N, D) float32, labels (N,) int64 in dataset order, the dataset's class names.
    """
    if config.model.kind in AUTOENCODERS:
        raise LatentAtlasError(
            f"this is a {config.model.kind} run on generated figures, not an image embedder; use "
            "`latentatlas analyze RUN_DIR` (or `latentatlas embed RUN_DIR` without --data) for its latent means"
        )
    if device is not None:
        model = model.to(resolve_device(device))
    data = load_image_dataset(data_path, data_dir=data_dir, split=split)
    shape, wanted = tuple(data.images.shape[1:]), run_image_shape(config)
    if wanted is None:
        log.warning(
            "the run's dataset %s is gone: cannot check that %s has the same image size",
            config.data.images.path,
            data_path,
        )
    elif shape != wanted:
        raise DataError(
            f"{data_path}: images are {shape[1]}x{shape[2]} with {shape[0]} channels but the run was trained on "
            f"{wanted[1]}x{wanted[2]} with {wanted[0]}; resize the images to {wanted[1]}x{wanted[2]} first"
        )
    emb = embed_images(model, data.images, eval_transform(config), batch_size, progress).numpy()
    labels, names = _present_classes(data.labels.numpy(), list(data.class_names))
    return EmbeddingSet(emb, labels, names, str(data_path))


def _shapes_split(config: Config) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The run's validation figures, regenerated from its seed, with type (and family) labels."""
    figures, factors = generate(config.data.shapes, config.data.n_val, seed=config.seed + VAL_SEED_OFFSET)
    kinds = [f"type {ORIENTATIONS[int(o)]}" for o in factors["orientation"]]
    if len(set(config.data.shapes.family)) > 1:
        kinds = [f"{FAMILIES[int(f)]} {k}" for f, k in zip(factors["family"], kinds)]
    names, labels = np.unique(np.array(kinds), return_inverse=True)
    return figures, labels.reshape(-1).astype(np.int64), [str(n) for n in names]


def embed_run(
    run_dir: str | Path,
    checkpoint: str = "best",
    batch_size: int = 512,
    device: str | torch.device | None = None,
    progress: bool = True,
) -> EmbeddingSet:
    """Embeddings of a run's own held-out data with its model.

    Image runs: the run's test split (the same images, in the same order, as `embeddings/test.npz`, rebuilt with
    `load_metric_data`). Shapes runs: the encoder means of the validation figures regenerated from the config seed.

    Returns:
        EmbeddingSet with (N, D) float32 embeddings and labels 0..C-1 over the classes present.
    """
    model, config = load_run_model(run_dir, checkpoint, device)
    source = f"{run_dir}:{checkpoint}"
    if config.model.kind in AUTOENCODERS:
        figures, labels, names = _shapes_split(config)
        emb = encode_figures(model, config, figures, batch_size, progress)
        return EmbeddingSet(emb, labels, names, f"{source}:validation figures")
    data = load_metric_data(config)
    idx = torch.as_tensor(data.test_idx)
    emb = embed_images(model, data.images.images[idx], eval_transform(config), batch_size, progress).numpy()
    labels, names = _present_classes(data.labels_np[data.test_idx], list(data.images.class_names))
    log.info("embedded the %d test images of %s", len(labels), run_dir)
    return EmbeddingSet(emb, labels, names, f"{source}:test split")
