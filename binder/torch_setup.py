"""Install PyTorch into the environment running this script, choosing the build for the machine.

Run by ``make`` before the package itself (``python binder/torch_setup.py``; standard library only):

* a torch is already installed (``torch>=2.2``, e.g. your CUDA build): keep it, never replace it;
* an NVIDIA GPU is present (``nvidia-smi`` or the driver's /proc entry): the pinned torch from the default
  index, which on Linux is the CUDA build;
* otherwise the CPU build from PyTorch's CPU wheel index (about 200 MB instead of several GB of CUDA
  libraries), falling back to the default index where that index cannot be reached — and saying so, with what
  the fallback costs (the CUDA build: a .venv of about 5 GB instead of 1.7 GB).

``DIFFEDU_TORCH=cpu`` insists on the CPU build (no fallback: setup stops with a message if the CPU index cannot be
reached), ``=cuda`` asks for the default index's build. ``--dry-run`` prints the decision only.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PIN = "2.13.0"
MINIMUM = (2, 2)
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def installed_torch() -> str | None:
    """The installed torch's version string (e.g. '2.13.0+cpu'), or None."""
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def has_nvidia_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()


def _release(version: str) -> tuple[int, ...]:
    parts = []
    for p in version.split("+")[0].split("."):
        digits = "".join(c for c in p if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def decide(installed: str | None, gpu: bool, override: str | None = None) -> tuple[str, list[list[str]]]:
    """(reason, pip argument lists to try in order); no lists means: install nothing."""
    if override not in (None, "", "cpu", "cuda"):
        raise ValueError(f"DIFFEDU_TORCH must be 'cpu' or 'cuda', got {override!r}")
    if installed is not None and _release(installed)[:2] >= MINIMUM:
        return f"torch {installed} is already installed: kept", []
    want_cuda = override == "cuda" or (override in (None, "") and gpu)
    if want_cuda:
        return f"NVIDIA GPU found: torch=={PIN} from the default index (CUDA build)", [[f"torch=={PIN}"]]
    cpu = ["--retries", "0", "--timeout", "15", "--extra-index-url", CPU_INDEX, f"torch=={PIN}+cpu"]
    if override == "cpu":  # asked for: no fallback to the multi-GB build
        return f"DIFFEDU_TORCH=cpu: the CPU build torch=={PIN}+cpu from PyTorch's CPU index", [cpu]
    return (f"no NVIDIA GPU: the CPU build torch=={PIN}+cpu from PyTorch's CPU index, else the default index",
            [cpu, [f"torch=={PIN}"]])  # no retries: an unreachable index should cost seconds, not minutes


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        reason, attempts = decide(installed_torch(), has_nvidia_gpu(), os.environ.get("DIFFEDU_TORCH"))
    except ValueError as e:
        print(f"diffedu setup: {e}", file=sys.stderr)
        return 2
    print(f"diffedu setup: {reason}", flush=True)   # before pip's own output, not after it
    if "--dry-run" in argv:
        for a in attempts:
            print("  would run: pip install " + " ".join(a))
        return 0
    for k, args in enumerate(attempts):
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
        last = k == len(attempts) - 1
        # a first attempt's failure is expected where the CPU index is out of reach: its pip error is summarised
        run = subprocess.run(cmd) if last else subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode == 0:
            return 0
        if CPU_INDEX in args:
            tail = (run.stderr or "").strip().splitlines()[-1:] if not last else []
            print(f"diffedu setup: PyTorch's CPU wheel index ({CPU_INDEX}) could not be reached or has no "
                  f"torch=={PIN}+cpu for this Python" + (f" (pip: {tail[0][:200]})" if tail else "") + ".",
                  file=sys.stderr, flush=True)
            if not last:
                print("diffedu setup: falling back to the default index, which on Linux is the CUDA build: a .venv "
                      "of about 5 GB instead of 1.7 GB, and a longer download. To refuse it, stop now (Ctrl-C), "
                      "then run with DIFFEDU_TORCH=cpu once the CPU index is reachable, or install a torch into "
                      ".venv yourself first (it is kept).", file=sys.stderr, flush=True)
    return 1 if attempts else 0


if __name__ == "__main__":
    sys.exit(main())
