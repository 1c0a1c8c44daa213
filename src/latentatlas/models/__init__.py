"""Models: autoencoders for the shapes lab, embedders for metric learning, and the one factory for both."""

from latentatlas.models.autoencoder import AEOutput, ConvAE, ConvVAE, build_autoencoder
from latentatlas.models.build import build_embedder, build_model, embedder_from_config
from latentatlas.models.cnn import ConvEmbedder
from latentatlas.models.config import ModelConfig
from latentatlas.models.pooled import PooledEmbedder
from latentatlas.models.vgg import VGG11Embedder, load_vgg11_imagenet

__all__ = [
    "AEOutput",
    "ConvAE",
    "ConvEmbedder",
    "ConvVAE",
    "ModelConfig",
    "PooledEmbedder",
    "VGG11Embedder",
    "build_autoencoder",
    "build_embedder",
    "build_model",
    "embedder_from_config",
    "load_vgg11_imagenet",
]
