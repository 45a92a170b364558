"""Every shipped checkpoint can be reproduced: a recipe run is a function of its seed (bit-identical twice),
``state`` resumes a run exactly, and ``python -m diffedu.recipes`` writes a self-describing checkpoint, never
over the shipped one. Small 2-D recipes only, a few dozen steps each: the whole file takes seconds."""
import hashlib

import pytest
import torch

import diffedu.recipes
from diffedu import checkpoint
from diffedu.model import DiffusionModel
from diffedu.pretrained import ASSETS
from diffedu.processes import DiscreteVP
from diffedu.recipes import setup, train_recipe
from diffedu.recipes.__main__ import main
from diffedu.train_state import load_training, save_training


@pytest.fixture(autouse=True)
def one_thread():
    """These networks are tiny: one thread is as fast, and a second one only thrashes when the machine is
    busy (two intra-op threads on two shared cores made a 30-step run take 27 s instead of 0.2 s)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("name", ["ring8-mlp", "ring8-ncsn"])
def test_two_runs_of_a_recipe_give_bit_identical_weights(name):
    a = train_recipe(name, steps=30, progress=False)
    b = train_recipe(name, steps=30, progress=False)
    assert _same(a.ema, b.ema) and _same(a.model, b.model)
    assert a.losses == b.losses
    assert not _same(a.ema, setup(name).net)  # it did train: the test is not comparing two fresh networks


def test_a_state_resumes_only_the_run_it_was_written_for(tmp_path):
    """A state knows its run's total: a longer run would change the learning-rate schedule midway, so
    extending it is refused with a pointer to init_from (the crash test shows the exact resumption)."""
    state = tmp_path / "s"
    first = train_recipe("ring8-mlp", steps=20, progress=False, state=state, checkpoint_every=10)
    assert load_training(state)[1] == 20 and len(first.losses) == 20
    with pytest.raises(ValueError, match="belongs to a run of 20 steps.*init_from"):
        train_recipe("ring8-mlp", steps=40, progress=False, state=state, checkpoint_every=10)


def test_a_crashed_run_rerun_with_the_same_command_repeats_the_uninterrupted_one(tmp_path, monkeypatch):
    """The case ``--state`` is for: a run killed mid-way and started again, here past the warm-up (warmup=5),
    so the cosine decay, the AdamW moments and the EMA's warm-up must all continue exactly."""
    class Crash(Exception):
        pass

    def save_then_crash(path, res, step, meta=None):
        out = save_training(path, res, step, meta)
        if step == 20:
            raise Crash
        return out

    state, kw = tmp_path / "s", dict(steps=40, progress=False, warmup=5)
    monkeypatch.setattr(diffedu.recipes, "save_training", save_then_crash)  # the name train_recipe calls
    with pytest.raises(Crash):
        train_recipe("ring8-mlp", state=state, checkpoint_every=10, **kw)
    monkeypatch.undo()
    assert load_training(state)[1] == 20
    resumed = train_recipe("ring8-mlp", state=state, checkpoint_every=10, **kw)
    whole = train_recipe("ring8-mlp", **kw)
    assert resumed.losses == whole.losses
    assert _same(resumed.ema, whole.ema) and _same(resumed.model, whole.model)


def test_state_of_another_recipe_or_already_past_steps_is_refused(tmp_path):
    other = tmp_path / "ncsn"
    train_recipe("ring8-ncsn", steps=3, progress=False, state=other)
    with pytest.raises(ValueError, match="belongs to recipe 'ring8-ncsn', not 'ring8-mlp'"):
        train_recipe("ring8-mlp", steps=10, progress=False, state=other)
    done = tmp_path / "mlp"
    train_recipe("ring8-mlp", steps=10, progress=False, state=done, checkpoint_every=5)
    for steps in (10, 4):
        with pytest.raises(ValueError, match=rf"already at step 10 >= steps={steps}: nothing to do"):
            train_recipe("ring8-mlp", steps=steps, progress=False, state=done)


def test_init_from_a_network_of_another_kind_is_refused(capsys):
    with pytest.raises(ValueError, match="ring8-ncsn: ScoreMLP.*is not the network of recipe 'ring8-mlp'"):
        train_recipe("ring8-mlp", steps=1, progress=False, init_from="ring8-ncsn")
    with pytest.raises(SystemExit) as e:  # the command line says so, as a usage error
        main(["ring8-mlp", "--steps", "1", "--init-from", "ring8-ncsn"])
    assert e.value.code == 2 and "is not the network of recipe 'ring8-mlp'" in capsys.readouterr().err


def test_the_command_writes_a_ready_checkpoint_that_records_how_it_was_made(tmp_path):
    out = tmp_path / "x"
    argv = ["ring8-mlp", "--steps", "5", "--out", str(out)]
    main(argv)
    m = checkpoint.load(out)  # written as x.safetensors
    assert isinstance(m, DiffusionModel) and m.prediction == "eps"
    assert m.process == DiscreteVP("linear", 1000) == setup("ring8-mlp").process
    assert m.meta["recipe"] == "ring8-mlp" and m.meta["steps_run"] == 5
    assert m.meta["command"] == "python -m diffedu.recipes ring8-mlp --steps 5 --out " + str(out)
    assert _same(m.net, train_recipe("ring8-mlp", steps=5, progress=False).ema)  # the EMA weights, as trained


def _assets():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ASSETS.iterdir() if p.is_file()}


def test_without_out_the_command_writes_under_diffedu_home_never_into_the_assets(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFEDU_HOME", str(tmp_path))
    before = _assets()
    main(["ring8-mlp", "--steps", "3"])
    written = tmp_path / "checkpoints" / "ring8-mlp.safetensors"
    assert checkpoint.load(written).meta["steps_run"] == 3
    assert _assets() == before


def test_a_resumed_command_counts_the_training_time_of_its_earlier_invocations(tmp_path):
    state, out = tmp_path / "run", tmp_path / "out"
    first = train_recipe("ring8-mlp", steps=4, progress=False)
    first.seconds = 1000.0                     # as if the interrupted first invocation had trained for 1,000 s
    save_training(state, first, 4, {"recipe": "ring8-mlp", "steps_total": 8})
    main(["ring8-mlp", "--steps", "8", "--state", str(state), "--out", str(out)])
    m = checkpoint.load(out)
    assert m.meta["steps_run"] == 8
    assert 1000.0 <= float(m.meta["seconds"]) < 1000.0 + 120    # the earlier 1,000 s, plus this invocation's
