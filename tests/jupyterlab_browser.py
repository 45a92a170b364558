"""Drive a real JupyterLab in headless Chromium (Playwright + Debian's /usr/bin/chromium, no download).

Each server gets a fresh temporary root (a copy of the lessons, so autosave never touches the repo) and a
fresh workspaces folder (a restored workspace races with Run All); it is stopped by its own PID.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def require_browser():
    missing = [m for m in ("playwright",) if not _importable(m)]
    if not os.path.exists(CHROMIUM):
        missing.append(CHROMIUM)
    if missing:
        msg = f"browser test needs {missing} (make test installs them)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _importable(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyterlab(tmp_path: Path, token: str = "diffedu-test"):
    root, ws = tmp_path / "root", tmp_path / "workspaces"
    shutil.copytree(LESSONS, root / "lessons", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    ws.mkdir()
    port = _free_port()
    log = open(tmp_path / "jupyterlab.log", "w")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={ws}",
           "--LabApp.expose_app_in_browser=True"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, DIFFEDU_FAST="1"))
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise TimeoutError("JupyterLab did not start within 60 s")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def browser_page(tmp_path: Path):
    """A Chromium page; on failure its screenshot and the server log are left in tmp_path and reported."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        except BaseException:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot))
            text = page.evaluate("() => document.querySelector('.jp-Notebook')?.innerText.slice(-3000) || ''")
            log = (tmp_path / "jupyterlab.log").read_text()[-3000:] if (tmp_path / "jupyterlab.log").exists() else ""
            print(f"--- screenshot: {shot}\n--- notebook text (end):\n{text}\n--- server log (end):\n{log}")
            raise
        finally:
            browser.close()


_RUN_ALL = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session.kernel;
    for (let i = 0; i < 600 && kernel.connectionStatus !== 'connected'; i++) {
        await new Promise(r => setTimeout(r, 100));
    }
    await app.commands.execute('notebook:run-all-cells');
    return kernel.connectionStatus;
}"""


def open_and_run_all(page, base: str, token: str, notebook: str, timeout_ms: int = 240_000):
    """Open the notebook, wait until its kernel is connected, run all cells through JupyterLab's own
    command, and wait until every code cell shows an execution count."""
    page.goto(f"{base}/lab/tree/lessons/{notebook}?token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    status = page.evaluate(_RUN_ALL)
    assert status == "connected", f"kernel connection: {status}"
    n_code = page.locator(".jp-CodeCell").count()
    page.wait_for_function(
        """n => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
              .filter(e => /\\[\\d+\\]/.test(e.textContent)).length >= n""",
        arg=n_code, timeout=timeout_ms)


def slider(page, label: str, nth: int = 0):
    """The handle of the ``nth`` ipywidgets slider whose description is ``label``."""
    return page.locator(f".widget-slider:has(> label.widget-label:text-is('{label}')) .noUi-handle").nth(nth)


def figure_of(handle):
    """The figure drawn by the widget that owns ``handle``: the nearest enclosing widget box with an output."""
    box = handle.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')]"
                         "[.//div[contains(@class, 'widget-output')]//img][1]")
    return box.locator(".widget-output img").first


def drag(page, handle, dx: float) -> None:
    """Drag ``handle`` by dx pixels, once it is really under the pointer: JupyterLab's windowed notebook can
    move a cell again after Playwright scrolled it into view (seen as a drag that missed its slider)."""
    for _ in range(30):
        handle.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        box = handle.bounding_box()
        if box is None:
            continue
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        if page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)?.closest('.noUi-handle')", [x, y]):
            break
    else:
        raise AssertionError("the slider handle never came under the pointer")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def widget_images(page, within=None):
    scope = within if within is not None else page
    return scope.locator(".widget-output img")


def wait_for_change(page, locator, old: str, timeout_s: float = 30) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            now = locator.get_attribute("src", timeout=1000)
        except Exception:  # the image is being replaced
            now = None
        if now and now != old:
            return now
        time.sleep(0.2)
    raise AssertionError("the figure did not change after the slider moved")

