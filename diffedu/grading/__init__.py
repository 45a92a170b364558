"""Graded assignments with nbgrader: one per lesson, from the lessons' exercises and their checkers.

``python -m diffedu.grading build COURSE`` writes ``COURSE/source/<lesson>/<lesson>.ipynb`` (the instructor
versions); ``nbgrader generate_assignment``, ``autograde`` and ``generate_feedback`` do the rest (README,
"For instructors"). The graded notebooks call ``reference_answer`` (solutions) and ``partly_right`` (partial
credit for a slip the checker names).
"""
from .answers import partly_right, reference_answer, verdict
from .build import assignment, build_course, lesson_exercises

__all__ = ["reference_answer", "partly_right", "verdict", "assignment", "build_course", "lesson_exercises"]
