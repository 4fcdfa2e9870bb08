"""A worker process that runs ``bompao`` commands as it reads them, one per stdin line.

Usage::

    python _cli_worker.py      # then write JSON lists of arguments, one per line

It imports the CLI once and prints ``ready``; for each line it runs ``bompao ARG...``
through :func:`bompao.cli.main` (the real error handling and exit codes) and prints
one JSON line ``{"code": EXIT_CODE, "stderr": TEXT}`` (the command's own stdout is
dropped). Several workers fed the same
line at the same moment race on the command itself, not on Python's start-up.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from bompao.cli import main
from bompao.engine import Engine  # noqa: F401 - imported before the race, not during it


def run() -> None:
    """Run each command read from stdin; report its exit code and error output."""
    report = sys.stdout
    report.write("ready\n")
    report.flush()
    for line in sys.stdin:
        err = io.StringIO()
        code = 0
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                main(json.loads(line))
            except SystemExit as exc:
                code = int(exc.code or 0)
        report.write(json.dumps({"code": code, "stderr": err.getvalue()}) + "\n")
        report.flush()


if __name__ == "__main__":
    run()
