"""diffedu._cache: a reference set's classifier outputs are computed once per machine, and only ever stand for
what the same classifier computes on the same images."""
import torch

from diffedu import _cache, metrics
from diffedu.models import DigitClassifier


class Counting(DigitClassifier):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def features(self, x):
        self.calls += 1
        return super().features(x)


def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFEDU_CACHE", str(tmp_path))
    torch.manual_seed(0)
    return Counting(), torch.randn(40, 1, 28, 28)


def test_a_second_call_reads_the_stored_result_instead_of_classifying_again(tmp_path, monkeypatch):
    clf, x = setup(tmp_path, monkeypatch)
    p0, f0 = metrics.classifier_outputs(clf, x, batch=20, cache=False)
    assert clf.calls == 2 and not (tmp_path / "results").exists()           # cache=False: nothing stored
    p1, f1 = metrics.classifier_outputs(clf, x, batch=20, cache=True)
    assert clf.calls == 4 and len(list((tmp_path / "results").glob("*.safetensors"))) == 1
    p2, f2 = metrics.classifier_outputs(clf, x, batch=20, cache=True)
    assert clf.calls == 4                                                    # read, not computed
    assert torch.equal(p0, p2) and torch.equal(f0, f2) and f2.dtype == torch.float64


def test_other_weights_or_other_images_are_computed_afresh(tmp_path, monkeypatch):
    clf, x = setup(tmp_path, monkeypatch)
    _, f = metrics.classifier_outputs(clf, x, cache=True)
    x2 = x.clone()
    x2[3, 0, 5, 5] += 0.5                                                    # one pixel of one image
    _, f2 = metrics.classifier_outputs(clf, x2, cache=True)
    with torch.no_grad():
        next(clf.parameters()).mul_(1.01)                                    # the classifier trained further
    _, f3 = metrics.classifier_outputs(clf, x, cache=True)
    assert clf.calls == 3 and not torch.equal(f, f2) and not torch.equal(f, f3)
    assert torch.equal(f3, metrics.classifier_outputs(clf, x, cache=False)[1])


def test_a_damaged_stored_file_is_computed_again_and_replaced(tmp_path, monkeypatch):
    clf, x = setup(tmp_path, monkeypatch)
    _, f = metrics.classifier_outputs(clf, x, cache=True)
    stored = next((tmp_path / "results").glob("*.safetensors"))
    data = bytearray(stored.read_bytes())
    data[-8:] = b"\x7f" * 8                                                  # the last feature's bytes changed
    stored.write_bytes(bytes(data))
    assert _cache._load(stored) is None                                      # fails its digest
    _, f2 = metrics.classifier_outputs(clf, x, cache=True)
    assert clf.calls == 2 and torch.equal(f, f2)
    assert _cache._load(stored) is not None                                  # replaced by a good file
    stored.write_bytes(b"not a safetensors file")
    assert torch.equal(metrics.classifier_outputs(clf, x, cache=True)[1], f) and clf.calls == 3


def test_small_sets_are_not_stored_by_default_and_reference_sets_are(tmp_path, monkeypatch):
    clf, x = setup(tmp_path, monkeypatch)
    metrics.classifier_outputs(clf, x)
    assert not (tmp_path / "results").exists()
    monkeypatch.setattr(metrics, "CACHE_MIN", 40)
    metrics.classifier_outputs(clf, x)
    assert len(list((tmp_path / "results").glob("*.safetensors"))) == 1


def test_a_result_that_cannot_be_stored_is_returned_all_the_same(tmp_path, monkeypatch):
    clf, x = setup(tmp_path, monkeypatch)

    def full_disk(*args, **kwargs):
        raise RuntimeError("Error while serializing: I/O error: No space left on device")   # safetensors' kind

    monkeypatch.setattr(_cache, "atomic_write", full_disk)
    p, f = metrics.classifier_outputs(clf, x, cache=True)
    assert torch.equal(f, metrics.classifier_outputs(clf, x, cache=False)[1]) and clf.calls == 2


def test_the_key_follows_the_code_that_computes_the_result():
    class A(DigitClassifier):
        def features(self, x):
            return super().features(x)

    class B(DigitClassifier):
        def features(self, x):
            return 2 * super().features(x)

    assert _cache.source_digest(A) == _cache.source_digest(A) != _cache.source_digest(B)
    assert _cache.source_digest(A) != _cache.source_digest(DigitClassifier)   # the subclass's own code counts
