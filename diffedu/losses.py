"""Training objectives of the lecture's "Backward pass" slides (Ho et al. 2020, §3.2–3.4).

The ELBO's t-th term, with p_θ(x_{t−1}|x_t) = N(μ_θ, σ_t² I) and μ_θ written through ε_θ, is

    L_{t−1} = β_t² / (2 σ_t² α_t (1 − ᾱ_t)) · ‖ε − ε_θ(x_t, t)‖²

(the slides print this weight with Σ(t) = σ_t²). Ho et al. drop the weight and train on
L_simple = E‖ε − ε_θ‖². ``diffusion_loss`` computes either for a network predicting ε, x_0, v, the score or
the velocity, on any process of ``diffedu.processes`` (the ELBO weight for the discrete one).
"""
from __future__ import annotations

import torch

from ._checks import check_batched, check_same_shape
from ._random import randn
from .model import PREDICTIONS, FunctionModel
from .processes import DiscreteVP, Process, column
from .schedules import Schedule


WEIGHTINGS = ("simple", "elbo", "min-snr")
MIN_SNR_GAMMA = 5.0  # Hang et al. 2023: γ = 5


def elbo_weight(sched: Schedule, sigma2: str = "beta") -> torch.Tensor:
    """β_t² / (2 σ_t² α_t (1 − ᾱ_t)) for t = 0..T (entry 0 unused, set to 0), float64.

    sigma2="beta" uses σ_t² = β_t; "beta_tilde" uses β̃_t, whose t = 1 value is 0 (the weight would be
    infinite there: Ho et al. handle that term with a separate decoder), so there we fall back to β_1.
    """
    if sigma2 not in ("beta", "beta_tilde"):
        raise ValueError(f"sigma2 must be 'beta' or 'beta_tilde', got {sigma2!r}")
    var = sched.betas.clone() if sigma2 == "beta" else sched.posterior_variances.clone()
    var[1] = sched.betas[1] if sigma2 == "beta_tilde" else var[1]
    w = torch.zeros_like(var)
    w[1:] = sched.betas[1:] ** 2 / (2 * var[1:] * sched.alphas[1:] * (1 - sched.alpha_bars[1:]))
    return w


def targets(process: Process, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> dict:
    """What a network should output at x_t = α_t x_0 + σ_t ε, in each parameterisation."""
    a, s = (column(v, x0) for v in process.alpha_sigma(t))
    out = {"eps": eps, "x0": x0, "v": a * eps - s * x0, "score": -eps / s}
    if not process.discrete:
        da, ds = (column(v, x0) for v in process.d_alpha_sigma(t))
        out["velocity"] = da * x0 + ds * eps
    return out


def truncated_snr(process: Process, t) -> torch.Tensor:
    """max(SNR_t, 1), SNR_t = α_t²/σ_t²: Salimans & Ho's "truncated SNR" weight on an x_0 error (float64)."""
    a, s = process.alpha_sigma(t)
    return ((a / s) ** 2).clamp(min=1.0)


def diffusion_loss(net, x0: torch.Tensor, process, *, prediction: str = "eps", weighting: str = "simple",
                   t: torch.Tensor | None = None, noise: torch.Tensor | None = None,
                   generator: torch.Generator | None = None, **net_kwargs) -> torch.Tensor:
    """One Monte-Carlo estimate of the loss on a batch x0 (Algorithm 1, line 5).

    process:   a ``processes.Process`` (a named ``Schedule`` is read as ``DiscreteVP``).
    weighting="simple": mean squared error of the network's own target (ε, x_0, v, score or velocity): L_simple.
    weighting="min-snr": each sample's error weighted so that, in ε units, the weight is min(SNR_t, γ)/SNR_t
                        (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting", γ = 5): the
                        low-noise steps stop dominating; for v-prediction min(SNR, γ)/(SNR + 1).
    weighting="elbo":   T · E_t[ weight_t · ‖ε − ε̂‖² ] summed over dimensions — the ELBO terms L_{1..T−1}
                        in nats per sample (up to the constant L_T and the decoder L_0), on a DiscreteVP.
    t: optionally the times (B,); otherwise ``process.sample_t``: uniform on {1, …, T}, or on (t_clean, t_max].
    noise: optionally the ε of each sample (flow matching's x_1, a reflow pair's coupled noise); else drawn.

    Flow matching (Lipman et al. 2023) is this loss with prediction="velocity" on ``processes.Linear``: its target
    α'_t x_0 + σ'_t ε = ε − x_0 (``fewstep.flow_matching_loss`` names it).
    """
    check_batched("x0", x0)
    if isinstance(process, Schedule):
        process = DiscreteVP.of(process)
    if not isinstance(process, Process):
        raise ValueError(f"process must be a diffedu.processes.Process or a Schedule, got {type(process).__name__}")
    if prediction not in PREDICTIONS or (prediction == "velocity" and process.discrete):
        raise ValueError(f"prediction must be one of {PREDICTIONS} (velocity: continuous processes), "
                         f"got {prediction!r}")
    if weighting not in WEIGHTINGS or (weighting == "elbo" and not process.discrete) or \
            (weighting == "min-snr" and prediction not in ("eps", "x0", "v")):
        raise ValueError(f"weighting must be one of {WEIGHTINGS} (elbo: on a DiscreteVP; min-snr: for eps, x0 or v), "
                         f"got {weighting!r}")
    B = x0.shape[0]
    t = process.time_tensor(process.sample_t(B, x0, generator) if t is None else t, B, x0.device)
    if noise is not None:
        check_same_shape("x0", x0, "noise", noise)
    eps = randn(x0.shape, x0, generator) if noise is None else noise
    xt = process.q_sample(x0, t, eps)
    pred = net(xt, process.net_time(t), **net_kwargs)
    if pred.shape != x0.shape:
        raise ValueError(f"the network returned shape {tuple(pred.shape)}, expected {tuple(x0.shape)}")
    if weighting == "simple":
        return ((pred - targets(process, x0, eps, t)[prediction]) ** 2).mean()
    if weighting == "min-snr":
        a, s = process.alpha_sigma(t)
        snr = (a / s) ** 2
        w = snr.clamp(max=MIN_SNR_GAMMA) / {"eps": snr, "x0": torch.ones_like(snr), "v": snr + 1}[prediction]
        per_sample = ((pred - targets(process, x0, eps, t)[prediction]) ** 2).flatten(1).mean(1)
        return (w.to(x0.dtype) * per_sample).mean()
    eps_hat = FunctionModel(lambda x, tt: pred, process, prediction).eps(xt, t)  # any prediction, read as ε̂
    per_sample = ((eps - eps_hat) ** 2).flatten(1).sum(1)
    w = elbo_weight(process.sched).to(x0.device)[t].to(x0.dtype)
    return process.T * (w * per_sample).mean()
