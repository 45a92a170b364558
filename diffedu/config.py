"""Fast mode: one switch that shrinks every lesson's experiment for CI.

``DIFFEDU_FAST=1`` (set by ``make test``) makes lessons use fewer training steps, samples and frames; the
same notebook, unedited, runs full-size when the variable is unset.
"""
from __future__ import annotations

import os

FAST: bool = os.environ.get("DIFFEDU_FAST", "0").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, fast):
    """Return ``fast`` in fast mode, ``full`` otherwise: ``steps = pick(5000, 300)``."""
    return fast if FAST else full
