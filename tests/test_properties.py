"""Property-based tests (hypothesis) for what has many inputs (issue 32):

* the five parameterisations of ``diffedu.model`` (ε, x_0, v, score, velocity) on random processes and times:
  a model that outputs the exact target of its parameterisation gives back x̂_0 = x_0 and ε̂ = ε, and every
  other parameterisation, to float64 rounding;
* the checkpoint header: save → load gives the same process, prediction, num_classes and config;
* the tokenizer: decode(encode(text)) is the text (commas re-attached), and encoding it again gives the same ids.

Each property runs at most 50 examples without a deadline, so the file takes a few seconds.
"""
import math

import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import diffedu as de  # noqa: E402
from diffedu import checkpoint  # noqa: E402
from diffedu.model import FunctionModel  # noqa: E402
from diffedu.text import caption_tokenizer  # noqa: E402

FEW = settings(max_examples=50, deadline=None)
PER_KIND = settings(max_examples=12, deadline=None)      # × 6 process kinds
KINDS = ["DiscreteVP", "VPSDE", "CosineVP", "VE", "Linear", "VESDE"]
CONTINUOUS = KINDS[1:]


# --- random processes, and a time inside each one's range, away from the singular ends --------------------------
def _unit(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def process_and_time(draw, kind=None):
    """A process (of ``kind``, or any) with random parameters and a time where α_t and σ_t are both clearly
    positive."""
    kind = draw(st.sampled_from(KINDS)) if kind is None else kind
    u = draw(_unit(0.02, 0.98))                                            # where in the safe range
    if kind == "DiscreteVP":
        T = draw(st.integers(10, 1000))
        p = de.DiscreteVP(draw(st.sampled_from(["linear", "cosine", "sigmoid"])), T)
        t = 1 + round(u * (T - 2))                                         # steps 1 … T − 1
        return p, t
    if kind == "VPSDE":
        beta_min = draw(_unit(0.01, 1.0))
        p = de.VPSDE(beta_min, beta_min + draw(_unit(0.0, 30.0)), t_min=1e-3)
        return p, 1e-2 + u * (1 - 1e-2)
    if kind == "CosineVP":
        p = de.CosineVP(t_max=draw(_unit(0.5, 1.0)))
        return p, 1e-3 + u * (min(p.t_max, 0.995) - 1e-3)
    if kind == "Linear":
        p = de.Linear(t_max=draw(_unit(0.5, 1.0)))
        return p, 1e-3 + u * (min(p.t_max, 0.995) - 1e-3)
    sigma_min = draw(_unit(1e-3, 1.0))
    sigma_max = sigma_min * draw(_unit(1.5, 1e4))
    if kind == "VESDE":
        return de.VESDE(sigma_min, sigma_max), u
    p = de.VE(sigma_min, sigma_max)
    return p, sigma_min + u * (sigma_max - sigma_min)


def _targets(process, x0, eps, t):
    """What each parameterisation's network should output at x_t = α x_0 + σ ε (float64)."""
    a, s = (float(v) for v in process.alpha_sigma(t))
    out = {"eps": eps, "x0": x0, "v": a * eps - s * x0, "score": -eps / s}
    if not process.discrete:
        da, ds = (float(v) for v in process.d_alpha_sigma(torch.tensor(t, dtype=torch.float64)))
        out["velocity"] = da * x0 + ds * eps
    return out, a, s


def _draw_data(seed, shape=(5, 3)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64),
            torch.randn(shape, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("kind", KINDS)
@PER_KIND
@given(data=st.data(), prediction=st.sampled_from(["eps", "x0", "v", "score", "velocity"]),
       seed=st.integers(0, 2**31 - 1))
def test_every_parameterisation_round_trips_x0_and_eps(kind, data, prediction, seed):
    process, t = data.draw(process_and_time(kind))
    if prediction == "velocity" and process.discrete:
        return                                                   # a discrete process has no velocity
    x0, eps = _draw_data(seed)
    truth, a, s = _targets(process, x0, eps, t)
    x = a * x0 + s * eps
    model = FunctionModel(lambda x_, t_: truth[prediction], process, prediction)
    x0_hat, eps_hat = model.x0_eps(x, t)
    # the conversions divide by α, σ or the velocity's determinant: allow their condition number
    scale = 1e-12 * max(1.0, 1 / a, 1 / s, abs(float(x.abs().max())))
    tol = dict(rtol=1e-9, atol=max(1e-10, 1e3 * scale))
    torch.testing.assert_close(x0_hat, x0, **tol)
    torch.testing.assert_close(eps_hat, eps, **tol)
    for name, want in truth.items():                             # and every other parameterisation
        got = getattr(model, name)(x, t)
        torch.testing.assert_close(got, want, rtol=1e-9, atol=max(1e-10, 1e3 * scale) * max(1.0, 1 / s))


@pytest.mark.parametrize("kind", CONTINUOUS)
@PER_KIND
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_the_velocity_is_the_time_derivative_of_the_path(kind, data, seed):
    """û = α' x_0 + σ' ε is d/dt (α_t x_0 + σ_t ε): a central difference on the process agrees."""
    process, t = data.draw(process_and_time(kind))
    x0, eps = _draw_data(seed)
    truth, _, _ = _targets(process, x0, eps, t)
    h = 1e-6 * max(1.0, t)
    lo, hi = max(t - h, 0.0), t + h
    (a1, s1), (a0, s0) = (process.alpha_sigma(v) for v in (hi, lo))
    fd = ((float(a1) - float(a0)) * x0 + (float(s1) - float(s0)) * eps) / (hi - lo)
    torch.testing.assert_close(fd, truth["velocity"], rtol=1e-4, atol=1e-4 * float(truth["velocity"].abs().max() + 1))


# --- the checkpoint header round trip ---------------------------------------------------------------------------
@st.composite
def small_model(draw):
    process, _ = draw(process_and_time())
    predictions = ["eps", "x0", "v", "score"] + ([] if process.discrete else ["velocity"])
    net = de.MLPDenoiser(dim=draw(st.integers(1, 4)), hidden=draw(st.integers(1, 12)), depth=draw(st.integers(0, 2)),
                         emb_dim=2 * draw(st.integers(1, 6)))
    num_classes = draw(st.one_of(st.none(), st.integers(1, 20)))
    meta = draw(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=5), st.text(max_size=8), max_size=3))
    return de.DiffusionModel(net, process, draw(st.sampled_from(predictions)), num_classes, meta)


