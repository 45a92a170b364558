"""CIFAR-10 (Krizhevsky, Nair & Hinton 2009) from the official *binary* archive, as tensors in [−1, 1].

    images, labels = cifar10.load("train")     # (50000, 3, 32, 32) float32 in [−1, 1], (50000,) int64
    images, labels = cifar10.load_subset()      # the 4,000 lossless training images shipped in datasets/cifar10/
    cifar10.CLASSES[labels[0]]                  # 'frog'

The binary archive (``cifar-10-binary.tar.gz``, 170,052,171 bytes, sha256 below) holds records of
1 label byte + 3,072 pixel bytes (1,024 red, then green, then blue, each row-major 32×32): 10,000 records in
each of ``data_batch_1..5.bin`` and ``test_batch.bin``. (The "python" archive is pickled; this project loads
no pickles.) The members are read straight from the archive, never extracted, and every size is checked.
"""
from __future__ import annotations

import gzip
import tarfile
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ._fetch import REPO_DATASETS, check_mirrors, check_root, default_mirrors, fetch, fetch_all, repository_mirror

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
ARCHIVE = "cifar-10-binary.tar.gz"
ARCHIVE_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"  # md5 c32a1d4a…
MIRRORS = ["https://www.cs.toronto.edu/~kriz/"]
RECORD = 1 + 3 * 32 * 32
RECORDS_PER_BATCH = 10_000
MEMBERS = {"train": [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)],
           "test": ["cifar-10-batches-bin/test_batch.bin"]}
SUBSET = "cifar10-train-first4000.bin.gz"  # the first 4,000 records of data_batch_1, same record format
SUBSET_SHA256 = "0993cf8b8e43bc207603aef9787006995746513f5e3fa5a52e06d1b069926330"


def parse_records(data: bytes, expect: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Binary CIFAR records → images (N, 3, 32, 32) uint8 and labels (N,) uint8, sizes and labels checked."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be the bytes of CIFAR-10 binary records, got {type(data).__name__}")
    if len(data) % RECORD:
        raise ValueError(f"not CIFAR-10 binary records: {len(data)} bytes is not a multiple of {RECORD}")
    n = len(data) // RECORD
    if expect is not None and n != expect:
        raise ValueError(f"expected {expect} records, found {n}")
    rec = np.frombuffer(data, dtype=np.uint8).reshape(n, RECORD)
    labels = rec[:, 0]
    if n and labels.max() >= len(CLASSES):
        raise ValueError(f"label byte {int(labels.max())} is not a CIFAR-10 class (0–9)")
    return rec[:, 1:].reshape(n, 3, 32, 32), labels


def read_archive(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split's records from the archive, read member by member without extracting anything."""
    _check_split(split)
    images, labels = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for name in MEMBERS[split]:
                try:
                    member = tar.getmember(name)
                except KeyError:
                    raise ValueError(f"{path} has no member {name}: not the CIFAR-10 binary archive") from None
                if not member.isfile():
                    raise ValueError(f"{path}: {name} is not a regular file")
                try:
                    x, y = parse_records(tar.extractfile(member).read(), RECORDS_PER_BATCH)
                except ValueError as e:
                    raise ValueError(f"{path}: {name}: {e}") from None
                images.append(x)
                labels.append(y)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"{path} is not a readable .tar.gz archive (the CIFAR-10 binary one): "
                         f"{type(e).__name__}: {e}") from None
    return np.concatenate(images), np.concatenate(labels)


def _check_split(split) -> str:
    if not isinstance(split, str) or split not in MEMBERS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _to_tensors(x: np.ndarray, y: np.ndarray):
    images = torch.from_numpy(x.copy()).float().div_(127.5).sub_(1.0)  # (N, 3, 32, 32) in [−1, 1]
    return images, torch.from_numpy(y.astype(np.int64))


@lru_cache(maxsize=2)
def _load(split: str, root, download: bool, mirrors: tuple, local_copies: bool):
    path = fetch("cifar10", ARCHIVE, ARCHIVE_SHA256, list(mirrors), root, download, local_copies, decompress=False)
    return read_archive(path, split)


def load(split: str = "train", root=None, download: bool = True, mirrors=None, local_copies: bool = True):
    """Images (N, 3, 32, 32) in [−1, 1] and labels (N,) for "train" (50,000) or "test" (10,000).

    Looks for the verified archive in ``root``, $DIFFEDU_DATA/cifar10, this repository's datasets/cifar10 and
    the cache (~/.cache/diffedu/cifar10), and downloads it (162 MB) where none has it. Offline, use
    ``load_subset()``, which ships with the repository.
    """
    _check_split(split)
    check_root(root)
    mirrors = tuple(check_mirrors(default_mirrors("cifar10", MIRRORS) if mirrors is None else mirrors))
    return _to_tensors(*_load(split, None if root is None else str(root), download, mirrors, local_copies))


