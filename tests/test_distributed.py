"""A run is a function of its seed: repeatable, resumable without RNG state, and the same under torchrun.

Run as a script (``python -m torch.distributed.run --nproc-per-node 2 tests/test_distributed.py OUT``), this
file is the worker of the two-process test: rank 0 writes the final weights and losses to OUT.
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import diffedu as de

STEPS, BATCH, SEED = 30, 32, 7


def _data() -> torch.Tensor:
    return torch.randn(256, 2, generator=torch.Generator().manual_seed(1)) * torch.tensor([2.0, 0.5])


def _mse(model, batch, g):
    """Denoising with the noise and times drawn from the run's generator."""
    noise = torch.randn(batch.shape, generator=g)
    t = torch.randint(1, 101, (batch.shape[0],), generator=g)
    return ((model(batch + 0.5 * noise, t) - noise) ** 2).mean()


def _run(micro_batches=1, on_step=None, **kw):
    torch.manual_seed(0)
    return de.train(de.MLPDenoiser(hidden=32), _mse, de.tensor_batches(_data(), BATCH), steps=STEPS, warmup=5,
                    seed=SEED, progress=False, device="cpu", micro_batches=micro_batches, on_step=on_step, **kw)


def _worker(out: Path) -> None:
    import torch.distributed as dist
    from safetensors.torch import save_file

    res = _run(on_step=lambda step, r: (out / f"on_step.rank{dist.get_rank()}").write_text(str(step)),
               on_step_every=10)
    assert dist.is_initialized()  # train() leaves the process group to its caller
    if dist.get_rank() == 0:
        save_file({k: v.contiguous() for k, v in res.model.state_dict().items()}, str(out / "model.safetensors"))
        (out / "losses.json").write_text(json.dumps(res.losses))
    dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="torch.distributed with the gloo backend is not available")
def test_two_processes_under_torchrun_train_as_one_process_with_two_micro_batches(tmp_path):
    from safetensors.torch import load_file

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
           "--master-port", str(_free_port()), __file__, str(tmp_path)]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    one = _run(micro_batches=2)
    weights = load_file(str(tmp_path / "model.safetensors"))
    assert weights.keys() == one.model.state_dict().keys()
    for name, p in one.model.state_dict().items():
        torch.testing.assert_close(weights[name], p, atol=1e-5, rtol=1e-5, msg=name)
    # the logged loss is the mean over both ranks' shards, as one process's mean over its two micro-batches
    assert json.loads((tmp_path / "losses.json").read_text()) == pytest.approx(one.losses, abs=1e-5)
    assert sorted(p.name for p in tmp_path.glob("on_step.*")) == ["on_step.rank0"]  # only rank 0 checkpoints
    assert (tmp_path / "on_step.rank0").read_text() == str(STEPS)


class _DropoutNet(nn.Module):
    """MLPDenoiser with dropout, so that the global RNG (not only the batch generator) matters."""

    def __init__(self):
        super().__init__()
        self.net, self.drop = de.MLPDenoiser(hidden=32), nn.Dropout(0.3)

    def forward(self, x, t):
        return self.drop(self.net(x, t))


def _dropout_run(steps, seed=SEED, result=None, start_step=0):
    if result is None:
        torch.manual_seed(0)
    model = _DropoutNet() if result is None else result.model
    return de.train(model, _mse, de.tensor_batches(_data(), BATCH), steps=steps, warmup=5, lr_schedule="constant",
                    ema_decay=0.9, seed=seed, progress=False, device="cpu", micro_batches=2, result=result,
                    start_step=start_step)


def test_same_seed_same_weights_and_another_seed_other_weights():
    a, b, c = _dropout_run(10), _dropout_run(10), _dropout_run(10, seed=SEED + 1)
    _assert_same_weights(a.model, b.model)
    _assert_same_weights(a.ema, b.ema)
    assert a.losses == b.losses
    assert not torch.equal(a.model.net.out.weight, c.model.net.out.weight)


def test_twenty_steps_resumed_for_twenty_more_equal_forty_steps_bit_for_bit():
    torch.manual_seed(123)  # the global RNG's state before a run does not matter: each micro-batch reseeds it
    full = _dropout_run(40)
    half = _dropout_run(20)
    assert half.rng_state is None
    torch.manual_seed(456)
    resumed = _dropout_run(40, result=half, start_step=20)
    assert resumed.losses == full.losses and len(full.losses) == 40
    _assert_same_weights(resumed.model, full.model)
    _assert_same_weights(resumed.ema, full.ema)


@pytest.mark.parametrize("name, value", [("grad_clip", -1.0), ("warmup", "100"), ("ema_decay", 1.0),
                                         ("micro_batches", 0)])
def test_bad_arguments_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        de.train(de.MLPDenoiser(hidden=8), _mse, de.tensor_batches(_data(), 4), steps=1, progress=False,
                 **{name: value})


def test_seeds_mix_seed_step_and_shard():
    from diffedu.train import mix

    seeds = {mix(s, t, j) for s in range(3) for t in range(50) for j in range(4)}
    assert len(seeds) == 3 * 50 * 4 and all(0 <= k < 2**63 for k in seeds)
    assert mix(1, 2, 3) == mix(1, 2, 3) != mix(1, 2, 3, "torch")


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
