"""How every checker works: run the student's function on fixed inputs, compare with the reference, and
if they differ, compare with a catalogue of known mistakes to say *which* mistake it probably is.

Students call ``check_xxx(my_fn)`` and read the message; instructors grade with ``strict=True``, which
raises ``AssertionError`` on failure.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _repr_markdown_(self) -> str:
        icon = "✅" if self.passed else "❌"
        return f"{icon} **{self.name}**: {self.message}"

    def __repr__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.message}"


def _tensor(v):
    """v as a float64 tensor, or None when it is not a number, an array or a tensor."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        if torch.is_tensor(v):
            return v.detach().to("cpu", torch.float64)
        return torch.as_tensor(v, dtype=torch.float64)  # a number or nested lists, read in double precision
    except (TypeError, ValueError, RuntimeError):
        return None


def _close(a, b, tol) -> bool:
    if isinstance(b, (tuple, list)):
        return isinstance(a, (tuple, list)) and len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    a, b = _tensor(a), _tensor(b)
    return a is not None and b is not None and a.shape == b.shape and bool(torch.allclose(a, b, rtol=tol, atol=tol))


def _shape(v) -> str:
    return str(tuple(v.shape)) if v.ndim else "() (a single number)"


def _what_is_wrong(got, want, tol) -> str:
    """Why ``got`` is not ``want``: its type, its length, its shape, NaN, or where the values differ."""
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return f"your function returned {_kind(got)}; expected a tuple of {len(want)} values."
        if len(got) != len(want):
            return f"your function returned {len(got)} values; expected {len(want)}."
        for k, (g, w) in enumerate(zip(got, want)):
            if not _close(g, w, tol):
                return f"value {k + 1} of {len(want)}: " + _what_is_wrong(g, w, tol)
        return "the values differ from the reference."
    if got is None:
        return "your function returned None: is a `return` missing?"
    g, w = _tensor(got), _tensor(want)
    if g is None:
        return f"your function returned {_kind(got)}; expected a tensor of shape {_shape(w)}."
    if g.shape != w.shape:
        hint = ""
        if g.numel() == w.numel() and g.ndim == 2 and w.ndim == 2 and g.shape == w.shape[::-1]:
            hint = " (transposed?)"
        elif g.numel() == w.numel():
            hint = " (the right number of values in another shape: an extra or a missing dimension?)"
        return f"your function returned shape {_shape(g)} where {_shape(w)} was expected{hint}."
    bad = ~torch.isfinite(g)
    if bad.any():
        return f"your function returned NaN or infinite values ({int(bad.sum())} of {g.numel()} entries)."
    diff = (g - w).abs()
    off = diff > tol + tol * w.abs()
    where = tuple(int(v) for v in torch.nonzero(off)[0]) if off.any() else ()
    text = f"the values differ from the reference ({int(off.sum())} of {g.numel()} entries; the largest " \
           f"difference is {float(diff.max()):.3g}"
    if w.ndim == 2 and w.shape[1] > 1:
        cols = sorted({int(c) for c in torch.nonzero(off)[:, 1]})
        if len(cols) < w.shape[1]:
            text += f"; only column{'s' if len(cols) > 1 else ''} {', '.join(map(str, cols))} differ{'' if len(cols) > 1 else 's'}"
    elif where:
        text += f", first at index {where}"
    return text + "); check each symbol against the lecture's formula."


def _kind(v) -> str:
    return "None" if v is None else f"a {type(v).__name__}"


def run_check(name: str, student, reference, cases, mistakes=(), strict: bool = False, tol: float = 1e-6):
    """cases: list of argument tuples. mistakes: (description, wrong_fn) pairs tried on a mismatch.

    A result is checked for its type and shape first (None, a list, an extra dimension, a transposed matrix are
    each named), then for NaN, then against the reference; on a mismatch the catalogue of known mistakes is tried
    and the first that reproduces the student's values names the slip."""
    result = None
    for args in cases:
        try:
            got = student(*args)
        except NotImplementedError:
            result = CheckResult(name, False, "not implemented yet: replace the `raise NotImplementedError`.")
            break
        except Exception as e:  # the student's bug, reported rather than raised
            result = CheckResult(name, False, f"your function raised {type(e).__name__}: {e}")
            break
        want = reference(*args)
        if not _close(got, want, tol):
            hint = next((d for d, wrong in mistakes if _close(got, wrong(*args), tol)), None)
            result = CheckResult(name, False, hint or _what_is_wrong(got, want, tol))
            break
    if result is None:
        result = CheckResult(name, True, f"matches the reference on {len(cases)} test cases.")
    if strict and not result.passed:
        raise AssertionError(repr(result))
    return result
