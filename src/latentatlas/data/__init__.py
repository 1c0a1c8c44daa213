"""Data: generated shapes and their validity oracle; CIFAR-10 and image folders in memory; augmentation; triplets."""

from latentatlas.data.augment import Augment
from latentatlas.data.cifar10 import load_cifar10, prepare_cifar10
from latentatlas.data.folder import load_image_folder
from latentatlas.data.images import load_image_dataset
from latentatlas.data.imageset import ImageSet
from latentatlas.data.oracle import OracleScores, ValidityOracle, calibrate
from latentatlas.data.shapes import generate, render
from latentatlas.data.shapes_config import FAMILIES, ORIENTATIONS, ShapesConfig
from latentatlas.data.triplets import (
    class_balanced_batches,
    fixed_val_triplets,
    seed_triplets,
    split_indices,
    split_triplets,
    triplet_leak,
)

__all__ = [
    "FAMILIES",
    "ORIENTATIONS",
    "Augment",
    "ImageSet",
    "OracleScores",
    "ShapesConfig",
    "ValidityOracle",
    "calibrate",
    "class_balanced_batches",
    "fixed_val_triplets",
    "generate",
    "load_cifar10",
    "load_image_dataset",
    "load_image_folder",
    "prepare_cifar10",
    "render",
    "seed_triplets",
    "split_indices",
    "split_triplets",
    "triplet_leak",
]
