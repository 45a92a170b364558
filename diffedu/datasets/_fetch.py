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
import time
import zlib
from pathlib import Path

from .._version import __version__
from ..config import cache_dir

REPO_DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def search_dirs(name: str, root=None) -> list[Path]:
    dirs = []
    if root is not None:
        dirs.append(Path(root))
    if os.environ.get("DIFFEDU_DATA"):
        dirs.append(Path(os.environ["DIFFEDU_DATA"]) / name)
    if (REPO_DATASETS / name).is_dir():  # a checkout of the repository (not an installed wheel)
        dirs.append(REPO_DATASETS / name)
    return dirs


def content_sha256(path: Path, decompress: bool = True) -> str:
    """sha256 of the file's content, decompressing it first when it is gzip (unless ``decompress=False``)."""
    h = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" and decompress else open
    with opener(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verified(path: Path, sha256: str, decompress: bool = True) -> bool:
    try:
        return path.is_file() and content_sha256(path, decompress) == sha256
    except (OSError, EOFError, zlib.error, ValueError):  # truncated, damaged deflate stream, not gzip at all
        return False


def check_root(root, name: str = "root"):
    """None or a folder / file path (a str or os.PathLike)."""
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"{name} must be a path (a str or pathlib.Path) or None, got {type(root).__name__} {root!r}")
    return root


def default_mirrors(name: str, mirrors: list[str]) -> list[str]:
    """The mirrors used when a call names none: first each base URL in ``$DIFFEDU_MIRROR`` (space-separated; a
    base holds one folder per data set, ``mnist/``, ``cifar10/``, laid out like this repository's ``datasets/``:
    a course's own server, or a loopback one in the tests), then the data set's public ``mirrors``."""
    own = [base.rstrip("/") + f"/{name}/" for base in os.environ.get("DIFFEDU_MIRROR", "").split()]
    return own + list(mirrors)


def repository_mirror(name: str) -> str:
    """This version's copy of ``datasets/<name>/`` in the course repository, for files that only it ships."""
    return f"https://raw.githubusercontent.com/diffedu/diffedu/v{__version__}/datasets/{name}/"


def check_mirrors(mirrors) -> list[str]:
    """One URL or a list of URLs (base folders), as a list."""
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    if not isinstance(mirrors, (list, tuple)) or not mirrors or not all(isinstance(m, str) and m for m in mirrors):
        raise ValueError(f"mirrors must be a URL or a non-empty list of URLs, got {mirrors!r}")
    return list(mirrors)


def _remove_stale_downloads(cache: Path, older_than: float = 600.0) -> None:
    """A download killed midway leaves pooch's temporary file (tmp…) in the cache: remove old ones."""
    if cache.is_dir():
        for p in cache.glob("tmp*"):
            try:
                if p.is_file() and time.time() - p.stat().st_mtime > older_than:
                    p.unlink()
            except OSError:
                pass


def fetch(name: str, filename: str, sha256: str, mirrors: list[str], root=None, download: bool = True,
          local_copies: bool = True, decompress: bool = True) -> Path:
    """A verified local copy of ``filename`` (a .gz whose uncompressed content has ``sha256``; with
    ``decompress=False`` the file's own bytes, e.g. a .tar.gz archive).

    local_copies=False skips the shipped and $DIFFEDU_DATA folders (``root`` and the cache still count).
    """
    mirrors = check_mirrors(mirrors)
    ok = lambda path: verified(path, sha256, decompress)  # noqa: E731
    plain = filename[:-3] if filename.endswith(".gz") and decompress else filename
    dirs = search_dirs(name, root) if local_copies else ([Path(root)] if root is not None else [])
    for d in dirs:
        for candidate in (d / filename, d / plain):
            if ok(candidate):
                return candidate
    cache = cache_dir(name)
    _remove_stale_downloads(cache)
    for candidate in (cache / filename, cache / plain):
        if ok(candidate):
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
        if ok(got):
            return got
        got.unlink(missing_ok=True)
        errors.append(f"{url}: downloaded, but its content does not match the expected sha256")
    raise RuntimeError(_help(name, filename, cache, mirrors, "\n  ".join(errors)))


def fetch_all(name: str, files: dict, mirrors, root=None, download: bool = True, local_copies: bool = True) -> dict:
    """``fetch`` every file of ``files`` ({filename: sha256}); one error naming every file that failed."""
    got, failed, offline = {}, {}, True
    for filename, sha in files.items():
        try:
            got[filename] = fetch(name, filename, sha, mirrors, root, download, local_copies)
        except (FileNotFoundError, RuntimeError) as e:
            offline &= isinstance(e, FileNotFoundError)
            failed[filename] = str(e).splitlines()[1:-1]  # the reasons, without the header and the advice
    if not failed:
        return got
    lines = "".join(f"\n  {f}:" + "".join(f"\n    {r.strip()}" for r in why) for f, why in failed.items())
    msg = (f"{len(failed)} of {len(files)} {name} files could not be found or downloaded:{lines}\n"
           f"To fix: download {', '.join(failed)} from one of {check_mirrors(mirrors)} by hand into "
           f"{cache_dir(name)} (or a folder named by $DIFFEDU_DATA/{name}, or pass root=...). Files are checked by "
           f"content, so the .gz from any mirror or the uncompressed file both work.")
    raise (FileNotFoundError if offline else RuntimeError)(msg)


def _help(name, filename, cache, mirrors, why) -> str:
    return (f"Could not get a valid copy of {filename} ({name}).\n  {why}\n"
            f"To fix: download {filename} from one of {mirrors} by hand and put it in {cache} "
            f"(or in a folder named by $DIFFEDU_DATA/{name}, or pass root=...). "
            f"Files are checked by content, so the .gz from any mirror or the uncompressed file both work.")
