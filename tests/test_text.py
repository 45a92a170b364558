"""Text conditioning (lesson 10): caption attributes on hand-made digits, the tokenizer, cross-attention, the
InfoNCE loss, prompt CFG and batch independence of the text U-Net."""
import pytest
import torch

from diffedu.model import DiffusionModel
from diffedu.models import CLIP, TextUNet
from diffedu.models.text_unet import CrossAttention, cross_attention
from diffedu.processes import DiscreteVP
from diffedu.guidance import CLIPGuided
from diffedu.text import HELD_OUT, attributes, caption, caption_tokenizer, info_nce, mentioned, slant, thickness


def bar(width: int, shift: float = 0.0) -> torch.Tensor:
    """A vertical stroke 20 px tall and ``width`` px wide on a 28×28 page in [−1, 1]; ``shift``: columns moved
    per row going up (> 0: the top leans right)."""
    x = -torch.ones(1, 1, 28, 28)
    for r in range(4, 24):
        c0 = int(round(12 + shift * (23 - r)))
        x[0, 0, r, c0:c0 + width] = 1.0
    return x


def test_thickness_measures_the_stroke_width_of_hand_made_bars():
    widths = [float(thickness(bar(w))) for w in (1, 2, 3, 4)]
    assert widths == sorted(widths)
    for w, got in zip((1, 2, 3, 4), widths):
        assert w * 0.8 <= got <= w  # 2·area/perimeter = wL/(w + L): a little under w for L = 20
    assert float(thickness(-torch.ones(1, 28, 28))) == 0


def test_slant_measures_the_lean_of_hand_made_bars():
    assert abs(float(slant(bar(2)))) < 1e-9
    assert float(slant(bar(2, 0.3))) == pytest.approx(0.3, abs=0.04)
    assert float(slant(bar(2, -0.25))) == pytest.approx(-0.25, abs=0.04)


def test_captions_state_the_measured_attributes_and_respect_held_out_pairs():
    thick_right, thin_upright = torch.cat([bar(5, 0.4)]), bar(1)
    a = attributes(torch.cat([thick_right, thin_upright]))
    assert a == [{"stroke": "thick", "slant": "right"}, {"stroke": "thin", "slant": "upright"}]
    for k in range(40):
        m = mentioned(caption(3, "thick", "right", k))
        assert m["digit"] == 3 and m["stroke"] in (None, "thick") and m["slant"] in (None, "right")
    digit, attr = next(iter(sorted(HELD_OUT)))
    key = "stroke" if attr in ("thin", "thick") else "slant"
    assert all(mentioned(caption(digit, attr if key == "stroke" else None, attr if key == "slant" else None, k))[key]
               is None for k in range(40))
    with pytest.raises(ValueError, match="digit"):
        caption(12, None, None, 0)


def test_tokenizer_round_trips_and_rejects_unknown_words_by_name():
    tok = caption_tokenizer()
    prompts = ["a thick slanted seven", "7, thin and upright", "", "an italic 4"]
    ids = tok.encode(prompts)
    assert ids.shape == (4, tok.length) and ids.dtype == torch.long
    assert [tok.decode(r) for r in ids] == prompts
    assert ids[2].tolist()[:2] == [1, 0]  # the empty prompt: <eos>, then padding
    with pytest.raises(ValueError, match="unknown word 'blue'"):
        tok.encode("a blue seven")
    with pytest.raises(ValueError, match="did you mean 'thick'"):
        tok.encode("a thik seven")
    with pytest.raises(ValueError, match="at most"):
        tok.encode(" ".join(["seven"] * 20))


def test_cross_attention_with_one_token_returns_that_values_projection_everywhere():
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(2, 4, 49, 8, generator=g), torch.randn(2, 4, 1, 8, generator=g), torch.randn(2, 4, 1, 8,
                                                                                                      generator=g)
    out, w = cross_attention(q, k, v)
    assert torch.allclose(w, torch.ones_like(w)) and torch.allclose(out, v.expand_as(out))
    # the module: with one token every position receives W_o (W_v c + b_v) + b_o, whatever its features
    torch.manual_seed(0)
    ca = CrossAttention(16, 8, heads=2)
    torch.nn.init.normal_(ca.out.weight)
    x, ctx = torch.randn(2, 16, 7, 7), torch.randn(2, 1, 8)
    expected = ca.out(ca.v(ctx))[:, 0]                                       # (B, C)
    torch.testing.assert_close(ca(x, ctx) - x, expected[:, :, None, None].expand_as(x), atol=1e-5, rtol=1e-5)
    # padding is never attended to
    mask = torch.tensor([[True, False], [True, False]])
    ctx2 = torch.cat([ctx, 100 * torch.randn(2, 1, 8)], 1)
    torch.testing.assert_close(ca(x, ctx2, mask), ca(x, ctx), atol=1e-5, rtol=1e-5)


def test_info_nce_of_an_aligned_batch_is_below_a_shuffled_one():
    g = torch.Generator().manual_seed(0)
    f = torch.nn.functional.normalize(torch.randn(16, 32, generator=g), dim=-1)
    aligned = info_nce(14.3 * f @ f.T)
    shuffled = info_nce(14.3 * f @ f[torch.randperm(16, generator=g)].T)
    assert aligned < shuffled
    logits = torch.randn(5, 5, generator=g)  # its definition: the mean of the two cross-entropies
    ce = torch.nn.functional.cross_entropy
    torch.testing.assert_close(info_nce(logits), (ce(logits, torch.arange(5)) + ce(logits.T, torch.arange(5))) / 2)
    with pytest.raises(ValueError, match="square"):
        info_nce(torch.randn(3, 4))


