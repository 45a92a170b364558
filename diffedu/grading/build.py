"""Write an nbgrader course's source notebooks from the lessons' exercises: one assignment per lesson.

A lesson's exercise is a markdown prompt followed by a code cell that defines ``my_xxx`` (its body
``raise NotImplementedError``) and ends with ``check_xxx(my_xxx)``. For each one the assignment
``source/<lesson>/<lesson>.ipynb`` gets

* the prompt (from its ``**N.M —`` or ``### Exercise`` heading on);
* an *autograded answer* cell: the student's function with its body between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``, which in the instructor version returns the checker's own reference
  (``reference_answer``: read from the checker, not retyped), and which ``nbgrader generate_assignment``
  replaces with ``raise NotImplementedError()``;
* two *autograder tests* cells, locked, with hidden tests that import the checker afresh:
  ``<ex>_partly`` (``PARTLY`` = 1 point): ``partly_right`` — right, or a slip the checker's catalogue names (also
  visible, so ``nbgrader validate`` on a student's notebook runs it and shows the checker's verdict);
  ``<ex>_exact`` (``EXACT`` = 2 points): the checker with ``strict=True``, hidden.
  A failing cell's ``AssertionError`` carries the checker's verdict, so the hint is in nbgrader's feedback.

Cell metadata follows nbgrader's schema version 3 (``grade_id``, ``points``, ``grade``/``solution``/``locked``).
"""
from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

from .. import exercises
from .answers import reference_answer

PARTLY, EXACT = 1, 2
LESSONS = Path(__file__).resolve().parents[2] / "lessons"
SCHEMA = 3
_CHECK_CALL = re.compile(r"^check_(\w+)\((my_\w+)\)\s*$", re.M)
_HEADING = re.compile(r"^(\*\*\d+(\.\d+)? —|#{2,4} Exercise\b)", re.M)
_STUB = re.compile(r"^(\s*)# Your code here\.?\s*(?::\s*(.*))?$")
_SETUP = ["import math", "import torch", "from torch.nn import functional as F",
          "from IPython.display import display", "from diffedu.grading import partly_right"]


def _source(cell) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _prompt(markdown: str, where: str) -> str:
    starts = [m.start() for m in _HEADING.finditer(markdown)]
    if not starts:
        raise ValueError(f"{where}: the markdown cell before the exercise has no '**N.M —' or '### Exercise' heading")
    return markdown[starts[-1]:].strip()


def _reference_note(checker) -> list[str]:
    """Comment lines for the solution: the checker's formula (its docstring) and where its reference lives."""
    ref = reference_answer(checker)
    if "<" in ref.__qualname__:  # a lambda or a function local to the checker
        where = f"the checker's own, in {checker.__module__}.{checker.__name__}"
    else:
        where = f"{ref.__module__}.{ref.__qualname__}"
    doc = " ".join((checker.__doc__ or "").split())
    text = f"The reference ({where}): {doc}" if doc else f"The reference: {where}."
    return textwrap.wrap(text, 110, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False)


def _answer_cell(code: str, fn_name: str, checker, where: str) -> tuple[list[str], str]:
    """(import lines, the answer cell's source) from a lesson's exercise cell."""
    tree = ast.parse(code)
    lines = code.splitlines()
    imports, kept = [], []
    fn = None
    for node in tree.body:
        segment = "\n".join(lines[node.lineno - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(segment)
        elif isinstance(node, ast.FunctionDef) and node.name == fn_name:
            fn = node
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                  and getattr(node.value.func, "id", "") == checker.__name__):
            kept.append(segment)
    if fn is None:
        raise ValueError(f"{where}: no `def {fn_name}` in the exercise cell")
    stub = next((s for s in fn.body if isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s)), None)
    if stub is None:
        raise ValueError(f"{where}: `{fn_name}`'s body has no `raise NotImplementedError` to replace")
    pad = " " * stub.col_offset
    args = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    solution = [f"{pad}### BEGIN SOLUTION", *(pad + c for c in _reference_note(checker)),
                f"{pad}from diffedu.exercises import {checker.__name__}",
                f"{pad}from diffedu.grading import reference_answer",
                f"{pad}return reference_answer({checker.__name__})({', '.join(args)})",
                f"{pad}### END SOLUTION"]
    body = []
    for k, line in enumerate(lines[fn.lineno - 1:fn.end_lineno], start=fn.lineno):
        if k == stub.lineno:
            body += solution
        elif stub.lineno < k <= stub.end_lineno:
            continue
        elif m := _STUB.match(line):
            if m.group(2):  # "# Your code here: return (x_t, target)." keeps what it says to return
                body.append(f"{m.group(1)}# {m.group(2)[0].upper()}{m.group(2)[1:]}")
        else:
            body.append(line)
    return imports, "\n".join([*kept, *body])


def _short(call: str) -> str:
    """``call``, whose AssertionError is raised again from the test cell itself: the feedback then shows the
    checker's verdict under the cell, without the library's frames (and the catalogue in their source)."""
    return (f"try:\n    {call}\nexcept AssertionError as verdict:\n"
            "    raise AssertionError(str(verdict)) from None\n")


def _cell(kind: str, source: str, cell_id: str, **nbgrader) -> dict:
    cell = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if nbgrader:
        meta = {"grade": False, "locked": False, "solution": False, **nbgrader, "schema_version": SCHEMA}
        cell["metadata"]["nbgrader"] = meta
    return cell


