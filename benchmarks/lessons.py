"""Each lesson's wall time and its kernel's peak memory, executed exactly as CI does (pytest + nbval).

    .venv/bin/python benchmarks/lessons.py            # fast mode, as CI runs it
    .venv/bin/python benchmarks/lessons.py --full     # full size

Each lesson runs in its own child process; getrusage(RUSAGE_CHILDREN).ru_maxrss there is the peak RSS of
the largest single descendant, which is the notebook's kernel (it imports torch and holds the data).
Target: every kernel below 1.5 GB (Binder gives 2 GB).
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

p = argparse.ArgumentParser()
p.add_argument("--full", action="store_true")
p.add_argument("notebooks", nargs="*")
a = p.parse_args()
root = Path(__file__).resolve().parent.parent / "lessons"
paths = [Path(n) for n in a.notebooks] or sorted(root.glob("[0-9][0-9]_*.ipynb"))
env = dict(os.environ, DIFFEDU_FAST="0" if a.full else "1")
probe = ("import resource, subprocess, sys; "
         "r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--nbval-lax', "
         "'--nbval-current-env', sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")

total = 0.0
print(f"{'lesson':<32} {'wall s':>7} {'peak kernel RSS':>16}   ({'full' if a.full else 'fast'} mode)")
for path in paths:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    total += wall
    kb, rc = (int(v) for v in out.split())
    flag = ("" if kb * 1024 < 1.5e9 else "  OVER 1.5 GB") + ("" if rc == 0 else "  (notebook FAILED)")
    print(f"{path.name:<32} {wall:7.1f} {kb / 1024:13.0f} MB{flag}", flush=True)
print(f"{'all lessons':<32} {total:7.1f}")
