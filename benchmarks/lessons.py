"""Each lesson's wall time, CPU time and its kernel's peak memory, in each size, executed as CI does (pytest + nbval).

    .venv/bin/python benchmarks/lessons.py                      # every size this machine allows (fast, cpu; gpu too
                                                                #   where a GPU is found), every lesson
    DIFFEDU_SIZE=cpu .venv/bin/python benchmarks/lessons.py lessons/06_*.ipynb   # one size (the environment's)
    .venv/bin/python benchmarks/lessons.py --sizes fast,cpu --threads 1 lessons/0[2-3]_*.ipynb
    python3 benchmarks/lessons.py --plain --full lessons/06_*.ipynb   # gpu (full) size without Jupyter (the GPU machine)

Sizes (``diffedu/config.py``): ``--sizes`` names them; without it, the size the environment asks for
(``DIFFEDU_SIZE``, or ``DIFFEDU_FAST=1`` for fast) if it asks for one, else every size the machine allows; ``--full``
is ``--sizes gpu`` (full size, whatever the device). Each run sets ``DIFFEDU_SIZE`` for the kernel.

``--plain`` runs each notebook's code cells in order in a plain Python process (Agg backend, ``%`` lines
dropped, widgets drawn once with their initial values, as ``interactive_output`` does), for a machine with
torch but no Jupyter kernel; it adds the peak CUDA memory when the lesson used the GPU.

Every size runs with ``DIFFEDU_STRICT=1`` unless the environment sets it: a warning the lesson would print fails
it ("notebook FAILED"), as ``make test`` does at fast size.

``--threads N`` sets ``OMP_NUM_THREADS`` (and MKL's) for the kernel. On a shared machine the wall time is
inflated by the other jobs; the CPU time (user + system of the kernel and pytest) is not, and with
``--threads 1`` it is an upper bound on the uncontended wall time with more threads.

Each lesson runs in its own child process; getrusage(RUSAGE_CHILDREN).ru_maxrss there is the peak RSS of
the largest single descendant, which is the notebook's kernel (it imports torch and holds the data).
Targets: cpu size ≤ 180 s and ≤ 1 GB per lesson on a 2-core machine (Binder); every kernel below 1.5 GB.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIMITS = {"fast": (None, 1.5e9), "cpu": (180.0, 1e9), "gpu": (None, 1.5e9)}  # (seconds, bytes) per size

p = argparse.ArgumentParser()
p.add_argument("--sizes", help="comma-separated sizes among fast, cpu, gpu (default: see above)")
p.add_argument("--full", action="store_true", help="the gpu (full) size only, as --sizes gpu")
p.add_argument("--threads", type=int, help="OMP_NUM_THREADS for the kernel")
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


def sizes_to_run() -> list[str]:
    sys.path.insert(0, str(REPO))
    from diffedu.config import SIZES, choose_size

    if a.full:
        return ["gpu"]
    if a.sizes:
        chosen = [s.strip().lower() for s in a.sizes.split(",") if s.strip()]
        bad = [s for s in chosen if s not in SIZES]
        if bad or not chosen:
            p.error(f"--sizes takes {', '.join(SIZES)}, got {a.sizes!r}")
        return chosen
    asked = {k: os.environ[k] for k in ("DIFFEDU_SIZE", "DIFFEDU_FAST") if os.environ.get(k, "").strip()}
    if asked.get("DIFFEDU_SIZE") or asked.get("DIFFEDU_FAST", "0").strip().lower() in {"1", "true", "yes", "on"}:
        return [choose_size(asked, gpu=False)]  # the environment names the size; the device does not matter
    machine = choose_size({})  # gpu where CUDA or MPS is found, else cpu
    return ["fast", "cpu"] + (["gpu"] if machine == "gpu" else [])


if a.one:
    run_plain(Path(a.one).resolve())
    sys.exit()
paths = [Path(n) for n in a.notebooks] or sorted((REPO / "lessons").glob("[0-9][0-9]_*.ipynb"))
sizes = sizes_to_run()
probe = ("import resource, subprocess, sys; "
         "r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--nbval-lax', "
         "'--nbval-current-env', sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
         "print(u.ru_maxrss, u.ru_utime + u.ru_stime, r.returncode)")


def run(path: Path, size: str):
    """(wall s, CPU s, peak RSS bytes, peak CUDA bytes, return code, stderr tail) of one lesson in one size."""
    env = {k: v for k, v in os.environ.items() if k != "DIFFEDU_FAST"}
    env["DIFFEDU_SIZE"] = size
    env.setdefault("DIFFEDU_STRICT", "1")   # a warning in the lesson's output fails it, as in make test (config.py)
    if a.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(a.threads)
    t0 = time.perf_counter()
    if a.plain:
        c0 = os.times()
        r = subprocess.run([sys.executable, __file__, "--one", str(path.resolve())], env=env, capture_output=True,
                           text=True)
        c1 = os.times()
        kb, gpu = (int(v) for v in r.stdout.split()[-2:]) if r.returncode == 0 else (0, 0)
        cpu = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
        rc, err = r.returncode, r.stderr[-3000:]
    else:
        out = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True)
        try:
            kb, cpu, rc = out.stdout.split()
            kb, cpu, rc = int(kb), float(cpu), int(rc)
        except ValueError:
            kb, cpu, rc = 0, 0.0, 1
        gpu, err = 0, out.stderr[-3000:]
    return time.perf_counter() - t0, cpu, kb * 1024, gpu, rc, err


rows, failed = [], 0
mode = f"sizes {', '.join(sizes)}" + (", plain Python" if a.plain else ", pytest + nbval") + (
    f", {a.threads} thread(s)" if a.threads else "")
print(f"{'lesson':<32} {'size':<5} {'wall s':>7} {'CPU s':>7} {'peak kernel RSS':>16}   ({mode})", flush=True)
for path in paths:
    for size in sizes:
        wall, cpu, peak, gpu, rc, err = run(path, size)
        seconds, memory = LIMITS[size]
        flag = (("" if seconds is None or wall <= seconds else f"  OVER {seconds:.0f} s")
                + ("" if peak < memory else f"  OVER {memory / 1e9:g} GB") + ("" if rc == 0 else "  (notebook FAILED)"))
        print(f"{path.name:<32} {size:<5} {wall:7.1f} {cpu:7.1f} {peak / 1e6:13.0f} MB{flag}"   # MB = 10^6 bytes, as the GB limit
              + (f"   peak CUDA memory {gpu / 2**20:.0f} MB" if gpu else ""), flush=True)
        if rc != 0 and a.plain:
            print(err)
        rows.append((path.name, size, wall, peak))
        failed += rc != 0
for size in sizes:
    print(f"{'all lessons':<32} {size:<5} {sum(r[2] for r in rows if r[1] == size):7.1f}")
sys.exit(1 if failed else 0)
