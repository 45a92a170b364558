"""One road for conditioning: ``model.given(cond, w)`` takes class labels or prompts, w a number or one scale per
sample, and samples bit-identically to the two roads it replaced (``model.Guided`` over labels and
``text.guidance.PromptGuided`` over prompts, copied below as they were at commit 9ccf167)."""
import math

import numpy as np
import pytest
import torch

import diffedu as de
from diffedu.model import Model
from diffedu.precision import inference_autocast
from diffedu.samplers import ddim_sample

PROMPTS = ["a thick seven", "a thin one", "a slanted 4"]


# --- the two roads before: the reference of the bit-identity tests -------------------------------------------
class _PromptGuidedBefore(Model):
    """``diffedu.text.guidance.PromptGuided`` at 9ccf167: CFG over prompts, ∅ the empty prompt."""

    def __init__(self, model, prompts, w):
        self.model, self.prompts, self.w = model, prompts, float(w)
        self.process, self.prediction = model.process, model.prediction

    def output(self, x, t):
        m, B = self.model, x.shape[0]
        tokens = self.prompts
        if isinstance(tokens, (str, list, tuple)):
            tokens = m.net.tokenizer.encode(tokens)
        tokens = tokens.to(x.device)
        if tokens.shape[0] == 1:
            tokens = tokens.expand(B, -1)
        null = m.net.empty_prompt(B, x.device)
        if self.w in (0.0, 1.0):
            return m.output(x, t, tokens if self.w == 1.0 else null)
        out = m.output(torch.cat([x, x]), torch.cat([t, t]), torch.cat([tokens, null]))
        return torch.lerp(out[B:], out[:B], self.w)


class _GuidedBefore(Model):
    """``diffedu.model.Guided`` at 9ccf167: CFG over labels, ∅ the label num_classes; a w-conditioned student
    takes w as an input."""

    def __init__(self, model, y, w):
        self.model, self.y, self.w = model, torch.as_tensor(y), float(w)
        self.process, self.prediction = model.process, model.prediction

    def output(self, x, t):
        m, B = self.model, x.shape[0]
        y = self.y.to(x.device).expand(B) if self.y.ndim == 0 else self.y.to(x.device)
        null = torch.full_like(y, m.num_classes)
        if m.net.config.get("guidance"):
            return m.output(x, t, y, w=torch.full((B,), self.w, dtype=torch.float64, device=x.device))
        if self.w in (0.0, 1.0):
            return m.output(x, t, y if self.w == 1.0 else null)
        out = m.output(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, null]))
        return torch.lerp(out[B:], out[:B], self.w)


def _noise(n, seed=0):
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


# --- bit-identity with the roads before ---------------------------------------------------------------------
@pytest.mark.parametrize("w", [0.0, 1.0, 3.0])
def test_given_prompts_samples_bit_identically_to_the_prompt_path_before(w):
    model = de.pretrained("mnist-text-unet")
    x_T = _noise(3)
    before = ddim_sample(_PromptGuidedBefore(model, PROMPTS, w), x_T, 5, clip_x0=1.0)
    assert torch.equal(ddim_sample(model.given(PROMPTS, w), x_T, 5, clip_x0=1.0), before)
    tokens = model.net.tokenizer.encode(PROMPTS)                     # token ids: the same road
    assert torch.equal(ddim_sample(model.given(tokens, w), x_T, 5, clip_x0=1.0), before)
    one = ddim_sample(_PromptGuidedBefore(model, "a thick seven", w), x_T, 5, clip_x0=1.0)
    assert torch.equal(ddim_sample(model.given("a thick seven", w), x_T, 5, clip_x0=1.0), one)  # one prompt, B rows


@pytest.mark.parametrize("bf16", [False, True])
def test_sample_images_of_prompts_is_the_widgets_and_the_evaluations_sampling_before(bf16):
    """``sample_images`` replaced ``widgets.text.sample_prompts`` (autocast as asked, x̂₀ clipped) and
    ``adapt.evaluate.sample`` (float32, 100 prompts a run, seeded noise): same images, bit for bit."""
    model = de.pretrained("mnist-text-unet")
    prompts = PROMPTS + ["two", "a thin zero"]
    x_T = _noise(len(prompts), seed=4)
    with inference_autocast("cpu", bf16):
        widget = ddim_sample(_PromptGuidedBefore(model, prompts, 3.0), x_T, 4, clip_x0=1.0).float().cpu()
    assert torch.equal(de.sample_images(model, prompts, 3.0, 4, x_T=x_T, bf16=bf16), widget)
    if not bf16:
        evaluate = torch.cat([ddim_sample(_PromptGuidedBefore(model, prompts[i:i + 2], 3.0), x_T[i:i + 2], 4,
                                          clip_x0=1.0).cpu() for i in range(0, len(prompts), 2)])
        assert torch.equal(de.sample_images(model, prompts, 3.0, 4, seed=4, bf16=False, batch=2), evaluate)


@pytest.mark.parametrize("label", [np.int64(7), np.array(7), torch.tensor(7)])
def test_sample_images_takes_one_label_of_any_integer_kind(label):
    """One label is one image whatever integer carries it (a numpy.int64 or a 0-dim array raised 'has no len()')."""
    model = de.pretrained("mnist-unet")
    want = de.sample_images(model, 7, 3.0, 2, seed=1, bf16=False)
    assert want.shape == (1, 1, 28, 28)
    assert torch.equal(de.sample_images(model, label, 3.0, 2, seed=1, bf16=False), want)


@pytest.mark.parametrize("name, w", [("mnist-unet", 0.0), ("mnist-unet", 1.0), ("mnist-unet", 3.0),
                                     ("mnist-flow-guided", 3.0)])
