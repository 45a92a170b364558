"""Sampling from prompts (lesson 10): classifier-free guidance over text, and GLIDE's CLIP guidance.

    PromptGuided(model, tokens, w)     out = out_∅ + w (out_c − out_∅), ∅ the empty prompt; one batched pass
    CLIPGuided(model, clip, tokens, s) ∇log p(x_t) + s ∇_x e^τ ⟨f(x_t, t), g(c)⟩   (Nichol et al. 2022, §2.4)

CLIP guidance replaces lesson 07's noisy classifier by the noised CLIP: the prompt's direction in embedding
space pulls x_t towards images that CLIP finds similar. The CLIP must have been trained on the model's process
(its image tower sees x_t at the model's t).
"""
from __future__ import annotations

import torch

from .._checks import check_real
from ..model import ClassifierGuided, DiffusionModel, Model


def _tokens(model, tokens, batch: int, device) -> torch.Tensor:
    if isinstance(tokens, (str, list, tuple)):
        tokens = model.net.tokenizer.encode(tokens)
    tokens = tokens.to(device)
    if tokens.shape[0] == 1:
        tokens = tokens.expand(batch, -1)
    if tokens.shape[0] != batch:
        raise ValueError(f"tokens must have 1 or {batch} rows (one prompt per sample), got {tokens.shape[0]}")
    return tokens


class PromptGuided(Model):
    """The text model conditioned on prompts (strings, or token ids from the model's tokenizer) with
    classifier-free guidance scale w: w = 0 the empty prompt's model, w = 1 the conditional one, exactly."""

    def __init__(self, model: DiffusionModel, prompts, w: float = 1.0):
        if not hasattr(model.net, "empty_prompt"):
            raise ValueError("PromptGuided needs a text-conditioned model (a TextUNet)")
        self.model, self.prompts, self.w = model, prompts, check_real("w", w)
        self.process, self.prediction = model.process, model.prediction

    def output(self, x, t):
        m, B = self.model, x.shape[0]
        tokens = _tokens(m, self.prompts, B, x.device)
        null = m.net.empty_prompt(B, x.device)
        if self.w in (0.0, 1.0):
            return m.output(x, t, tokens if self.w == 1.0 else null)
        out = m.output(torch.cat([x, x]), torch.cat([t, t]), torch.cat([tokens, null]))
        return torch.lerp(out[B:], out[:B], self.w)


class CLIPGuided(ClassifierGuided):
    """Score of ``model`` plus ``scale`` times the gradient of the noised CLIP's similarity to the prompts:
    classifier guidance with e^τ ⟨f(x_t, t), g(c)⟩ in place of log p_φ(y | x_t, t)."""

    def __init__(self, model: Model, clip: torch.nn.Module, prompts, scale: float):
        super().__init__(model, clip, prompts, scale)
        self.clip, self.prompts = clip, prompts

    def log_likelihood(self, x: torch.Tensor, t_net: torch.Tensor) -> torch.Tensor:
        tokens = self.prompts
        if isinstance(tokens, (str, list, tuple)):
            tokens = self.clip.tokenizer.encode(tokens)
        txt = self.clip.encode_text(tokens.to(x.device)).detach()
        txt = txt.expand(x.shape[0], -1) if txt.shape[0] == 1 else txt
        return self.clip.logit_scale.exp() * (self.clip.encode_image(x, t_net) * txt).sum()
