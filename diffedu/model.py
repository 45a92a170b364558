"""A trained diffusion model: a network, the process it was trained on, and what it predicts.

The network predicts one of five things about x_t = α_t x_0 + σ_t ε; any one determines the others given x_t:

    "eps"       ε̂                  x̂_0 = (x − σ ε̂)/α
    "x0"        x̂_0                ε̂ = (x − α x̂_0)/σ
    "v"         v̂ = α ε̂ − σ x̂_0     x̂_0 = (α x − σ v̂)/(α² + σ²),  ε̂ = (σ x + α v̂)/(α² + σ²)   (Salimans & Ho 2022)
    "score"     ŝ = ∇log p_t = −ε̂/σ   (the lecture's s_θ = −ε_θ/σ_t)
    "velocity"  û = α' x̂_0 + σ' ε̂     x̂_0 = (σ' x − σ û)/(ασ' − σα'),  ε̂ = (α û − α' x)/(ασ' − σα')  (flow matching)

so every sampler asks the model for the quantity its update is written in (``model.eps(x, t)``,
``model.x0``, ``model.score``, ``model.v``, ``model.velocity``) and never converts by hand. The coefficients
are computed in float64 and applied in x's dtype. ``t`` is in the process's own units (see ``processes``):
a number, or a (B,) tensor.

Conditioning is bound, not threaded through samplers: ``model.given(cond)`` is the conditional model and
``model.given(cond, w)`` classifier-free guidance (Ho & Salimans 2022), both models again. ``cond`` is class
labels or prompts, whichever the network takes; the network supplies its own null condition ∅
(``null_condition``). Classifier and CLIP guidance: ``diffedu.guidance``.
"""
from __future__ import annotations

import torch

from . import processes as P
from ._checks import check_labels, check_real, check_scale, check_tokens, label_rows

PREDICTIONS = ("eps", "x0", "v", "score", "velocity")


def check_x(x) -> torch.Tensor:
    """The state a model is asked about: a floating-point tensor (batch, ...)."""
    if not torch.is_tensor(x) or not x.is_floating_point() or x.ndim < 1:
        got = f"a {x.dtype} tensor of shape {tuple(x.shape)}" if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"x must be a floating-point tensor of shape (batch, ...), got {got}")
    return x


class Model:
    """Anything the samplers take: ``process``, ``prediction`` and ``output(x, t)`` in that parameterisation."""

    process: P.Process
    prediction: str

    def output(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # --- one prediction in, every parameterisation out ----------------------------------------------
    def _coeffs(self, x, t, derivative=False):
        check_x(x)
        t = self.process.time_tensor(t, x.shape[0], x.device)
        a, s = self.process.alpha_sigma(t)
        d = self.process.d_alpha_sigma(t) if derivative else (None, None)
        return t, a, s, *d

    def x0_eps(self, x: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor]:
        """(x̂_0, ε̂) from one network evaluation."""
        kind = self.prediction
        t, a, s, da, ds = self._coeffs(x, t, derivative=kind == "velocity")
        out = self.output(x, t)
        if out.shape != x.shape:
            raise ValueError(f"the model returned shape {tuple(out.shape)}, expected {tuple(x.shape)}")
        c = lambda v: P.column(v, x)  # noqa: E731
        if kind == "eps":
            return (x - c(s) * out) / c(a), out
        if kind == "x0":
            return out, (x - c(a) * out) / c(s)
        if kind == "v":
            n = a**2 + s**2
            return (c(a / n) * x - c(s / n) * out), (c(s / n) * x + c(a / n) * out)
        if kind == "score":
            return (x + c(s**2) * out) / c(a), -c(s) * out
        det = a * ds - s * da
        return c(ds / det) * x - c(s / det) * out, c(a / det) * out - c(da / det) * x

    def eps(self, x, t):
        if self.prediction == "eps":
            return self.output(check_x(x), self.process.time_tensor(t, x.shape[0], x.device))
        return self.x0_eps(x, t)[1]

    def x0(self, x, t):
        if self.prediction == "x0":
            return self.output(check_x(x), self.process.time_tensor(t, x.shape[0], x.device))
        return self.x0_eps(x, t)[0]

    def score(self, x, t):
        if self.prediction == "score":
            return self.output(check_x(x), self.process.time_tensor(t, x.shape[0], x.device))
        _, _, s, _, _ = self._coeffs(x, t)
        if (s == 0).any():
            raise ValueError("the score is undefined where σ_t = 0 (t at the clean data): use t > 0")
        return -self.eps(x, t) / P.column(s, x)

    def v(self, x, t):
        _, a, s, _, _ = self._coeffs(x, t)
        x0, eps = self.x0_eps(x, t)
        return P.column(a, x) * eps - P.column(s, x) * x0

    def velocity(self, x, t):
        """dx/dt of the probability-flow ODE: E[α' x_0 + σ' ε | x_t] (continuous processes only)."""
        _, _, _, da, ds = self._coeffs(x, t, derivative=True)
        x0, eps = self.x0_eps(x, t)
        return P.column(da, x) * x0 + P.column(ds, x) * eps

    # --- conditioning ---------------------------------------------------------------------------------
    def given(self, cond, w=1.0) -> "Guided":
        """The model conditioned on ``cond``, with classifier-free guidance scale ``w`` (``Guided``).

        cond: class labels for a class-conditional model (an int, or (B,) integers in [0, num_classes)); prompts for
              a text-conditioned one (a string, a list of 1 or B strings, or (1 or B, L) token ids of its
              network's tokenizer).
        w:    a number, or a (B,) tensor of one scale per sample: 0 the unconditional model, 1 the conditional one.
        """
        return Guided(self, cond, w)


class DiffusionModel(Model):
    """A network ``net(x, net_time, [y])`` trained on ``process`` to predict ``prediction``.

    num_classes: for a class-conditional network, the number of classes; label ``num_classes`` is the
                 learned null label ∅ (used when no label is given, and by classifier-free guidance).
    """

    def __init__(self, net: torch.nn.Module, process: P.Process, prediction: str = "eps",
                 num_classes: int | None = None, meta: dict | None = None):
        if not isinstance(process, P.Process):
            raise TypeError(f"process must be a diffedu.processes.Process, got {type(process).__name__}")
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.net, self.process, self.prediction = net, process, prediction
        self.num_classes, self.meta = num_classes, dict(meta or {})

    def output(self, x, t, labels=None, **cond):
        """The network's prediction; ``cond``: further inputs of a network that takes them (a super-resolution
        stage's low-resolution image and level, ``diffedu.cascade``)."""
        p = next(self.net.parameters(), None)
        xin = x if p is None else x.to(p.dtype)
        tin = self.process.net_time(t)
        args = (xin, tin) if labels is None else (xin, tin, labels)  # no label: the null label ∅
        return self.net(*args, **cond).to(x.dtype)

    def to(self, device=None, dtype=None) -> "DiffusionModel":
        self.net.to(device=device, dtype=dtype)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @property
    def sample_shape(self) -> tuple:
        """The shape of one sample, read from the network's config: (C, H, W) for an image, (T, C, H, W) for a
        clip of T frames, (1, samples) for a sound (lesson 14)."""
        cfg = getattr(self.net, "config", {})
        if "clip_samples" in cfg:
            return (1, cfg["clip_samples"])
        if "in_channels" not in cfg or "image_size" not in cfg:
            raise ValueError(f"{type(self.net).__name__} is not an image, clip or sound network: pass x_T yourself")
        image = (cfg["in_channels"], cfg["image_size"], cfg["image_size"])
        return (cfg["frames"], *image) if "frames" in cfg else image

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Images from what the samplers return: the identity here; a latent model decodes (``diffedu.latent``)."""
        return x

    def with_process(self, process: P.Process) -> "DiffusionModel":
        """The same network read through another process (e.g. a DDPM network on the VP SDE's continuous t)."""
        return DiffusionModel(self.net, process, self.prediction, self.num_classes, self.meta)

    def __repr__(self):
        n = sum(p.numel() for p in self.net.parameters())
        return (f"DiffusionModel({type(self.net).__name__}, {n / 1e6:.2f} M parameters, predicts {self.prediction!r}, "
                f"process {self.process.spec()}" + (f", {self.num_classes} classes" if self.num_classes else "") + ")")


def _tokenizer(model):
    """The tokenizer of a text-conditioned model's network, or None."""
    try:
        return getattr(network(model), "tokenizer", None)
    except ValueError:                                                    # no network inside (a FunctionModel)
        return None


def condition(model, cond) -> torch.Tensor:
    """``cond`` checked against what ``model`` is conditioned on: (n,) class labels or (n, L) token ids."""
    tokenizer = _tokenizer(model)
    if tokenizer is not None:
        return check_tokens("cond", cond, tokenizer)
    n = getattr(model, "num_classes", None)
    if not n:
        raise ValueError(f"cond: given() needs a conditional model (class labels or prompts); this "
                         f"{type(model).__name__} is unconditional")
    if isinstance(cond, str) or isinstance(cond, (list, tuple)) and any(isinstance(c, str) for c in cond):
        raise ValueError(f"cond: prompts need a text-conditioned model (a TextUNet); this one takes class labels in "
                         f"[0, {n - 1}]")
    return check_labels("cond", cond, n)


def null_condition(model, batch: int, device) -> torch.Tensor:
    """∅, the condition of the unconditional model, for a batch: the network's own (``net.null_condition``: the
    label num_classes of the U-Net and DiT, the empty prompt of the text U-Net), or the label ``model.num_classes``
    of a class-conditional network without one."""
    net = network(model)
    if hasattr(net, "null_condition"):
        return net.null_condition(batch, device)
    return torch.full((batch,), model.num_classes, dtype=torch.long, device=device)


def cfg_combine(out_null: torch.Tensor, out_cond: torch.Tensor, w, *, name: str = "w") -> torch.Tensor:
    """out_∅ + w (out_c − out_∅), the classifier-free-guided prediction: w a number, or a (B,) tensor (one scale per
    sample), checked here (``name``: the caller's argument, named in the errors). torch.lerp's two-sided formula
    returns out_∅ at w = 0 and out_c at w = 1 exactly."""
    if torch.is_tensor(w) and w.ndim:
        return torch.lerp(out_null, out_cond, P.column(check_scale(name, w, out_null.shape[0]).to(out_null.dtype),
                                                       out_null))
    return torch.lerp(out_null, out_cond, check_real(name, w))


def conditioned(model, y):
    """``model.given(y)``, or the model itself when y is None (an unconditional batch)."""
    return model if y is None else model.given(y)


def network(model) -> torch.nn.Module:
    """The torch module inside a model (a model's ``.net``, a model inside a model's ``.net.net``), or the module."""
    m = model
    while not isinstance(m, torch.nn.Module) and hasattr(m, "net"):
        m = m.net
    if not isinstance(m, torch.nn.Module):
        raise ValueError(f"expected a torch.nn.Module or a model with a .net module, got {type(model).__name__}")
    return m


def takes_guidance(model) -> bool:
    """Whether the model's network takes the guidance scale w as an input (a guidance-distilled student)."""
    return bool(getattr(getattr(model, "net", None), "config", {}).get("guidance"))


class Guided(Model):
    """Classifier-free guidance: out = out_∅ + w (out_c − out_∅) (``cfg_combine``), one batched network pass
    ([x, x], [c, ∅]); c the labels or prompts of ``Model.given``, ∅ the network's null condition
    (``null_condition``).

    The combination is affine in the prediction, so guiding ε, x̂_0 or v gives the same sampler step.
    w = 0 is the unconditional model and w = 1 the conditional one, exactly (one pass each); w may be a (B,)
    tensor, one scale per sample (guided distillation's targets, ``fewstep.distill.guided_target``).
    A guidance-distilled student (a network with a w input, ``models.UNet(guidance=True)``) takes w instead: one pass.
    """

    def __init__(self, model: Model, cond, w=1.0):
        self.w = check_scale("w", w)
        self.model, self.cond, self.text = model, condition(model, cond), _tokenizer(model) is not None
        self.process, self.prediction = model.process, model.prediction

    def _rows(self, batch: int, device) -> torch.Tensor:
        c = self.cond.to(device)
        if not self.text:                          # labels (checked once, by condition): an int, or one per sample
            return label_rows("cond", c, batch)
        if c.shape[0] == 1:                                               # token ids: one prompt for every sample
            return c.expand(batch, -1)
        if c.shape[0] != batch:
            raise ValueError(f"cond must hold 1 or {batch} prompts (one per sample), got {c.shape[0]}")
        return c

    def output(self, x, t):
        m, B = self.model, x.shape[0]
        c, w = self._rows(B, x.device), self.w
        if torch.is_tensor(w):
            w = check_scale("w", w, B).to(x.device)
        if takes_guidance(m):
            return m.output(x, t, c, w=w if torch.is_tensor(w) else
                            torch.full((B,), w, dtype=torch.float64, device=x.device))
        null = null_condition(m, B, x.device)
        for v, one_pass in ((1.0, c), (0.0, null)):
            if (w == v).all() if torch.is_tensor(w) else w == v:
                return m.output(x, t, one_pass)
        out = m.output(torch.cat([x, x]), torch.cat([t, t]), torch.cat([c, null]))
        return cfg_combine(out[B:], out[:B], w)   # lerp(∅, c, w): exact at w = 0 and 1


class FunctionModel(Model):
    """A model given by a function ``fn(x, t)`` (an exact score, a closed-form ε, a student's code)."""

    def __init__(self, fn, process: P.Process, prediction: str = "score"):
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
        self.fn, self.process, self.prediction = fn, process, prediction

    def output(self, x, t):
        return self.fn(x, t)
