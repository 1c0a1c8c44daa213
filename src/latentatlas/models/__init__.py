"""Models: autoencoders for the shapes lab, embedders for metric learning."""

from latentatlas.models.autoencoder import AEOutput, ConvAE, ConvVAE, build_autoencoder
from latentatlas.models.embedder import ConvEmbedder, build_embedder
from latentatlas.models.vgg import VGG11Embedder, load_vgg11_imagenet

__all__ = [
    "AEOutput",
    "ConvAE",
    "ConvEmbedder",
    "ConvVAE",
    "VGG11Embedder",
    "build_autoencoder",
    "build_embedder",
    "load_vgg11_imagenet",
]
