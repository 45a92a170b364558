"""Assignments graded with nbgrader (issue 35, item 3).

In process, for every lesson: the instructor versions carry valid nbgrader metadata and pass their own hidden
tests; nbgrader's own ClearSolutions turns them into student versions that score zero with the checker's
"not implemented" hint; every slip in every checker's catalogue earns the partial-credit cell and fails the
strict one. Then a real round trip through nbgrader's command line in a temporary course folder:
generate_assignment → submissions (the reference solutions, the blank student version, a planted slip) →
autograde → generate_feedback → export, checking the grades and that the feedback shows the checkers' hints.
"""
import copy
import csv
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import ClearSolutions

import diffedu.exercises as ex
from diffedu.exercises import check_q_sample
from diffedu.grading import build_course, partly_right, verdict
from diffedu.grading.answers import _watching
from diffedu.grading.build import EXACT, LESSONS, PARTLY

CHECKERS = sorted(n for n in ex.__all__ if n.startswith("check_"))
HIDDEN = re.compile(r"^### (BEGIN|END) HIDDEN TESTS\n?", re.M)


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _not_written(*args):
    raise NotImplementedError


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    return root, build_course(root)


def test_every_lesson_and_every_checker_is_graded_with_valid_metadata(course):
    _, paths = course
    assert [p.parent.name for p in paths] == [p.stem for p in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))]
    graded = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        MetadataValidator().validate_nb(nb)  # schema version 3: grade_id, points, the flags
        ids = [_meta(c)["grade_id"] for c in nb.cells if _meta(c)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id"
        for cell in nb.cells:
            m = _meta(cell)
            if m.get("solution"):
                assert "### BEGIN SOLUTION" in cell.source and not m["grade"] and not m["locked"]
            if m.get("grade"):
                assert m["locked"] and m["points"] in (PARTLY, EXACT) and "### BEGIN HIDDEN TESTS" in cell.source
                if m["grade_id"].endswith("_exact"):
                    graded.append(re.search(r"(check_\w+)\(\w+, strict=True\)", cell.source).group(1))
    assert sorted(graded) == CHECKERS, "each checker graded once, in its lesson's assignment"


def _run(cells, ns):
    for cell in cells:
        exec(compile(HIDDEN.sub("", cell.source), f"<{_meta(cell).get('grade_id', 'cell')}>", "exec"), ns)


def test_instructor_versions_pass_and_student_versions_score_zero_with_the_hint(course):
    _, paths = course
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        _run(code, {})  # the instructor version: reference solutions, hidden tests included, nothing raises
        student = ClearSolutions().preprocess(copy.deepcopy(nb), {})[0]  # what generate_assignment writes
        ns = {}
        _run([c for c in student.cells if _meta(c).get("grade_id") == "setup"], ns)
        for cell in student.cells:
            m = _meta(cell)
            if m.get("solution"):
                assert "raise NotImplementedError()" in cell.source and "reference_answer" not in cell.source
                _run([cell], ns)
            elif m.get("grade"):
                checker = getattr(ex, re.search(r"\b(check_\w+)", cell.source).group(1))
                hint = checker(_not_written).message
                with pytest.raises(AssertionError, match=re.escape(hint)):
                    _run([cell], ns)


@pytest.mark.parametrize("name", CHECKERS)
def test_a_named_slip_earns_the_partial_credit_cell_only(name):
    checker = getattr(ex, name)
    with _watching(checker) as calls:
        checker(lambda *a: None)
    slips = calls[0]["mistakes"]  # the first run_check is on the student's own function
    assert slips, f"{name} has no catalogue of mistakes"
    for description, wrong in slips:
        result, named = verdict(checker, wrong)
        assert not result.passed and named, (description, result)
        assert partly_right(checker, wrong) == result
        with pytest.raises(AssertionError, match=re.escape(result.message)):
            checker(wrong, strict=True)
    with pytest.raises(AssertionError, match="returned None"):
        partly_right(checker, lambda *a: None)  # no answer is not a partly right one


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="lessons_dir"):
        build_course(tmp_path, lessons_dir=tmp_path)
    with pytest.raises(ValueError, match="only names no lesson.*'99'"):
        build_course(tmp_path, only=["01", "99"])
    assert not (tmp_path / "source").exists()


