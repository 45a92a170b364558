"""The shipped latent-diffusion checkpoints (lesson 09): loaded by name they sample images, and κ makes the
training latents unit-variance."""
import pytest
import torch

from diffedu import latent
from diffedu.images import sample_images
from diffedu.latent import LatentDiffusionModel
from diffedu.pretrained import pretrained


def test_shipped_latent_model_loaded_by_name_returns_images():
    m = pretrained("cifar-latent-dit")
    assert isinstance(m, LatentDiffusionModel) and m.sample_shape == (4, 8, 8)
    out = sample_images(m, torch.arange(4), w=3.0, steps=3)
    assert out.shape == (4, 3, 32, 32)
    assert out.std() > 0.1  # decoded pictures, not a constant


def test_shipped_scale_factor_gives_unit_std_latents_on_training_images():
    from diffedu.datasets import cifar10

    ae = pretrained("cifar-autoencoder")
    x, _ = cifar10.load_subset()  # lossless training images shipped with the repo
    kappa = ae.meta["scale_factor"]
    std = float((kappa * latent.encode_means(ae, x[:2000])).std())
    assert abs(std - 1) < 0.05, std
    assert pretrained("cifar-latent-dit").scale == pytest.approx(kappa)
