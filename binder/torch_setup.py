"""Install PyTorch into the environment running this script, choosing the build for the machine.

Run by ``make`` before the package itself (``python binder/torch_setup.py``; standard library only):

* a torch is already installed (``torch>=2.2``, e.g. your CUDA build): keep it, never replace it;
* an NVIDIA GPU is present (``nvidia-smi`` or the driver's /proc entry): the pinned torch from the default
  index, which on Linux is the CUDA build;
* otherwise the CPU build from PyTorch's CPU wheel index (about 200 MB instead of several GB of CUDA
  libraries), falling back to the default index where that index cannot be reached.

``DIFFEDU_TORCH=cpu`` or ``=cuda`` overrides the detection. ``--dry-run`` prints the decision only.
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
    return (f"no NVIDIA GPU: the CPU build torch=={PIN}+cpu from PyTorch's CPU index, else the default index",
            [["--retries", "0", "--timeout", "15", "--extra-index-url", CPU_INDEX, f"torch=={PIN}+cpu"],
             [f"torch=={PIN}"]])  # no retries: an unreachable index should cost seconds, not minutes


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        reason, attempts = decide(installed_torch(), has_nvidia_gpu(), os.environ.get("DIFFEDU_TORCH"))
    except ValueError as e:
        print(f"diffedu setup: {e}", file=sys.stderr)
        return 2
    print(f"diffedu setup: {reason}")
    if "--dry-run" in argv:
        for a in attempts:
            print("  would run: pip install " + " ".join(a))
        return 0
    for args in attempts:
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
        if subprocess.run(cmd).returncode == 0:
            return 0
        print(f"diffedu setup: '{' '.join(args)}' failed, trying the next source", file=sys.stderr)
    return 1 if attempts else 0


if __name__ == "__main__":
    sys.exit(main())
