"""diffedu._memory: freed tensor memory goes back to the system on glibc (lesson kernels within Binder's 1 GB).

How much it saves depends on the allocator's state, so it is measured, not asserted: lesson 06 at cpu size
peaked at 1,215–1,311 MB before and 917 MB after (benchmarks/README.md). Tested here: it is wired in.
"""
import platform
import sys

import pytest
import torch

from diffedu import _memory, metrics
from diffedu.models import DigitClassifier


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_malloc_trim_is_found():
    assert _memory._trim() is not None


def test_release_is_harmless_anywhere():
    assert _memory.release() is None


def test_classifier_outputs_releases_after_every_batch_and_keeps_its_results(monkeypatch):
    torch.manual_seed(0)
    clf, x = DigitClassifier(), torch.randn(250, 1, 28, 28)
    calls = []
    monkeypatch.setattr(metrics, "release", lambda: calls.append(1))
    preds, feats = metrics.classifier_outputs(clf, x, batch=100)
    assert len(calls) == 3
    monkeypatch.undo()
    p2, f2 = metrics.classifier_outputs(clf, x, batch=250)
    assert torch.equal(preds, p2) and torch.allclose(feats, f2, atol=1e-5)


def test_a_lesson_kernel_gives_memory_back_after_every_cell_once(monkeypatch):
    from IPython.core.events import EventManager

    class Shell:                                      # what release_after_cells needs of an IPython shell
        events = EventManager(None, {"post_run_cell": lambda result: None})

    shell, calls = Shell(), []
    monkeypatch.setattr(_memory, "release", lambda: calls.append(1))
    assert _memory.release_after_cells(shell) and _memory.release_after_cells(shell)     # the second: no-op
    shell.events.trigger("post_run_cell", None)
    assert calls == [1]                                                                     # registered once
    monkeypatch.setitem(sys.modules, "IPython", None)
    assert _memory.release_after_cells() is False                                          # not in IPython


def test_training_throughput_gives_its_memory_back(monkeypatch):
    from diffedu import cost

    calls = []
    monkeypatch.setattr(cost, "release", lambda: calls.append(1))
    net = torch.nn.Linear(4, 1)
    rate = cost.training_throughput(net, lambda n, b: n(b).pow(2).mean(), torch.randn(8, 4), steps=2)
    assert rate > 0 and calls == [1]
