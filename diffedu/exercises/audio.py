"""Checkers for lesson 14 (audio): Stable Audio's timing conditioning — the padding mask that says where a clip
is silence, and the features of (seconds_start, seconds_total) the network is conditioned on."""
from __future__ import annotations

import torch

from ..audio import padding_mask
from ..models.audio_dit import timing_features
from ._check import run_check


def _mask_cases():
    # seconds·sr lands on a whole sample (0.25 s · 8000 = 2000), so "≤ instead of <" changes one entry; the second
    # sample rate catches a mask computed in samples of 8 kHz whatever the rate
    return [(torch.tensor([0.25, 1.0, 0.5]), 8000, 8000), (torch.tensor([0.75, 0.125]), 1600, 4000),
            (torch.tensor([0.0, 0.5]), 400, 400)]


def check_padding_mask(fn, strict: bool = False):
    """fn(seconds_total, n_samples, sample_rate) → (B, n_samples) mask: True (1) at the samples that sound,
    n < seconds_total · sample_rate, and False (0) at the padding after them (``diffedu.audio.padding_mask``)."""
    n_of = lambda s, sr: torch.round(s.double() * sr)[:, None]  # noqa: E731
    mistakes = [
        ("the mask is inverted: True must mark the samples that sound (n < seconds_total · sample_rate) and False "
         "the padding (silence) after them.",
         lambda s, n, sr: torch.arange(n)[None] >= n_of(s, sr)),
        ("one sample too many: sample n sounds when n < seconds_total · sample_rate (samples 0 … d·sr − 1), "
         "not n ≤ it.", lambda s, n, sr: torch.arange(n)[None] <= n_of(s, sr)),
        ("seconds compared with sample indices: multiply seconds_total by sample_rate first.",
         lambda s, n, sr: torch.arange(n)[None] < s.double()[:, None]),
        ("the sound is put at the end of the clip: the clip starts at 0 s and the padding comes after "
         "seconds_total, so True goes at the start.",
         lambda s, n, sr: torch.arange(n)[None] >= n - n_of(s, sr)),
        ("the sample rate is taken as 8000 whatever it is: use the sample_rate argument.",
         lambda s, n, sr: torch.arange(n)[None] < n_of(s, 8000)),
    ]
    return run_check("padding mask", fn, padding_mask, _mask_cases(), mistakes, strict)


def _timing_cases():
    return [(torch.tensor([0.0, 0.3, 1.5]), torch.tensor([0.25, 1.0, 2.0]), 8, 2.0),
            (torch.tensor([0.5, 0.0]), torch.tensor([0.75, 0.5]), 16, 1.0)]


def _features(s, dim, scale):
    """sin/cos features at position scale · s, interleaved (sin even columns, cos odd) as timestep_embedding."""
    from ..models.embedding import timestep_embedding

    return timestep_embedding(scale * s.double(), dim).float()


def check_timing_features(fn, strict: bool = False):
    """fn(seconds_start, seconds_total, dim, max_seconds) → (B, 2·dim): [φ(seconds_start), φ(seconds_total)],
    φ(s) = the sinusoidal embedding (``models.timestep_embedding``) of position 1000 · s / max_seconds
    (``diffedu.models.timing_features``)."""
    def halves(a, b):
        return torch.cat([a, b], -1)

    def blocks(s, dim, m):   # sin block then cos block, instead of interleaved columns
        e = _features(s, dim, 1000.0 / m)
        return torch.cat([e[:, 0::2], e[:, 1::2]], -1)

    mistakes = [
        ("seconds_start and seconds_total are swapped: the features of seconds_start come first.",
         lambda a, b, d, m: halves(_features(b, d, 1000.0 / m), _features(a, d, 1000.0 / m))),
        ("the seconds are not divided by max_seconds: the position is 1000 · s / max_seconds, so that the longest "
         "clip sits at position 1000 whatever its length in seconds.",
         lambda a, b, d, m: halves(_features(a, d, 1000.0), _features(b, d, 1000.0))),
        ("the position is s / max_seconds without the factor 1000: every feature but the first few is then nearly "
         "constant (cos ≈ 1, sin ≈ 0), so the network could not tell 0.5 s from 0.75 s.",
         lambda a, b, d, m: halves(_features(a, d, 1.0 / m), _features(b, d, 1.0 / m))),
        ("sin and cos come in two blocks: timestep_embedding interleaves them (sin in the even columns, cos in the "
         "odd ones).", lambda a, b, d, m: halves(blocks(a, d, m), blocks(b, d, m))),
        ("seconds_total is embedded twice: the first half is φ(seconds_start) (0 for our clips, but Stable Audio "
         "cuts windows out of longer recordings).",
         lambda a, b, d, m: halves(_features(b, d, 1000.0 / m), _features(b, d, 1000.0 / m))),
    ]
    return run_check("timing features", fn, timing_features, _timing_cases(), mistakes, strict, tol=1e-5)
