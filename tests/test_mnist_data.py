"""MNIST: IDX parsing, verification by content, and the download path against a loopback HTTP server."""
import functools
import gzip
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from diffedu.datasets import _fetch, mnist

SHIPPED = Path(__file__).resolve().parent.parent / "datasets" / "mnist"


def idx_bytes(arr: np.ndarray) -> bytes:
    return struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def test_parse_idx_round_trip_and_rejections():
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(mnist.parse_idx(idx_bytes(a)), a)
    with pytest.raises(ValueError, match="promises"):
        mnist.parse_idx(idx_bytes(a)[:-1])               # truncated body
    with pytest.raises(ValueError, match="unsigned-byte"):
        mnist.parse_idx(b"\x00\x00\x0d\x01" + b"\x00" * 8)  # float IDX, not ours
    with pytest.raises(ValueError, match="magic"):
        mnist.parse_idx(b"\x00")


def test_shipped_files_load_and_match_the_known_counts():
    x, y = mnist.load("test")
    assert x.shape == (10000, 1, 28, 28) and x.min() == -1 and x.max() == 1
    assert np.bincount(y.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_checksum_rejects_a_corrupt_file(tmp_path):
    good = SHIPPED / "t10k-labels-idx1-ubyte.gz"
    sha = mnist.FILES[good.name]
    assert _fetch.verified(good, sha)
    raw = bytearray(gzip.decompress(good.read_bytes()))
    raw[100] ^= 1  # one flipped bit
    bad = tmp_path / good.name
    bad.write_bytes(gzip.compress(bytes(raw)))
    assert not _fetch.verified(bad, sha)
    bad.write_bytes(good.read_bytes()[:1000])  # truncated gzip
    assert not _fetch.verified(bad, sha)


@pytest.fixture
def mirrors(tmp_path):
    """Two loopback HTTP mirrors: 'broken' serves truncated files, 'good' the real ones."""
    for name, mangle in (("broken", lambda b: b[: len(b) // 2]), ("good", lambda b: b)):
        d = tmp_path / name
        d.mkdir()
        for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            (d / f).write_bytes(mangle((SHIPPED / f).read_bytes()))
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield f"{base}/broken/", f"{base}/good/", f"{base}/missing/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_skips_a_corrupt_mirror_verifies_and_caches(mirrors, tmp_path, monkeypatch):
    broken, good, _ = mirrors
    cache = tmp_path / "cache"
    monkeypatch.setenv("DIFFEDU_CACHE", str(cache))
    mnist._load.cache_clear()
    x, y = mnist.load("test", mirrors=[broken, good], local_copies=False)
    assert x.shape == (10000, 1, 28, 28) and len(y) == 10000
    cached = cache / "mnist" / "t10k-labels-idx1-ubyte.gz"
    assert _fetch.verified(cached, mnist.FILES[cached.name])
    # a corrupted cache file is detected and replaced on the next load
    cached.write_bytes(cached.read_bytes()[:500])
    mnist._load.cache_clear()
    mnist.load("test", mirrors=[good], local_copies=False)
    assert _fetch.verified(cached, mnist.FILES[cached.name])
    mnist._load.cache_clear()


def test_download_failure_says_what_to_do(mirrors, tmp_path, monkeypatch):
    broken, _, missing = mirrors
    monkeypatch.setenv("DIFFEDU_CACHE", str(tmp_path / "cache2"))
    mnist._load.cache_clear()
    with pytest.raises(RuntimeError, match="To fix: download t10k-images-idx3-ubyte.gz, t10k-labels") as e:
        mnist.load("test", mirrors=[missing, broken], local_copies=False)
    assert "404" in str(e.value) and "does not match the expected sha256" in str(e.value)
    assert "2 of 2 mnist files" in str(e.value)  # every missing file named in one error
    with pytest.raises(FileNotFoundError, match="download=False"):
        mnist.load("test", download=False, local_copies=False)
    mnist._load.cache_clear()
    with pytest.raises(ValueError, match="split"):
        mnist.load("validation")


def test_a_damaged_deflate_stream_is_rejected_replaced_and_never_blocks_a_good_copy(mirrors, tmp_path, monkeypatch):
    _, good, _ = mirrors
    name = "t10k-labels-idx1-ubyte.gz"
    data = bytearray((SHIPPED / name).read_bytes())
    data[12:40] = b"\xff" * 28  # damage near the start of the deflate stream: zlib.error, not BadGzipFile
    root = tmp_path / "root"
    root.mkdir()
    (root / name).write_bytes(bytes(data))
    assert not _fetch.verified(root / name, mnist.FILES[name])
    # a damaged file in root= (searched first) does not block the valid shipped copy after it
    assert _fetch.fetch("mnist", name, mnist.FILES[name], [good], root=root) == SHIPPED / name
    # in the cache it is replaced by a fresh download
    cache = tmp_path / "cache3"
    monkeypatch.setenv("DIFFEDU_CACHE", str(cache))
    (cache / "mnist").mkdir(parents=True)
    (cache / "mnist" / name).write_bytes(bytes(data))
    got = _fetch.fetch("mnist", name, mnist.FILES[name], good, local_copies=False)  # one mirror as a string
    assert got == cache / "mnist" / name and _fetch.verified(got, mnist.FILES[name])


def test_mirrors_are_checked_and_a_killed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    import os
    import time

    with pytest.raises(ValueError, match="mirrors must be a URL or a non-empty list"):
        mnist.load("test", mirrors=[3])
    cache = tmp_path / "cache4"
    monkeypatch.setenv("DIFFEDU_CACHE", str(cache))
    (cache / "mnist").mkdir(parents=True)
    stale = cache / "mnist" / "tmpab12cd"  # what pooch leaves when a download is killed midway
    stale.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = cache / "mnist" / "tmpfresh"  # possibly another process's download in progress: kept
    fresh.write_bytes(b"partial")
    with pytest.raises(FileNotFoundError):
        _fetch.fetch("mnist", "t10k-labels-idx1-ubyte.gz", "0" * 64, ["http://127.0.0.1:9/"], download=False,
                     local_copies=False)
    assert not stale.exists() and fresh.exists()


def test_download_fetches_all_four_files_in_one_call():
    got = mnist.download()
    assert sorted(got) == sorted(mnist.FILES) and all(_fetch.verified(p, mnist.FILES[f]) for f, p in got.items())