def _text_model():
    torch.manual_seed(0)
    tok = caption_tokenizer()
    net = TextUNet(vocab=tok.itos[2:], base_channels=16, channel_mults=(1, 2), attn_resolutions=(), dropout=0.0,
                   cross_attn_resolutions=(14,)).eval()
    for p in net.parameters():  # zero-initialised outputs would hide the prompt's effect
        if not p.any():
            torch.nn.init.normal_(p, std=0.05)
    return DiffusionModel(net, DiscreteVP("cosine", 1000), "v")


def test_prompt_cfg_at_w0_is_the_empty_prompt_and_w1_the_conditional_model():
    m = _text_model()
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([100, 500, 900])
    prompts = ["a thick seven", "one", "a slanted 4"]
    tokens = m.net.tokenizer.encode(prompts)
    with torch.no_grad():
        cond, uncond = m.net(x, t, tokens), m.net(x, t, m.net.empty_prompt(3, "cpu"))
        assert torch.equal(m.given(prompts, 1.0).output(x, t), cond)
        assert torch.equal(m.given(prompts, 0.0).output(x, t), uncond)
        assert torch.equal(m.given([""] * 3, 1.0).output(x, t), m.net(x, t))  # no tokens = the empty prompt
        assert torch.allclose(m.given(prompts, 3.0).output(x, t), uncond + 3 * (cond - uncond), atol=1e-5)
        assert not torch.allclose(cond, uncond)


def test_one_samples_output_does_not_depend_on_the_other_prompts():
    m = _text_model()
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([300, 300, 300])
    tok = m.net.tokenizer
    with torch.no_grad():
        a = m.net(x, t, tok.encode(["a thick seven", "one", "two"]))
        b = m.net(x, t, tok.encode(["a thick seven", "a thin slanted 8", ""]))
        alone = m.net(x[:1], t[:1], tok.encode(["a thick seven"]))
    torch.testing.assert_close(a[0], b[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(a[:1], alone, atol=1e-5, rtol=1e-5)


def test_clip_guidance_adds_the_gradient_of_the_similarity():
    torch.manual_seed(0)
    tok = caption_tokenizer()
    clip = CLIP(vocab=tok.itos[2:], dim=16, layers=1, heads=2, width=16).eval()
    m = _text_model().given("", 1.0)
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([400, 400])
    base = m.score(x, t)
    assert torch.equal(CLIPGuided(m, clip, "a seven", 0.0).score(x, t), base)
    xg = x.clone().requires_grad_(True)
    sim = clip.logit_scale.exp() * (clip.encode_image(xg, t) * clip.encode_text(tok.encode("a seven"))).sum()
    (grad,) = torch.autograd.grad(sim, xg)
    torch.testing.assert_close(CLIPGuided(m, clip, "a seven", 2.0).score(x, t), base + 2.0 * grad)


def test_prompt_agreement_scores_digit_and_attributes_against_the_prompt():
    from diffedu.text import prompt_agreement, summary

    class Fixed(torch.nn.Module):  # a "classifier" that always says 7
        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.nn.functional.one_hot(torch.full((x.shape[0],), 7), 10).float() + 0 * self.p

    images = torch.cat([bar(5, 0.4), bar(1), bar(2)])           # thick+right, thin+upright, neither+upright
    agree = prompt_agreement(images, ["a thick seven", "a thick 7", "seven"], Fixed())
    assert agree["digit"].tolist() == [1.0, 1.0, 1.0]
    assert agree["stroke"][:2].tolist() == [1.0, 0.0] and agree["stroke"][2].isnan()
    s = summary(agree)
    assert s["digit"] == 1.0 and s["stroke"] == 0.5 and s["slant"] != s["slant"]  # NaN: no prompt asked
    assert prompt_agreement(images[:1], ["thick"], Fixed())["digit"].isnan().all()  # no digit asked: not scored
    with pytest.raises(ValueError, match="one prompt per image"):
        prompt_agreement(images, ["seven"], Fixed())


def test_the_text_encoder_stays_frozen_when_the_network_is_rebuilt_from_its_config(tmp_path):
    from diffedu import checkpoint

    m = _text_model()
    assert not any(p.requires_grad for p in m.net.text.parameters())
    assert any(p.requires_grad for p in m.net.cross.parameters())
    back = checkpoint.load(checkpoint.save(tmp_path / "t", m))      # what a resumed or init_from run builds
    assert not any(p.requires_grad for p in back.net.train().text.parameters())


def test_the_shipped_clip_classifies_digits_zero_shot():
    from diffedu.datasets import mnist
    from diffedu.pretrained import pretrained
    from diffedu.text import zero_shot

    clip = pretrained("mnist-clip")
    x, y = mnist.load("test")
    assert float((zero_shot(clip, x[:1000]) == y[:1000]).double().mean()) >= 0.95
    assert clip.process == DiscreteVP("cosine", 1000)  # guidance refuses a model of another process
