"""Lesson 14's audio part (issue 34): the notes data set holds what its labels say (pitch from the spectrum,
duration from the envelope), the 1-D DiT keeps the library's contract, the samplers take waveforms unchanged,
the checkers name planted mistakes, bad inputs are named."""
import math

import pytest
import torch

import diffedu as de
from diffedu import audio
from diffedu.datasets import notes
from diffedu.exercises.audio import check_padding_mask, check_timing_features
from diffedu.model import DiffusionModel
from diffedu.models import AudioDiT, timing_features
from diffedu.processes import DiscreteVP


@pytest.fixture(scope="module")
def clips():
    return notes.dataset(192, seed=3)


def test_pitch_from_the_spectrum_is_the_label(clips):
    f = audio.f0(clips.x)
    want = torch.tensor(notes.PITCHES, dtype=torch.float64)[clips.pitch]
    assert (f - want).abs().max() < 0.5                                   # Hz, against semitone gaps of ≥ 15 Hz
    assert torch.equal(audio.nearest_pitch(f), clips.pitch)


def test_duration_from_the_envelope_is_the_label(clips):
    d = audio.duration(clips.x)
    assert (d - clips.seconds_total.double()).abs().max() <= 0.01         # within two 5 ms frames
    assert set(clips.seconds_total.tolist()) == set(notes.DURATIONS)
    mask = audio.padding_mask(clips.seconds_total, notes.CLIP_SAMPLES)
    assert clips.x[:, 0][~mask].abs().max() == 0                          # the padding is exact silence


def test_labels_round_trip_and_the_judge_passes_the_data(clips):
    p, k, s = notes.split_label(clips.y)
    assert torch.equal(p, clips.pitch) and torch.equal(k, clips.timbre) and torch.equal(s, clips.seconds_total)
    assert notes.label("C5", "string", 1.0) == notes.NUM_CLASSES - 1
    r = audio.judge(clips.x, clips.pitch, clips.seconds_total)
    assert r["pitch"] == 1.0 and r["duration"] == 1.0 and r["n"] == 192
    wrong = audio.judge(clips.x, (clips.pitch + 1) % 8, clips.seconds_total)   # a neighbouring pitch: never
    assert wrong["pitch"] == 0.0


def test_each_note_of_a_phrase_has_its_pitch():
    d = notes.dataset(24, seed=5, notes_per_clip=(2, 3, 4))
    assert d.y is None and d.pitch.shape == (24, 4)
    for i in range(24):
        seq = d.pitch[i][d.pitch[i] >= 0]
        assert 2 <= len(seq) <= 4
        step = float(d.seconds_total[i]) / len(seq)
        for j, p in enumerate(seq.tolist()):
            seg = d.x[i, 0, round(j * step * 8000):round((j + 1) * step * 8000)]
            assert int(audio.nearest_pitch(audio.f0(seg, seconds=len(seg) / 8000))[0]) == p


def test_a_pure_tone_is_measured_exactly():
    t = torch.arange(8000, dtype=torch.float64) / 8000
    x = torch.sin(2 * math.pi * 300.7 * t) * (t < 0.6)
    assert abs(float(audio.f0(x)[0]) - 300.7) < 0.2
    assert abs(float(audio.duration(x)[0]) - 0.6) <= 0.005
    assert audio.spectrogram(x).shape == (1, 129, 126)


def test_network_output_shape_and_timing_conditioning():
    torch.manual_seed(0)
    net = AudioDiT(clip_samples=800, patch_size=40, hidden_size=32, depth=1, heads=2)
    x, t = torch.randn(3, 1, 800), torch.tensor([1, 500, 999])
    for p in net.out.parameters():                                        # leave the zero initialisation
        torch.nn.init.normal_(p, std=0.1)
    for p in net.final_ada.parameters():
        torch.nn.init.normal_(p, std=0.1)
    y = notes.labels([0, 1, 2], "flute", [0.25, 0.5, 1.0])
    out = net(x, t, y)
    assert out.shape == x.shape
    # the duration the label names is the timing input: overriding seconds_total with it changes nothing
    assert torch.allclose(out, net(x, t, y, seconds_total=torch.tensor([0.25, 0.5, 1.0])))
    assert not torch.allclose(out, net(x, t, y, seconds_total=torch.tensor([1.0, 1.0, 1.0])))
    assert not torch.allclose(out, net(x, t, y, seconds_start=torch.tensor([0.5, 0.5, 0.5])))
    feats = timing_features(torch.zeros(3), torch.tensor([0.25, 0.5, 1.0]), 32)
    assert feats.shape == (3, 64) and torch.allclose(feats[:, :32:2], torch.zeros(3, 16))   # sin(0) = 0


