"""Lesson 08's checkers: the library's patchify, unpatchify and adaLN pass; each planted mistake is named."""
import pytest
import torch
from torch.nn import functional as F

from diffedu.exercises import check_adaln, check_patchify, check_unpatchify
from diffedu.models import patchify, unpatchify


def test_references_pass():
    assert check_patchify(patchify)
    assert check_unpatchify(unpatchify)
    assert check_adaln(lambda x, b, s: F.layer_norm(x, x.shape[-1:], eps=1e-6) * (1 + s[:, None]) + b[:, None])
    # LayerNorm's default eps (1e-5) is not a mistake
    assert check_adaln(lambda x, b, s: torch.nn.LayerNorm(x.shape[-1], elementwise_affine=False, dtype=x.dtype)(x)
                       * (1 + s.unsqueeze(1)) + b.unsqueeze(1))


def _patchify(x, p, inner=(3, 5, 1), cols=False):
    B, C, H, W = x.shape
    grid = (4, 2) if cols else (2, 4)
    return x.reshape(B, C, H // p, p, W // p, p).permute(0, *grid, *inner).reshape(B, -1, p * p * C)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda x, p: _patchify(x, p, inner=(1, 3, 5)), "channel first"),
    (lambda x, p: _patchify(x, p, cols=True), "column by column"),
    (lambda x, p: _patchify(x, p, inner=(5, 3, 1)), "rows and columns are swapped"),
    (lambda x, p: x.reshape(x.shape[0], -1, p * p * x.shape[1]), "plain reshape"),
])
def test_patchify_mistakes_are_named(wrong, phrase):
    r = check_patchify(wrong)
    assert not r and phrase in r.message, r.message


def _unpatchify(tk, p, C, H, W, inner="hwc", cols=False):
    B, gh, gw = tk.shape[0], H // p, W // p
    size = {"h": p, "w": p, "c": C}
    t = tk.reshape(B, gw, gh, *(size[k] for k in inner)).transpose(1, 2) if cols else \
        tk.reshape(B, gh, gw, *(size[k] for k in inner))
    pos = {k: 3 + i for i, k in enumerate(inner)}
    return t.permute(0, pos["c"], 1, pos["h"], 2, pos["w"]).reshape(B, C, H, W)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda tk, p, C, H, W: _unpatchify(tk, p, C, H, W, inner="chw"), "(C, p, p)"),
    (lambda tk, p, C, H, W: _unpatchify(tk, p, C, H, W, cols=True), "column by column"),
    (lambda tk, p, C, H, W: _unpatchify(tk, p, C, H, W, inner="whc"), "rows and columns are swapped"),
    (lambda tk, p, C, H, W: tk.reshape(tk.shape[0], C, H, W), "plain reshape"),
])
def test_unpatchify_mistakes_are_named(wrong, phrase):
    r = check_unpatchify(wrong)
    assert not r and phrase in r.message, r.message


def _ln(x):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda x, b, s: _ln(x) * s[:, None] + b[:, None], "without the 1 +"),
    (lambda x, b, s: _ln(x) * (1 + b[:, None]) + s[:, None], "swapped"),
    (lambda x, b, s: x * (1 + s[:, None]) + b[:, None], "LayerNorm is missing"),
    (lambda x, b, s: _ln(x.transpose(1, 2)).transpose(1, 2) * (1 + s[:, None]) + b[:, None], "over the tokens"),
    (lambda x, b, s: (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True) + 1e-6).sqrt() * (1 + s[:, None])
     + b[:, None], "unbiased"),
    (lambda x, b, s: _ln(x) * (1 + s) + b, "token axis"),  # (B, D) against (B, N, D): PyTorch refuses
])
def test_adaln_mistakes_are_named(wrong, phrase):
    r = check_adaln(wrong)
    assert not r and phrase in r.message, r.message


def test_unimplemented_and_strict():
    def todo(*a):
        raise NotImplementedError

    for check in (check_patchify, check_unpatchify, check_adaln):
        assert "not implemented" in check(todo).message
        with pytest.raises(AssertionError):
            check(todo, strict=True)
    r = check_patchify(lambda x, p: patchify(x, p) + 0.01)
    assert not r and "differ" in r.message
