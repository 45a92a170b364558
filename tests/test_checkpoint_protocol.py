"""One protocol saves every model kind: ``checkpoint`` knows the file format and each kind writes and reads its own
part of the header (``checkpoint.register_kind``). Every kind the course ships round-trips (same type, same outputs
on a fixed input), a new kind needs no change to ``checkpoint.py``, and ``checkpoint.py`` imports nothing above it."""
import ast
import pathlib
import sys

import pytest
import torch

import diffedu as de
from diffedu import checkpoint
from diffedu import processes as P
from diffedu.fewstep import ConsistencyModel
from diffedu.latent import LatentDiffusionModel
from diffedu.model import DiffusionModel, network, takes_guidance
from diffedu.models import DiT, Autoencoder, NoisyClassifier, UNet

SMALL = dict(image_size=8, base_channels=8, channel_mults=(1, 2), attn_resolutions=(4,), groups=4, num_classes=3)


def _perturbed(net: torch.nn.Module) -> torch.nn.Module:
    """Zero-initialised output layers would make every output 0 and every comparison vacuous."""
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.eval()


def _plain():
    return DiffusionModel(_perturbed(de.MLPDenoiser(hidden=16, depth=1, emb_dim=8)), P.DiscreteVP("cosine", 100),
                          "v", meta={"note": "plain"})


def _class_conditional():
    return DiffusionModel(_perturbed(UNet(**SMALL)), P.DiscreteVP("linear", 50), "eps", 3, {"note": "labels"})


def _latent():
    ae = _perturbed(Autoencoder(base_channels=8))
    net = _perturbed(DiT(image_size=8, in_channels=4, patch_size=2, hidden_size=32, depth=1, heads=2, num_classes=3))
    return LatentDiffusionModel(net, P.DiscreteVP("cosine", 1000), "v", 3, {"note": "latent"}, autoencoder=ae,
                                scale=0.5)


def _consistency():
    inner = DiffusionModel(_perturbed(UNet(**SMALL)), P.Linear(), "velocity", 3, {"note": "teacher"})
    return ConsistencyModel(inner, P.Linear(), 0.002, 0.25, 3, {"note": "student"})


def _student():
    return DiffusionModel(_perturbed(UNet(**SMALL, guidance=True)), P.Linear(), "velocity", 3, {"note": "w"})


def _outputs(model) -> dict:
    """On a fixed input: x̂_0; with labels, guided at w = 2 (f_θ: conditional); a latent model's decoder, encoder."""
    dm = model.net if isinstance(model, ConsistencyModel) else model
    shape = (2,) if isinstance(dm.net, de.MLPDenoiser) else dm.sample_shape
    t = (torch.tensor([1, dm.process.T // 2, dm.process.T]) if dm.process.discrete
         else torch.tensor([0.01, 0.5, 0.9], dtype=torch.float64))
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(3, *shape, generator=g), torch.tensor([0, 1, 2])
    with torch.no_grad():
        out = {} if takes_guidance(model) else {"x0": model.x0(x, t)}  # a student always takes w
        if model.num_classes:
            out["given"] = model.given(y, 1.0 if isinstance(model, ConsistencyModel) else 2.0).x0(x, t)
        if isinstance(model, LatentDiffusionModel):
            out["decoded"] = model.decode(x)
            out["encoded"] = model.encode(torch.rand(2, 3, 32, 32, generator=g) * 2 - 1)
    return out


def _round_to_half(net: torch.nn.Module) -> None:
    net.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in net.state_dict().items()})


KINDS = {"plain": _plain, "class-conditional": _class_conditional, "latent": _latent, "consistency": _consistency,
         "w-conditioned student": _student}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [None, torch.float16])
def test_every_model_kind_round_trips_through_the_one_protocol(kind, dtype, tmp_path):
    torch.manual_seed(0)
    model = KINDS[kind]()
    back = checkpoint.load(checkpoint.save(tmp_path / kind, model, dtype=dtype))
    assert type(back) is type(model)
    assert back.process == model.process and back.prediction == model.prediction
    assert back.num_classes == model.num_classes and back.meta == model.meta
    if dtype is not None:  # a float16 file: the model it saved, rounded to float16
        _round_to_half(network(model))
        if kind == "latent":
            _round_to_half(model.autoencoder)
    want, got = _outputs(model), _outputs(back)
    assert want.keys() == got.keys()
    for key in want:
        assert torch.equal(got[key], want[key]), key
    if kind == "consistency":
        assert (back.t_min, back.sigma_data) == (model.t_min, model.sigma_data)
        assert type(back.net) is DiffusionModel and back.net.meta == back.meta == {"note": "student"}
    if kind == "latent":
        assert back.scale == model.scale and type(back.autoencoder) is Autoencoder


def test_a_network_round_trips_with_its_process_and_no_prediction(tmp_path):
    torch.manual_seed(0)
    clf = _perturbed(NoisyClassifier(base_channels=8, num_classes=10, groups=4))
    back = checkpoint.load(checkpoint.save(tmp_path / "clf", clf, process=P.DiscreteVP("cosine", 1000),
                                           meta={"note": "classifier"}))
    assert type(back) is NoisyClassifier and back.process == P.DiscreteVP("cosine", 1000)
    assert back.meta == {"note": "classifier"}
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([10, 900])
    with torch.no_grad():
        assert torch.equal(back(x, t), clf(x, t))


def test_the_shipped_kinds_are_registered_under_their_header_keys():
    assert checkpoint.KINDS["consistency"].cls is ConsistencyModel
    assert checkpoint.KINDS["consistency"].fields == ("t_min", "sigma_data")
    assert checkpoint.KINDS["autoencoder"].cls is LatentDiffusionModel
    assert checkpoint.KINDS["autoencoder"].fields == ("model", "config", "scale")


def test_a_new_kind_needs_no_change_to_checkpoint(tmp_path, monkeypatch):
    """The protocol as a student would use it: a DiffusionModel that also carries a tensor (a learned offset)."""
    monkeypatch.setattr(checkpoint, "KINDS", dict(checkpoint.KINDS))  # the registration ends with the test

    @checkpoint.register_kind("offset", "size")
    class Offset(DiffusionModel):
        def __init__(self, *args, offset):
            super().__init__(*args)
            self.offset = offset

        def x0(self, x, t):
            return super().x0(x, t) + self.offset

        def checkpoint_part(self):
            return {"size": self.offset.numel()}, {"value": self.offset}, self

        @classmethod
        def from_checkpoint(cls, part, inner, tensors, build):
            assert tensors["value"].numel() == part["size"]
            return cls(inner.net, inner.process, inner.prediction, inner.num_classes, inner.meta,
                       offset=tensors["value"])

    m = _plain()
    m = Offset(m.net, m.process, m.prediction, None, {"a": 1}, offset=torch.tensor([0.5, -0.25]))
    path = checkpoint.save(tmp_path / "offset", m)
    header, tensors = checkpoint.read(path)
    assert header["offset"] == {"size": 2} and torch.equal(tensors["offset.value"], m.offset)
    back = checkpoint.load(path)
    assert type(back) is Offset and torch.equal(back.offset, m.offset)
    x, t = torch.randn(4, 2), torch.tensor([1, 2, 50, 100])
    with torch.no_grad():
        assert torch.equal(back.x0(x, t), m.x0(x, t))


def test_a_kind_must_define_both_halves_of_the_protocol(monkeypatch):
    monkeypatch.setattr(checkpoint, "KINDS", dict(checkpoint.KINDS))
    with pytest.raises(TypeError, match="from_checkpoint"):
        @checkpoint.register_kind("half")
        class Half(DiffusionModel):
            def checkpoint_part(self):
                return {}, {}, self


@pytest.mark.parametrize("key, part, fields", [
    ("consistency", {"t_min": 0.002}, "t_min and sigma_data"),
    ("consistency", [0.002, 0.5], "t_min and sigma_data"),
    ("autoencoder", {"model": "Autoencoder", "config": {}}, "model, config and scale"),
])
def test_a_kind_part_without_its_fields_is_refused_naming_the_file(key, part, fields, tmp_path):
    import json
    from safetensors.torch import save_file

    path = checkpoint.save(tmp_path / "m", _latent() if key == "autoencoder" else _consistency())
    header, tensors = checkpoint.read(path)
    header[key] = part
    save_file(tensors, str(path), metadata={"diffedu": json.dumps(checkpoint.signed(header, tensors))})
    with pytest.raises(ValueError, match=rf"{path}: metadata field '{key}' must hold {fields}"):
        checkpoint.load(path)


def test_two_kinds_in_one_header_are_refused(tmp_path):
    import json
    from safetensors.torch import save_file

    path = checkpoint.save(tmp_path / "m", _consistency())
    header, tensors = checkpoint.read(path)
    header["autoencoder"] = {"model": "Autoencoder", "config": {}, "scale": 1.0}
    save_file(tensors, str(path), metadata={"diffedu": json.dumps(checkpoint.signed(header, tensors))})
    with pytest.raises(ValueError, match=rf"{path}: metadata holds the parts of several model kinds"):
        checkpoint.load(path)


def test_a_consistency_model_around_a_latent_model_is_refused_on_save(tmp_path):
    cm = ConsistencyModel(_latent().with_process(P.Linear()), P.Linear(), 0.002)
    with pytest.raises(ValueError, match="only a ConsistencyModel around a DiffusionModel"):
        checkpoint.save(tmp_path / "cm", cm)
    assert not list(tmp_path.iterdir())


ALLOWED = {"processes", "model", "models", "models.registry", "_checks", "_files"}  # diffedu's modules below checkpoint


def test_checkpoint_imports_nothing_above_it():
    """The file format sits under the model kinds: they register with it, it never names them."""
    src = pathlib.Path(checkpoint.__file__).read_text()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            mods = [node.module]
        elif isinstance(node, ast.ImportFrom):  # relative: "from . import processes", "from .model import …"
            assert node.level == 1, f"checkpoint.py imports from {'.' * node.level}{node.module}"
            mods = [f"diffedu.{node.module}"] if node.module else [f"diffedu.{a.name}" for a in node.names]
        else:
            continue
        for mod in mods:
            top = mod.split(".")[0]
            if top == "diffedu":
                assert mod[len("diffedu."):] in ALLOWED, f"checkpoint.py imports {mod}, a module above it"
            else:
                assert top in sys.stdlib_module_names or top in {"torch", "safetensors", "__future__"}, \
                    f"checkpoint.py imports {mod}"
    for name in ("ConsistencyModel", "LatentDiffusionModel", "consistency", "latent", "fewstep", "TrainResult"):
        assert name not in {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}, name
