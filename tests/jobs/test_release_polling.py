"""Release-aware polling and late-release alerts, replayed over synthetic history.

A CBP-like monthly source (America/New_York) publishes month M's figure mid-month M+1.
Its history is made of real runs and observations in a real SQLite file, written with a
simulated clock: January-March each release is seen by a run 5 minutes after it was
published, the run before having found nothing new. Then April to July are replayed
with the daemon's planner deciding every poll: April's release is skipped (March's and
April's figures come together on 14 May), July's comes late (24 July). The late-release
rule is evaluated after every poll, as the daemon does after every crawl."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.engine import evaluate
from alerts.rules.late import LateRelease
from core import clock
from jobs.scheduling import polling
from series.releases import History, Release, history, learn, parse_hint
from storage import Event, MetricEntry, Observation, Store

ZONE = ZoneInfo("America/New_York")
SOURCE = "cbp"
METRIC = "cbp.swb.encounters"
HINT = "monthly, days 10-20, hours 9-17"
BUDGET = 300


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


# (period, published): March has no release of its own in April (skipped).
SEEDED = [("2025-12", at("2026-01-15 10:30")), ("2026-01", at("2026-02-17 11:00")),
          ("2026-02", at("2026-03-13 14:20"))]  # fmt: skip
REPLAYED = [("2026-03", at("2026-05-14 10:10")), ("2026-04", at("2026-05-14 10:10")),
            ("2026-05", at("2026-06-16 15:40")), ("2026-06", at("2026-07-24 11:00"))]  # fmt: skip


class Clock:
    """storage's clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = at("2026-01-05 09:00")
        monkeypatch.setattr(clock, "now", lambda: clock.to_text(self.now))


def poll(store: Store, moment: datetime, published: list[tuple[str, datetime]]) -> bool:
    """One crawl at `moment`: store what the site shows by then. True if it was new."""
    run = store.runs.start(SOURCE, trigger="schedule")
    shown = [(period, value) for value, (period, when) in enumerate(published) if when <= moment]
    result = store.observations.upsert(
        [Observation(METRIC, period, 1000.0 + value) for period, value in shown],
        snapshot_id=None,
    )
    store.runs.finish(run, "ok" if result.new else "unchanged")
    return bool(result.new)


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Seed January-March, then replay April-July with the planner. Returns the polls,
    the alert events and the plans made on the first of each month."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _replay(Clock(monkeypatch), tmp_path_factory.mktemp("replay"))


def _replay(moments: "Clock", folder):
    store = Store(folder / "crossings.db")
    store.catalog.describe_metrics([MetricEntry(METRIC, label="Encounters", source=SOURCE)])
    back_catalogue = [(f"2025-{month:02d}", at("2025-12-31 00:00")) for month in range(1, 12)]
    published = back_catalogue + SEEDED
    rule = LateRelease(name="cbp-late", source=SOURCE, description="CBP monthly encounters",
                       releases=HINT, timezone="America/New_York")  # fmt: skip
    moments.now = at("2026-01-05 09:00")
    poll(store, moments.now, published)  # the first crawl: the back catalogue
    for _, when in SEEDED:
        for moment in (when - timedelta(minutes=5), when + timedelta(minutes=5)):
            moments.now = moment
            poll(store, moment, published)
    published += REPLAYED
    hint = parse_hint(HINT)
    polls: list[datetime] = []
    events: list[Event] = []
    plans: dict[str, polling.Plan] = {}
    now = at("2026-04-01 00:00")
    while now < at("2026-08-01 00:00"):
        moments.now = now
        poll(store, now, published)
        polls.append(now)
        events += evaluate(store, {rule.name: rule}, now=now)
        spent = store.releases.polls(SOURCE, since=clock.to_text(now - polling.MONTH))
        plan = polling.plan(history(store, SOURCE), hint, ZONE, now=now, budget=BUDGET,
                            spent=spent)  # fmt: skip
        plans.setdefault(now.strftime("%Y-%m"), plan)
        following = plan.next_poll(now)
        assert following is not None and following > now
        now = following
    yield polls, events, plans
    store.close()


def in_month(moments: list[datetime], month: str) -> list[datetime]:
    return [m for m in moments if m.strftime("%Y-%m") == month]


def test_history_from_storage_counts_releases_not_the_back_catalogue(tmp_path, monkeypatch):
    moments = Clock(monkeypatch)
    store = Store(tmp_path / "crossings.db")
    store.catalog.describe_metrics([MetricEntry(METRIC, source=SOURCE)])
    published = [("2025-10", at("2025-11-01 00:00")), ("2025-11", at("2025-12-01 00:00"))]
    poll(store, at("2026-01-05 09:00"), published)
    published += SEEDED
    for _, when in SEEDED:
        for moment in (when - timedelta(minutes=5), when + timedelta(minutes=5)):
            moments.now = moment
            poll(store, moment, published)
    known = history(store, SOURCE)
    assert [r.period for r in known.releases] == ["2025-12", "2026-01", "2026-02"]
    assert known.releases[0].seen_at == at("2026-01-15 10:35")
    assert known.releases[0].not_before == at("2026-01-15 10:25")
    assert known.watching_since == at("2026-01-05 09:00")
    store.close()


