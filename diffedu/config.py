"""Three sizes for every lesson, chosen by the machine: one notebook, three experiments.

    fast   CI (``make test`` sets ``DIFFEDU_FAST=1``): seconds, shipped checkpoints
    cpu    no GPU found (a laptop, Binder): each lesson ≤ 3 minutes and ≤ 1 GB on 2 cores
    gpu    CUDA or Apple's MPS: full size

``DIFFEDU_SIZE=fast|cpu|gpu`` overrides the choice (``DIFFEDU_FAST=1`` still means fast). In a lesson,
``steps = pick(gpu=5000, cpu=1500, fast=300)`` (or ``pick(5000, 300)``: full size, fast size, and the full
size again on a CPU) reads the size once, at import.

``DIFFEDU_STRICT=1`` (set by ``make test``): in a Jupyter kernel, a warning a student would see in a lesson's
output is an error instead, so that nbval fails on it (``strict_warnings``). Every lesson imports this module in
its first cell.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

SIZES = ("fast", "cpu", "gpu")
_MISSING = object()


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in {"1", "true", "yes", "on"}


def site_mode(environ=None) -> str | None:
    """How widgets display for the course site (``widgets._site``), from ``$DIFFEDU_SITE``:

    * ``"1"`` (``make site``): each widget shows only its kernel-free copy;
    * ``"live"`` (``make test``'s browser runs): the live widget, and in the same output its kernel-free copy as
      HTML (JupyterLab shows the widget, the site the copy), so that one run of a lesson in JupyterLab, saved,
      is also the site's page (``tests/test_site.py``);
    * unset: the live widget only. Anything else is an error naming the variable."""
    v = ((os.environ if environ is None else environ).get("DIFFEDU_SITE") or "").strip()
    if v not in ("", "0", "1", "live"):
        raise ValueError(f"DIFFEDU_SITE must be 1 (the site), live (live widgets with their copies) or unset, got {v!r}")
    return v if v in ("1", "live") else None


def site_build(environ=None) -> bool:
    """True while the course site is built (``make site`` sets ``DIFFEDU_SITE=1``): each widget shows its
    kernel-free copy (``widgets._site``) and training shows no progress bar (a page cannot move one)."""
    return site_mode(environ) == "1"


def cache_dir(name: str) -> Path:
    """Where diffedu keeps ``name`` (downloads, stored results): ``$DIFFEDU_CACHE/name``, else
    ``~/.cache/diffedu/name``."""
    return Path(os.environ.get("DIFFEDU_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "diffedu")) / name


def choose_size(environ=None, gpu: bool | None = None) -> str:
    """The lesson size: $DIFFEDU_SIZE if set, fast if $DIFFEDU_FAST is, else gpu or cpu by the device."""
    env = os.environ if environ is None else environ
    size = (env.get("DIFFEDU_SIZE") or "").strip().lower()
    if size:
        if size not in SIZES:
            raise ValueError(f"DIFFEDU_SIZE must be one of {', '.join(SIZES)}, got {env.get('DIFFEDU_SIZE')!r}")
        return size
    if _truthy(env.get("DIFFEDU_FAST")):
        return "fast"
    if gpu is None:
        import torch

        mps = getattr(torch.backends, "mps", None)
        gpu = torch.cuda.is_available() or (mps is not None and mps.is_available())
    return "gpu" if gpu else "cpu"


SIZE: str = choose_size()
FAST: bool = SIZE == "fast"


def pick(gpu=_MISSING, fast=_MISSING, cpu=_MISSING, *, size: str | None = None):
    """The value for this run's size: ``pick(gpu=…, cpu=…, fast=…)``; ``cpu`` defaults to ``gpu``."""
    size = SIZE if size is None else size
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    if gpu is _MISSING or fast is _MISSING:
        raise TypeError("pick needs at least the gpu (full) and fast values")
    return {"fast": fast, "cpu": gpu if cpu is _MISSING else cpu, "gpu": gpu}[size]


def describe() -> str:
    """What the first cell of a lesson prints: the size and how to change it."""
    what = {"fast": "fast (CI: seconds, shipped checkpoints)",
            "cpu": "cpu (no GPU found: experiments sized for ≤ 3 minutes on a laptop or Binder)",
            "gpu": "gpu (full size)"}[SIZE]
    return (f"lesson size: {what}.\n"                # lines of at most 100 characters: none wraps in a notebook
            f"To change it, start Jupyter with DIFFEDU_SIZE=fast|cpu|gpu (e.g. DIFFEDU_SIZE=gpu make lab), or put\n"
            f"import os; os.environ['DIFFEDU_SIZE'] = 'gpu' above the imports of this cell and restart the kernel.")


# Warnings a lesson may show under DIFFEDU_STRICT: (category, message regex, module regex), each with its reason.
# Keep it short: a warning in a lesson's output is a bug to fix where it is raised.
ALLOWED_WARNINGS: list[tuple[type[Warning], str, str]] = []


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (ipykernel's shell), where warnings appear in the lesson's output."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__module__.startswith("ipykernel")


def strict_warnings(environ=None, kernel: bool | None = None) -> bool:
    """Under $DIFFEDU_STRICT in a Jupyter kernel, turn every warning that the kernel would print into an error
    (a traceback nbval reports): all categories but those Python hides by default (DeprecationWarning and
    PendingDeprecationWarning raised outside the notebook's own code, ImportWarning, ResourceWarning), minus
    ``ALLOWED_WARNINGS``. Returns whether it did. Run once when this module is imported."""
    env = os.environ if environ is None else environ
    if not _truthy(env.get("DIFFEDU_STRICT")) or not (_in_kernel() if kernel is None else kernel):
        return False
    warnings.filterwarnings("error")                         # filterwarnings puts each rule first: the last wins
    for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=hidden)
    for shown in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("error", category=shown, module="__main__")   # the notebook's own code: shown
    for category, message, module in ALLOWED_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    return True


STRICT: bool = strict_warnings()
