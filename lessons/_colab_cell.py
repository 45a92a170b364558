"""Put the Colab lines at the top of every lesson's first code cell (issue 35): a lesson opened alone, on Colab
or in any Python without ``diffedu``, installs the library at its own version and turns on Colab's widget manager.

    python lessons/_colab_cell.py              # add or update the lines in lessons/[0-9][0-9]_*.ipynb
    python lessons/_colab_cell.py 14_x.ipynb   # only these notebooks
    python lessons/_colab_cell.py --check      # exit 1 and name the lessons whose lines are missing or stale

Idempotent: lines written for any earlier version are replaced, nothing else in the notebook changes (the first
code cell's other lines, the other cells, the metadata). ``$DIFFEDU_PIP`` replaces what the lines install (a fork,
a local wheel: tests/test_colab.py runs a lesson that way).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

LESSONS = Path(__file__).resolve().parent
REPOSITORY = "https://github.com/diffedu/diffedu"

TEMPLATE = """\
# On Colab, or in any Python without diffedu: install the course library at this lesson's version (once per
# session) and turn on Colab's widget manager for the live figures (ipywidgets, anywidget). Elsewhere: nothing.
try:
    import diffedu
except ImportError:
    import os
    diffedu_pip = os.environ.get("DIFFEDU_PIP", "git+{repository}@v{version}")
    %pip install -q {{diffedu_pip}}
try:
    from google.colab import output
    output.enable_custom_widget_manager()
except ImportError:
    pass
"""


def version() -> str:
    """The library's version, read from diffedu/_version.py (no import: this script needs none of its deps)."""
    text = (LESSONS.parent / "diffedu" / "_version.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if not found:
        raise ValueError("diffedu/_version.py has no line __version__ = \"…\"")
    return found.group(1)


def lines(v: str | None = None) -> str:
    """The Colab lines for version ``v`` (default: the library's)."""
    return TEMPLATE.format(repository=REPOSITORY, version=version() if v is None else v)


# the same lines for any version: what an earlier run of this script wrote
_ANY_VERSION = re.compile(re.escape(lines("VERSION")).replace("VERSION", r"[^\"@\s]+"))


def first_code_cell(nb: dict) -> dict:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            return cell
    raise ValueError("the notebook has no code cell")


def with_lines(source: str, v: str | None = None) -> str:
    """``source`` (a first code cell) starting with the current lines, once."""
    earlier = _ANY_VERSION.match(source)
    return lines(v) + (source[earlier.end():] if earlier else source)


def update(path: Path, check: bool = False) -> bool:
    """Add or refresh the lines in ``path``'s first code cell; True if the file changed (or, with check, would)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = first_code_cell(nb)
    old = "".join(cell["source"])
    new = with_lines(old)
    if new == old:
        return False
    if not check:
        cell["source"] = new.splitlines(keepends=True)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    changed = [p for p in paths if update(p, check)]
    for p in changed:
        print(("stale or missing: " if check else "updated: ") + str(p))
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