def test_too_little_history_uses_the_hint_and_says_so():
    releases = [Release(at("2026-01-15 10:35"), "2025-12", at("2026-01-15 10:25"))]
    assert not learn(releases, None, ZONE).known
    assert "1 release(s) seen, 4 needed" in learn(releases, None, ZONE).words()
    hinted = learn(releases, parse_hint(HINT), ZONE)
    assert (hinted.basis, hinted.days, hinted.hours) == ("hint", (10, 20), (9, 17))
    # no history, no hint: auto spreads its budget evenly; beside a cron, only the cron
    known = History(releases, watching_since=at("2026-01-05 09:00"))
    even = polling.plan(known, None, ZONE, now=at("2026-02-01 00:00"), budget=300)
    assert even.window is None and even.sparse == timedelta(hours=2.4)
    assert "not known yet" in even.words()
    cron = polling.plan(known, None, ZONE, now=at("2026-02-01 00:00"), budget=300, auto=False)
    assert cron.next_poll(at("2026-02-01 00:00")) is None


def test_skipped_month_does_not_break_the_learned_window(replay):
    _, _, plans = replay
    july = plans["2026-07"]
    assert july.cadence.basis == "learned"
    assert "learned from 5 releases" in july.cadence.words()
    # monthly, although a two-month gap (the skip) is among four; published on days 13-17,
    # but five releases are too few to narrow the hint's days 10-20 yet
    assert july.cadence.monthly and july.cadence.days == (10, 20)
    # published between 10:10 and 15:40: the hours cover them and the hint's 9-17
    opens, closes = july.cadence.hours
    assert opens == 9 and 17 <= closes <= 19
    window = (at("2026-07-10 09:00"), at(f"2026-07-20 {closes:02d}:00"))
    assert (july.window.start, july.window.end) == window
    assert july.due == july.window
    assert polling.DENSE_FLOOR <= july.dense <= timedelta(minutes=40)
    minutes = july.dense.seconds // 60
    assert f"every {minutes} minutes in publishing hours during 10 Jul" in july.words()


def test_enough_releases_narrow_the_window_and_a_late_one_does_not_widen_it():
    days = [15, 13, 17, 14, 16, 27, 13, 15]  # the sixth came late (the 27th)
    releases = [
        Release(at(f"2026-{month:02d}-{day} 11:05"), f"2026-{month - 1:02d}",
                at(f"2026-{month:02d}-{day} 10:55"))
        for month, day in enumerate(days, start=2)
    ]  # fmt: skip
    cadence = learn(releases, parse_hint(HINT), ZONE)
    assert (cadence.basis, cadence.monthly, cadence.days) == ("learned", True, (13, 17))
    assert not cadence.irregular
    assert cadence.hours == (9, 17)  # 10:00-13:00 learned, widened by the hint's 9-17


def test_polls_densely_in_the_window_and_stay_within_budget(replay):
    polls, _, plans = replay
    july = plans["2026-07"]
    for month in ("2026-04", "2026-05", "2026-06", "2026-07"):
        assert len(in_month(polls, month)) <= BUDGET, month
    opens, closes = july.cadence.hours
    inside = [p for p in polls if july.window.contains(p) and opens <= p.hour < closes]
    gaps = {b - a for a, b in itertools.pairwise(inside) if b.date() == a.date()}
    assert gaps == {july.dense}
    # every publishing hour of the window's days is polled at that pace, from the opening
    days = (july.window.end.date() - july.window.start.date()).days + 1
    per_day = (closes - opens) * timedelta(hours=1) / july.dense
    assert len(inside) == pytest.approx(days * per_day, abs=days)
    assert inside[0] == july.window.start
    # before the window: daily; a month costs a fraction of a 10-minute cron's 4,300
    before = [p for p in in_month(polls, "2026-07") if p < july.window.start]
    assert len(before) <= 13
    assert len(in_month(polls, "2026-06")) < 4300 / 10


def test_late_release_fires_after_the_grace_and_resolves_saying_how_late(replay):
    polls, events, plans = replay
    window = plans["2026-07"].window
    late = [e for e in events if e.period == "2026-07-20"]
    assert [e.kind for e in late] == ["firing", "resolved"]
    firing, resolved = late
    deadline = window.end + timedelta(days=1)
    first_after = min(p for p in polls if p > deadline)
    assert clock.parse(firing.at) == first_after
    assert first_after - deadline <= polling.OFF_HOURS
    assert "expected by 20 July 2026" in firing.summary
    assert "not published yet" in firing.summary
    # the release came on 24 July 11:00; it is seen at the first poll after that
    seen = min(p for p in polls if p >= at("2026-07-24 11:00"))
    assert clock.parse(resolved.at) == seen
    assert seen - at("2026-07-24 11:00") <= polling.OVERDUE
    late_by = seen - window.end
    assert f"{late_by.days} days" in resolved.summary
    assert "period 2026-06 first seen 24 July 2026" in resolved.summary


