"""How the user started crossings, so that every command a hint prints works when pasted:
`crossings` when that name on PATH is this program, else the path they typed
(`.venv/bin/crossings`), or `python -m jobs` when run as a module."""

import shlex
import shutil
import sys
from pathlib import Path

NAME = "crossings"


def program(argv0: str | None = None) -> str:
    typed = sys.argv[0] if argv0 is None else argv0
    path = Path(typed)
    if path.name == "__main__.py" and path.parent.name == "jobs":
        return f"{shlex.quote(sys.executable)} -m jobs"
    if path.name != NAME:
        return NAME  # embedded (tests, other tools): the documented name
    on_path = shutil.which(NAME)
    if on_path and Path(on_path).resolve() == path.resolve():
        return NAME
    return shlex.quote(typed)
