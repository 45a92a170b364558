"""Formulas written out by hand, where a slip would leave every other test green.

* DiT's adaLN: LN(x) ⊙ (1 + s) + b. A freshly built DiT has zero adaLN weights (adaLN-Zero), so every block is the
  identity and the output is 0 whatever ``modulate`` does: the tests here give the regressions non-zero weights.
* CLIP's similarity logits, as the training loss sees them: e^τ ⟨f, g⟩ with f, g unit-norm and τ the learned
  logit-scale parameter (not τ itself), and the symmetric InfoNCE over them.
"""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from diffedu.models import CLIP
from diffedu.models.dit import DiT, DiTBlock, modulate
from diffedu.text import info_nce

VOCAB = ["a", "thick", "seven", "the", "digit", "two", "slanted", "4"]


def _randomise(module: nn.Module, std: float, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(std * torch.randn(p.shape, generator=g))


def _ln(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)   # DiT's LayerNorms have no affine of their own


def _attention(block: DiTBlock, h):
    B, N, D = h.shape
    q, k, v = block.qkv(h).reshape(B, N, 3, block.heads, D // block.heads).permute(2, 0, 3, 1, 4)
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // block.heads), dim=-1)
    return block.proj((a @ v).transpose(1, 2).reshape(B, N, D))


def test_modulate_is_layer_norm_times_one_plus_scale_plus_shift():
    g = torch.Generator().manual_seed(0)
    x, shift, scale = torch.randn(2, 5, 8, generator=g), torch.randn(2, 8, generator=g), torch.randn(2, 8, generator=g)
    torch.testing.assert_close(modulate(x, shift, scale), x * (1 + scale[:, None, :]) + shift[:, None, :])


@torch.no_grad()
def test_a_dit_block_with_non_zero_adaln_weights_matches_the_paper_written_out():
    """x ← x + g₁ ⊙ Attn(LN(x) ⊙ (1 + s₁) + b₁);  x ← x + g₂ ⊙ MLP(LN(x) ⊙ (1 + s₂) + b₂), (b, s, g) from SiLU(c)."""
    torch.manual_seed(0)
    block = DiTBlock(16, heads=2).eval()
    _randomise(block.ada, 0.5, seed=1)                  # adaLN-Zero's zeros would hide the modulation
    assert block.ada.weight.abs().min() > 0
    g = torch.Generator().manual_seed(2)
    x, c = torch.randn(3, 5, 16, generator=g), torch.randn(3, 16, generator=g)
    b1, s1, g1, b2, s2, g2 = (v[:, None, :] for v in block.ada(F.silu(c)).chunk(6, dim=-1))
    assert s1.abs().mean() > 0.1 and s2.abs().mean() > 0.1
    h = x + g1 * _attention(block, _ln(x) * (1 + s1) + b1)
    expected = h + g2 * block.mlp(_ln(h) * (1 + s2) + b2)
    torch.testing.assert_close(block(x, c), expected, rtol=1e-5, atol=1e-5)
    # and with the attention maps returned (the lesson's figure), the same block output
    torch.testing.assert_close(block(x, c, weights=True)[0], expected, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_the_dit_final_layer_modulates_with_one_plus_scale():
    """final: LN(h) ⊙ (1 + s) + b → Linear → unpatchify, (b, s) = final_ada(SiLU(c)); checked at the output layer's
    input, captured from a DiT whose weights (adaLN and output layers included) are all non-zero."""
    torch.manual_seed(0)
    net = DiT(image_size=8, in_channels=2, patch_size=2, hidden_size=16, depth=1, heads=2, num_classes=3).eval()
    _randomise(net, 0.3, seed=1)
    seen = {}
    net.final_norm.register_forward_hook(lambda m, inp, out: seen.__setitem__("h", inp[0]))
    net.out.register_forward_hook(lambda m, inp, out: seen.__setitem__("out_in", inp[0]))
    g = torch.Generator().manual_seed(2)
    x, t, y = torch.randn(2, 2, 8, 8, generator=g), torch.tensor([10, 700]), torch.tensor([0, 2])
    net(x, t, y)
    shift, scale = net.final_ada(F.silu(net.condition(t, y))).chunk(2, dim=-1)
    assert scale.abs().mean() > 0.1
    expected = _ln(seen["h"]) * (1 + scale[:, None, :]) + shift[:, None, :]
    torch.testing.assert_close(seen["out_in"], expected, rtol=1e-5, atol=1e-5)


def _clip(tau: float):
    torch.manual_seed(0)
    clip = CLIP(vocab=VOCAB, dim=16, layers=1, heads=2, width=16).eval()
    with torch.no_grad():
        clip.logit_scale.fill_(tau)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 1, 28, 28, generator=g).clamp(-1, 1)
    tokens = clip.tokenizer.encode(["a thick seven", "the digit two", "a slanted 4", ""])
    return clip, x, torch.tensor([0, 0, 300, 800]), tokens


@pytest.mark.parametrize("tau", [math.log(1 / 0.07), 1.5])
def test_the_clip_logits_are_e_to_the_learned_scale_times_the_cosines(tau):
    """The forward the contrastive training differentiates (``recipes.text``: info_nce(clip(x_t, tokens, t)))."""
    clip, x, t, tokens = _clip(tau)
    assert isinstance(clip.logit_scale, nn.Parameter) and clip.logit_scale.requires_grad
    assert any(p is clip.logit_scale for p in clip.parameters())    # τ is learned with the rest
    with torch.no_grad():
        f, g = clip.encode_image(x, t), clip.encode_text(tokens)
        torch.testing.assert_close(f.norm(dim=-1), torch.ones(4))   # unit norm: ⟨f, g⟩ is a cosine
        torch.testing.assert_close(g.norm(dim=-1), torch.ones(4))
        cos = F.normalize(f, dim=-1) @ F.normalize(g, dim=-1).T
        assert cos.abs().max() <= 1 + 1e-6 and cos.std() > 0.01
        torch.testing.assert_close(clip(x, tokens, t), math.exp(tau) * cos, rtol=1e-5, atol=1e-6)
        # t = None: clean images, the same as t = 0
        torch.testing.assert_close(clip(x, tokens), math.exp(tau) * F.normalize(clip.encode_image(x, torch.zeros(
            4, dtype=torch.long)), dim=-1) @ g.T, rtol=1e-5, atol=1e-6)
    # the gradient the training gives τ: d/dτ Σ e^τ cos = Σ e^τ cos (τ instead of e^τ would give Σ cos)
    logits = clip(x, tokens, t)
    (grad,) = torch.autograd.grad(logits.sum(), clip.logit_scale)
    torch.testing.assert_close(grad, logits.detach().sum(), rtol=1e-5, atol=1e-6)


def test_info_nce_is_half_the_image_and_caption_cross_entropies_of_the_clip_logits():
    clip, x, t, tokens = _clip(2.0)
    with torch.no_grad():
        s = clip(x, tokens, t)
        i = torch.arange(4)
        rows = -torch.log_softmax(s, dim=1)[i, i].mean()        # each image picks its caption
        cols = -torch.log_softmax(s, dim=0)[i, i].mean()        # each caption picks its image
        torch.testing.assert_close(info_nce(s), 0.5 * (rows + cols))
        # the loss of the hand-made logits e^τ cos, so a forward with τ in place of e^τ changes the loss
        cos = clip.encode_image(x, t) @ clip.encode_text(tokens).T
        torch.testing.assert_close(info_nce(s), info_nce(math.exp(2.0) * cos), rtol=1e-5, atol=1e-6)
        assert not torch.allclose(info_nce(s), info_nce(2.0 * cos), rtol=1e-3)
