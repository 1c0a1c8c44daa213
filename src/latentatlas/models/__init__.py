"""Models: autoencoders for the shapes lab, embedders for metric learning."""

from latentatlas.models.autoencoder import AEOutput, ConvAE, ConvVAE, build_autoencoder

__all__ = ["AEOutput", "ConvAE", "ConvVAE", "build_autoencoder"]
