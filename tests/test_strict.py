"""A warning in a lesson's output fails CI: ``make test`` sets DIFFEDU_STRICT=1, and ``diffedu.config`` (every
lesson's first cell imports it) turns the warnings a kernel would print into errors that nbval reports."""
import re
import warnings
from pathlib import Path

import pytest

from diffedu import config

ROOT = Path(__file__).resolve().parent.parent


def test_make_test_runs_the_lessons_strictly():
    makefile = (ROOT / "Makefile").read_text()
    test_rule = makefile[makefile.index("\ntest:"):]
    command = test_rule[: test_rule.index("\n\n")]
    assert re.search(r"DIFFEDU_STRICT=1 .*pytest", command.replace("\\\n", " ")), command


def _raises(category=UserWarning, message="something the student would see", module="diffedu.some_module"):
    try:
        warnings.warn_explicit(message, category, "file.py", 1, module=module)
    except Warning:
        return True
    return False


def test_strict_turns_what_a_kernel_prints_into_errors():
    with warnings.catch_warnings():
        warnings.resetwarnings()
        assert config.strict_warnings({"DIFFEDU_STRICT": "1"}, kernel=True)
        assert _raises(UserWarning) and _raises(RuntimeWarning) and _raises(FutureWarning)
        assert _raises(DeprecationWarning, module="__main__")             # the notebook's own code: shown
        assert not _raises(DeprecationWarning, module="torch.something")  # hidden by Python's defaults
        assert not _raises(ResourceWarning)


def test_the_allow_list_lets_its_warnings_through(monkeypatch):
    monkeypatch.setattr(config, "ALLOWED_WARNINGS", [(UserWarning, "known noise", "somelib")])
    with warnings.catch_warnings():
        warnings.resetwarnings()
        config.strict_warnings({"DIFFEDU_STRICT": "1"}, kernel=True)
        assert not _raises(UserWarning, "known noise from somewhere", "somelib.sub")
        assert _raises(UserWarning, "known noise from somewhere", "otherlib")
        assert _raises(UserWarning, "another warning", "somelib")


@pytest.mark.parametrize("environ, kernel", [({}, True), ({"DIFFEDU_STRICT": "0"}, True),
                                             ({"DIFFEDU_STRICT": "1"}, False)])
def test_nothing_changes_without_the_variable_or_outside_a_kernel(environ, kernel):
    with warnings.catch_warnings():
        warnings.resetwarnings()
        before = list(warnings.filters)
        assert not config.strict_warnings(environ, kernel=kernel)
        assert warnings.filters == before


def test_a_kernel_that_imports_diffedu_fails_on_a_warning():
    """The whole road: a real kernel started with DIFFEDU_STRICT=1 errors on a warning after ``import diffedu``."""
    import os

    jupyter_client = pytest.importorskip("jupyter_client")
    km, kc = jupyter_client.manager.start_new_kernel(
        kernel_name="python3", env=dict(os.environ, DIFFEDU_STRICT="1", OMP_NUM_THREADS="1"))
    try:
        def run(code):
            reply = kc.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
            return reply["content"]

        ok = run("import warnings\nimport diffedu.config as c\nassert c.STRICT")
        assert ok["status"] == "ok", ok
        failed = run("warnings.warn('a warning in a lesson')")
        assert failed["status"] == "error" and failed["ename"] == "UserWarning", failed
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
