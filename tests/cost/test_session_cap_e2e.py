"""The session cap end to end against the simulator's session-runaway scenario: `alice-ops cost
--demo` (human and --json), `alice-ops check --demo --json` (health unaffected), and a real
alice-agent raising `cost_session_cap` with the session's own words."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from agent_runtime.agentproc import AgentProcess, alert

from agent.cli.main import main

KEY = "sim-session-cap-key-5d1e"
NETWORK = ("openai", "ollama", "gateway", "backend", "prometheus")
# four decimals where two would make the spend read as the cap ("0.1004 USD > cap 0.1000 USD")
OVER_CAP = re.compile(r"session sess_sim03 spent \d+\.\d+ USD > cap 0\.10(00)? USD")


def test_cost_demo_names_the_runaway_session_and_exits_critical(capsys):
    assert main(["cost", "--demo", "--json", "--scenario", "session-runaway"]) == 2
    doc = json.loads(capsys.readouterr().out)
    per = doc["per_session"]
    assert per["status"] == "critical" and per["cap_usd"] == 0.1
    top = per["top"][0]
    assert top["session"] == "sess_sim03" and top["level"] == "exceeded"
    assert OVER_CAP.fullmatch(per["text"]), per["text"]
    assert all(t["level"] == "ok" for t in per["top"][1:])  # the others talk normally
    audio = doc["audio"]
    assert audio["model"] == "gpt-realtime" and audio["basis"] == "measured"
    assert audio["measured"]["input_minutes"] > 0 and audio["measured"]["output_minutes"] > 0


def test_cost_demo_human_output_shows_cap_and_audio_minutes_with_units(capsys):
    assert main(["cost", "--demo"]) in (0, 1)  # normal traffic: no session near the cap
    out = " ".join(capsys.readouterr().out.split())  # as read, whatever the terminal width
    assert "session cap 0.10 USD:" in out and "OK" in out
    assert "audio (gpt-realtime): list price 0.0192 USD/min in, 0.0768 USD/min out" in out
    assert "USD per audio minute all in" in out


def test_cost_without_the_series_is_a_blind_spot_not_a_failure(tmp_path, capsys):
    """The alice-main profile's Prometheus has Alice's own series only: no per-session usage."""
    from simulator.server import run_in_thread

    with run_in_thread(api_key=KEY, profile="alice-main") as sim:
        path = tmp_path / "alice-ops.yaml"
        path.write_text(f'targets: {{prometheus: {{url: "{sim.urls["prometheus"]}"}}}}\n'
                        "cost: {session_cap_usd: 0.25}\n")
        main(["cost", "--json", "--config", str(path)])
    per = json.loads(capsys.readouterr().out)["per_session"]
    assert per["status"] == "absent" and per["missing"] == ["alice_realtime_session_tokens_total"]


def test_check_demo_health_is_untouched_by_a_runaway_session(capsys):
    main(["check", "--demo", "--json", "--scenario", "session-runaway"])
    doc = json.loads(capsys.readouterr().out)
    status = {c["name"]: c["status"] for c in doc["components"]}
    assert {name: status[name] for name in NETWORK} == {name: "ok" for name in NETWORK}
    assert "cost" not in status  # check never judges spend


@pytest.fixture
def sim():
    from simulator.server import run_in_thread

    with run_in_thread(api_key=KEY) as threaded:
        yield threaded


def session_cap(snapshot: dict) -> dict | None:
    return next((m for m in snapshot.get("metrics", ())
                 if m["component"] == "cost" and m["name"] == "session_cap"), None)


@pytest.mark.integration
async def test_the_agent_raises_the_session_cap_alert_in_the_sessions_words(sim, tmp_path):
    config = tmp_path / "alice-ops.yaml"
    config.write_text(yaml.safe_dump({
        "targets": {"prometheus": {"url": sim.urls["prometheus"]}, "host": {"gpu": "off"}},
        "cost": {"timezone": "UTC", "session_cap_usd": 0.1,
                 "budgets": {"hourly_usd": 1000, "daily_usd": 1000, "weekly_usd": 1000}},
        "agent": {"listen": "127.0.0.1:0", "data_path": str(tmp_path / "state.db"),
                  "intervals": {"fast_s": 1, "per_component": {"cost": 0.3}}},
    }))
    agent = AgentProcess(config, tmp_path)
    try:
        await agent.start()
        calm = await agent.wait_for(lambda s: session_cap(s) is not None,
                                    "a session-cap reading", 20)
        assert session_cap(calm)["status"] == "ok" and alert(calm, "cost_session_cap") is None
        assert session_cap(calm)["unit"] == "USD"
        sim.set_scenario("session-runaway")

        def firing(s: dict) -> bool:  # fires from 95 % of the cap; the session spends on
            a = alert(s, "cost_session_cap")
            return bool(a and a["state"] == "firing" and a["severity"] == "critical"
                        and "> cap" in a["cause"])

        final = await agent.wait_for(firing, "cost_session_cap firing critical", 60)
    finally:
        agent.close()
    fired = alert(final, "cost_session_cap")
    assert fired["labels"]["component"] == "cost" and fired["labels"]["metric"] == "session_cap"
    assert OVER_CAP.fullmatch(fired["cause"]), fired["cause"]
    assert "session sess_sim03 spent" in agent.log_text()  # the firing notice's words
