"""The wheel works outside the repository, as the README tells an instructor: install it into a fresh
virtual environment (from the local wheel, no network), then run an assignment-style script elsewhere."""
import functools
import http.server
import subprocess
import sys
import sysconfig
import textwrap
import threading
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import os, torch, diffedu as de
    from diffedu.datasets import mnist
    from diffedu.exercises import check_q_sample
    from diffedu import forward

    assert "site-packages" in de.__file__, de.__file__           # the installed copy, not the checkout
    unet = de.pretrained("mnist-unet")                              # shipped checkpoints come with the wheel
    x = de.ddim_sample(unet.given(torch.arange(4), 3.0), torch.randn(4, 1, 28, 28), 4, clip_x0=1.0)
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1.0
    got = mnist.download(mirrors=os.environ["MIRROR"])              # a pip user's one call for the data
    assert len(got) == 4
    x_test, y_test = mnist.load("test", mirrors=os.environ["MIRROR"])
    clf = de.pretrained("mnist-classifier")
    acc = de.metrics.conditional_accuracy(clf, x_test[:500], y_test[:500])
    assert acc > 0.97, acc
    res = check_q_sample(lambda x0, t, s, noise: forward.q_sample(x0, t, s, noise=noise), strict=True)
    print("ok", round(acc, 3))
''')


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_runs_an_assignment(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(wheels), str(ROOT)], check=True, timeout=300)
    (wheel,) = wheels.glob("diffedu-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    # the dependencies (torch, numpy, …) come from this environment, as a .pth file: no network needed
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)], check=True,
                   timeout=300)
    # MNIST from a loopback "mirror" (the wheel ships no data), into an empty cache
    handler = functools.partial(_Quiet, directory=str(ROOT / "datasets" / "mnist"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        work = tmp_path / "assignment"
        work.mkdir()
        (work / "assignment.py").write_text(SCRIPT)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DIFFEDU_CACHE": str(tmp_path / "cache"),
               "MIRROR": f"http://127.0.0.1:{server.server_address[1]}/", "OMP_NUM_THREADS": "2"}
        r = subprocess.run([str(py), "assignment.py"], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
    finally:
        server.shutdown()
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr
