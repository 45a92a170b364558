"""``python -m diffedu.grading build COURSE [--only 01 07] [--lessons DIR]``: write the nbgrader source notebooks."""
from __future__ import annotations

import argparse

from .build import LESSONS, build_course


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m diffedu.grading", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write COURSE/source/<lesson>/<lesson>.ipynb, one assignment per lesson")
    build.add_argument("course", help="the nbgrader course folder (where nbgrader_config.py is)")
    build.add_argument("--only", nargs="+", metavar="LESSON", help="lesson names or numbers, e.g. 01 07")
    build.add_argument("--lessons", default=str(LESSONS), help="the lessons folder (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        written = build_course(args.course, args.lessons, args.only)
    except ValueError as e:
        parser.error(str(e))
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
