"""Binder's build, as repo2docker runs it (issue 35): in a fresh Python 3.11 virtual environment (binder/runtime.txt),
``pip install -r binder/requirements.txt``, then ``binder/postBuild`` from the repository root with the environment
first on PATH, then ``binder/start <command>``. A bare 3.11 venv comes with setuptools 65, which cannot read the SPDX
``license`` field that postBuild's ``--no-build-isolation`` install needs: requirements.txt must pin a newer one."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r.stdout


@pytest.mark.slow
def test_a_binder_build_in_a_fresh_python_311_venv_installs_diffedu_and_jupyterlab(tmp_path):
    python311 = shutil.which("python3.11")
    if python311 is None:
        pytest.skip("python3.11 is not on PATH: Binder's build (binder/runtime.txt) needs Python 3.11")
    start = time.perf_counter()
    repo = tmp_path / "repo"                     # the tracked files only, as Binder clones them
    for name in _run(["git", "ls-files", "-z"], cwd=ROOT).split("\0"):
        if name and (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    env_dir = tmp_path / "venv"
    _run([python311, "-m", "venv", str(env_dir)])
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIFFEDU_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    # PIP_RETRIES=0: where requirements.txt's PyTorch index cannot be reached (CI here: its name does not resolve),
    # pip moves on at once instead of retrying it with back-off for every requirement (16 minutes asleep)
    env.update(PATH=f"{bin_dir}:/usr/bin:/bin", HOME=str(tmp_path), PIP_RETRIES="0")
    _run([str(bin_dir / "pip"), "install", "-q", "-r", "binder/requirements.txt"], cwd=repo, env=env, timeout=1800)
    _run(["bash", "binder/postBuild"], cwd=repo, env=env, timeout=600)

    where = _run(["bash", "binder/start", "python", "-c", "import diffedu; print(diffedu.__file__)"],
                 cwd=repo, env=env, timeout=300).strip()
    assert Path(where).resolve().is_relative_to(repo.resolve()), where   # the editable install of this checkout
    version = _run(["bash", "binder/start", "jupyter", "lab", "--version"], cwd=repo, env=env, timeout=300)
    assert int(version.strip().split(".")[0]) >= 4, version
    overrides = env_dir / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    news = json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"]
    assert news["fetchNews"] == "false" and news["checkForUpdates"] is False
    print(f"binder build and start: {time.perf_counter() - start:.0f} s wall")
