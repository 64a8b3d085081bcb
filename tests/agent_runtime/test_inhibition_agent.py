"""Inhibition in a real agent: the simulator's `hang` with the backend, its voice gateway and
the Prometheus that watches them configured. Ten alerts follow from three hung services;
the webhook is told about the three, the rest are shown under their cause and never
announced, and after recovery every announced alert is told resolved."""

from __future__ import annotations

import asyncio
import json
import time

from agentproc import alert, alice_ops, write_config


COMPONENTS = ("backend", "gateway", "prometheus")


def ours(alerts):
    """The alerts of the configured components (the host's CPU alert follows the test
    machine's load, not the simulator)."""
    return [a for a in alerts if a["labels"].get("component") in COMPONENTS]


def firing_told(requests) -> dict[str, int]:
    """alertname -> firing alert entries the receiver got."""
    out: dict[str, int] = {}
    for request in requests:
        body = request.body if isinstance(request.body, dict) else {}
        for entry in body.get("alerts", []):
            if entry.get("status") == "firing" and \
                    entry["labels"].get("component") in COMPONENTS:
                name = entry["labels"]["alertname"]
                out[name] = out.get(name, 0) + 1
    return out


def resolved_told(requests) -> set[str]:
    return {e["labels"]["alertname"] for r in requests if isinstance(r.body, dict)
            for e in r.body.get("alerts", []) if e.get("status") == "resolved"
            and e["labels"].get("component") in COMPONENTS}


async def _hang(tmp_path, sim, start_agent, hook, inhibit: bool, run: str):
    config = write_config(tmp_path / f"{run}.yaml", sim.urls, data_path=tmp_path / f"{run}.db",
                          components=COMPONENTS,
                          alerts={"inhibit": inhibit, "repeat_interval_s": 3600},
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
    agent = await start_agent(config)
    await agent.wait_for(lambda s: len(s["components"]) >= 4 and not any(
        a["state"] in ("firing", "pending") for a in ours(s["alerts"])), "a quiet start", 30)
    sim.set_scenario("hang")
    snap = await agent.wait_for(
        lambda s: sum(a["state"] == "firing" for a in ours(s["alerts"])) >= 8
        and all((alert(s, f"{c}_health") or {}).get("state") == "firing" for c in COMPONENTS),
        "the hang's alerts firing", 40)
    await agent.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox", 15)
    during = firing_told(hook.requests)
    listed = await alice_ops("--json", "alerts", "--data", str(tmp_path / f"{run}.db"), "list")
    sim.set_scenario("normal")
    await agent.wait_for(lambda s: not any(a["state"] in ("firing", "pending")
                                           for a in ours(s["alerts"])), "recovery", 90)
    await agent.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox", 15)
    agent.close()
    return snap, during, json.loads(listed)["alerts"]


async def test_the_hang_tells_its_three_causes_not_every_alert(tmp_path, sim, start_agent,
                                                               webhook_receiver):
    hook = await webhook_receiver()
    snap, during, listed = await _hang(tmp_path, sim, start_agent, hook, True, "on")
    firing = [a for a in ours(snap["alerts"]) if a["state"] == "firing"]
    held = {a["name"]: a["inhibited_by"] for a in firing if a["inhibited_by"]}
    roots = {f"{c}_health" for c in COMPONENTS}
    assert len(firing) >= 8 and len(held) >= 5, firing
    assert set(held.values()) <= roots and not roots & set(held)
    assert set(during) == roots and len(during) <= 3, during
    # shown under the cause: each inhibited alert follows its cause (or a sibling of it)
    names = [a["name"] for a in snap["alerts"]]
    for name, cause in held.items():
        between = names[names.index(cause) + 1:names.index(name)]
        assert all(held.get(n) == cause for n in between), (name, cause, names)
    # every alert carries its cause in words
    assert all(a["cause"] for a in firing), firing
    # alerts list (from the state file): the cause in words, inhibited ones under theirs
    rows = [a for a in listed if a["labels"].get("component") in COMPONENTS
            and a["state"] == "firing"]
    assert rows and all(a["cause"] for a in rows), rows
    listed_held = {a["name"]: a["inhibited_by"] for a in rows if a["inhibited_by"]}
    assert listed_held and set(listed_held.values()) <= roots, rows
    shown = [a["name"] for a in rows]
    assert all(shown.index(a["inhibited_by"]) < shown.index(a["name"]) for a in rows
               if a["inhibited_by"] in shown)
    # recovery: nothing was announced late or twice; every announced alert resolved
    after = firing_told(hook.requests)
    assert after == {r: 1 for r in roots}, after
    assert resolved_told(hook.requests) == roots


async def test_without_inhibition_every_alert_is_told(tmp_path, sim, start_agent,
                                                      webhook_receiver):
    hook = await webhook_receiver()
    started = time.monotonic()
    snap, during, _ = await _hang(tmp_path, sim, start_agent, hook, False, "off")
    assert not any(a["inhibited_by"] for a in snap["alerts"])
    firing = {a["name"] for a in ours(snap["alerts"]) if a["state"] == "firing"}
    assert len(during) >= 8 and set(during) <= firing | set(during), during
    assert time.monotonic() - started < 300
    await asyncio.sleep(0)
