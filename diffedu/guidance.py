"""Conditioning at sampling time: classifier-free guidance (CFG), classifier guidance and CLIP guidance.

The lecture's starting point is Bayes' rule on scores:  ∇log p(x|y) = ∇log p(x) + ∇log p(y|x).

* Classifier-free guidance (Ho & Salimans 2022): one network trained with and without the condition (class
  labels, or prompts with the empty prompt as ∅); ε̃ = ε_∅ + w (ε_y − ε_∅) = (1 − w) ε_∅ + w ε_y. w = 0 is
  unconditional, w = 1 plain conditional, w > 1 pushes further along the direction "conditional minus
  unconditional". (The lecture's γ is this w.)  ``model.given(cond, w)``; the combination is ``cfg_combine``
  (written once, in ``diffedu.model`` beside ``Guided``).
* Classifier guidance (Dhariwal & Nichol 2021): add the gradient of a classifier trained on noisy images,
  scaled by s. In ε units (their Algorithm 2), ε̂ = ε_θ(x_t) − s·√(1 − ᾱ_t)·∇_{x_t} log p_φ(y | x_t, t), which
  plugs into DDIM unchanged; for DDPM it shifts the mean by (β_t/√α_t)·s·∇log p_φ, i.e. Algorithm 1's
  s·Σ·∇log p_φ up to the factor 1/√α_t ≈ 1.  ``classifier_guided(model, classifier, y, s)``.
* Classifier guidance on a latent model (lesson 09) needs ∇_{z_t} log p(y | z_t). Without a classifier trained on
  noisy latents, judge the decoded denoised estimate with a classifier of clean images:
  ∇_{z_t} log p_φ(y | D(ẑ_0(z_t))), the gradient through the classifier, the decoder D and the denoiser's
  ẑ_0 = (z_t − σ_t ε̂_θ(z_t))/α_t (the lecture's "may require decoding the latents"; Bansal et al. 2023's forward
  universal guidance). ``classifier_guided(model, clean_classifier, y, s, decode=ldm.decode)``; for a pixel model,
  ``decode=torch.nn.Identity()`` judges x̂_0 itself.
* CLIP guidance (GLIDE, Nichol et al. 2022, §2.4; lesson 10): lesson 07's noisy classifier replaced by a noised
  CLIP, ∇log p(x_t) + s ∇_x e^τ ⟨f(x_t, t), g(c)⟩: the prompt's direction in embedding space pulls x_t towards
  images that CLIP finds similar. The CLIP must have been trained on the model's process (its image tower sees
  x_t at the model's t).  ``CLIPGuided(model, clip, prompts, s)``.

All return a model again (``diffedu.model``), so every sampler takes them unchanged.
"""
from __future__ import annotations

import torch

from ._checks import check_labels, check_real, check_tokens
from .model import Guided, Model, cfg_combine

__all__ = ["cfg_combine", "guided_score", "classifier_guided", "Guided", "ClassifierGuided", "DecodedClassifierGuided",
           "CLIPGuided"]


def classifier_guided(model, classifier, y, scale: float, decode=None, t_max=None) -> "ClassifierGuided":
    """The model guided by a noisy classifier ``classifier(x_t, t) → logits`` towards labels y, scale s ≥ 0.

    decode: a callable (e.g. a latent model's ``decode``): then ``classifier(x) → logits`` is a classifier of clean
    images and judges ``decode(x̂_0(x_t))`` (``DecodedClassifierGuided``).
    t_max:  guide only at times t ≤ t_max (a guidance interval; None: at every t)."""
    if decode is not None:
        return DecodedClassifierGuided(model, classifier, y, scale, decode, t_max=t_max)
    return ClassifierGuided(model, classifier, y, scale, t_max=t_max)


def guided_score(score_uncond: torch.Tensor, score_cond: torch.Tensor, gamma: float) -> torch.Tensor:
    """The lecture's (1 − γ)∇log p(x) + γ∇log p(x|y) (exact scores in the 2-D lessons): ``cfg_combine``."""
    return cfg_combine(score_uncond, score_cond, gamma, name="gamma")


