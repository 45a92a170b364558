"""DreamBooth (Ruiz et al. 2023, "DreamBooth: fine tuning text-to-image diffusion models for subject-driven
generation"): fine-tune the whole denoiser on a few images of the subject, captioned with a rare identifier
("a [v] two"), and keep the class prior alive with the model's own samples of the class prompt:

    L = E ‖x̂_θ(α_t x + σ_t ε, c_[v]) − x‖²  +  λ E ‖x̂_θ(α_t' x_pr + σ_t' ε', c_class) − x_pr‖²
        (the subject: a few images)            (prior preservation: x_pr ~ the frozen model given c_class)

(the paper's weights w_t, w_t' are the diffusion loss's own; here v-prediction with min-SNR weighting, exactly
as the text model was trained). Without the second term the model drifts: the class prompt itself starts
to produce the subject ("language drift") and what it knew of other prompts fades (catastrophic forgetting).
The price of DreamBooth is a full copy of the denoiser per concept.
"""
from __future__ import annotations

import torch

from .._checks import check_real
from ..losses import diffusion_loss


def prior_preservation_loss(net, x: torch.Tensor, prompts: torch.Tensor, x_prior: torch.Tensor,
                            prior_prompts: torch.Tensor, process, lam: float = 1.0, *,
                            generator: torch.Generator | None = None, **loss_kw) -> torch.Tensor:
    """The subject's diffusion loss plus λ times the prior's (``diffusion_loss`` each, the subject's first, with
    the same generator); x and x_prior (B, …) with their prompts' tokens (B, L). λ = 0: naive fine-tuning."""
    lam = check_real("lam", lam, low=0)
    subject = diffusion_loss(net, x, process, generator=generator, y=prompts, **loss_kw)
    if lam == 0:
        return subject
    return subject + lam * diffusion_loss(net, x_prior, process, generator=generator, y=prior_prompts, **loss_kw)


def class_prior(model, prompts: list, w: float = 3.0, steps: int = 20, seed: int = 0) -> torch.Tensor:
    """The frozen model's own samples, one per prompt (DDIM, classifier-free guidance w): DreamBooth's x_pr.
    Sampled as ``evaluate.measure`` samples: float32, 100 prompts a run."""
    from ..images import sample_images

    return sample_images(model, list(prompts), w, steps, seed=seed, bf16=False, batch=100)