def test_given_labels_samples_bit_identically_to_the_label_path_before(name, w):
    model = de.pretrained(name)
    x_T, y = _noise(3, seed=1), torch.tensor([7, 0, 4])
    before = ddim_sample(_GuidedBefore(model, y, w), x_T, 3, clip_x0=1.0)
    assert torch.equal(ddim_sample(model.given(y, w), x_T, 3, clip_x0=1.0), before)
    assert torch.equal(ddim_sample(model.given(y.tolist(), w), x_T, 3, clip_x0=1.0), before)


# --- what given takes --------------------------------------------------------------------------------------
def test_given_takes_labels_prompts_token_ids_and_a_scale_per_sample():
    unet, text = de.pretrained("mnist-unet"), de.pretrained("mnist-text-unet")
    x, t = _noise(3, seed=2), torch.tensor([900, 500, 100])
    with torch.no_grad():
        # labels: an int for every sample, a list, a tensor
        assert torch.equal(unet.given(7).eps(x, t), unet.given(torch.tensor([7, 7, 7])).eps(x, t))
        assert torch.equal(unet.given([1, 2, 3], 3.0).eps(x, t), unet.given(torch.tensor([1, 2, 3]), 3.0).eps(x, t))
        # prompts: strings, token ids of the model's tokenizer; "" is the null condition
        tokens = text.net.tokenizer.encode(PROMPTS)
        assert torch.equal(text.given(PROMPTS, 3.0).v(x, t), text.given(tokens, 3.0).v(x, t))
        assert torch.equal(text.given([""] * 3).output(x, t), text.output(x, t))
        assert torch.equal(text.given(PROMPTS, 0.0).output(x, t), text.output(x, t))
        # w per sample: each row is that row of the model guided at its own scale
        for m, c in ((unet, torch.tensor([1, 2, 3])), (text, PROMPTS)):
            w = torch.tensor([0.0, 1.0, 3.0])
            got = m.given(c, w).x0(x, t)
            for i, wi in enumerate(w.tolist()):
                torch.testing.assert_close(got[i], m.given(c, wi).x0(x, t)[i], rtol=1e-5, atol=1e-5)
            assert torch.equal(m.given(c, torch.ones(3)).x0(x, t), m.given(c, 1.0).x0(x, t))   # all 1: one pass
            assert torch.equal(m.given(c, torch.zeros(3)).x0(x, t), m.given(c, 0.0).x0(x, t))  # all 0: one pass
        # a guidance-distilled student takes the per-sample w as its input
        student = de.pretrained("mnist-flow-guided")
        w = torch.tensor([0.0, 2.0, 5.0], dtype=torch.float64)
        got = student.given([1, 2, 3], w).velocity(x, 0.5)
        for i, wi in enumerate(w.tolist()):
            torch.testing.assert_close(got[i], student.given([1, 2, 3], wi).velocity(x, 0.5)[i], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda u, s: u.given(2.7), "cond must be integer class labels"),
    (lambda u, s: u.given(torch.tensor([1.0, 2.0, 3.0])), "cond must be integer class labels"),
    (lambda u, s: u.given(10), "null label"),
    (lambda u, s: u.given(-1), r"cond must be class labels in \[0, 9\]"),
    (lambda u, s: u.given("a thick seven"), "cond: prompts need a text-conditioned model"),
    (lambda u, s: u.given(["a", "b"]), "cond: prompts need a text-conditioned model"),
    (lambda u, s: s.given(3), "cond: a text-conditioned model takes prompts"),
    (lambda u, s: s.given(torch.tensor([3, 4, 5])), "cond: a text-conditioned model takes prompts"),
    (lambda u, s: s.given(torch.zeros(3, 5, dtype=torch.long)), r"cond: token ids must have shape \(batch, 12\)"),
    (lambda u, s: s.given(torch.full((3, 12), 999)), "cond: token ids must lie in"),
    (lambda u, s: s.given("a purple seven"), "unknown word 'purple'"),
    (lambda u, s: de.pretrained("ring8-mlp").given(1), "cond: given\\(\\) needs a conditional model"),
    (lambda u, s: u.given(3, math.nan), "w must be a finite number"),
    (lambda u, s: u.given(3, "3"), "w must be a finite number"),
    (lambda u, s: u.given(3, torch.tensor([1.0, math.nan, 2.0])), "w must be finite"),
    (lambda u, s: u.given(3, torch.ones(2, 3)), r"w must be a number or a \(batch,\) tensor"),
    (lambda u, s: u.given(3, torch.tensor([True, False, True])), "w must be a number or a"),
])
def test_given_refuses_what_it_cannot_take_and_names_the_argument(make, match):
    unet, text = de.pretrained("mnist-unet"), de.pretrained("mnist-text-unet")
    with pytest.raises(ValueError, match=match):
        make(unet, text)


def test_given_names_a_batch_that_does_not_fit_the_conditions_or_the_scales():
    unet, text = de.pretrained("mnist-unet"), de.pretrained("mnist-text-unet")
    x, t = _noise(3), torch.tensor([500, 500, 500])
    with pytest.raises(ValueError, match=r"w must be a number or one scale per sample: it has 4 scales but the batch has 3"):
        unet.given([1, 2, 3], torch.ones(4) * 2).eps(x, t)
    with pytest.raises(ValueError, match=r"cond must be an int or have shape \(3,\)"):
        unet.given([1, 2], 2.0).eps(x, t)
    with pytest.raises(ValueError, match=r"cond must hold 1 or 3 prompts"):
        text.given(["one", "two"], 2.0).eps(x, t)
