"""Each lesson's wall time and its kernel's peak memory, executed exactly as CI does (pytest + nbval).

    .venv/bin/python benchmarks/lessons.py            # fast mode, as CI runs it
    .venv/bin/python benchmarks/lessons.py --full     # full size
    python3 benchmarks/lessons.py --plain --full lessons/06_*.ipynb   # without Jupyter (the GPU machine)

``--plain`` runs each notebook's code cells in order in a plain Python process (Agg backend, ``%`` lines
dropped, widgets drawn once with their initial values, as ``interactive_output`` does), for a machine with
torch but no Jupyter kernel; it adds the peak CUDA memory when the lesson used the GPU.

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
p.add_argument("--plain", action="store_true", help="run the code cells without Jupyter (no nbval)")
p.add_argument("--one", help=argparse.SUPPRESS)  # --plain's child process: run this notebook, print its figures
p.add_argument("notebooks", nargs="*")
a = p.parse_args()


def run_plain(path: Path) -> None:
    """Execute the notebook's code cells in one namespace, as a kernel would; print peak CUDA memory."""
    import json
    import resource

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    os.chdir(path.parent)
    ns = {"__name__": "__main__"}
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith("%"))
        try:
            exec(compile(src, f"{path.name}, cell {i}", "exec"), ns)
        except Exception:
            if "raises-exception" not in cell.get("metadata", {}).get("tags", []):
                raise
        plt.close("all")
    gpu = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else 0
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, gpu)


if a.one:
    run_plain(Path(a.one).resolve())
    sys.exit()
root = Path(__file__).resolve().parent.parent / "lessons"
paths = [Path(n) for n in a.notebooks] or sorted(root.glob("[0-9][0-9]_*.ipynb"))
env = dict(os.environ, DIFFEDU_FAST="0" if a.full else "1")
probe = ("import resource, subprocess, sys; "
         "r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--nbval-lax', "
         "'--nbval-current-env', sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")

total, failed = 0.0, 0
print(f"{'lesson':<32} {'wall s':>7} {'peak kernel RSS':>16}   ({'full' if a.full else 'fast'} mode"
      f"{', plain Python' if a.plain else ''})")
for path in paths:
    t0 = time.perf_counter()
    if a.plain:
        r = subprocess.run([sys.executable, __file__, "--one", str(path.resolve())], env=env, capture_output=True,
                           text=True)
        kb, gpu = (int(v) for v in r.stdout.split()[-2:]) if r.returncode == 0 else (0, 0)
        rc = r.returncode
    else:
        out = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True).stdout
        (kb, rc), gpu = (int(v) for v in out.split()), 0
    wall = time.perf_counter() - t0
    total, failed = total + wall, failed + (rc != 0)
    flag = ("" if kb * 1024 < 1.5e9 else "  OVER 1.5 GB") + ("" if rc == 0 else "  (notebook FAILED)")
    print(f"{path.name:<32} {wall:7.1f} {kb / 1024:13.0f} MB{flag}"
          + (f"   peak CUDA memory {gpu / 2**20:.0f} MB" if gpu else ""), flush=True)
    if a.plain and rc != 0:
        print(r.stderr[-3000:])
print(f"{'all lessons':<32} {total:7.1f}")
sys.exit(1 if failed else 0)
