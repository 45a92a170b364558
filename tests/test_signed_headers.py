"""Checkpoint and adapter headers are signed (issue 32): editing any field that changes what a shipped model
computes — its process, prediction, classes, configuration, a kind's part (κ, t_min), an adapter's α — is refused,
naming the file and the field; the history (``meta``) may change freely. Non-finite weights and integer dtypes are
refused on save and on load, and a format-2 file asks to be re-signed rather than loading unchecked."""
import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

import diffedu as de
from diffedu import checkpoint
from diffedu.adapt import adapter_path
from diffedu.pretrained import asset_path


def _edit(path, change):
    header, tensors = checkpoint.read(path)
    change(header)
    save_file(tensors, str(path), metadata={"diffedu": json.dumps(header)})


EDITS = [  # (shipped file, field, an edit a careless or hostile hand would make)
    ("ring8-mlp", "process", lambda h: h["process"].update(schedule="cosine")),
    ("mnist-unet", "prediction", lambda h: h.update(prediction="x0")),
    ("mnist-unet", "num_classes", lambda h: h.update(num_classes=9)),
    ("mnist-text-unet", "config", lambda h: h["config"].update(length=h["config"].get("length", 12) + 1)),
    ("cifar-latent-dit", "autoencoder", lambda h: h["autoencoder"].update(scale=h["autoencoder"]["scale"] * 2)),
    ("mnist-cd", "consistency", lambda h: h["consistency"].update(t_min=0.01)),
    ("mnist-noisy-classifier", "process", lambda h: h.update(process={"kind": "CosineVP", "time_scale": 1000.0,
                                                                        "t_max": 1.0})),
    ("ring8-ncsn", "format", lambda h: h.update(format=2)),
]


@pytest.mark.parametrize("name, field, change", EDITS, ids=[f"{n}:{f}" for n, f, _ in EDITS])
def test_an_edited_semantic_field_of_a_shipped_checkpoint_is_refused_naming_file_and_field(name, field, change,
                                                                                          tmp_path):
    path = tmp_path / f"{name}.safetensors"
    shutil.copy(asset_path(name), path)
    _edit(path, change)
    with pytest.raises(ValueError) as e:
        checkpoint.load(path)
    assert str(path) in str(e.value)
    assert (f"'{field}'" in str(e.value)) or (field == "format" and "re-sign" in str(e.value)), str(e.value)


@pytest.mark.parametrize("adapter", ["boxed-lora-qk", "backhand-textual-inversion"])
def test_an_edited_adapter_header_is_refused(adapter, tmp_path):
    path = tmp_path / f"{adapter}.safetensors"
    shutil.copy(adapter_path(adapter), path)
    key = "alpha" if "lora" in adapter else "word"
    _edit(path, lambda h: h["config"].update({key: 99.0 if key == "alpha" else "[zz]"}))
    with pytest.raises(ValueError, match=rf"{path}.*'config'"):
        de.adapt.attach(path, de.pretrained("mnist-text-unet"))


def test_the_history_may_change_and_the_model_still_loads(tmp_path):
    path = tmp_path / "m.safetensors"
    shutil.copy(asset_path("ring8-mlp"), path)
    _edit(path, lambda h: h["meta"].update(note="trained on my laptop"))
    assert checkpoint.load(path).meta["note"] == "trained on my laptop"


def test_every_shipped_file_is_signed_and_its_tensors_are_finite():
    for name in de.shipped():
        header, tensors = checkpoint.read(asset_path(name))
        assert header["format"] == checkpoint.FORMAT and isinstance(header["header_sha256"], dict), name
        assert all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point()), name


def test_non_finite_weights_are_refused_on_save_and_on_load(tmp_path):
    net = de.MLPDenoiser(hidden=8, depth=1, emb_dim=4)
    with torch.no_grad():
        next(net.parameters())[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"m.safetensors.*NaN or infinite"):
        checkpoint.save(tmp_path / "m", net)
    assert not (tmp_path / "m.safetensors").exists()
    good = checkpoint.save(tmp_path / "g", de.MLPDenoiser(hidden=8, depth=1, emb_dim=4))
    header, tensors = checkpoint.read(good)
    k = next(iter(tensors))
    tensors[k] = torch.full_like(tensors[k], float("inf"))
    save_file(tensors, str(good), metadata={"diffedu": json.dumps(checkpoint.signed(header, tensors))})
    with pytest.raises(ValueError, match=rf"g.safetensors.*{k}.*NaN or infinite"):
        checkpoint.load(good)


@pytest.mark.parametrize("dtype", [torch.int8, torch.int32, torch.bool, "float16"])
def test_save_refuses_a_dtype_that_is_not_floating_point(dtype, tmp_path):
    with pytest.raises(ValueError, match="dtype must be None or a floating-point torch dtype"):
        checkpoint.save(tmp_path / "m", de.MLPDenoiser(hidden=8, depth=1, emb_dim=4), dtype=dtype)


def test_a_format_2_file_is_refused_until_re_signed_and_resign_keeps_the_tensors(tmp_path):
    path = checkpoint.save(tmp_path / "m", de.MLPDenoiser(hidden=8, depth=1, emb_dim=4))
    header, tensors = checkpoint.read(path)
    old = {k: v for k, v in header.items() if k != "header_sha256"}
    save_file(tensors, str(path), metadata={"diffedu": json.dumps({**old, "format": 2})})
    with pytest.raises(ValueError, match=r"m.safetensors: checkpoint format 2 .*resign"):
        checkpoint.load(path)
    checkpoint.resign(path)
    again, after = checkpoint.read(path)
    assert again["format"] == checkpoint.FORMAT
    assert all(torch.equal(tensors[k], after[k]) for k in tensors)
