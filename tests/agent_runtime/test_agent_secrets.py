"""Known secrets never leave the agent: not in its logs, its state file, /metrics, the
snapshot, or what receivers get (bar the receiver's own Authorization header)."""

from __future__ import annotations

import json
import signal

import httpx

from agentproc import SIM_KEY, alert, notices, write_config

AGENT_TOKEN = "agent-token-51c0e9f2aa7d"
HOOK_TOKEN = "hook-bearer-0d4f7a9c23e1"
SECRETS = (SIM_KEY, AGENT_TOKEN, HOOK_TOKEN)


def _health(state: str | None, summary_part: str = ""):
    def check(snap: dict) -> bool:
        view = alert(snap, "openai_health") or {}
        openai = next((c for c in snap["components"] if c["name"] == "openai"), None)
        return openai is not None and view.get("state") == state and \
            summary_part in openai["summary"]
    return check


def _leaks(where: str, data: bytes | str) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [f"{where} holds {s[:6]}..." for s in SECRETS if s.encode() in raw]


async def test_no_secret_escapes(tmp_path, sim, start_agent, webhook_receiver):
    hook = await webhook_receiver()
    db = tmp_path / "state.db"
    config = write_config(
        tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
        agent={"token": "${ALICE_TEST_AGENT_TOKEN}"},
        notifiers={"webhooks": [{"name": "hook", "url": hook.url,
                                 "bearer_token": "${ALICE_TEST_HOOK_TOKEN}"}]})
    agent = await start_agent(config, env={"ALICE_TEST_AGENT_TOKEN": AGENT_TOKEN,
                                           "ALICE_TEST_HOOK_TOKEN": HOOK_TOKEN})
    seen: list[tuple[str, bytes | str]] = []

    async def collect(tag: str) -> None:
        seen.append((f"/metrics ({tag})", (await agent.get("/metrics")).content))
        seen.append((f"snapshot ({tag})", (await agent.get("/api/v1/snapshot")).content))

    await agent.wait_for(_health(None, "API reachable"), "openai reachable")
    await collect("normal")
    sim.set_scenario("openai-auth-failure")
    await agent.wait_for(_health("firing", "authentication failed"), "an auth failure alert")
    await collect("auth failure")
    async with httpx.AsyncClient(base_url=agent.url, timeout=5.0) as client:
        made = await client.post("/api/v1/silences", headers={
            "Authorization": f"Bearer {AGENT_TOKEN}"}, json={
            "matchers": "component=host", "duration_s": 600, "comment": "noise"})
        assert made.status_code == 201
        denied = await client.post("/api/v1/acks", headers={
            "Authorization": f"Bearer {AGENT_TOKEN}x"}, json={"alert": "openai_health",
                                                               "comment": "x"})
        assert denied.status_code == 401
        seen.append(("401 answer", denied.content))
    sim.set_scenario("openai-outage")
    await agent.wait_for(_health("firing", "server error"), "the outage")
    agent.signal(signal.SIGHUP)
    await collect("outage")
    sim.set_scenario("normal")
    await agent.wait_for(_health("resolved"), "openai_health resolved")
    # the snapshot shows the resolved alert once it is committed; its notice follows
    await agent.wait_for(lambda s: notices(hook.requests, "openai_health", "resolved")
                         and s["agent"]["outbox_pending"] == 0, "the outbox drained")
    await collect("resolved")
    seen += [(f"{db.name}{suffix} (running)", (tmp_path / f"{db.name}{suffix}").read_bytes())
             for suffix in ("", "-wal") if (tmp_path / f"{db.name}{suffix}").exists()]

    agent.signal(signal.SIGTERM)
    assert await agent.wait_exit() == 0
    seen += [(f"{db.name}{suffix} (stopped)", (tmp_path / f"{db.name}{suffix}").read_bytes())
             for suffix in ("", "-wal") if (tmp_path / f"{db.name}{suffix}").exists()]
    seen.append(("agent stderr+stdout", agent.output_text()))
    assert "config reloaded" in agent.log_text()

    # Not vacuous: the receiver heard the whole story, with its token.
    statuses = [(a["labels"]["alertname"], a["status"]) for r in hook.requests
                for a in r.body["alerts"]]
    assert ("openai_health", "firing") in statuses and ("openai_health", "resolved") in statuses
    for i, request in enumerate(hook.requests):
        assert request.headers["Authorization"] == f"Bearer {HOOK_TOKEN}"
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        seen.append((f"notification {i} headers", json.dumps(headers)))
        seen.append((f"notification {i} body", json.dumps(request.body)))

    leaks = [leak for where, data in seen for leak in _leaks(where, data)]
    assert not leaks, leaks