def test_skipped_month_fires_from_the_hint_and_resolves_when_both_arrive(replay):
    _, events, _ = replay
    april = [e for e in events if e.period == "2026-04-20"]
    assert [e.kind for e in april] == ["firing", "resolved"]
    assert clock.parse(april[0].at) > at("2026-04-21 17:00")
    assert clock.parse(april[0].at) < at("2026-04-22 17:00")
    assert clock.parse(april[1].at) >= at("2026-05-14 10:10")
    assert "period 2026-04 first seen 14 May 2026" in april[1].summary  # with 2026-03
    # June's release came within the learned window's grace: nothing fired
    assert not [e for e in events if e.period.startswith("2026-06")]


def polls_over(plan: polling.Plan, start: datetime, days: int) -> list[datetime]:
    """Every poll a fixed plan makes from `start` for `days` days (no replanning)."""
    found, moment = [], start
    while (following := plan.next_poll(moment)) is not None and following < start + timedelta(
        days=days
    ):
        found.append(following)
        moment = following
    return found


def monthly(days: list[int], hour: int = 11) -> list[Release]:
    return [
        Release(at(f"2026-{month:02d}-{day:02d} {hour}:05"), f"2026-{month - 1:02d}",
                at(f"2026-{month:02d}-{day:02d} {hour - 1}:55"))
        for month, day in enumerate(days, start=2)
    ]  # fmt: skip


def test_beside_a_cron_line_only_the_window_is_planned():
    known = History(monthly([14, 16, 13, 17, 15, 16, 14]), watching_since=at("2026-01-05 09:00"))
    plan = polling.plan(known, None, ZONE, now=at("2026-09-01 00:00"), budget=300, auto=False)
    assert plan.sparse is None and plan.window is not None
    # nothing before the window: the cron polls there; the window's opening is polled
    assert plan.next_poll(at("2026-09-01 00:00")) == plan.window.start
    inside = plan.window.start + timedelta(hours=1)
    assert plan.next_poll(inside) == inside + plan.dense


def test_a_fortnightly_source_is_learned_as_an_interval():
    seen = [at("2026-01-06 10:05") + timedelta(days=14 * k + k % 2) for k in range(6)]
    releases = [Release(s, f"2026-W{k:02d}", s - timedelta(minutes=10)) for k, s in enumerate(seen)]
    cadence = learn(releases, None, ZONE)
    assert cadence.basis == "learned" and not cadence.monthly
    assert timedelta(days=14) <= cadence.cycle <= timedelta(days=15)
    assert cadence.words().startswith("every 15 days (12 days to 16 days)")  # 13 or 15
    window = polling.plan(History(releases, None), None, ZONE, now=seen[-1], budget=300).window
    assert window.start <= seen[-1] + timedelta(days=14) < window.end


def test_irregular_releases_widen_the_window_never_the_request_count():
    regular = polling.plan(
        History(monthly([14, 16, 13, 17, 15, 16, 14]), None), None, ZONE,
        now=at("2026-09-01 00:00"), budget=300,
    )  # fmt: skip
    scattered = polling.plan(
        History(monthly([6, 18, 9, 16, 11, 17, 7]), None), None, ZONE,
        now=at("2026-09-01 00:00"), budget=300,
    )  # fmt: skip
    assert scattered.cadence.irregular and not regular.cadence.irregular
    width = scattered.window.end - scattered.window.start
    assert width > regular.window.end - regular.window.start
    assert scattered.dense > regular.dense
    for plan in (regular, scattered):  # a release that never comes: the worst month
        assert len(polls_over(plan, at("2026-09-01 00:00"), 30)) <= 300


def test_a_spent_budget_of_one_says_the_interval_it_polls_at():
    """Issue 28: with budget = 1 the plan said 'polling every 1 day only' while the next
    poll was 30 days away. The words and the next poll now say the same."""
    releases = [Release(at("2026-01-15 10:35"), "2025-12", at("2026-01-15 10:25"))]
    known = History(releases, watching_since=at("2026-01-05 09:00"))
    hint = parse_hint(HINT)
    spent = polling.plan(known, hint, ZONE, now=at("2026-02-01 00:00"), budget=1, spent=1)
    assert spent.over_budget and spent.sparse == timedelta(days=1)
    assert spent.words().startswith("budget spent: polling every 30 days only")
    assert spent.next_poll(at("2026-02-01 00:00")) == at("2026-03-03 00:00")
