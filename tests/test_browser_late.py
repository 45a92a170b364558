"""test_browser.py's run for lessons 08–14, a file of its own so that make test's two workers (--dist loadfile)
share the browser runs; each file starts its own JupyterLab server and Chromium."""
import pytest

import test_browser
from jupyterlab_browser import chromium, lab_server  # noqa: F401 (fixtures)

pytestmark = test_browser.pytestmark


@pytest.mark.parametrize("notebook", test_browser.LATE, ids=[n[:2] for n in test_browser.LATE])
def test_every_control_of_every_widget_redraws_its_figure(lab_server, chromium, tmp_path, notebook):
    test_browser.run_lesson(lab_server, chromium, tmp_path, notebook)
