"""CIFAR-10 from the official binary format: record parsing, the archive read without extraction, checksum
rejection (against a small synthetic archive served on loopback), and the shipped lossless subset."""
import functools
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from diffedu.datasets import cifar10


def records(n, seed=0, label=None):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=np.uint8) if label is None else np.full(n, label, np.uint8)
    pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return np.concatenate([labels[:, None], pixels], 1).tobytes(), labels, pixels


def test_records_parse_into_channel_planes_and_bad_bytes_are_refused():
    data, labels, pixels = records(3)
    x, y = cifar10.parse_records(data, 3)
    assert x.shape == (3, 3, 32, 32) and np.array_equal(y, labels)
    assert np.array_equal(x[1, 0].ravel(), pixels[1, :1024])      # red plane first, row-major
    assert np.array_equal(x[1, 2, 31, 31], pixels[1, 3071])         # last byte: blue, bottom-right
    with pytest.raises(ValueError, match="not a multiple of 3073"):
        cifar10.parse_records(data[:-1])
    with pytest.raises(ValueError, match="expected 4 records"):
        cifar10.parse_records(data, 4)
    with pytest.raises(ValueError, match="not a CIFAR-10 class"):
        cifar10.parse_records(records(1, label=10)[0])


def _archive(per_batch, corrupt=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i, name in enumerate(cifar10.MEMBERS["train"] + cifar10.MEMBERS["test"]):
            data = records(per_batch, seed=i)[0]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    if corrupt:
        raw[len(raw) // 2] ^= 0xFF
    return bytes(raw)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    good, bad = _archive(4), _archive(4, corrupt=True)
    for folder, data in (("good", good), ("bad", bad)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / cifar10.ARCHIVE).write_bytes(data)
    monkeypatch.setattr(cifar10, "ARCHIVE_SHA256", hashlib.sha256(good).hexdigest())
    monkeypatch.setattr(cifar10, "RECORDS_PER_BATCH", 4)
    monkeypatch.setenv("DIFFEDU_CACHE", str(tmp_path / "cache"))
    cifar10._load.cache_clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield f"{base}/good/", f"{base}/bad/"
    server.shutdown()
    cifar10._load.cache_clear()


def test_the_archive_downloads_verifies_and_parses_without_extracting(mirror, tmp_path):
    good, bad = mirror
    x, y = cifar10.load("train", mirrors=[bad, good], local_copies=False)  # the corrupt copy is skipped
    assert x.shape == (20, 3, 32, 32) and x.min() >= -1 and x.max() <= 1 and len(y) == 20
    xt, _ = cifar10.load("test", mirrors=[good], local_copies=False)
    assert xt.shape == (4, 3, 32, 32)
    assert sorted(p.name for p in (tmp_path / "cache" / "cifar10").iterdir()) == [cifar10.ARCHIVE]  # no extraction


def test_a_corrupt_archive_is_refused_with_what_to_do(mirror):
    _, bad = mirror
    with pytest.raises(RuntimeError, match="does not match the expected sha256") as e:
        cifar10.load("train", mirrors=[bad], local_copies=False)
    assert "To fix: download cifar-10-binary.tar.gz" in str(e.value)
    with pytest.raises(ValueError, match="split"):
        cifar10.load("validation")


def test_the_shipped_subset_is_the_first_4000_training_images():
    x, y = cifar10.load_subset()
    assert x.shape == (4000, 3, 32, 32) and x.min() == -1 and x.max() == 1
    assert y[:5].tolist() == [6, 9, 9, 4, 1]  # frog, truck, truck, deer, automobile: data_batch_1's first five
    assert np.bincount(y.numpy()).tolist() == [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]
    assert [cifar10.CLASSES[i] for i in y[:2]] == ["frog", "truck"]
