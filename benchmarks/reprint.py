"""Do the lessons reprint the same numbers? Execute them into a folder, then compare two folders cell by cell.

    .venv/bin/python benchmarks/reprint.py run  /tmp/before            # every lesson at the environment's size
    DIFFEDU_SIZE=cpu .venv/bin/python benchmarks/reprint.py run /tmp/before-cpu lessons/12_*.ipynb
    .venv/bin/python benchmarks/reprint.py diff /tmp/before /tmp/after  # the cells whose text differs

A library change that should not change behaviour (a refactoring) is checked by running before and after and
diffing: every printed line (stdout, text/plain results) must match; lines that carry a wall-clock time
("ms", " s ", "img/s", "it/s") are reported apart, since they vary from run to run. Images are compared by the
sha256 of their PNG bytes (matplotlib's PNGs are deterministic for identical data).
"""
import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMING = re.compile(r"(\d\s*(ms|s|min|img/s|it/s|steps/s|µs)\b)|(\bseconds?\b)|(wall)|(took)", re.I)


def texts(cell: dict) -> tuple[list[str], list[str]]:
    """(text lines, image hashes) of one executed code cell."""
    lines, images = [], []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            lines += "".join(out["text"]).splitlines()
        elif out["output_type"] in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "image/png" in data:
                images.append(hashlib.sha256(data["image/png"].encode()).hexdigest()[:12])
            elif "text/plain" in data and "application/vnd.jupyter.widget-view+json" not in data:
                lines += "".join(data["text/plain"]).splitlines()
        elif out["output_type"] == "error":
            lines.append(f"ERROR {out['ename']}: {out['evalue']}")
    return lines, images


def run(folder: Path, notebooks: list[Path]) -> None:
    import nbformat
    from nbclient import NotebookClient

    folder.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        t0 = time.time()
        NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(nb, folder / path.name)
        print(f"{path.name}: {time.time() - t0:.0f} s", flush=True)


def diff(a: Path, b: Path) -> int:
    bad = 0
    for pa in sorted(a.glob("*.ipynb")):
        pb = b / pa.name
        if not pb.exists():
            print(f"{pa.name}: missing in {b}")
            bad += 1
            continue
        ca = [c for c in json.loads(pa.read_text())["cells"] if c["cell_type"] == "code"]
        cb = [c for c in json.loads(pb.read_text())["cells"] if c["cell_type"] == "code"]
        if len(ca) != len(cb):
            print(f"{pa.name}: {len(ca)} code cells against {len(cb)}")
            bad += 1
            continue
        same, timing, images = 0, 0, 0
        for i, (x, y) in enumerate(zip(ca, cb)):
            (lx, ix), (ly, iy) = texts(x), texts(y)
            if ix != iy:
                images += 1
                print(f"{pa.name} cell {i}: images differ ({len(ix)} vs {len(iy)})")
            if lx == ly:
                same += 1
                continue
            real = [(u, v) for u, v in zip(lx, ly) if u != v and not (TIMING.search(u) and TIMING.search(v))]
            if not real and len(lx) == len(ly):
                timing += 1
                continue
            bad += 1
            print(f"{pa.name} cell {i}: text differs")
            for u, v in (real or list(zip(lx, ly)))[:6]:
                print(f"   - {u}\n   + {v}")
            if len(lx) != len(ly):
                print(f"   ({len(lx)} lines vs {len(ly)})")
        print(f"{pa.name}: {len(ca)} code cells, {same} identical, {timing} differ only in times, "
              f"{images} with other images")
    return bad


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["run", "diff"])
    p.add_argument("folders", nargs="+", help="run: FOLDER [NOTEBOOK ...]; diff: BEFORE AFTER")
    a = p.parse_args()
    if a.what == "run":
        books = [Path(x).resolve() for x in a.folders[1:]] or sorted((REPO / "lessons").glob("[0-9]*.ipynb"))
        run(Path(a.folders[0]), books)
    else:
        sys.exit(1 if diff(Path(a.folders[0]), Path(a.folders[1])) else 0)
