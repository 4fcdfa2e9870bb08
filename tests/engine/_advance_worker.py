"""A worker process for ``test_concurrency.py``: advance toggle projects back and forth.

Usage::

    python _advance_worker.py URL IDS COUNT START_FILE SEED   # COUNT successful advances
    python _advance_worker.py URL IDS loop - SEED             # advance until killed

``IDS`` is a comma-separated list of project ids on the ``toggle`` journey
(``a`` -go-> ``b`` -back-> ``a``). Each advance reads the stage, fires the trigger
that leaves it, and retries on :class:`~bompao.errors.ConflictError` (a lost race)
and on :class:`~bompao.errors.NotFound` (another worker moved the project between
the read and the advance, so the trigger is no longer available). The worker
prints ``ready`` once its engine is open, waits for ``START_FILE`` to exist (so all
workers start together), and finally prints one JSON line: the successful advances
per project and the retries.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from bompao.engine import Engine
from bompao.errors import ConflictError, NotFound


def main() -> None:
    """Run the worker as the command line says."""
    url, raw_ids, count, start, seed = sys.argv[1:6]
    ids = [int(i) for i in raw_ids.split(",")]
    rng = random.Random(int(seed))
    engine = Engine.from_url(url, create=False)
    engine.journey("toggle", 1)  # compile before the start so workers race on writes
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if start != "-":
        while not Path(start).exists():
            time.sleep(0.002)
    done = dict.fromkeys(ids, 0)
    conflicts = raced = 0
    wanted = None if count == "loop" else int(count)
    while wanted is None or sum(done.values()) < wanted:
        project_id = rng.choice(ids)
        stage = engine.get(project_id).stage
        try:
            engine.advance(project_id, "go" if stage == "a" else "back")
        except ConflictError:
            conflicts += 1
            continue
        except NotFound:
            raced += 1
            continue
        done[project_id] += 1
    engine.close()
    sys.stdout.write(json.dumps({"advanced": {str(k): v for k, v in done.items()},
                                 "conflicts": conflicts, "raced": raced}) + "\n")


if __name__ == "__main__":
    main()
