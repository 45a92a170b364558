"""A normalising flow for 2-D data: RealNVP's affine coupling layers (Dinh, Sohl-Dickstein & Bengio 2017,
"Density estimation using Real NVP", ICLR). Not flow *matching* (lesson 13: ``diffedu.fewstep.flow_matching``),
which trains a velocity field whose ODE carries noise to data; here the map itself is invertible.

A flow is an invertible map f from a data point x to a latent z = f(x) whose density is simple, N(0, I).
The change of variables gives the density of x *exactly*:

    log p(x) = log N(f(x); 0, I) + log |det ∂f/∂x|

so a flow trains by maximum likelihood, the quantity a VAE and a diffusion model can only bound and a GAN
never sees. Sampling runs the map backwards, x = f⁻¹(z) with z ~ N(0, I): one pass through the layers.

What makes this affordable is a layer whose inverse and Jacobian determinant are cheap. An affine coupling
layer keeps the coordinates picked by a binary mask b and scales and shifts the others by amounts computed
from the kept ones only:

    y = b ⊙ x + (1 − b) ⊙ (x ⊙ exp(s(b ⊙ x)) + t(b ⊙ x))

Its Jacobian is triangular (the kept coordinates pass through, the moved ones depend on themselves only
through exp(s)), so  log |det ∂y/∂x| = Σ_i (1 − b_i) s_i(b ⊙ x),  and since b ⊙ y = b ⊙ x the inverse is
x = b ⊙ y + (1 − b) ⊙ (y − t(b ⊙ y)) ⊙ exp(−s(b ⊙ y)). s and t are ordinary networks that are never
inverted. Consecutive layers swap the mask so that every coordinate gets moved; the price of the design is
that each layer moves half the coordinates, along fixed axes, so a curved, multi-modal density needs many
layers. We also turn the plane after every layer by a fixed random orthogonal matrix Q (|det Q| = 1, so
the log-determinant is unchanged, and Q⁻¹ = Qᵀ): the next split is then along new directions. This is Glow's invertible 1×1 convolution (Kingma & Dhariwal
2018), fixed instead of learned; on the 8-Gaussian ring it brings the flow markedly closer to the true
density for the same number of layers.
"""
from __future__ import annotations

import torch
from torch import nn

from ..models.registry import register
from .._checks import check_real
from ._common import check_draw, check_points, check_sizes, mlp, standard_normal


class AffineCoupling(nn.Module):
    """One coupling layer: ``forward(x) → (y, log|det ∂y/∂x|)`` and ``inverse(y) → x``."""

    def __init__(self, mask: torch.Tensor, hidden: int = 64, depth: int = 2, max_scale: float = 2.0):
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.register_buffer("free", 1 - mask.float())
        self.max_scale = max_scale
        dim = mask.numel()
        self.net = mlp(dim, 2 * dim, hidden, depth)
        nn.init.zeros_(self.net[-1].weight)  # start as the identity map: s = t = 0
        nn.init.zeros_(self.net[-1].bias)

    def scale_shift(self, kept: torch.Tensor):
        """s and t from the kept coordinates, zero on the kept ones; s soft-clamped to ±max_scale."""
        s, t = self.net(kept).chunk(2, dim=-1)
        s = self.max_scale * torch.tanh(s / self.max_scale)  # bounded scales keep early training stable
        return s * self.free, t * self.free

    def forward(self, x: torch.Tensor):
        s, t = self.scale_shift(x * self.mask)
        # s = t = 0 on the kept coordinates, where this is x itself: b⊙x + (1 − b)⊙(x⊙exp(s) + t) in one line
        return x * torch.exp(s) + t, s.sum(-1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        s, t = self.scale_shift(y * self.mask)  # b⊙y = b⊙x: the same s and t as on the way forward
        return (y - t) * torch.exp(-s)


@register
class RealNVP(nn.Module):
    """x ↦ z through ``layers`` affine couplings with alternating masks (each followed by a fixed random
    orthogonal map if ``rotate``); base density N(0, I)."""

    def __init__(self, dim: int = 2, layers: int = 8, hidden: int = 64, depth: int = 2, max_scale: float = 2.0,
                 rotate: bool = True):
        super().__init__()
        sizes = check_sizes(dim=dim, layers=layers, hidden=hidden, depth=depth)
        if sizes["dim"] < 2:
            raise ValueError(f"dim must be >= 2 (a coupling layer moves half the coordinates using the others), got {dim}")
        if not isinstance(rotate, bool):
            raise ValueError(f"rotate must be True or False, got {rotate!r}")
        self.config = dict(**sizes, max_scale=check_real("max_scale", max_scale, low=0, low_open=True), rotate=rotate)
        dim, layers, hidden, depth, max_scale = (self.config[k] for k in ("dim", "layers", "hidden", "depth",
                                                                          "max_scale"))
        masks = [(torch.arange(dim) + k) % 2 for k in range(layers)]  # 0101…, 1010…, 0101…
        self.layers = nn.ModuleList(AffineCoupling(m, hidden, depth, max_scale) for m in masks)
        g = torch.Generator().manual_seed(0)  # the same maps in every instance: part of the architecture
        q = torch.stack([torch.linalg.qr(torch.randn(dim, dim, generator=g).double())[0] for _ in range(layers)])
        # kept in float64 (orthogonal to 1e-16) and cast to x's dtype on use, so that Qᵀ inverts Q in any precision
        self.register_buffer("rotations", q if rotate else torch.eye(dim, dtype=torch.float64).repeat(layers, 1, 1))

    def forward(self, x: torch.Tensor):
        """z = f(x) and log|det ∂f/∂x| (B,): the sum of the layers' log-determinants."""
        check_points("x", x, self.config["dim"])
        logdet = x.new_zeros(x.shape[0])
        for layer, q in zip(self.layers, self.rotations):
            x, ld = layer(x)
            x = x @ q.to(x.dtype)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        check_points("z", z, self.config["dim"])
        for layer, q in zip(reversed(self.layers), reversed(self.rotations)):
            z = layer.inverse(z @ q.to(z.dtype).T)
        return z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """The exact log-density log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|, in nats, shape (B,)."""
        z, logdet = self(x)
        return standard_normal(z) + logdet

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples x = f⁻¹(z), z ~ N(0, I) drawn from ``generator``."""
        n = check_draw(n, generator)
        p = next(self.parameters())
        z = torch.randn(n, self.config["dim"], generator=generator, dtype=p.dtype).to(p.device)
        return self.inverse(z)


def realnvp_loss(model: RealNVP, batch: torch.Tensor, generator=None) -> torch.Tensor:
    """−E[log p(x)] on the batch, for ``diffedu.train``: maximum likelihood, nothing random."""
    return -model.log_prob(batch).mean()

