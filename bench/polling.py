"""Release-aware polling over a simulated year of a CBP-like monthly source: how long after
publication a new figure is seen, and how many requests that costs, for `schedule =
"auto"` versus a daily cron (09:47, as the bundled CBP source) and an every-10-minutes cron.

    .venv/bin/python bench/polling.py             # the default year, seed 16
    .venv/bin/python bench/polling.py --seed 3    # another draw of publication times

The site publishes month M's figures between the 13th and the 19th of month M+1, at a
random time between 10:00 and 16:00 Eastern (CBP's rhythm: June 2026's data on 17 July),
except that one month is skipped (its figures come with the next month's) and one
release comes late (the 27th). Every poll is one conditional GET. `auto` starts with no
history and the hint "monthly, days 10-20, hours 9-17", and learns from what it sees; the
planner is the daemon's own (`jobs.scheduling.polling.plan`), replanned after every poll as the
daemon does, driven by a simulated clock. Delays are from publication to the poll that
sees it (alerts are evaluated right after that crawl)."""

import argparse
import random
import statistics
import sys
from collections import deque
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from jobs.scheduling.polling import MONTH, plan
from jobs.scheduling.schedule import trigger_for
from series.releases import History, Release, parse_hint

ZONE = ZoneInfo("America/New_York")
HINT = "monthly, days 10-20, hours 9-17"
BUDGET = 300
START = datetime(2026, 1, 1, tzinfo=ZONE)
USUAL_HOURS = (9, 17)  # "the site's usual publishing hours" for the delay target
SKIPPED_MONTH = 9  # September's figures are not published on time ...
LATE_MONTH = 4  # ... and April's come on the 27th of May


def publications(seed: int, start: datetime = START) -> list[tuple[str, datetime]]:
    """(period, published at) for twelve months, as described in the module docstring."""
    draw = random.Random(seed)
    found = []
    for month in range(1, 13):
        period = f"{start.year}-{month:02d}"
        year, after = (start.year + 1, 1) if month == 12 else (start.year, month + 1)
        day = 27 if month == LATE_MONTH else draw.randint(13, 19)
        minute = draw.randint(10 * 60, 16 * 60 - 1)
        at = datetime.combine(datetime(year, after, day).date(), time(0), ZONE)
        found.append((period, at + timedelta(minutes=minute)))
    return [(p, at) for p, at in found if not p.endswith(f"-{SKIPPED_MONTH:02d}")]


Strategy = Callable[[datetime, list[Release], deque], datetime]


def auto(budget: int) -> Strategy:
    hint = parse_hint(HINT)

    def next_poll(now: datetime, seen: list[Release], recent: deque) -> datetime:
        history = History(seen, watching_since=START)
        planned = plan(history, hint, ZONE, now=now, budget=budget, spent=len(recent))
        found = planned.next_poll(now)
        assert found is not None
        return found

    return next_poll


def cron(line: str) -> Strategy:
    trigger = trigger_for(line, ZONE)

    def next_poll(now: datetime, seen: list[Release], recent: deque) -> datetime:
        moment = now + timedelta(seconds=1)
        while (fire := trigger.get_next_fire_time(None, moment)) <= now:
            moment += timedelta(minutes=1)  # the hour that repeats when clocks go back
        return fire

    return next_poll


def simulate(strategy: Strategy, published: list[tuple[str, datetime]]) -> dict:
    """Poll from START until every publication was seen and a year has passed."""
    end = max(START + timedelta(days=365), published[-1][1] + timedelta(days=2))
    waiting = list(published)
    seen: list[Release] = []
    recent: deque[datetime] = deque()  # polls in the last 30 days
    delays: list[dict] = []
    polls = 0
    previous: datetime | None = None
    now = START
    while now < end:
        following = strategy(now, seen, recent)
        assert following > now, f"{following} does not follow {now}"
        now = following
        polls += 1
        recent.append(now)
        while recent and recent[0] <= now - MONTH:
            recent.popleft()
        out = [(period, at) for period, at in waiting if at <= now]
        if out:
            waiting = waiting[len(out) :]
            seen.append(Release(seen_at=now, period=out[-1][0], not_before=previous))
            for period, at in out:
                in_hours = USUAL_HOURS[0] <= at.astimezone(ZONE).hour < USUAL_HOURS[1]
                delays.append({"period": period, "minutes": (now - at) / timedelta(minutes=1),
                               "usual_hours": in_hours})  # fmt: skip
        previous = now
    days = (now - START) / timedelta(days=1)
    usual = [d["minutes"] for d in delays if d["usual_hours"]]
    return {
        "polls": polls,
        "polls_per_month": polls / days * 30,
        "median_delay_min": statistics.median(usual),
        "max_delay_min": max(d["minutes"] for d in delays),
        "delays": delays,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument(
        "--other-seeds", type=int, nargs="*", default=list(range(1, 9)),
        help="also run auto on these draws and report its median delay and requests",
    )  # fmt: skip
    args = parser.parse_args()
    published = publications(args.seed)
    strategies = {
        f'auto ("{HINT}", budget {args.budget})': auto(args.budget),
        "cron daily 09:47": cron("47 9 * * *"),
        "cron every 10 minutes": cron("*/10 * * * *"),
    }
    results = {name: simulate(strategy, published) for name, strategy in strategies.items()}
    others = {}
    for seed in args.other_seeds:  # the same year drawn again: how much luck is in it
        found = simulate(auto(args.budget), publications(seed))
        others[seed] = {k: found[k] for k in ("median_delay_min", "polls_per_month")}
    data = {
        "seed": args.seed,
        "budget": args.budget,
        "publications": [(period, at.isoformat()) for period, at in published],
        "strategies": results,
        "other_seeds": others,
        "machine": harness.machine(),
    }
    path = harness.write_results("polling", data)
    print(render(data))
    print(f"\nresults in {path}")


def render(data: dict) -> str:
    rows = [
        [name, f"{r['median_delay_min']:.0f}", f"{r['max_delay_min'] / 60:.1f}",
         f"{r['polls_per_month']:.0f}", r["polls"]]
        for name, r in data["strategies"].items()
    ]  # fmt: skip
    header = ["strategy", "median delay min (usual hours)", "max delay h", "requests/month",
              "requests/year"]  # fmt: skip
    others = data.get("other_seeds", {})
    spread = ""
    if others:
        delays = ", ".join(f"{o['median_delay_min']:.0f}" for o in others.values())
        polls = [o["polls_per_month"] for o in others.values()]
        seeds = ", ".join(map(str, others))
        spread = (
            f"\n\n`auto` on {len(others)} other draws (seeds {seeds}): median "
            f"delay {delays} min; {min(polls):.0f}-{max(polls):.0f} requests a month."
        )
    return (
        harness.table(rows, header)
        + spread
        + (
            f"\n\n_Seed {data['seed']}: {len(data['publications'])} releases in the simulated "
            f"year (one month skipped, one late). Simulated clock: no wall time measured._"
        )
    )


if __name__ == "__main__":
    main()
