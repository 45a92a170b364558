import pytest
import torch

# make test runs two pytest-xdist workers with --dist loadgroup. A test file is one group (its module fixtures are
# built once; a lesson's nbval cells share one kernel), except the per-lesson browser runs of test_browser.py,
# which spread over both workers (each worker starts its own JupyterLab and Chromium once). The longest work is
# handed out first, so that neither worker is left with it at the end.
FIRST = ("tests/test_site.py", "tests/test_browser.py", "tests/test_binder.py", "tests/test_colab.py",
         "tests/test_training.py", "tests/test_adapt.py", "tests/test_denoiser_paths.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "loadgroup", False):      # xdist sets it in each worker (whose dist is "no")
        return
    for item in items:
        path = item.nodeid.split("::")[0]
        if path != "tests/test_browser.py":
            item.add_marker(pytest.mark.xdist_group(path))
    rank = lambda item: next((i for i, p in enumerate(FIRST) if item.nodeid.startswith(p)), len(FIRST))  # noqa: E731
    items.sort(key=rank)        # stable: the order within a file is kept


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
