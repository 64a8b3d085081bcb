"""Grouping in a real alice-agent with a real webhook receiver: the simulator's `hang` with
inhibition off (so every alert is told), the alerts grouped by component. Each POST carries
one component's group (groupKey, groupLabels, commonLabels), a told group is told again
only group_interval later, several alerts ride in one notice, and after recovery every
alert told firing is told resolved."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from agentproc import write_config
from alertmanager import free_port
from webhooks import Receiver

COMPONENTS = ("backend", "gateway", "prometheus")
INTERVAL_S = 6.0


@dataclass
class Timed(Receiver):
    """A recording webhook receiver that also notes when each request arrived."""

    arrived: list[float] = field(default_factory=list)

    async def handle(self, request):
        self.arrived.append(time.monotonic())
        return await super().handle(request)


def ours(alerts):
    return [a for a in alerts if a["labels"].get("component") in COMPONENTS]


def told_firing(hook) -> set[str]:
    return {a["labels"]["alertname"] for r in hook.requests if isinstance(r.body, dict)
            for a in r.body["alerts"] if a["status"] == "firing"}


async def test_the_hang_is_told_one_notice_per_component_group(tmp_path, sim, start_agent,
                                                               webhook_receiver):
    hook = await webhook_receiver.listen(Timed(free_port()))
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "s.db",
                          components=COMPONENTS,
                          alerts={"inhibit": False, "repeat_interval_s": 3600,
                                  "group_by": ["component"], "group_interval_s": INTERVAL_S},
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
    agent = await start_agent(config)
    await agent.wait_for(lambda s: len(s["components"]) >= 4 and not any(
        a["state"] in ("firing", "pending") for a in ours(s["alerts"])), "a quiet start", 30)
    sim.set_scenario("hang")
    snap = await agent.wait_for(
        lambda s: sum(a["state"] == "firing" for a in ours(s["alerts"])) >= 8,
        "the hang's alerts firing", 40)
    fired = {a["name"] for a in ours(snap["alerts"]) if a["state"] == "firing"}
    await agent.wait_for(lambda _: fired <= told_firing(hook), "every firing alert told",
                         2 * INTERVAL_S + 15)
    sim.set_scenario("normal")
    await agent.wait_for(lambda s: not any(a["state"] in ("firing", "pending")
                                           for a in ours(s["alerts"])), "recovery", 90)
    await agent.wait_for(lambda s: s["agent"]["outbox_pending"] == 0, "an empty outbox",
                         INTERVAL_S + 15)
    agent.close()

    posts = [r.body for r in hook.requests if isinstance(r.body, dict)
             and any(a["labels"].get("component") in COMPONENTS for a in r.body["alerts"])]
    told = [(a["labels"]["alertname"], a["startsAt"]) for p in posts for a in p["alerts"]
            if a["status"] == "firing"]
    assert len(told) >= 8, told
    for post in posts:  # one component's group per notice
        component = post["groupLabels"]["component"]
        assert post["groupKey"] == f'{{}}:{{component="{component}"}}'
        assert {a["labels"]["component"] for a in post["alerts"]} == {component}
        assert post["commonLabels"]["component"] == component
    firing_posts = [p for p in posts if p["status"] == "firing"]
    assert len(firing_posts) < len(told), "no notice carried more than one alert"
    # a told group waits group_interval between notices (arrival times, a little slack),
    # except the notice that ends its episode (nothing of it firing after it) and a repeat
    # (an escalation of an alert told firing): those are told at once
    last: dict[str, float] = {}
    firing: dict[str, set[str]] = {}
    seen: set[tuple[str, str]] = set()
    for request, at in zip(hook.requests, hook.arrived):
        body = request.body if isinstance(request.body, dict) else {}
        component = body.get("groupLabels", {}).get("component")
        if component not in COMPONENTS:
            continue
        now_firing = firing.setdefault(component, set())
        episodes = {(a["labels"]["alertname"], a["startsAt"]) for a in body["alerts"]
                    if a["status"] == "firing"}
        repeat, seen = bool(episodes & seen), seen | episodes
        for a in body["alerts"]:
            (now_firing.add if a["status"] == "firing" else now_firing.discard)(
                a["labels"]["alertname"])
        if component in last and now_firing and not repeat:
            assert at - last[component] >= INTERVAL_S - 1.0, (component, at - last[component])
        last[component] = at
        if not now_firing:
            del last[component]  # the episode is over: the next alert starts a new group
    resolved = {(a["labels"]["alertname"], a["startsAt"]) for p in posts
                for a in p["alerts"] if a["status"] == "resolved"}
    assert set(told) <= resolved  # every announced alert is told resolved