@FEW
@given(model=small_model())
def test_a_checkpoint_gives_back_its_process_prediction_classes_and_config(tmp_path_factory, model):
    path = checkpoint.save(tmp_path_factory.mktemp("ckpt") / "m", model)
    back = checkpoint.load(path, dtype=torch.float64)
    assert back.process == model.process and back.process.spec() == model.process.spec()
    assert type(back.process) is type(model.process)
    assert back.prediction == model.prediction
    assert back.num_classes == model.num_classes
    assert back.net.config == model.net.config
    assert {k: back.meta[k] for k in model.meta} == model.meta
    for k, v in model.net.state_dict().items():                    # float32 weights, bit for bit
        assert torch.equal(back.net.state_dict()[k].float(), v)


# --- the tokenizer: encode ∘ decode ------------------------------------------------------------------------------
TOK = caption_tokenizer()
WORDS = TOK.itos[2:]


@FEW
@given(ws=st.lists(st.sampled_from(WORDS), min_size=0, max_size=TOK.length - 1))
def test_decode_inverts_encode_on_in_vocabulary_prompts(ws):
    text = " ".join(ws)
    ids = TOK.encode(text)
    assert ids.shape == (1, TOK.length) and ids.dtype == torch.long
    n = len(ws)
    assert ids[0, n] == 1 and (ids[0, n + 1:] == TOK.pad_id).all()       # <eos>, then <pad>
    back = TOK.decode(ids[0])
    assert back == text.replace(" ,", ",")                                 # commas re-attached
    assert torch.equal(TOK.encode(back), ids)                              # and the same ids again


@FEW
@given(batch=st.lists(st.lists(st.sampled_from(WORDS), max_size=TOK.length - 1), min_size=1, max_size=6),
       upper=st.booleans())
def test_a_batch_encodes_row_by_row_and_case_does_not_matter(batch, upper):
    texts = [" ".join(ws) for ws in batch]
    ids = TOK.encode([t.upper() if upper else t for t in texts])
    assert ids.shape == (len(texts), TOK.length)
    for row, text in zip(ids, texts):
        assert TOK.decode(row) == text.replace(" ,", ",")
        assert torch.equal(row, TOK.encode(text)[0])
