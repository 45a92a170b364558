"""MNIST (LeCun, Cortes & Burges) from its original IDX files, as tensors scaled to [−1, 1].

    images, labels = mnist.load("train")    # (60000, 1, 28, 28) float32 in [−1, 1], (60000,) int64

IDX format: a big-endian header (magic 2051 for images, 2049 for labels, then the sizes) followed by the
raw uint8 data. The content of every file is verified against the canonical sha256 before use.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ._fetch import check_mirrors, check_root, default_mirrors, fetch_all

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

FILES = {  # name: sha256 of the uncompressed file
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def parse_idx(data: bytes) -> np.ndarray:
    """Parse an IDX file's bytes (uint8 data only) into an array, checking the header against the size."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be the bytes of an IDX file, got {type(data).__name__}")
    if len(data) < 4:
        raise ValueError("not an IDX file: shorter than its 4-byte magic number")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"not an unsigned-byte IDX file (magic bytes {data[:4].hex()})")
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"IDX header truncated (ndim={ndim})")
    shape = struct.unpack(f">{ndim}I", data[4: 4 + 4 * ndim])
    n = int(np.prod(shape))
    body = data[4 + 4 * ndim:]
    if len(body) != n:
        raise ValueError(f"IDX body holds {len(body)} bytes, header {shape} promises {n}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def read_idx(path: Path) -> np.ndarray:
    """The array of an IDX file (gzip-compressed if its name ends in .gz); every error names the file."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: not a readable gzip file ({type(e).__name__}: {e})") from None
    try:
        return parse_idx(data)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


@lru_cache(maxsize=4)
def _load(split: str, root, download: bool, mirrors: tuple, local_copies: bool):
    img_name, lab_name = SPLITS[split]
    paths = fetch_all("mnist", {f: FILES[f] for f in (img_name, lab_name)}, list(mirrors), root, download,
                      local_copies)
    images, labels = read_idx(paths[img_name]), read_idx(paths[lab_name])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST {split}: images {images.shape} and labels {labels.shape} do not match")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))  # uint8: a 4× smaller cache


def load(split: str = "train", root=None, download: bool = True, mirrors=None, local_copies: bool = True):
    """Images (N, 1, 28, 28) in [−1, 1] and labels (N,) for split "train" (60,000) or "test" (10,000).

    Looks in ``root``, $DIFFEDU_DATA/mnist, the repository's datasets/mnist, then the cache, and downloads
    from ``mirrors`` (default: ``$DIFFEDU_MIRROR``, then the public ones) when none holds valid files (see
    ``datasets/README.md``).
    """
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    check_root(root)
    mirrors = tuple(check_mirrors(default_mirrors("mnist", MIRRORS) if mirrors is None else mirrors))
    raw, y = _load(split, None if root is None else str(root), download, mirrors, local_copies)
    x = raw.float().div_(127.5).sub_(1.0).unsqueeze(1)  # (N, 1, 28, 28) in [−1, 1], a fresh tensor per call
    return x, y.clone()


def download(root=None, mirrors=None) -> dict:
    """Make sure all four MNIST files are available (shipped, cached or downloaded now): one call for a
    ``pip install``-ed diffedu, which ships no data. Returns {filename: path}; one error names every failure."""
    return fetch_all("mnist", FILES, check_mirrors(default_mirrors("mnist", MIRRORS) if mirrors is None else mirrors),
                     root)


def to_image(x: torch.Tensor) -> np.ndarray:
    """[−1, 1] tensors (…, 1, H, W) → uint8-range floats in [0, 1] for plotting."""
    if not torch.is_tensor(x) or x.ndim < 3:
        got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"x must be digits (…, 1, H, W) in [−1, 1], got {got}")
    return ((x.detach().cpu().float().clamp(-1, 1) + 1) / 2).squeeze(-3).numpy()
