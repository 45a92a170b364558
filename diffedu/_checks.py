"""Argument checks shared by every public function.

Each check raises ``ValueError`` naming the argument and the allowed range, so a bad slider value or a
typo in an assignment fails loudly at the call instead of turning into a NaN twenty steps later.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import torch


def as_number(value):
    """A 0-dim real tensor as its Python number (``torch.tensor(5)`` counts as 5); anything else (a Python or NumPy
    number included) unchanged. Every check of "one number" reads its argument through it."""
    if torch.is_tensor(value) and value.ndim == 0 and value.dtype != torch.bool and not value.is_complex():
        return value.item()
    return value


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (Python, NumPy or a 0-dim integer tensor; not a bool) in [low, high]."""
    value = as_number(value)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in [{low if low is not None else '-inf'}, "
                         f"{high if high is not None else 'inf'}], got {value}")
    return value


def check_real(name: str, value, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """A finite float in the interval [low, high] (ends opened by ``low_open`` / ``high_open``); NumPy numbers and
    0-dim tensors count as numbers."""
    value = as_number(value)
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low if low is not None else '-inf'}, "
                         f"{high if high is not None else 'inf'}{hi}, got {value}")
    return value


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    if not torch.is_tensor(x):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Two tensors of one shape (x and its noise, a mean and its log-variance); the error names both."""
    for name, v in ((name_a, a), (name_b, b)):
        if not torch.is_tensor(v):
            raise ValueError(f"{name} must be a tensor, got {type(v).__name__}")
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")


def check_float_dtype(name: str, dtype, *, optional: bool = False, why: str = ""):
    """A floating-point ``torch.dtype`` (or None when ``optional``); ``why``: what goes wrong otherwise, said after."""
    if optional and dtype is None:
        return None
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"{name} must be {'None or ' if optional else ''}a floating-point torch dtype (torch.float32, "
                         f"float16, bfloat16), got {dtype!r}{why}")
    return dtype


def check_batched(name: str, x: torch.Tensor) -> torch.Tensor:
    """A floating tensor of shape (B, ...) with B >= 1 and finite values."""
    check_finite(name, x)
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (batch, ...) with batch >= 1, got {tuple(x.shape)}")
    return x


def check_labels(name: str, y, num_classes: int, n: int | None = None, device=None, *, null: bool = True
                 ) -> torch.Tensor:
    """Class labels as a long tensor on ``device``: an int (every sample), or n of them ((n,); n None: any number),
    each in [0, num_classes) — label num_classes is the null label ∅ of classifier-free guidance, not a class (the
    error says so; ``null=False`` where the labels have no ∅, e.g. the digits of captions)."""
    if y is None or isinstance(y, (bool, float, str, bytes, dict, set)) or torch.is_tensor(y) and (y.is_floating_point() or y.is_complex()
                                                                or y.dtype == torch.bool):
        raise ValueError(f"{name} must be integer class labels, got {y!r}")
    try:
        y = torch.as_tensor(y, device=device)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be integer class labels (an int or a sequence of ints), got {y!r}") from None
    if y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
        raise ValueError(f"{name} must be integer class labels, got {y.tolist()!r}")
    y = y.to(torch.long)
    if y.numel() and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{name} must be class labels in [0, {num_classes - 1}], got values in "
                         f"[{int(y.min())}, {int(y.max())}]"
                         + (f" ({num_classes} is the null label ∅, not a class)" if null else ""))
    if n is None:
        if y.ndim > 1:
            raise ValueError(f"{name} must be an int or have shape (batch,), got {tuple(y.shape)}")
        return y
    return label_rows(name, y, n)


def label_rows(name: str, y: torch.Tensor, n: int) -> torch.Tensor:
    """Labels already checked by ``check_labels`` (a 0-dim or (k,) long tensor) for a batch of n: an int expanded to
    (n,), k = n kept, anything else refused. Only the shape is looked at: a sampler step can afford it."""
    y = y.expand(n) if y.ndim == 0 else y
    if y.shape != (n,):
        raise ValueError(f"{name} must be an int or have shape ({n},), got {tuple(y.shape)}")
    return y


def check_tokens(name: str, prompts, tokenizer) -> torch.Tensor:
    """Prompts as (n, L) token ids of ``tokenizer``: a string or a list of strings, encoded (an unknown word is an
    error naming it), or token ids, checked."""
    L = tokenizer.length
    if isinstance(prompts, str) or isinstance(prompts, (list, tuple)) and all(isinstance(c, str) for c in prompts):
        return tokenizer.encode(prompts)
    if not torch.is_tensor(prompts) or prompts.is_floating_point() or prompts.dtype == torch.bool or prompts.ndim != 2:
        got = f"a tensor of shape {tuple(prompts.shape)}" if torch.is_tensor(prompts) else repr(prompts)
        raise ValueError(f"{name}: a text-conditioned model takes prompts (a string, a list of strings, or (batch, {L}) "
                         f"token ids of its tokenizer), got {got}")
    if prompts.shape[1] != L:
        raise ValueError(f"{name}: token ids must have shape (batch, {L}), got {tuple(prompts.shape)}")
    if prompts.numel() and (prompts.min() < 0 or prompts.max() >= len(tokenizer)):
        raise ValueError(f"{name}: token ids must lie in [0, {len(tokenizer) - 1}] (the tokenizer's vocabulary), got "
                         f"values in [{int(prompts.min())}, {int(prompts.max())}]")
    return prompts


def check_scale(name: str, w, batch: int | None = None):
    """A guidance scale: a finite number, or a (batch,) tensor of finite scales, one per sample (an integer tensor
    becomes float64)."""
    w = as_number(w)
    if not torch.is_tensor(w):
        return check_real(name, w)
    if w.ndim != 1 or w.dtype == torch.bool or w.is_complex():
        raise ValueError(f"{name} must be a number or a (batch,) tensor of real scales, one per sample, got a "
                         f"{w.dtype} tensor of shape {tuple(w.shape)}")
    w = w if w.is_floating_point() else w.to(torch.float64)
    if not torch.isfinite(w).all():
        raise ValueError(f"{name} must be finite, got {w.tolist()}")
    if batch is not None and w.shape != (batch,):
        raise ValueError(f"{name} must be a number or one scale per sample: it has {w.shape[0]} scales but the batch "
                         f"has {batch} samples")
    return w


def check_generator(name: str, generator) -> None:
    """None or a ``torch.Generator`` (an int seed is a common slip: say how to make one from it)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        hint = (f" (to seed with {generator!r}: torch.Generator().manual_seed({generator!r}))"
                if isinstance(generator, Integral) and not isinstance(generator, bool) else "")
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__} {generator!r}{hint}")


def check_callable(name: str, fn, what: str = "a function", optional: bool = False) -> None:
    """A callable (or None when ``optional``)."""
    if not (callable(fn) or optional and fn is None):
        raise TypeError(f"{name} must be {what}{' or None' if optional else ''}, got {type(fn).__name__} {fn!r}")


def check_shape(name: str, shape) -> tuple:
    """One sample's shape: an int or a sequence of positive ints, as a tuple."""
    shape = (shape,) if isinstance(as_number(shape), Integral) and not isinstance(shape, bool) else shape
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ValueError(f"{name} must be a tuple of positive ints (one sample's shape, e.g. (2,) or (1, 28, 28)), "
                         f"got {shape!r}")
    shape = tuple(shape)
    for v in shape:
        v = as_number(v)
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
            raise ValueError(f"{name} must be a tuple of positive ints (one sample's shape, e.g. (2,) or (1, 28, 28)), "
                             f"got {shape!r}")
    return tuple(int(as_number(v)) for v in shape)
