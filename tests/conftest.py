import pytest
import torch

# make test runs two pytest-xdist workers with --dist loadfile (a file to a worker: its module fixtures are built
# once). The longest files are handed out first (in this order: make test passes --no-loadscope-reorder, else xdist
# hands out the files with the most tests first), so that neither worker is left with one at the end; the browser
# runs are two files (test_browser.py, test_browser_late.py) so that both workers share them. (--dist loadgroup
# would group by mark, but with pytest-xdist 3.8.0 here even its documented xdist_group example spread a group.)
# test_site.py comes after the browser files: its build waits for the lessons they run and save (make test).
FIRST = ("tests/test_browser.py", "tests/test_browser_late.py", "tests/test_site.py", "tests/test_binder.py",
         "tests/test_colab.py", "tests/test_training.py", "tests/test_adapt.py", "tests/test_denoiser_paths.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    rank = lambda item: next((i for i, p in enumerate(FIRST) if item.nodeid.startswith(p)), len(FIRST))  # noqa: E731
    items.sort(key=rank)        # stable: the order within a file is kept


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)
