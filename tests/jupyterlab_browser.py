"""Drive a real JupyterLab in headless Chromium (Playwright + Debian's /usr/bin/chromium, no download).

Each server gets a fresh temporary root (a copy of the lessons, so autosave never touches the repo) and a
fresh workspaces folder (a restored workspace races with Run All); it is stopped by its own PID.

The browser test starts ONE server (``lab_server``) and ONE Chromium (``chromium``) for all its lessons
(module-scoped fixtures: starting both took much of each lesson's 43–65 s); ``lesson_page`` gives each lesson its
own browser context and page, opened on a workspace of its own (so no earlier lesson's tab is restored), and
afterwards closes the page and shuts down every session and kernel through the server's REST API, so kernels do
not pile up and a lesson that failed leaves nothing behind for the next.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import json
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def missing_browser() -> list[str]:
    """What the browser tests need and this machine lacks (nothing: they run here)."""
    return [m for m in ("playwright",) if not _importable(m)] + ([] if os.path.exists(CHROMIUM) else [CHROMIUM])


def require_browser():
    missing = missing_browser()
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
def jupyterlab(tmp_path: Path, token: str = "diffedu-test", env: dict | None = None):
    """A JupyterLab server on a copy of the lessons in ``tmp_path/root`` (its kernels at fast size, with ``env``
    added to their environment); yields (base URL, token)."""
    root, ws = tmp_path / "root", tmp_path / "workspaces"
    shutil.copytree(LESSONS, root / "lessons", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    ws.mkdir()
    port = _free_port()
    log = open(tmp_path / "jupyterlab.log", "w")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={ws}",
           "--LabApp.expose_app_in_browser=True"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, DIFFEDU_FAST="1", **(env or {})))
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
            _report_failure(page, tmp_path / "failure.png", tmp_path / "jupyterlab.log")
            raise
        finally:
            browser.close()


def _report_failure(page, shot: Path, log_path: Path) -> None:
    try:
        page.screenshot(path=str(shot))
        text = page.evaluate("() => document.querySelector('.jp-Notebook')?.innerText.slice(-3000) || ''")
    except Exception as e:  # the page itself may be gone
        text = f"(page unreadable: {e})"
    log = log_path.read_text()[-3000:] if log_path.exists() else ""
    print(f"--- screenshot: {shot}\n--- notebook text (end):\n{text}\n--- server log (end):\n{log}")


@dataclass
class LabServer:
    base: str
    token: str
    log: Path
    root: Path                     # the server's root: lessons/ holds its copy of the notebooks
    save_to: Path | None = None    # where run lessons are saved for the site (``$DIFFEDU_SITE_FROM_BROWSER``)

    def api(self, method: str, path: str):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shut_down_everything(self, timeout_s: float = 60) -> None:
        """Every session (its kernel with it), then any kernel left, and wait until the server lists none."""
        for s in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{s['id']}")
        deadline = time.time() + timeout_s
        while kernels := self.api("GET", "/api/kernels"):
            if time.time() > deadline:
                raise TimeoutError(f"kernels still running after shutdown: {[k['id'] for k in kernels]}")
            for k in kernels:
                try:
                    self.api("DELETE", f"/api/kernels/{k['id']}")
                except urllib.error.HTTPError as e:
                    if e.code != 404:  # already gone
                        raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """One JupyterLab server for every lesson of the module. With ``$DIFFEDU_SITE_FROM_BROWSER`` (make test) its
    kernels run with ``DIFFEDU_SITE=live`` — each widget live, its kernel-free copy beside it in the output — and
    each lesson, once run, is saved there for the site's build (``save_lesson``; tests/test_site.py; a run that
    fails or is skipped before that leaves ``NN.failed``: tests/conftest.py)."""
    require_browser()
    tmp = tmp_path_factory.mktemp("jupyterlab")
    save_to = Path(os.environ["DIFFEDU_SITE_FROM_BROWSER"]) if os.environ.get("DIFFEDU_SITE_FROM_BROWSER") else None
    with jupyterlab(tmp, env={"DIFFEDU_SITE": "live"} if save_to else None) as (base, token):
        yield LabServer(base, token, tmp / "jupyterlab.log", tmp / "root", save_to)


def save_lesson(page, lab: LabServer, notebook: str) -> None:
    """Save the open lesson (JupyterLab writes its outputs into the server's copy) and put it in ``lab.save_to``
    /lessons/ for the site's build (written whole, then renamed). Nothing without ``lab.save_to``."""
    if lab.save_to is None:
        return
    (lab.save_to / "lessons").mkdir(parents=True, exist_ok=True)
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.context.save(); }")
    tmp = lab.save_to / "lessons" / f".{notebook}.part"
    shutil.copyfile(lab.root / "lessons" / notebook, tmp)
    os.replace(tmp, lab.save_to / "lessons" / notebook)


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for every lesson of the module (each lesson gets its own context and page)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


_WORKSPACES = count()


@contextmanager
def lesson_page(browser, lab: LabServer, tmp_path: Path):
    """A fresh context and page on the shared browser, and a workspace name no other lesson used; on failure its
    screenshot is left in tmp_path and reported with the server log; always, the page is closed and every session
    and kernel shut down (before too: whatever an earlier lesson left)."""
    lab.shut_down_everything()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        yield page, f"lesson-{next(_WORKSPACES)}"
    except BaseException:
        _report_failure(page, tmp_path / "failure.png", lab.log)
        raise
    finally:
        context.close()
        lab.shut_down_everything()


# JupyterLab's notifications are react-toastify toasts in .jp-toastContainer (the "Jupyter news?" question is one).
_TOASTS = "() => Array.from(document.querySelectorAll('.jp-toastContainer .Toastify__toast')).map(t => t.innerText.trim())"


def notifications(page) -> list[str]:
    """The text of every notification toast showing on the page."""
    return page.evaluate(_TOASTS)


# Every error output of the open notebook's code cells, read from JupyterLab's notebook model (not the screen: a
# windowed notebook renders only the cells in view): "cell 7: ValueError: …"
_ERRORS = """() => { const model = window.jupyterapp.shell.currentWidget.content.model, found = [];
    for (let i = 0; i < model.cells.length; i++) {
        const cell = model.cells.get(i);
        if (cell.type !== 'code') continue;
        for (const o of cell.outputs.toJSON())
            if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${String(o.evalue).slice(0, 500)}`);
    }
    return found; }"""

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


def open_and_run_all(page, base: str, token: str, notebook: str, timeout_ms: int = 240_000,
                     workspace: str | None = None):
    """Open the notebook (in ``workspace`` if given: a new name starts with no tab restored), wait until its kernel
    is connected, run all cells through JupyterLab's own command, and wait until every code cell shows an
    execution count — or a cell's output is an error (JupyterLab then stops the run): the lesson fails with the
    cell's error, as nbval would fail it (with DIFFEDU_STRICT=1 in the server's environment a warning is one)."""
    where = f"/lab/workspaces/{workspace}" if workspace else "/lab"
    page.goto(f"{base}{where}/tree/lessons/{notebook}?token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    status = page.evaluate(_RUN_ALL)
    assert status == "connected", f"kernel connection: {status}"
    n_code = page.locator(".jp-CodeCell").count()
    page.wait_for_function(
        """n => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
              .filter(e => /\\[\\d+\\]/.test(e.textContent)).length >= n || (""" + _ERRORS + """)().length > 0""",
        arg=n_code, timeout=timeout_ms)
    errors = page.evaluate(_ERRORS)
    assert not errors, f"{notebook}: a cell stopped with an error:\n" + "\n".join(errors)


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

