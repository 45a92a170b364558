"""A variational autoencoder for 2-D data (Kingma & Welling 2014, "Auto-Encoding Variational Bayes", ICLR).

The model is a latent-variable model: draw a code z ~ p(z) = N(0, I), then a point x ~ p_θ(x | z) =
N(μ_θ(z), diag σ²) around a decoder network's output (σ² one learned vector, shared by every code). Its likelihood p_θ(x) = ∫ p_θ(x | z) p(z) dz has no closed
form, so it is bounded instead. An encoder network q_φ(z | x) = N(m_φ(x), diag s_φ²(x)) guesses which codes
could have produced x, and Jensen's inequality gives the evidence lower bound (ELBO):

    log p_θ(x) ≥ E_{z ~ q_φ(z|x)}[log p_θ(x | z)] − KL(q_φ(z | x) ‖ p(z))  =:  ELBO(x)
                 └── reconstruction: decode the code ──┘   └── keep the codes near the prior ──┘

The gap is KL(q_φ(z | x) ‖ p_θ(z | x)), how wrong the encoder's guess is. Training maximises the ELBO over
θ and φ together. Two tricks make it a loss for SGD:

* the reparametrisation trick: z = m + s ⊙ ε with ε ~ N(0, I), so the random draw is a differentiable
  function of the encoder's outputs (the same trick as the lecture's x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε);
* the KL term in closed form for diagonal Gaussians against N(0, I):
  KL = ½ Σ_j (m_j² + s_j² − 1 − log s_j²).

Why one σ² for all codes: a decoder that also chooses its noise per code can explain a whole direction of the
data with noise and leave half of the code unused (its posterior collapses onto the prior); on the ring it
then reaches a worse bound and blurrier samples (lesson 00, question 1).

Averaging the *likelihood ratio* over k codes instead of its log gives a tighter bound, the importance-weighted
one (Burda, Grosse & Salakhutdinov 2016): log (1/k) Σ_i p_θ(x, z_i) / q_φ(z_i | x) ↑ log p_θ(x) as k → ∞.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._random import randn
from ..forward import kl_standard_normal
from ..models.registry import register
from .._checks import check_int, check_real
from ._common import check_draw, check_points, check_sizes, mlp, standard_normal

INIT_LOGVAR = -2.0  # the decoder's initial log σ²: σ ≈ 0.37, below the data's spread


def reparameterize(mean: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = m + s ⊙ ε with s = exp(½ log s²): a sample of N(m, diag s²) that gradients flow through."""
    try:                                    # broadcasting allowed: log_prob_bound draws k codes per point
        torch.broadcast_shapes(mean.shape, logvar.shape, eps.shape)
    except RuntimeError:
        raise ValueError(f"mean, logvar and eps must have the same (or broadcastable) shapes, got "
                         f"{tuple(mean.shape)}, {tuple(logvar.shape)} and {tuple(eps.shape)}") from None
    return mean + torch.exp(0.5 * logvar) * eps


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag exp(logvar)), summed over the last dim: (B,)."""
    return -0.5 * (((x - mean) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


@register
class VAE(nn.Module):
    """Encoder x → (m, log s²) and decoder z → μ, both MLPs; a Gaussian decoder whose log σ² is one parameter."""

    def __init__(self, dim: int = 2, latent: int = 2, hidden: int = 128, depth: int = 3, min_logvar: float = -7.0):
        super().__init__()
        self.config = {**check_sizes(dim=dim, latent=latent, hidden=hidden, depth=depth),
                       "min_logvar": check_real("min_logvar", min_logvar)}
        dim, latent, hidden, depth = (self.config[k] for k in ("dim", "latent", "hidden", "depth"))
        self.encoder = mlp(dim, 2 * latent, hidden, depth)
        self.decoder = mlp(latent, dim, hidden, depth)
        self.dec_logvar = nn.Parameter(torch.full((dim,), INIT_LOGVAR))

    def decoder_logvar(self) -> torch.Tensor:
        """log σ², softly floored at ``min_logvar``: a variance → 0 would make the density infinite."""
        lo = self.config["min_logvar"]
        return lo + F.softplus(self.dec_logvar - lo)

    def encode(self, x: torch.Tensor):
        """q_φ(z | x): its mean and log-variance, each (B, latent)."""
        m, logvar = self.encoder(check_points("x", x, self.config["dim"])).chunk(2, dim=-1)
        return m, logvar

    def decode(self, z: torch.Tensor):
        """p_θ(x | z): its mean and log-variance, each (B, dim)."""
        if not torch.is_tensor(z) or z.shape[-1:] != (self.config["latent"],):
            raise ValueError(f"z must have shape (..., {self.config['latent']}), got "
                             f"{tuple(z.shape) if torch.is_tensor(z) else type(z).__name__}")
        mu = self.decoder(z)
        return mu, self.decoder_logvar().expand_as(mu)

    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One-sample ELBO(x) = log p_θ(x | z) − KL(q_φ(z | x) ‖ N(0, I)), z = m + s ε: (B,) nats ≤ log p_θ(x)."""
        m, logvar = self.encode(x)
        z = reparameterize(m, logvar, randn(m.shape, m, generator))
        mu, dec_logvar = self.decode(z)
        return gaussian_log_prob(x, mu, dec_logvar) - kl_standard_normal(m, logvar)

    @torch.no_grad()
    def log_prob_bound(self, x: torch.Tensor, k: int = 64, generator: torch.Generator | None = None,
                       chunk: int = 512) -> torch.Tensor:
        """The importance-weighted bound with k codes per point (k = 1: the ELBO; tighter as k grows): (B,).

        Computed ``chunk`` points at a time (k·chunk decoder calls in memory at once)."""
        k, chunk = check_int("k", k, low=1), check_int("chunk", chunk, low=1)
        check_points("x", x, self.config["dim"])
        out = []
        for xc in x.split(chunk):
            m, logvar = self.encode(xc)
            z = reparameterize(m[None], logvar[None], randn((k, *m.shape), m, generator))      # (k, b, latent)
            mu, dec_logvar = self.decode(z)
            log_w = (gaussian_log_prob(xc[None], mu, dec_logvar) + standard_normal(z)
                     - gaussian_log_prob(z, m[None], logvar[None]))                           # log p(x, z)/q(z|x)
            out.append(torch.logsumexp(log_w, dim=0) - math.log(k))
        return torch.cat(out)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n points: z ~ N(0, I), then x ~ p_θ(x | z), both drawn from ``generator``."""
        n = check_draw(n, generator)
        p = next(self.parameters())
        z = randn((n, self.config["latent"]), p, generator)
        mu, logvar = self.decode(z)
        return mu + torch.exp(0.5 * logvar) * randn(mu.shape, mu, generator)


def vae_loss(model: VAE, batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """−E[ELBO] on the batch, for ``diffedu.train``: one reparametrised code per point."""
    return -model.elbo(batch, generator).mean()
