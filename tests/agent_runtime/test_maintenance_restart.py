"""Maintenance windows across restarts of a real alice-agent (killed with SIGKILL): which
runs were announced is committed with their notices, so a restart inside a run does not
announce it again (one notice, one audit record), and an agent that was down when a run
ended tells its end once when it starts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from agentproc import notices, write_config
from agent.store import Store

WINDOW = "openai-maint"


def _config(tmp_path, sim, hook, cron: str, duration_s: float):
    window = {"name": WINDOW, "cron": cron, "duration_s": duration_s,
              "matchers": 'component="openai"', "reason": "rotating the OpenAI key"}
    return write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "state.db",
                        alerts={"maintenance": [window]},
                        notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})


def _cron(at: datetime) -> str:
    return f"{at.minute} {at.hour} * * *"


def _audit(tmp_path, action: str) -> list:
    with Store.open(tmp_path / "state.db", read_only=True) as store:
        return store.audit_log(100, action=action)


async def _told(agent, hook, status: str, what: str):
    await agent.wait_for(lambda _: notices(hook.requests, "maintenance_window", status),
                         what, timeout_s=15)


async def _cycles(agent, more: int):
    """Wait until the agent ran `more` probe jobs beyond the ones it has run now (so its
    maintenance tick has run after loading what was announced)."""
    snap = await agent.wait_for(lambda s: s, "a snapshot")
    done = sum(snap["agent"]["cycles_total"].values())
    await agent.wait_for(lambda s: sum(s["agent"]["cycles_total"].values()) >= done + more,
                         f"{more} more probe jobs")


async def test_a_restart_inside_a_window_does_not_announce_it_again(tmp_path, sim, start_agent,
                                                                    webhook_receiver):
    hook = await webhook_receiver()
    config = _config(tmp_path, sim, hook, _cron(datetime.now(timezone.utc)), 900)
    first = await start_agent(config)
    await _told(first, hook, "firing", "the start notice")
    first.close()  # SIGKILL: nothing is written at exit
    second = await start_agent(config)
    await _cycles(second, 6)
    await second.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox")
    second.close()
    assert len(notices(hook.requests, "maintenance_window", "firing")) == 1
    assert notices(hook.requests, "maintenance_window", "resolved") == []
    assert len(_audit(tmp_path, "maintenance.start")) == 1  # not decided again either


async def test_an_agent_down_when_a_window_ended_tells_the_end_once_on_start(
        tmp_path, sim, start_agent, webhook_receiver):
    hook = await webhook_receiver()
    began = datetime.now(timezone.utc) - timedelta(minutes=2)  # this run started 2 min ago
    first = await start_agent(_config(tmp_path, sim, hook, _cron(began), 900))
    await _told(first, hook, "firing", "the start notice")
    first.close()  # SIGKILL inside the run
    # while it was down the run ended: the same window, 60 s long, is over by now
    second = await start_agent(_config(tmp_path, sim, hook, _cron(began), 60))
    await _told(second, hook, "resolved", "the end notice")
    (end,) = notices(hook.requests, "maintenance_window", "resolved")
    assert end["labels"]["window"] == WINDOW and "ended" in end["annotations"]["summary"]
    await _cycles(second, 6)
    second.close()
    third = await start_agent(_config(tmp_path, sim, hook, _cron(began), 60))
    await _cycles(third, 6)
    await third.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox")
    third.close()
    assert len(notices(hook.requests, "maintenance_window", "resolved")) == 1  # once
    assert len(notices(hook.requests, "maintenance_window", "firing")) == 1
    assert [a.action for a in _audit(tmp_path, "maintenance.end")] == ["maintenance.end"]