def lesson_exercises(path: str | Path) -> list[dict]:
    """The exercises of one lesson: [{"checker", "function", "prompt", "code"}] in the lesson's order."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for i, cell in enumerate(cells):
        code = _source(cell)
        m = _CHECK_CALL.search(code) if cell["cell_type"] == "code" else None
        if m is None:
            continue
        where = f"{path.name}, cell {i}"
        checker = getattr(exercises, f"check_{m.group(1)}", None)
        if checker is None:
            raise ValueError(f"{where}: diffedu.exercises has no check_{m.group(1)}")
        if i == 0 or cells[i - 1]["cell_type"] != "markdown":
            raise ValueError(f"{where}: the exercise cell must follow its markdown prompt")
        found.append({"checker": checker, "function": m.group(2), "code": code, "where": where,
                      "prompt": _prompt(_source(cells[i - 1]), where)})
    return found


def assignment(path: str | Path) -> dict:
    """The nbgrader source notebook (nbformat 4 JSON as a dict) for one lesson's exercises."""
    path = Path(path)
    lesson = json.loads(path.read_text(encoding="utf-8"))
    found = lesson_exercises(path)
    if not found:
        raise ValueError(f"{path.name} has no exercise cell (`check_xxx(my_xxx)` on its last line)")
    title = _source(lesson["cells"][0]).splitlines()[0].lstrip("# ").strip()
    total = len(found) * (PARTLY + EXACT)
    intro = (f"# Graded exercises: {title}\n\nThe exercises of `lessons/{path.name}` (section numbers refer to it), "
             f"{len(found)} of them, {total} points. Write each function where it says `YOUR CODE HERE` and keep "
             "its name. The cell under it runs the lesson's checker, which tells you what it sees. Each exercise "
             f"is worth {PARTLY + EXACT} points: {PARTLY} for an answer that is right or has a slip the checker "
             f"names, {EXACT} more when it is exactly right. When your work is graded, hidden tests run the "
             "checkers with `strict=True`; the feedback shows their verdicts.")
    cells, imports, body = [_cell("markdown", intro, "intro")], list(_SETUP), []
    for ex in found:
        checker, fn = ex["checker"], ex["function"]
        name = checker.__name__[len("check_"):]
        imp, answer = _answer_cell(ex["code"], fn, checker, ex["where"])
        imports += [line for line in imp if "diffedu.exercises" not in line]
        partly = (f"# {PARTLY} point: right, or a slip the checker names. The checker's verdict:\n"
                  f"display(partly_right({checker.__name__}, {fn}))\n### BEGIN HIDDEN TESTS\n"
                  f"from diffedu.exercises import {checker.__name__}\nfrom diffedu.grading import partly_right\n"
                  + _short(f"partly_right({checker.__name__}, {fn})") + "### END HIDDEN TESTS")
        exact = (f"# {EXACT} points: exactly right (the checker with strict=True, when your work is graded).\n"
                 f"### BEGIN HIDDEN TESTS\nfrom diffedu.exercises import {checker.__name__}\n"
                 + _short(f"{checker.__name__}({fn}, strict=True)") + "### END HIDDEN TESTS")
        body += [_cell("markdown", ex["prompt"], f"{name}-prompt"),
                 _cell("code", answer, f"{name}-answer", solution=True, grade_id=f"{name}_answer"),
                 _cell("code", partly, f"{name}-partly", grade=True, locked=True, grade_id=f"{name}_partly",
                       points=PARTLY),
                 _cell("code", exact, f"{name}-exact", grade=True, locked=True, grade_id=f"{name}_exact",
                       points=EXACT)]
    checkers = sorted({ex["checker"].__name__ for ex in found})
    imports.append(f"from diffedu.exercises import {', '.join(checkers)}")
    setup = _cell("code", "\n".join(dict.fromkeys(imports)), "setup", locked=True, grade_id="setup")
    return {"cells": [cells[0], setup, *body], "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                        "name": "python3"},
                         "language_info": {"name": "python"}}}


def build_course(dest: str | Path, lessons_dir: str | Path | None = None, only=None) -> list[Path]:
    """Write ``dest/source/<lesson>/<lesson>.ipynb`` for every lesson with exercises (``only``: lesson names or
    number prefixes such as "01"). Returns the paths written. ``dest`` is an nbgrader course folder."""
    lessons_dir = Path(lessons_dir) if lessons_dir is not None else LESSONS
    paths = sorted(lessons_dir.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise ValueError(f"lessons_dir {str(lessons_dir)!r} holds no lesson notebook (NN_name.ipynb); pass the "
                         "repository's lessons/ folder")
    if only:
        wanted = list(only)
        paths = [p for p in paths if any(p.stem == w or p.stem.startswith(f"{w}_") for w in wanted)]
        missing = [w for w in wanted if not any(p.stem == w or p.stem.startswith(f"{w}_") for p in paths)]
        if missing:
            raise ValueError(f"only names no lesson in {lessons_dir}: {missing}")
    written = []
    for path in paths:
        if not lesson_exercises(path):
            continue
        out = Path(dest) / "source" / path.stem / f"{path.stem}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(assignment(path), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(out)
    return written
