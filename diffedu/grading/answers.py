"""What a graded notebook's cells call: a checker's own reference answer, and the partial-credit rule.

Every checker (``diffedu.exercises``) hands ``run_check`` the reference it compares with and its catalogue of
named mistakes. Both are read here by watching that call, so the graded notebooks follow the checkers as they
are written: nothing is typed twice.

* ``reference_answer(check_xxx)`` is the reference the checker compares a student's function with (the
  instructor version's solution cells call it).
* ``partly_right(check_xxx, fn)`` passes when ``fn`` is right *or* the checker names its mistake (a known
  slip: the right shape, one symbol wrong); anything else (nothing written, an error, ``None``, a wrong
  shape, values no catalogued slip explains) raises ``AssertionError`` with the checker's verdict, which is
  what the student reads in nbgrader's feedback.
"""
from __future__ import annotations

import inspect
import sys
from contextlib import contextmanager
from functools import lru_cache

from ..exercises import _check
from ..exercises._check import CheckResult

_RUN_CHECK = inspect.signature(_check.run_check)


class _Captured(Exception):
    """Stops a checker at its first ``run_check`` call once the reference has been read."""


def _checker_module(checker):
    if not callable(checker) or not getattr(checker, "__name__", "").startswith("check_"):
        raise ValueError(f"checker must be one of diffedu.exercises' check_… functions, got {checker!r}")
    module = sys.modules.get(checker.__module__)
    if module is None or not hasattr(module, "run_check"):
        raise ValueError(f"checker {checker.__name__} does not grade through run_check "
                         f"(module {checker.__module__!r})")
    return module


@contextmanager
def _watching(checker, stop: bool = False):
    """Record the arguments of every ``run_check`` call ``checker`` makes (stop: at the first, without running it).

    The module's ``run_check`` is swapped for the time of the call and always put back; one checker at a time."""
    module = _checker_module(checker)
    real = module.run_check
    calls: list[dict] = []

    def spy(*args, **kwargs):
        bound = _RUN_CHECK.bind(*args, **kwargs)
        bound.apply_defaults()
        calls.append(dict(bound.arguments))
        if stop:
            raise _Captured
        return real(*args, **kwargs)

    module.run_check = spy
    try:
        yield calls
    finally:
        module.run_check = real


def _not_written(*args):
    raise NotImplementedError


@lru_cache(maxsize=None)
def reference_answer(checker):
    """The function ``checker`` compares a student's function with: same arguments, right answer.

    >>> from diffedu.exercises import check_cfg
    >>> check_cfg(reference_answer(check_cfg)).passed
    True
    """
    with _watching(checker, stop=True) as calls:
        try:
            checker(_not_written)
        except _Captured:
            pass
    if not calls:
        raise ValueError(f"checker {checker.__name__} never called run_check: no reference to read")
    return calls[0]["reference"]


def verdict(checker, fn) -> tuple[CheckResult, bool]:
    """(the checker's verdict on ``fn``, whether the verdict is one of the checker's named mistakes)."""
    with _watching(checker) as calls:
        result = checker(fn)
    if not isinstance(result, CheckResult):
        raise ValueError(f"checker {checker.__name__} returned {type(result).__name__}, not a CheckResult")
    named = {description for call in calls for description, _ in call["mistakes"]}
    return result, (not result.passed and result.message in named)


def partly_right(checker, fn) -> CheckResult:
    """The checker's verdict on ``fn`` if it is right or a named slip; otherwise ``AssertionError`` with it.

    This is the partial-credit test cell of a graded notebook: a slip the checker recognises (say α_t where
    ᾱ_t belongs) earns this cell's points and loses the strict cell's; the message is the checker's hint."""
    result, named = verdict(checker, fn)
    if not (result.passed or named):
        raise AssertionError(repr(result))
    return result
