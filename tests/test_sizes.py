"""Lesson sizes (diffedu/config.py): chosen from the device, overridden by DIFFEDU_SIZE or DIFFEDU_FAST; pick per size."""
import json
import re
from pathlib import Path

import pytest

from diffedu import config
from diffedu.config import SIZES, choose_size, pick

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("gpu, size", [(True, "gpu"), (False, "cpu")])
def test_the_device_chooses_the_size(gpu, size):
    assert choose_size(environ={}, gpu=gpu) == size


@pytest.mark.parametrize("value, size", [("fast", "fast"), ("cpu", "cpu"), ("gpu", "gpu"), (" GPU ", "gpu"),
                                         ("Cpu", "cpu")])
@pytest.mark.parametrize("gpu", [True, False])
def test_diffedu_size_overrides_the_device(value, size, gpu):
    assert choose_size(environ={"DIFFEDU_SIZE": value}, gpu=gpu) == size


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE", " 1 "])
@pytest.mark.parametrize("gpu", [True, False])
def test_diffedu_fast_means_fast(value, gpu):
    assert choose_size(environ={"DIFFEDU_FAST": value}, gpu=gpu) == "fast"


@pytest.mark.parametrize("value", ["0", "", "false", "no"])
def test_diffedu_fast_off_leaves_it_to_the_device(value):
    assert choose_size(environ={"DIFFEDU_FAST": value}, gpu=True) == "gpu"
    assert choose_size(environ={"DIFFEDU_FAST": value}, gpu=False) == "cpu"


def test_diffedu_size_wins_over_diffedu_fast():
    assert choose_size(environ={"DIFFEDU_SIZE": "cpu", "DIFFEDU_FAST": "1"}, gpu=True) == "cpu"
    assert choose_size(environ={"DIFFEDU_SIZE": "", "DIFFEDU_FAST": "1"}, gpu=True) == "fast"  # empty: unset


@pytest.mark.parametrize("value", ["full", "medium", "cuda", "1", "fast,cpu"])
def test_an_unknown_size_is_a_clear_error(value):
    with pytest.raises(ValueError) as err:
        choose_size(environ={"DIFFEDU_SIZE": value}, gpu=False)
    message = str(err.value)
    assert "DIFFEDU_SIZE" in message and repr(value) in message
    assert all(s in message for s in SIZES)


def test_the_device_is_probed_when_not_given():
    assert choose_size(environ={}) in ("cpu", "gpu")


def test_pick_returns_the_value_of_each_size():
    for size, want in (("fast", 3), ("cpu", 2), ("gpu", 1)):
        assert pick(gpu=1, cpu=2, fast=3, size=size) == want


def test_pick_cpu_defaults_to_the_full_value():
    assert pick(gpu=5000, fast=300, size="cpu") == 5000
    assert [pick(5000, 300, size=s) for s in ("fast", "cpu", "gpu")] == [300, 5000, 5000]  # positional: full, fast
    assert pick(5000, 300, 1500, size="cpu") == 1500
    assert pick(gpu=[1, 2], cpu=None, fast=[1], size="cpu") is None  # None is a value, not "missing"


def test_pick_reads_this_run_s_size(monkeypatch):
    for size in SIZES:
        monkeypatch.setattr(config, "SIZE", size)
        assert pick(gpu="g", cpu="c", fast="f") == size[0]
        assert config.describe().startswith(f"lesson size: {size}")
        assert "DIFFEDU_SIZE" in config.describe()


def test_pick_refuses_missing_values_and_unknown_sizes():
    with pytest.raises(TypeError):
        pick(gpu=1)
    with pytest.raises(TypeError):
        pick(cpu=1, fast=1)
    with pytest.raises(ValueError, match="fast, cpu, gpu"):
        pick(1, 2, size="full")


def test_fast_flag_matches_the_size():
    assert config.FAST == (config.SIZE == "fast")


# --- the lessons and Binder use the mechanism --------------------------------------------------------

LESSONS = sorted(p for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def _code(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_each_lesson_prints_its_size_first_and_checks_no_device_by_hand(path):
    code = _code(path)
    assert "describe()" in code[0], "the first code cell prints the size (describe())"
    text = "\n".join(code)
    assert not re.search(r"device\.type\s*==", text), "size choices go through pick(gpu=…, cpu=…, fast=…)"
    assert "if FAST" not in text and "if not FAST" not in text


def test_binder_does_not_force_the_fast_size():
    for f in (ROOT / "binder").iterdir():
        if f.is_file():
            text = f.read_text(encoding="utf-8", errors="replace")
            assert not re.search(r"DIFFEDU_FAST\s*=|DIFFEDU_SIZE\s*=\s*['\"]?fast", text), f.name


def _start(tmp_path, env_extra, cpu_max=None, v1=None):
    """Run binder/start with a fake cgroup folder; return the OMP_NUM_THREADS it hands to the command."""
    import os
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("no bash")
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    if cpu_max is not None:
        (root / "cpu.max").write_text(cpu_max + "\n")
    if v1 is not None:
        (root / "cpu").mkdir()
        (root / "cpu" / "cpu.cfs_quota_us").write_text(f"{v1[0]}\n")
        (root / "cpu" / "cpu.cfs_period_us").write_text(f"{v1[1]}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CPU_LIMIT")}
    env.update(DIFFEDU_CGROUP=str(root), **env_extra)
    out = subprocess.run(["bash", str(ROOT / "binder" / "start"), "sh", "-c", 'echo "${OMP_NUM_THREADS:-unset} $0"'],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "sh"  # exec "$@": the command runs, with its arguments
    return out[0]


def test_binder_start_matches_torch_threads_to_the_cpu_quota(tmp_path):
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert _start(tmp_path / "a", {}, cpu_max="100000 100000") == "1"
    assert _start(tmp_path / "b", {}, cpu_max="max 100000") == "unset"              # no quota: torch decides
    assert _start(tmp_path / "c", {}, v1=(150000, 100000)) == str(min(2, cores))   # cgroup v1, rounded up
    assert _start(tmp_path / "d", {}, v1=(-1, 100000)) == "unset"
    assert _start(tmp_path / "e", {"CPU_LIMIT": "1.0"}) == "1"                       # KubeSpawner's variable
    assert _start(tmp_path / "f", {"OMP_NUM_THREADS": "3"}, cpu_max="100000 100000") == "3"  # never overridden
