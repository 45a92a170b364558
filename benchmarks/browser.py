"""What the student waits for: every control of every lesson widget, moved in a real browser, timed from the input
event to the last change of its figure on screen (JupyterLab in headless Chromium, as the browser test drives it).

    .venv/bin/python benchmarks/browser.py                          # every lesson (fast size, ~15 min)
    .venv/bin/python benchmarks/browser.py lessons/01_*.ipynb --moves 7 --json build/browser.json

For each control: ``--moves`` single moves (a slider one keyboard step, alternately right and left; a dropdown its
next option; a checkbox or toggle a click; a prompt a new prompt), each waited for until the figure has been still
for 0.6 s; median and worst of the times. Then a **burst** (sliders: five key presses 50 ms apart, as a hand drags):
the redraws it caused, how many came after the last key press, and the time from the last press to the last
redraw. ipywidgets holds back every value set while the kernel is busy with the previous one and sends only the
newest, so after the last press at most two redraws follow — the value in flight, then the last one: at most one
stale update. A queue would show as more, and as a last-press-to-figure time growing with the burst.

The times include the kernel's computation, the comm round trip, the PNG's transfer and decoding, and the layout
(measured in the page: performance.now() at the input event and at the figure's last DOM change). Targets
(issue 20, this 2-core machine): every 2-D widget ≤ 150 ms median; the 2-D guidance widget ≤ 300 ms for a new
(class, γ); lesson 07's CFG slider ≤ 1 s (≤ 250 ms for the guidance-distilled student of lesson 12).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from jupyterlab_browser import browser_page, jupyterlab, open_and_run_all  # noqa: E402
from widget_controls import control, controls, timed_move  # noqa: E402


def measure_notebook(notebook: str, moves: int, burst: int = 5) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp)) as (base, token), \
            browser_page(Path(tmp)) as page:
        open_and_run_all(page, base, token, notebook, timeout_ms=600_000)
        page.wait_for_timeout(2000)
        found = controls(page)
        for c in found:
            select = control(page, c).locator("select")
            start = select.evaluate("s => s.selectedIndex") if c["kind"] == "dropdown" else None
            times = [timed_move(page, c, 0, timeout_s=20)]
            if times[0]["ms"] is not None:   # a control that changes nothing once (see the table's notes) is left
                times += [timed_move(page, c, i, timeout_s=20) for i in range(1, moves)]
            ms = [t["ms"] for t in times if t["ms"] is not None]
            row = dict(notebook=notebook, figure=c["figure"], control=c["label"] or c["kind"], kind=c["kind"],
                       moves=len(times), changed=len(ms),
                       median_ms=statistics.median(ms) if ms else None, worst_ms=max(ms) if ms else None)
            if c["kind"] == "slider" and ms:
                b = timed_move(page, c, 0, presses=burst, gap_ms=50, quiet_ms=1500)
                row.update(burst_redraws=b["redraws"], burst_after_last=b["after_last_input"], burst_last_ms=b["last_ms"])
            if start is not None:  # a dropdown goes back where it was (lesson 01's β sliders need "linear")
                select.select_option(index=start)
                page.wait_for_timeout(1500)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def table(rows: list[dict], before: list[dict] | None = None) -> str:
    """The rows as a markdown table; with ``before`` (an earlier run's rows), its median beside each control."""
    f = lambda v: "—" if v is None else f"{v:,.0f} ms"  # noqa: E731
    key = lambda r: (r["notebook"], r["figure"], r["control"], r["kind"])  # noqa: E731
    old = {key(r): r for r in before or []}
    head = "| lesson | figure | control |" + (" before: median |" if before else "") + \
           " median | worst | moves drawn | burst of 5: redraws, after the last key, last key → figure |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        burst = ("—" if "burst_redraws" not in r else
                 f"{r['burst_redraws']}, {r.get('burst_after_last', '?')}, {f(r.get('burst_last_ms'))}")
        was = f" {f(old[key(r)]['median_ms']) if key(r) in old else 'new'} |" if before else ""
        out.append(f"| {r['notebook'][:2]} | {r['figure']} | {r['control']} ({r['kind']}) |{was} {f(r['median_ms'])} | "
                   f"{f(r['worst_ms'])} | {r['changed']}/{r['moves']} | {burst} |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("notebooks", nargs="*", help="lessons/NN_*.ipynb (default: every lesson)")
    p.add_argument("--moves", type=int, default=5)
    p.add_argument("--json", default=None, help="write the rows here too")
    p.add_argument("--before", default=None, help="an earlier run's --json: its medians beside these")
    p.add_argument("--table-only", action="store_true", help="print the table of --json's rows (no browser)")
    a = p.parse_args()
    names = [Path(n).name for n in a.notebooks] or sorted(p.name for p in (REPO / "lessons").glob("[0-9]*.ipynb"))
    before = json.loads(Path(a.before).read_text()) if a.before else None
    if a.table_only:
        print(table(json.loads(Path(a.json).read_text()), before))
        return
    rows = []
    for n in names:
        rows += measure_notebook(n, a.moves)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    print(table(rows, before))


if __name__ == "__main__":
    main()
