"""Maintenance windows (pure): the cron parser, which run is in force, the window as a
silence, and the start/end notices on a fake clock; the agent's controller queues them."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from agent.maintenance import MaintenanceController
from alerts.maintenance import Window, changes, occurrence, parse_cron, silences
from alerts.silence import is_silenced


def ts(text: str, tz=timezone.utc) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


@pytest.mark.parametrize("expr, when, expected", [
    ("0 2 * * sun", "2026-12-06 02:00", True),      # a Sunday
    ("0 2 * * sun", "2026-12-07 02:00", False),     # Monday
    ("0 2 * * 7", "2026-12-06 02:00", True),        # 7 is Sunday too
    ("*/15 * * * *", "2026-12-04 10:45", True),
    ("*/15 * * * *", "2026-12-04 10:50", False),
    ("30 1-3 * * *", "2026-12-04 03:30", True),
    ("0 0 1 jan,jul *", "2026-07-01 00:00", True),
    ("0 0 13 * fri", "2026-12-04 00:00", True),     # Vixie: day 13 OR a Friday
    ("0 0 13 * fri", "2026-12-13 00:00", True),
    ("0 0 13 * fri", "2026-12-12 00:00", False),
    ("5-50/15 * * * *", "2026-12-04 10:35", True),
])
def test_cron_matches(expr, when, expected):
    assert parse_cron(expr).matches(datetime.fromisoformat(when)) is expected


@pytest.mark.parametrize("expr, says", [
    ("* * * *", "expected 5 fields"), ("60 * * * *", "minute: '60' is not in 0-59"),
    ("* 24 * * *", "hour"), ("* * 0 * *", "day of month"), ("* * * foo *", "month"),
    ("* * * * 8", "day of week"), ("5-1 * * * *", "runs backwards"),
    ("*/0 * * * *", "bad step"),
])
def test_cron_errors_name_the_field(expr, says):
    with pytest.raises(ValueError, match=says):
        parse_cron(expr)


SUNDAY = Window("ollama-update", parse_cron("0 2 * * sun"), 3600, 'component="ollama"',
                "weekly model update")


@pytest.mark.parametrize("now, start", [
    ("2026-12-06 01:59:59", None), ("2026-12-06 02:00:00", "2026-12-06 02:00:00"),
    ("2026-12-06 02:59:59", "2026-12-06 02:00:00"), ("2026-12-06 03:00:00", None),
    ("2026-12-07 02:30:00", None),
])
def test_occurrence(now, start):
    assert occurrence(SUNDAY, ts(now)) == (None if start is None else ts(start))


def test_the_cron_is_read_in_the_windows_zone():
    zone = ZoneInfo("Europe/Stockholm")
    local = Window("w", parse_cron("0 2 * * *"), 600, 'component="ollama"', "r", tz=zone)
    assert occurrence(local, ts("2026-12-06 01:05")) == ts("2026-12-06 01:00")  # 02:00 CET
    assert occurrence(local, ts("2026-07-06 00:05")) == ts("2026-07-06 00:00")  # CEST


def test_a_window_silences_only_what_it_matches_while_in_force():
    now = ts("2026-12-06 02:10")
    active = silences([SUNDAY], now)
    assert [(s.id, s.comment) for s in active] == [("maintenance-ollama-update",
                                                    "weekly model update")]
    assert is_silenced({"alertname": "ollama_health", "component": "ollama"}, active, now)
    assert not is_silenced({"alertname": "openai_health", "component": "openai"}, active, now)
    assert silences([SUNDAY], ts("2026-12-06 03:10")) == []


def test_start_and_end_notices_once_each():
    announced: dict = {}
    steps = []
    for now in ("2026-12-06 01:59", "2026-12-06 02:00", "2026-12-06 02:30",
                "2026-12-06 03:00", "2026-12-06 03:01"):
        notices, announced = changes([SUNDAY], announced, ts(now))
        steps.append([(n.status, n.labels["window"]) for n in notices])
    assert steps == [[], [("firing", "ollama-update")], [], [("resolved", "ollama-update")],
                     []]


def test_notices_carry_the_reason_and_a_key_per_run():
    start, _ = changes([SUNDAY], {}, ts("2026-12-06 02:00"))
    again, _ = changes([SUNDAY], {}, ts("2026-12-06 02:20"))  # e.g. after a restart
    assert start[0].dedupe_key == again[0].dedupe_key  # the store queues it once
    assert "weekly model update" in start[0].annotations["summary"]
    assert start[0].alertname == "maintenance_window" and start[0].severity == "info"
    later, _ = changes([SUNDAY], {}, ts("2026-12-13 02:00"))
    assert later[0].dedupe_key != start[0].dedupe_key  # next week's run is another


def test_controller_queues_notices_for_every_receiver_and_returns_silences():
    queued = []
    controller = MaintenanceController([SUNDAY], ["log", "hook"],
                                       lambda items, audit: queued.append((items, audit)))
    assert controller.tick(ts("2026-12-06 01:00")) == [] and queued == []
    held = controller.tick(ts("2026-12-06 02:01"))
    assert [s.id for s in held] == ["maintenance-ollama-update"]
    (items, audit), = queued
    assert sorted(i.receiver for i in items) == ["hook", "log"]
    assert [a.action for a in audit] == ["maintenance.start"]
    controller.tick(ts("2026-12-06 02:02"))
    assert len(queued) == 1  # told once
    controller.tick(ts("2026-12-06 03:00"))
    assert [a.action for a in queued[-1][1]] == ["maintenance.end"]


async def _tick_loaded(controller, now):
    """Tick until the saved runs are loaded (the first tick starts the read)."""
    import asyncio

    for _ in range(100):
        held = controller.tick(now)
        if controller.loaded:
            return held
        await asyncio.sleep(0.01)
    raise AssertionError("the announced runs were never loaded")


async def test_announced_runs_survive_a_restart_in_the_state_file(tmp_path):
    """Time passes on a fake clock while the 'agent' is down: its end is told once on start,
    and a restart inside the run tells nothing; the record commits with the notices."""
    from agent.store import Store
    from agent.store.maintenance_runs import load_announced

    async def life(now):
        """One agent life: load what was announced, tick, commit what was queued."""
        queued, writes = [], {}
        with Store.open(tmp_path / "state.db") as store:
            async def load():
                return load_announced(store)
            controller = MaintenanceController([SUNDAY], ["hook"],
                                               lambda items, audit: queued.extend(items),
                                               write=writes.__setitem__, load=load)
            await _tick_loaded(controller, now)
            store.commit_cycle(now, outbox=queued, writes=list(writes.values()))
        return [(i.kind, i.payload["labels"]["window"]) for i in queued]

    assert await life(ts("2026-12-06 02:01")) == [("firing", "ollama-update")]
    assert await life(ts("2026-12-06 02:30")) == []              # restarted inside the run
    assert await life(ts("2026-12-06 05:00")) == [("resolved", "ollama-update")]  # was down
    assert await life(ts("2026-12-06 06:00")) == []              # told once
