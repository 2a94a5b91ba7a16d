"""A/B in one process: a page's current-value lookup before an upsert, one query per
metric (before issue 14) against one query per page (`Observations._current`), on a
store holding 1,000 pages x 240 values; CPU milliseconds per page, alternating.

    .venv/bin/python bench/ab_current_values.py
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from storage import Observation, Store
from storage.observations import IN_CHUNK


def old_current(self, keys):
    periods = {}
    for metric, period in keys:
        periods.setdefault(metric, []).append(period)
    found = {}
    for metric, wanted in periods.items():
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for row_id, period, value, flags in self.db.execute(
                f"""SELECT id, period, value, flags FROM observations
                    WHERE superseded_at IS NULL AND metric = ? AND period IN ({marks})""",
                [metric, *chunk],
            ):
                found[(metric, period)] = (row_id, value, flags)
    return found


d = tempfile.mkdtemp()
store = Store(os.path.join(d, "t.db"))
pages = [
    [(f"bench.report{p:05d}.row{r:02d}", f"FY{y}") for r in range(40) for y in range(2017, 2023)]
    for p in range(1000)
]
for keys in pages:
    store.observations.upsert([Observation(m, per, 1.0) for m, per in keys], snapshot_id=None)
obs = store.observations
new_current = type(obs)._current
for _round in range(2):
    for name, fn in (("old", old_current), ("new", new_current)):
        t = time.process_time()
        for keys in pages:
            assert len(fn(obs, keys)) == 240
        print(name, f"{(time.process_time() - t) / len(pages) * 1000:.3f} ms CPU per page")