class ClassifierGuided(Model):
    """Classifier guidance (Dhariwal & Nichol 2021): ∇log p(x|y) = ∇log p(x) + s ∇log p_φ(y | x_t, t).

    ``classifier(x_t, net_time) → logits`` must have been trained on the same process (its ``.process``).
    Subclasses change what is differentiated by overriding ``log_likelihood`` (``CLIPGuided``,
    ``DecodedClassifierGuided``). ``t_max``: the term is added only at times t ≤ t_max (a guidance interval,
    Kynkäänniemi et al. 2024; None: everywhere) — where it is off, no gradient is computed.
    """

    prediction = "score"
    network_arg = "classifier"                       # the argument that carries the network, named in errors
    network_hint = "a torch.nn.Module taking (x_t, t), e.g. pretrained('mnist-noisy-classifier')"

    def __init__(self, model: Model, classifier: torch.nn.Module, y, scale: float, *, t_max=None):
        if getattr(model, "process", None) is None or not callable(getattr(model, "score", None)):
            raise TypeError(f"model must be a diffedu Model (e.g. pretrained(NAME)), got {type(model).__name__}")
        if not isinstance(classifier, torch.nn.Module):
            raise TypeError(f"{self.network_arg} must be a network ({self.network_hint}), "
                            f"got {type(classifier).__name__}")
        cp = getattr(classifier, "process", None)
        if cp is not None and cp != model.process:
            raise ValueError(f"the classifier was trained on {cp.spec()}, the model on {model.process.spec()}: "
                             "guidance needs the same process")
        self.model, self.classifier, self.y = model, classifier, y
        self.scale = check_real("scale", scale, low=0)
        self.process = model.process
        self.t_max = None if t_max is None else check_real("t_max", t_max, low=0)

    def log_p_y(self, logits: torch.Tensor) -> torch.Tensor:
        """Σ_i log softmax(logits_i)[y_i]."""
        logp = torch.log_softmax(logits, dim=-1)
        return logp.gather(1, check_labels("y", self.y, logp.shape[-1], logits.shape[0], logits.device)[:, None]).sum()

    def log_likelihood(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Σ_i log p_φ(y_i | x_i, t) at the process's times t (B,): what the guidance differentiates."""
        return self.log_p_y(self.classifier(x, self.process.net_time(t)))

    def output(self, x, t):
        s = self.model.score(x, t)
        t = self.process.time_tensor(t, x.shape[0], x.device)
        on = torch.ones_like(t, dtype=torch.bool) if self.t_max is None else t <= self.t_max
        if self.scale == 0 or not on.any():
            return s
        with torch.enable_grad():
            xg = x.detach().to(next(self.classifier.parameters()).dtype).requires_grad_(True)
            (grad,) = torch.autograd.grad(self.log_likelihood(xg, t), xg)
        return s + self.scale * grad.to(x.dtype) * on.view(-1, *[1] * (x.ndim - 1))


class DecodedClassifierGuided(ClassifierGuided):
    """Classifier guidance through the denoiser and a decoder, with a classifier of *clean* images:
    ∇_{z_t} log p(z_t | y) ≈ ∇_{z_t} log p_θ(z_t) + s ∇_{z_t} log p_φ(y | D(ẑ_0(z_t))).

    ẑ_0(z_t) is ``model.x0`` (differentiated through the network: one more forward and a backward pass per step),
    D is ``decode`` (a latent model's ``decode``; ``torch.nn.Identity()`` for a pixel model) and
    ``classifier(x) → logits`` takes images only. A classifier of clean images is not p(y | z_t): near t = T,
    ẑ_0 is a blurred average and the gradient says little; its gradients can also be adversarial (they raise the
    classifier's confidence without making the picture more of the class), so judge the samples with another network."""

    network_hint = "a torch.nn.Module taking clean images x, e.g. pretrained('mnist-classifier')"

    def __init__(self, model: Model, classifier: torch.nn.Module, y, scale: float, decode, *, t_max=None):
        super().__init__(model, classifier, y, scale, t_max=t_max)
        if not callable(decode):
            raise TypeError(f"decode must be callable (a latent model's decode, or torch.nn.Identity() for pixels), "
                            f"got {type(decode).__name__}")
        if getattr(classifier, "process", None) is not None:
            raise ValueError(f"classifier must judge clean images (classifier(x) → logits) when decode is given; this "
                             f"one was trained on noisy inputs of {classifier.process.spec()}: pass it without decode")
        self.decode = decode

    def log_likelihood(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Σ_i log p_φ(y_i | D(ẑ_0(z_i, t_i)))."""
        return self.log_p_y(self.classifier(self.decode(self.model.x0(z, t))))


class CLIPGuided(ClassifierGuided):
    """Score of ``model`` plus ``scale`` times the gradient of the noised CLIP's similarity to the prompts:
    classifier guidance with e^τ ⟨f(x_t, t), g(c)⟩ in place of log p_φ(y | x_t, t). ``prompts``: a string, a
    list of strings, or token ids of the CLIP's tokenizer."""

    network_arg = "clip"
    network_hint = "a noised CLIP, e.g. pretrained('mnist-clip')"

    def __init__(self, model: Model, clip: torch.nn.Module, prompts, scale: float):
        super().__init__(model, clip, prompts, scale)
        if not hasattr(clip, "tokenizer") or not callable(getattr(clip, "encode_text", None)):
            raise TypeError(f"clip must be a CLIP (e.g. pretrained('mnist-clip')), got {type(clip).__name__}")
        self.clip, self.prompts = clip, check_tokens("prompts", prompts, clip.tokenizer)

    def log_likelihood(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        txt = self.clip.encode_text(self.prompts.to(x.device)).detach()
        txt = txt.expand(x.shape[0], -1) if txt.shape[0] == 1 else txt
        return self.clip.logit_scale.exp() * (self.clip.encode_image(x, self.process.net_time(t)) * txt).sum()
