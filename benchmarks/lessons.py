"""Each lesson's wall time and its kernel's peak memory (RSS), in fast mode or full size.

    .venv/bin/python benchmarks/lessons.py            # fast mode, as CI runs it
    .venv/bin/python benchmarks/lessons.py --full     # full size

Target: every kernel below 1.5 GB (Binder gives 2 GB).
"""
import argparse
import os
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

p = argparse.ArgumentParser()
p.add_argument("--full", action="store_true")
p.add_argument("notebooks", nargs="*")
a = p.parse_args()
os.environ["DIFFEDU_FAST"] = "0" if a.full else "1"
root = Path(__file__).resolve().parent.parent / "lessons"
paths = [Path(n) for n in a.notebooks] or sorted(root.glob("[0-9][0-9]_*.ipynb"))


def peak_rss(pid_box, stop, out):
    peak = 0
    while not stop.is_set():
        pid = pid_box.get("pid")
        if pid:
            try:
                proc = psutil.Process(pid)
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                peak = max(peak, rss)
            except psutil.Error:
                pass
        time.sleep(0.05)
    out.append(peak)


total = 0.0
print(f"{'lesson':<32} {'wall s':>7} {'peak kernel RSS':>16}   ({'fast' if not a.full else 'full'} mode)")
for path in paths:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(root)}})
    box, stop, out = {}, threading.Event(), []
    watcher = threading.Thread(target=peak_rss, args=(box, stop, out))
    watcher.start()
    t0 = time.perf_counter()
    with client.setup_kernel():
        box["pid"] = client.km.provisioner.pid
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
    wall = time.perf_counter() - t0
    stop.set()
    watcher.join()
    total += wall
    flag = "" if out[0] < 1.5e9 else "  OVER 1.5 GB"
    print(f"{path.name:<32} {wall:7.1f} {out[0] / 2**20:13.0f} MB{flag}", flush=True)
print(f"{'all lessons':<32} {total:7.1f}")
