"""The API answers only to its own Host (no DNS rebinding of the snapshot); every configured
secret is in the known-secret list: the security scan shows none of the agent token,
silence and ack comments are stored and echoed with key shapes masked, and a bad
webhook URL is named without its path."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys

import httpx
import pytest
from agentproc import ROOT, write_config

from agent.api import host_allowed
from agent.config import parse_config
from agent.security.logs import scan_file

AGENT_TOKEN = "agt-0123456789abcdefghij-rebind"
PASTED_KEY = "sk-proj-Abcdefghijklmnopqrstuvwx0123"


@pytest.mark.parametrize("host,listen,allowed,ok", [
    ("127.0.0.1:9321", "127.0.0.1", (), True),
    ("localhost:9321", "127.0.0.1", (), True),
    ("[::1]:9321", "::1", (), True),
    ("attacker.example:9321", "127.0.0.1", (), False),
    ("localhost:8080", "127.0.0.1", (), False),
    ("", "127.0.0.1", (), False),
    ("ops.internal:9321", "127.0.0.1", ("ops.internal",), True),
    ("ops.internal", "127.0.0.1", ("ops.internal:80",), True),
    ("10.1.2.3:9321", "0.0.0.0", (), True),
    ("rebound.example:9321", "0.0.0.0", (), False),
    ("10.1.2.4:9321", "10.1.2.3", (), False),
])
def test_host_allowed(host, listen, allowed, ok):
    assert host_allowed(host, listen, 9321, allowed) is ok


async def test_other_hosts_get_421_and_comments_are_stored_redacted(tmp_path, sim,
                                                                    start_agent):
    db = tmp_path / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                          agent={"token": AGENT_TOKEN, "allowed_hosts": ["ops.internal"]})
    agent = await start_agent(config)
    port = agent.url.rsplit(":", 1)[1]
    async with httpx.AsyncClient(timeout=5) as client:
        for host, status in ((f"127.0.0.1:{port}", 200), (f"localhost:{port}", 200),
                             (f"ops.internal:{port}", 200), (f"evil.example:{port}", 421),
                             ("localhost", 421)):
            r = await client.get(f"{agent.url}/api/v1/snapshot", headers={"Host": host})
            assert r.status_code == status, (host, r.status_code, r.text)
        auth = {"Authorization": f"Bearer {AGENT_TOKEN}"}
        made = await client.post(f"{agent.url}/api/v1/silences", headers=auth, json={
            "matchers": "alertname=openai_health", "duration_s": 600,
            "comment": f"key rotated, old one was {PASTED_KEY} token=hunter2hunter2"})
        assert made.status_code == 201, made.text
        shown = made.json()["comment"]
        assert PASTED_KEY not in shown and "hunter2hunter2" not in shown and "<secret>" in shown
    agent.signal(15)
    assert await agent.wait_exit() == 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        stored = json.dumps(conn.execute("SELECT comment FROM silences").fetchall()
                            + conn.execute("SELECT detail FROM audit").fetchall())
    assert PASTED_KEY not in stored and "hunter2hunter2" not in stored, stored


def test_security_scan_shows_no_character_of_a_configured_secret(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(f"2026-12-04 agent started with ALICE_OPS_TOKEN={AGENT_TOKEN} ok\n"
                   f"curl -H 'Authorization: Bearer {AGENT_TOKEN}' http://x\n")
    findings = scan_file(str(log), (AGENT_TOKEN,))
    text = " ".join(f.detail for f in findings)
    assert len([f for f in findings if f.status.word == "warning"]) == 2, text
    assert AGENT_TOKEN[:5] not in text and "<redacted>" in text, text
    # and through the command, with the token in the config
    config = tmp_path / "alice-ops.yaml"
    config.write_text(f"agent: {{token: {AGENT_TOKEN}}}\n"
                      f"security: {{log_globs: ['{tmp_path}/*.log']}}\n")
    config.chmod(0o600)
    done = subprocess.run([sys.executable, "-m", "agent.cli.main", "--config", str(config),
                           "security", "scan", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=os.environ.copy())
    out = done.stdout + done.stderr
    assert "configured secret" in out, out
    assert AGENT_TOKEN[:5] not in out, out


def test_known_secrets_cover_every_configured_secret():
    from agent.check import secrets_of

    config = parse_config("""
targets:
  openai: {base_url: "http://127.0.0.1:1/v1", api_key: sk-test-aaaaaaaaaaaa}
agent: {token: agent-token-bbbbbbbb}
notifiers:
  webhooks:
    - {name: chat, url: "https://hooks.example/services/T000/B000/cccccccccccc",
       bearer_token: hook-token-dddddddd}
remediation:
  secrets: {ADMIN: admin-secret-eeeeeeee}
""", "<test>")
    known = secrets_of(config)
    for secret in ("sk-test-aaaaaaaaaaaa", "agent-token-bbbbbbbb", "hook-token-dddddddd",
                   "admin-secret-eeeeeeee", "services/T000/B000/cccccccccccc"):
        assert secret in known, (secret, known)


def test_a_bad_webhook_url_is_named_without_its_path(tmp_path):
    config = tmp_path / "alice-ops.yaml"
    config.write_text("notifiers:\n  webhooks:\n    - {name: chat, url: "
                      "'https://hooks.example:99999/services/SECRETPATH'}\n")
    done = subprocess.run([sys.executable, "-m", "agent.cli.main", "--config", str(config),
                           "config", "validate"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "notifiers.webhooks[0].url" in done.stderr, done.stderr
    assert "SECRETPATH" not in done.stdout + done.stderr, done.stderr


async def test_ack_comment_is_echoed_redacted(tmp_path, sim, start_agent):
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=tmp_path / "s.db",
                          agent={"token": AGENT_TOKEN})
    agent = await start_agent(config)
    sim.set_scenario("openai-outage")
    await agent.wait_for(lambda s: any(a["name"] == "openai_health" for a in s["alerts"]),
                         "openai_health shown")
    async with httpx.AsyncClient(timeout=5) as client:
        r = await client.post(f"{agent.url}/api/v1/acks",
                              headers={"Authorization": f"Bearer {AGENT_TOKEN}"},
                              json={"alert": "openai_health",
                                    "comment": f"on it; the key {PASTED_KEY} leaked"})
    assert r.status_code == 201, r.text
    assert PASTED_KEY not in r.text and "<secret>" in r.json()["comment"]
    agent.signal(15)
    assert await agent.wait_exit() == 0