def test_samplers_take_the_1d_shape_unchanged():
    torch.manual_seed(0)
    net = AudioDiT(clip_samples=800, patch_size=40, hidden_size=32, depth=1, heads=2).eval()
    model = DiffusionModel(net, DiscreteVP("cosine", 1000), "v", net.num_classes)
    y = notes.labels([3, 4], "clarinet", 0.5)
    x = torch.randn(2, 1, 800, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for sample in (de.ddim_sample, de.ddpm_sample):
            out = sample(model.given(y, 3.0), x, 5)
            assert out.shape == x.shape and torch.isfinite(out).all()
        # the zero-initialised network predicts v = 0, so x̂₀ = αx and ε̂ = σx: every DDIM step multiplies x by
        # α_t' α_t + σ_t' σ_t, one number for all entries of every sample, whatever the shape
        out = de.ddim_sample(model, x, 10)
        ratio = out / x
        assert torch.allclose(ratio, ratio.flatten()[0].expand_as(ratio), rtol=1e-4)
        assert 0 < float(ratio.flatten()[0]) < 1


def test_checkers_pass_the_reference_and_name_planted_mistakes():
    assert check_padding_mask(audio.padding_mask)
    assert check_timing_features(timing_features)
    inverted = check_padding_mask(lambda s, n, sr: ~audio.padding_mask(s, n, sr))
    assert not inverted and "inverted" in inverted.message
    one_more = check_padding_mask(lambda s, n, sr: torch.arange(n)[None] <= torch.round(s * sr)[:, None])
    assert not one_more and "one sample too many" in one_more.message
    swapped = check_timing_features(lambda a, b, d, m: timing_features(b, a, d, m))
    assert not swapped and "swapped" in swapped.message
    unscaled = check_timing_features(lambda a, b, d, m: timing_features(a, b, d, 1.0))
    assert not unscaled and "max_seconds" in unscaled.message
    with pytest.raises(AssertionError):
        check_padding_mask(lambda s, n, sr: None, strict=True)


@pytest.mark.parametrize("call, word", [
    (lambda: notes.label("H4", "flute", 0.5), "pitch"),
    (lambda: notes.label(0, "piano", 0.5), "timbre"),
    (lambda: notes.label(0, 0, 0.3), "seconds_total"),
    (lambda: notes.render([0, 1, 2, 3, 4], 0, 1.0), "pitches"),
    (lambda: notes.render(0, 0, 1.5), "seconds_total"),
    (lambda: notes.dataset(0), "n"),
    (lambda: notes.dataset(4, notes_per_clip=(5,)), "notes_per_clip"),
    (lambda: notes.split_label(torch.tensor([96])), "y"),
    (lambda: audio.f0(torch.zeros(3, 2, 800)), "x"),
    (lambda: audio.duration(torch.full((800,), float("nan"))), "x"),
    (lambda: audio.padding_mask(torch.tensor([-1.0]), 100), "seconds_total"),
    (lambda: audio.padding_mask(torch.tensor([0.5]), 0), "n_samples"),
    (lambda: timing_features(torch.zeros(2), torch.zeros(3), 8), "same length"),
    (lambda: AudioDiT(clip_samples=100, patch_size=30), "patch_size"),
    (lambda: AudioDiT(durations=(0.5, 2.0)), "durations"),
    (lambda: AudioDiT(clip_samples=80, patch_size=40, hidden_size=8, depth=1, heads=2)(
        torch.zeros(2, 1, 81), torch.zeros(2), None), "x must have shape"),
    (lambda: AudioDiT(clip_samples=80, patch_size=40, hidden_size=8, depth=1, heads=2)(
        torch.zeros(2, 1, 80), torch.zeros(2), torch.tensor([0, 97])), "y must hold"),
])
def test_bad_inputs_are_named(call, word):
    with pytest.raises(ValueError, match=word):
        call()
