"""Generative models before diffusion, small enough to train on 2-D data in seconds (lesson 00).

    gan        GAN: a generator against a discriminator; non-saturating loss; ``train_gan``; no likelihood
    vae        VAE: encoder + decoder, ELBO with the reparametrisation trick; ``elbo``, ``log_prob_bound``
    realnvp    RealNVP, a normalising flow: affine coupling layers; the exact ``log_prob``
    diffusion  a DDPM beside them: ``sample`` and the ELBO of the diffusion chain in nats
    compare    training snapshots, and the measurements of lesson 00's table

Each model is an ``nn.Module`` with a ``.config`` dict, registered in ``diffedu.models`` (so a checkpoint can
rebuild it) and a ``sample(n, generator)`` that draws all its randomness from ``generator``. The VAE and the
flow train with ``diffedu.train(model, vae_loss | realnvp_loss, batches, steps=…)``; the GAN with ``train_gan``.
"""
from . import compare, diffusion
from .gan import GAN, discriminator_loss, generator_loss, train_gan
from .realnvp import AffineCoupling, RealNVP, realnvp_loss
from .vae import VAE, kl_standard_normal, reparameterize, vae_loss

__all__ = ["GAN", "train_gan", "discriminator_loss", "generator_loss", "VAE", "vae_loss", "kl_standard_normal",
           "reparameterize", "RealNVP", "AffineCoupling", "realnvp_loss", "diffusion", "compare"]
