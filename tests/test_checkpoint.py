"""A checkpoint is one file that carries the weights, the process and the parameterisation, is replaced
atomically, and refuses to load when altered — every error naming the file."""
import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

import diffedu as de
from diffedu import checkpoint
from diffedu import processes as P
from diffedu.train_state import load_training, save_training


def _model():
    torch.manual_seed(0)
    return de.DiffusionModel(de.MLPDenoiser(hidden=16, depth=1, emb_dim=8), P.DiscreteVP("cosine", 100), "v")


def test_the_file_carries_process_prediction_and_meta(tmp_path):
    m = _model()
    path = checkpoint.save(tmp_path / "m", m, meta={"note": "hi"})
    assert path.name == "m.safetensors" and [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    back = checkpoint.load(path)
    assert isinstance(back, de.DiffusionModel) and back.process == m.process and back.prediction == "v"
    x, t = torch.randn(5, 2), torch.tensor([1, 20, 50, 80, 100])
    with torch.no_grad():
        assert torch.equal(back.eps(x, t), m.eps(x, t))
    assert back.meta == {"note": "hi"}


def _write_then_die(path, step):
    """A child process that saves a training state at ``step``, then is killed in the middle of the next write."""
    code = f"""
import os, torch, safetensors.torch as st
import diffedu as de
from diffedu import checkpoint
from diffedu.train import TrainResult
from diffedu.train_state import save_training
torch.manual_seed(0)
net = de.MLPDenoiser(hidden=16, depth=1, emb_dim=8)
res = TrainResult(net, de.MLPDenoiser(hidden=16, depth=1, emb_dim=8), [1.0], 1.0)
save_training({str(path)!r}, res, {step})
with torch.no_grad():
    for p in net.parameters():
        p.add_(1.0)
real = st.save_file
def dying(tensors, filename, metadata=None):
    with open(filename, "wb") as f:
        f.write(b"half a checkpoint")
        f.flush()
    os._exit(9)  # killed mid-write: no cleanup runs
st.save_file = dying
import diffedu._files
diffedu._files.save_file = dying  # where checkpoints are written
save_training({str(path)!r}, res, {step + 20})
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 9, r.stderr


def test_a_write_killed_midway_leaves_the_previous_state_whole_and_no_temp_file_after_the_next(tmp_path):
    path = tmp_path / "state"
    _write_then_die(path, 20)
    res, step = load_training(path)  # the previous state, weights and step together
    assert step == 20
    torch.manual_seed(0)
    fresh = de.MLPDenoiser(hidden=16, depth=1, emb_dim=8)
    assert all(torch.equal(a, b) for a, b in zip(res.model.state_dict().values(), fresh.state_dict().values()))
    leftovers = [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert leftovers  # what the killed writer left …
    save_training(path, res, 40)
    assert [p.name for p in tmp_path.iterdir()] == ["state.safetensors"]  # … is removed by the next save
    assert load_training(path)[1] == 40


def test_a_flipped_payload_byte_is_refused(tmp_path):
    path = checkpoint.save(tmp_path / "m", _model())
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # a byte of the last tensor's data
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{path.name}.*sha256.*altered or damaged"):
        checkpoint.load(path)


def _rewrite_header(path, change):
    header, tensors = checkpoint.read(path)
    new = change(header)
    if isinstance(new, dict) and new.get("format") == checkpoint.FORMAT:  # re-signed: the check after the digest
        new = checkpoint.signed(new, tensors)
    save_file(tensors, str(path), metadata={"diffedu": new if isinstance(new, str) else json.dumps(new)})


@pytest.mark.parametrize("change, message", [
    (lambda h: [h], "format"),
    (lambda h: {k: v for k, v in h.items() if k != "model"}, "'model' must be a str"),
    (lambda h: {**h, "config": {**h["config"], "hidden": "128"}}, "cannot build MLPDenoiser"),
    (lambda h: {**h, "model": "Transformer9000"}, "cannot build Transformer9000"),
    (lambda h: {**h, "process": {"kind": "Magic"}}, "process spec"),
    (lambda h: {**h, "format": 1}, "format 1"),
    (lambda h: "{not json", "not valid JSON"),
])
def test_malformed_metadata_gets_a_clear_error_naming_the_file(tmp_path, change, message):
    path = checkpoint.save(tmp_path / "m", _model())
    _rewrite_header(path, change)
    with pytest.raises(ValueError, match=message) as e:
        checkpoint.load(path)
    assert "m.safetensors" in str(e.value) or message == "process spec"


def test_other_bad_paths(tmp_path):
    (tmp_path / "d.safetensors").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        checkpoint.load(tmp_path / "d")
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        checkpoint.load(tmp_path / "nothing")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="junk.safetensors is not a readable safetensors file"):
        checkpoint.load(tmp_path / "junk")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ValueError, match="no diffedu metadata"):
        checkpoint.load(tmp_path / "foreign")


def test_pretrained_takes_shipped_names_only():
    with pytest.raises(TypeError, match="name must be a string"):
        de.pretrained(123)
    with pytest.raises(ValueError, match="no shipped checkpoint 'mnist'.*mnist-unet"):
        de.pretrained("mnist")
    with pytest.raises(ValueError, match="checkpoint.load"):
        de.pretrained(os.path.abspath("/etc/passwd"))
