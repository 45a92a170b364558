"""The README's setup: which torch gets installed, and `make lab` answering as root or as a user."""
import importlib.util
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("torch_setup", ROOT / "binder" / "torch_setup.py")
torch_setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(torch_setup)


def test_no_gpu_gets_the_cpu_build_first_then_the_default_index():
    reason, attempts = torch_setup.decide(None, gpu=False)
    assert attempts[0][-3:] == ["--extra-index-url", torch_setup.CPU_INDEX, f"torch=={torch_setup.PIN}+cpu"]
    assert attempts[0][:2] == ["--retries", "0"]  # an unreachable index fails fast
    assert attempts[1] == [f"torch=={torch_setup.PIN}"] and "CPU" in reason


def test_a_gpu_gets_the_default_index_cuda_build():
    reason, attempts = torch_setup.decide(None, gpu=True)
    assert attempts == [[f"torch=={torch_setup.PIN}"]] and "GPU" in reason


@pytest.mark.parametrize("version", ["2.5.1+cu121", "2.13.0+cpu", "2.13.0", "2.2.0"])
def test_an_installed_torch_is_kept(version):
    for gpu in (False, True):
        reason, attempts = torch_setup.decide(version, gpu=gpu)
        assert attempts == [] and "kept" in reason


def test_too_old_a_torch_is_upgraded_and_the_override_is_checked():
    assert torch_setup.decide("2.1.2+cu118", gpu=True)[1] == [[f"torch=={torch_setup.PIN}"]]
    assert torch_setup.decide(None, gpu=True, override="cpu")[1][0][-1].endswith("+cpu")
    assert len(torch_setup.decide(None, gpu=False, override="cpu")[1]) == 1  # asked for the CPU build: no fallback
    assert torch_setup.decide(None, gpu=False, override="cuda")[1] == [[f"torch=={torch_setup.PIN}"]]
    with pytest.raises(ValueError, match="DIFFEDU_TORCH must be 'cpu' or 'cuda'"):
        torch_setup.decide(None, gpu=False, override="gpu")


def test_an_unreachable_cpu_index_is_said_with_its_cost_and_the_way_out(monkeypatch, capsys):
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        failed = torch_setup.CPU_INDEX in cmd
        return subprocess.CompletedProcess(cmd, 1 if failed else 0, "", "ERROR: ResolutionImpossible" if failed else "")

    monkeypatch.setattr(torch_setup, "installed_torch", lambda: None)
    monkeypatch.setattr(torch_setup, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(torch_setup.subprocess, "run", fake_run)
    monkeypatch.delenv("DIFFEDU_TORCH", raising=False)
    assert torch_setup.main([]) == 0 and len(calls) == 2
    out = capsys.readouterr()
    assert out.out.startswith("diffedu setup: no NVIDIA GPU")        # the decision comes first
    assert "could not be reached" in out.err and "5 GB" in out.err and "DIFFEDU_TORCH=cpu" in out.err
    monkeypatch.setenv("DIFFEDU_TORCH", "cpu")
    calls.clear()
    assert torch_setup.main([]) == 1 and len(calls) == 1           # insisted on: no multi-GB fallback


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_starts_and_serves_the_lessons_path():
    """`make lab` as whoever runs the tests (root in CI): the server answers its API and finds
    lessons/01_… at the same path as Binder's."""
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("no .venv with JupyterLab: run `make lab` once (make test sets it up)")
    port, token = _free_port(), "difftest"
    args = f"--no-browser --port={port} --ip=127.0.0.1 --IdentityProvider.token={token}"
    proc = subprocess.Popen(["make", "-s", "lab", f"ARGS={args}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, status = time.time() + 90, None
        while time.time() < deadline and status is None:
            if proc.poll() is not None:
                pytest.fail("make lab exited: " + proc.stdout.read().decode()[-2000:])
            try:
                status = urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
            except OSError:
                time.sleep(0.5)
        assert status is not None, "the server did not answer within 90 s"
        lesson = urllib.request.urlopen(f"{base}/api/contents/lessons/01_forward_process.ipynb?token={token}"
                                        f"&content=0", timeout=10)
        assert lesson.status == 200
        # no "Jupyter news?" pop-up: the shipped settings override is what the server hands the page
        settings = json.loads(urllib.request.urlopen(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}", timeout=10).read())
        defaults = settings["schema"]["properties"]   # overrides.json replaces the schema's defaults
        assert defaults["fetchNews"]["default"] == "false" and defaults["checkForUpdates"]["default"] is False
        # the address printed lands on the lessons (the README's remote-machine paragraph names it)
        out = b""
        while b"/lab/tree/lessons?token=" not in out and time.time() < deadline + 30:
            out += proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
        assert b"/lab/tree/lessons?token=" in out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _names(lines):
    import re
    out = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            out.add(re.split(r"[<>=!~\[; ]", line, 1)[0].lower().replace("_", "-"))
    return out


def test_binder_requirements_agree_with_the_package_and_pin_what_postbuild_needs():
    """Binder installs binder/requirements.txt, then diffedu with --no-deps: every runtime and lab dependency must
    be in that file, and setuptools new enough for pyproject's SPDX licence (a bare 3.11 venv has 65)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = _names(project["project"]["dependencies"]) | _names(project["project"]["optional-dependencies"]["lab"])
    binder = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    missing = wanted - _names(binder)
    assert not missing, f"binder/requirements.txt lacks {sorted(missing)}"
    build = project["build-system"]["requires"]
    assert any(r.replace(" ", "").startswith("setuptools>=") for r in binder) and "setuptools>=77" in build
    assert "--no-deps" in (ROOT / "binder" / "postBuild").read_text()


def test_the_package_and_the_library_name_one_version():
    """pyproject.toml's version is diffedu._version's: the Colab cell installs the tag of that version, and the data
    loaders fetch the repository's files at it."""
    import re

    from diffedu._version import __version__

    assert re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1) == __version__
