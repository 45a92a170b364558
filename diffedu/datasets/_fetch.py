"""Find a data file locally or download it, verifying its *content* by checksum.

Search order: the folders given (a ``root``, ``$DIFFEDU_DATA/<name>``, the repository's ``datasets/<name>``),
then the per-user cache. A file that fails verification anywhere is never used; in the cache it is deleted
and downloaded again. Downloads go through pooch (progress bar, temporary file, then an atomic move), from
each mirror in turn.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

REPO_DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def cache_dir(name: str) -> Path:
    base = os.environ.get("DIFFEDU_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "diffedu")
    return Path(base) / name


def search_dirs(name: str, root=None) -> list[Path]:
    dirs = []
    if root is not None:
        dirs.append(Path(root))
    if os.environ.get("DIFFEDU_DATA"):
        dirs.append(Path(os.environ["DIFFEDU_DATA"]) / name)
    dirs.append(REPO_DATASETS / name)
    return dirs


def content_sha256(path: Path) -> str:
    """sha256 of the file's content, decompressing it first when it is gzip."""
    h = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verified(path: Path, sha256: str) -> bool:
    try:
        return path.is_file() and content_sha256(path) == sha256
    except (OSError, EOFError, gzip.BadGzipFile):  # truncated or not gzip at all
        return False


def fetch(name: str, filename: str, sha256: str, mirrors: list[str], root=None, download: bool = True,
          local_copies: bool = True) -> Path:
    """A verified local copy of ``filename`` (a .gz whose uncompressed content has ``sha256``).

    local_copies=False skips the shipped and $DIFFEDU_DATA folders (``root`` and the cache still count).
    """
    plain = filename[:-3] if filename.endswith(".gz") else filename
    dirs = search_dirs(name, root) if local_copies else ([Path(root)] if root is not None else [])
    for d in dirs:
        for candidate in (d / filename, d / plain):
            if verified(candidate, sha256):
                return candidate
    cache = cache_dir(name)
    for candidate in (cache / filename, cache / plain):
        if verified(candidate, sha256):
            return candidate
        if candidate.exists():  # corrupt or truncated: replace it
            candidate.unlink()
    if not download:
        raise FileNotFoundError(_help(name, filename, cache, mirrors, "download=False"))
    import pooch

    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            got = Path(pooch.retrieve(url, known_hash=None, fname=filename, path=cache, progressbar=True))
        except Exception as e:  # network errors, HTTP errors
            errors.append(f"{url}: {type(e).__name__}: {e}")
            continue
        if verified(got, sha256):
            return got
        got.unlink()
        errors.append(f"{url}: downloaded, but its content does not match the expected sha256")
    raise RuntimeError(_help(name, filename, cache, mirrors, "\n  ".join(errors)))


def _help(name, filename, cache, mirrors, why) -> str:
    return (f"Could not get a valid copy of {filename} ({name}).\n  {why}\n"
            f"To fix: download {filename} from one of {mirrors} by hand and put it in {cache} "
            f"(or in a folder named by $DIFFEDU_DATA/{name}, or pass root=...). "
            f"Files are checked by content, so the .gz from any mirror or the uncompressed file both work.")
