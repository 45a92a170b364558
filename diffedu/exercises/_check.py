"""How every checker works: run the student's function on fixed inputs, compare with the reference, and
if they differ, compare with a catalogue of known mistakes to say *which* mistake it probably is.

Students call ``check_xxx(my_fn)`` and read the message; instructors grade with ``strict=True``, which
raises ``AssertionError`` on failure.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class CheckResult:
    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def _repr_markdown_(self) -> str:
        icon = "✅" if self.passed else "❌"
        return f"{icon} **{self.name}**: {self.message}"

    def __repr__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.message}"


def _close(a, b, tol) -> bool:
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    try:
        return bool(torch.allclose(a.expand_as(b) if a.numel() == 1 else a, b, rtol=tol, atol=tol))
    except RuntimeError:
        return False


def run_check(name: str, student, reference, cases, mistakes=(), strict: bool = False, tol: float = 1e-6):
    """cases: list of argument tuples. mistakes: (description, wrong_fn) pairs tried on a mismatch."""
    result = None
    for args in cases:
        try:
            got = student(*args)
        except NotImplementedError:
            result = CheckResult(name, False, "not implemented yet: replace the `raise NotImplementedError`.")
            break
        except Exception as e:  # the student's bug, reported rather than raised
            result = CheckResult(name, False, f"your function raised {type(e).__name__}: {e}")
            break
        want = reference(*args)
        if not _close(got, want, tol):
            hint = next((d for d, wrong in mistakes if _close(got, wrong(*args), tol)), None)
            result = CheckResult(name, False, hint or "the values differ from the reference; "
                                 "check each symbol against the lecture's formula.")
            break
    if result is None:
        result = CheckResult(name, True, f"matches the reference on {len(cases)} test cases.")
    if strict and not result.passed:
        raise AssertionError(repr(result))
    return result
