import os
import shutil
from pathlib import Path

import pytest
import torch

# make test runs two pytest-xdist workers with --dist loadfile (a file to a worker: its module fixtures are built
# once). The longest files are handed out first (in this order: make test passes --no-loadscope-reorder, else xdist
# hands out the files with the most tests first), so that neither worker is left with one at the end; the browser
# runs are two files (test_browser.py, test_browser_late.py) so that both workers share them. (--dist loadgroup
# would group by mark, but with pytest-xdist 3.8.0 here even its documented xdist_group example spread a group.)
# test_site.py comes well after the browser files: its build waits for the lessons they run and save (make test),
# and by then they are done.
FIRST = ("tests/test_browser.py", "tests/test_browser_late.py", "tests/test_binder.py", "tests/test_colab.py",
         "tests/test_training.py", "tests/test_adapt.py", "tests/test_denoiser_paths.py", "tests/test_site.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    rank = lambda item: next((i for i, p in enumerate(FIRST) if item.nodeid.startswith(p)), len(FIRST))  # noqa: E731
    items.sort(key=rank)        # stable: the order within a file is kept


# ---- make test's site is built from the lessons the browser runs saved (tests/test_site.py, DIFFEDU_SITE_FROM_BROWSER)

def _saved_lessons() -> Path | None:
    d = os.environ.get("DIFFEDU_SITE_FROM_BROWSER")
    return Path(d) if d else None


BROWSER_RUNS: set[str] = set()   # the lessons whose browser run this session runs (after -k, -m: collection's end)


def _browser_lesson(item) -> str | None:
    """The lesson a browser-run test runs (its ``notebook`` parameter), else None."""
    if not item.nodeid.startswith("tests/test_browser"):
        return None
    return getattr(getattr(item, "callspec", None), "params", {}).get("notebook")


def pytest_collection_finish(session):
    BROWSER_RUNS.update(n for n in map(_browser_lesson, session.items) if n)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """The controller (not an xdist worker) empties the folder: no earlier run's lesson or failure is read."""
    if _saved_lessons() is not None and not hasattr(session.config, "workerinput"):
        shutil.rmtree(_saved_lessons(), ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A lesson's browser run that failed or was skipped in any phase (a fixture too: Chromium, the server) before
    its lesson was saved leaves ``NN.failed`` saying why, so the site's build stops waiting for it at once."""
    outcome = yield
    report, saved, notebook = outcome.get_result(), _saved_lessons(), _browser_lesson(item)
    if saved is None or notebook is None:
        return
    if (report.failed or report.skipped) and not (saved / "lessons" / notebook).exists():
        saved.mkdir(parents=True, exist_ok=True)
        why = "skipped" if report.skipped else "failed"
        (saved / f"{notebook[:2]}.failed").write_text(f"{why} in {report.when}: {str(report.longrepr)[-1500:]}")


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