def test_partly_right_names_a_wrong_checker():
    with pytest.raises(ValueError, match="checker must be"):
        partly_right(print, lambda: None)


SLIP = """def my_q_sample(x0, t, sched, noise):
    a = sched.at(sched.alphas, t, x0)  # α_t, one step
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
"""


def _nbgrader_cli(root, *args):
    out = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, f"nbgrader {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
    return out.stdout + out.stderr


def _ok(result):
    assert result["success"], result.get("error", "") + result.get("log", "")
    return result


def _submit(root, student, lesson, answers):
    nb = json.loads((root / "release" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    out = root / "submitted" / student / lesson / f"{lesson}.ipynb"
    out.parent.mkdir(parents=True)
    out.write_text(json.dumps(nb), encoding="utf-8")


def _text(path):
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type <Submitted")  # nbgrader 0.9.6's gradebook on SQLAlchemy 2.1
def test_nbgrader_round_trip(tmp_path, monkeypatch):
    """nbgrader's own steps in process (its NbGraderAPI, what the formgrader runs), `nbgrader export` on the
    command line: one lesson's assignment with three students, another's with one (four notebooks executed)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    root = tmp_path
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    monkeypatch.chdir(root)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'diffedu'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root / 'gradebook.db'}'\nc.ExecutePreprocessor.timeout = 300\n")
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = "diffedu"
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.ExecutePreprocessor.timeout = 300
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    lessons = ["01_forward_process", "07_guidance"]
    build_course(root, only=["01", "07"])
    for lesson in lessons:
        _ok(api.generate_assignment(lesson))
        release = (root / "release" / lesson / f"{lesson}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in release and "HIDDEN TESTS" not in release and "strict=True)" not in release
        source = nbformat.read(root / "source" / lesson / f"{lesson}.ipynb", as_version=4)
        _submit(root, "ref", lesson, {_meta(c)["grade_id"]: c.source for c in source.cells if _meta(c).get("solution")})
    _submit(root, "blank", lessons[0], {})
    _submit(root, "slip", lessons[0], {"q_sample_answer": SLIP})
    for lesson, students in ((lessons[0], ("ref", "blank", "slip")), (lessons[1], ("ref",))):
        for student in students:
            _ok(api.autograde(lesson, student))
        _ok(api.generate_feedback(lesson))
    _nbgrader_cli(root, "export")
    with open(root / "grades.csv", newline="") as f:
        grades = {(r["assignment"], r["student_id"]): (float(r["score"]), float(r["max_score"]))
                  for r in csv.DictReader(f)}
    full = float(PARTLY + EXACT)
    assert grades[(lessons[0], "ref")] == (full, full) and grades[(lessons[1], "ref")] == (full, full)
    assert grades[(lessons[0], "blank")] == (0.0, full)
    assert grades[(lessons[0], "slip")] == (float(PARTLY), full)

    feedback = lambda student, lesson: _text(root / "feedback" / student / lesson / f"{lesson}.html")  # noqa: E731
    for lesson in lessons:
        text = feedback("ref", lesson)
        assert "Traceback (most recent call last)" not in text and "FAIL" not in text
        assert "matches the reference on" in text  # the checker's verdict, shown by the partial-credit cell
    blank_hint = check_q_sample(_not_written).message
    assert feedback("blank", lessons[0]).count(f"FAIL q_sample: {blank_hint}") >= 2  # both test cells say why
    ns = {}
    exec(SLIP, ns)
    result, named = verdict(check_q_sample, ns["my_q_sample"])
    assert named and "ᾱ_t" in result.message, result
    assert f"FAIL q_sample: {result.message}" in feedback("slip", lessons[0])