@lru_cache(maxsize=1)
def _subset(root):
    mirrors = default_mirrors("cifar10", [repository_mirror("cifar10")])  # only this course ships the subset
    path = fetch_all("cifar10", {SUBSET: SUBSET_SHA256}, mirrors, root)[SUBSET]
    with gzip.open(path, "rb") as f:
        return parse_records(f.read(), 4000)


def load_subset(root=None):
    """The first 4,000 CIFAR-10 training images, lossless, shipped in ``datasets/cifar10/`` (what fast mode
    and the lessons' figures use): images (4000, 3, 32, 32) in [−1, 1], labels (4000,). An installed wheel (Colab)
    downloads it once (11 MB, checksum-verified) from this version's copy in the repository, or ``$DIFFEDU_MIRROR``."""
    return _to_tensors(*_subset(None if check_root(root) is None else str(root)))


def load_jpeg(split: str = "train", path=None):
    """The full split from a JPEG-compressed copy (an .npz of concatenated JPEG files, as the development
    machines keep in ``shared/data/cifar10``): lossy, 7.9 RMSE on 0–255 against the originals."""
    _check_split(split)
    path = Path(check_root(path, "path")) if path is not None else REPO_DATASETS.parent.parent / "shared" / "data" / "cifar10" / \
        f"cifar10-jpeg-{split}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no JPEG copy of CIFAR-10 at {path}; use load() to download the official archive")
    return _to_tensors(*read_jpeg_copy(path))


def read_jpeg_copy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) from a JPEG copy: every array, offset, image and label checked,
    and every error naming the file."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with np.load(path, allow_pickle=False) as d:
            missing = [k for k in ("jpeg", "offsets", "labels") if k not in d.files]
            if missing:
                raise ValueError(f"{path}: not a JPEG copy of CIFAR-10 (no {', '.join(missing)} array)")
            jpeg, offsets, labels = d["jpeg"], d["offsets"], d["labels"]
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    except ValueError as e:
        if str(e).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not a JPEG copy of CIFAR-10 ({e})") from None
    if jpeg.dtype != np.uint8 or jpeg.ndim != 1 or offsets.ndim != 1 or labels.ndim != 1 or \
            not np.issubdtype(offsets.dtype, np.integer) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: jpeg must be uint8 bytes and offsets, labels 1-D integers, got {jpeg.dtype} "
                         f"{jpeg.shape}, {offsets.dtype} {offsets.shape}, {labels.dtype} {labels.shape}")
    if not len(labels):
        raise ValueError(f"{path}: holds no images")
    if len(offsets) != len(labels) + 1:
        raise ValueError(f"{path}: {len(labels)} labels need {len(labels) + 1} offsets, found {len(offsets)}")
    if (offsets[0] != 0 or offsets[-1] != len(jpeg) or (np.diff(offsets) <= 0).any()):
        raise ValueError(f"{path}: offsets must increase from 0 to the {len(jpeg)} bytes of jpeg, got "
                         f"{offsets[0]} … {offsets[-1]}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(f"{path}: labels must be CIFAR-10 classes 0–9, got values in [{labels.min()}, {labels.max()}]")
    images = []
    for i, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
        try:
            img = np.asarray(Image.open(io.BytesIO(jpeg[a:b].tobytes())).convert("RGB"))
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            raise ValueError(f"{path}: image {i} (bytes {a}–{b}) cannot be decoded: {type(e).__name__}: {e}") from None
        if img.shape != (32, 32, 3):
            raise ValueError(f"{path}: image {i} is {img.shape[1]}×{img.shape[0]}, not a 32×32 CIFAR-10 image")
        images.append(img)
    return np.stack(images).transpose(0, 3, 1, 2), labels.astype(np.int64)               # (N, 3, 32, 32)


def test_data():
    """The 10,000 test images: the JPEG copy where a development machine has it, else the official archive."""
    try:
        return load_jpeg("test")
    except FileNotFoundError:
        return load("test")


def to_image(x: torch.Tensor) -> np.ndarray:
    """[−1, 1] tensors (…, 3, H, W) → floats in [0, 1], channels last, for plotting."""
    if not torch.is_tensor(x) or x.ndim < 3 or x.shape[-3] != 3:
        got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"x must be images (…, 3, H, W) in [−1, 1], got {got}")
    return ((x.detach().cpu().float().clamp(-1, 1) + 1) / 2).movedim(-3, -1).numpy()
