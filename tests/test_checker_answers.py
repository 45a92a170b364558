"""Every exercise checker answers a wrong *kind* of answer with FAIL and says which kind (issue 32): a function
returning None, NaN, the wrong shape, the transposed result, or the right values with an extra leading
dimension. The right values in the right shape pass. Each checker's own reference and cases are captured by
standing in for ``run_check`` once, so the test follows the checkers as they are written."""
import importlib

import pytest
import torch

import diffedu.exercises as ex
from diffedu.exercises._check import run_check

CHECKERS = sorted(n for n in ex.__all__ if n.startswith("check_"))


def _captured(name, monkeypatch):
    """(reference, cases) of checker ``name``: its run_check call, intercepted."""
    seen = {}

    def capture(title, student, reference, cases, mistakes=(), strict=False, tol=1e-6):
        seen.update(reference=reference, cases=cases, tol=tol, mistakes=mistakes)
        return None

    fn = getattr(ex, name)
    module = importlib.import_module(fn.__module__)
    monkeypatch.setattr(module, "run_check", capture)
    fn(lambda *a: None)
    monkeypatch.undo()
    return seen


def _first_tensor(v):
    return v[0] if isinstance(v, (tuple, list)) else v


def _replace_first(v, new):
    return (new, *v[1:]) if isinstance(v, tuple) else [new, *v[1:]] if isinstance(v, list) else new


@pytest.mark.parametrize("name", CHECKERS)
def test_each_checker_names_a_wrong_kind_of_answer(name, monkeypatch):
    c = _captured(name, monkeypatch)
    ref, cases, tol = c["reference"], c["cases"], c["tol"]

    def verdict(student):
        return run_check(name, student, ref, cases, c["mistakes"], tol=tol)

    assert verdict(ref).passed, "the reference itself must pass"
    out = verdict(lambda *a: None)
    assert not out.passed and "None" in out.message, out.message

    want = _first_tensor(ref(*cases[0]))
    if not torch.is_tensor(want) or not want.is_floating_point():
        pytest.skip(f"{name}'s answer is not a floating-point tensor")

    def nan_answer(*a):
        r = ref(*a)
        t = _first_tensor(r).clone()
        t.view(-1)[0] = float("nan")
        return _replace_first(r, t)

    out = verdict(nan_answer)
    assert not out.passed and "NaN" in out.message, out.message

    def extra_dim(*a):
        r = ref(*a)
        return _replace_first(r, _first_tensor(r)[None])

    out = verdict(extra_dim)
    assert not out.passed and "shape" in out.message and str(tuple(want.shape)) in out.message, out.message

    if want.ndim == 2 and want.shape[0] != want.shape[1]:
        def transposed(*a):
            r = ref(*a)
            return _replace_first(r, _first_tensor(r).T.contiguous())

        out = verdict(transposed)
        assert not out.passed and "transposed" in out.message, out.message

    def wrong_type(*a):
        r = ref(*a)
        return _replace_first(r, _first_tensor(r).tolist())

    out = verdict(wrong_type)
    # a nested list of the right numbers is read as the tensor it spells: accepted, or failed on a later case
    assert out.passed or "list" in out.message or "shape" in out.message, out.message


def test_a_wrong_column_is_named():
    ref = lambda x: x * 2  # noqa: E731
    x = torch.arange(8.0).reshape(4, 2)
    out = run_check("double", lambda x: torch.stack([x[:, 0] * 2, x[:, 1]], 1), ref, [(x,)])
    assert not out.passed and "only column 1 differs" in out.message, out.message


def test_strict_raises_with_the_message():
    with pytest.raises(AssertionError, match="returned None"):
        run_check("noop", lambda x: None, lambda x: x, [(torch.zeros(2),)], strict=True)
