"""Latent maps of the shapes lab's AE/VAE: decoded grids, prior samples, per-dimension statistics, morphs and
family morphs, each judged by the validity oracle (they know the shapes' factors; geometry of arbitrary embeddings
is `latentatlas.analysis`)."""

from latentatlas.latentmaps.codec import decode_latents, encode_dataset, reconstructions
from latentatlas.latentmaps.family_morph import FamilyMorph, family_morph, family_separation
from latentatlas.latentmaps.grid import LatentGrid, empty_cell_fraction, latent_grid, pca_axes, prior_quantiles
from latentatlas.latentmaps.morph import MorphMetrics, interpolate, lerp, morph, morph_latents, morph_metrics, slerp
from latentatlas.latentmaps.samples import SampleSet, prior_samples
from latentatlas.latentmaps.summary import LatentMaps, latent_summary
from latentatlas.latentmaps.units import active_units, kl_per_dimension, silhouette, unit_activity

__all__ = [
    "FamilyMorph",
    "LatentGrid",
    "LatentMaps",
    "MorphMetrics",
    "SampleSet",
    "active_units",
    "decode_latents",
    "empty_cell_fraction",
    "encode_dataset",
    "family_morph",
    "family_separation",
    "interpolate",
    "kl_per_dimension",
    "latent_grid",
    "latent_summary",
    "lerp",
    "morph",
    "morph_latents",
    "morph_metrics",
    "pca_axes",
    "prior_quantiles",
    "prior_samples",
    "reconstructions",
    "silhouette",
    "slerp",
    "unit_activity",
]
