"""Storage faults during an outage cost no alert: a full disk (a real tmpfs, filled) and
damaged pages (a fault switch at the store boundary) while openai_health fires and
resolves. The agent raises agent_storage straight to its notifiers, /healthz says 503
with the reason, /metrics counts the failures, and once the fault clears every
transition is queued, delivered and audited; agent_storage's own episode is stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from agentproc import alert, component, firing, notices, write_config

FAULTY = (str(Path(__file__).with_name("faulty_agent.py")),)


def _rows(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def _log_notices(agent, alertname: str) -> list[dict]:
    """The log notifier's alert_notice lines for `alertname`."""
    found = []
    for record in agent.records():
        if record.get("logger") != "alice_ops.alerts":
            continue
        try:
            line = json.loads(record["msg"])
        except ValueError:
            continue
        if line.get("alertname") == alertname:
            found.append(line)
    return found


def _resolved(name: str):
    return lambda s: (alert(s, name) or {}).get("state") == "resolved"


def _probed(status: str, after: int):
    """openai probed `status` and at least 3 more cycles run since cycle `after`: with
    failure_threshold 1 its alert has moved (in the agent's decided state) by then."""
    return lambda s: (component(s, "openai") or {}).get("status") == status \
        and s["agent"]["cycles_total"].get("openai", 0) >= after + 3


def _cycles(snap) -> int:
    return snap["agent"]["cycles_total"].get("openai", 0)


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(where)], capture_output=True)
    return done.returncode == 0


async def _storage_fault_episode(agent, hook, db: Path, sim, fault_on, fault_off) -> None:
    """openai_health fires while commits fail, then the fault clears: the firing notice
    goes out then; it resolves afterwards and that is notified too."""
    healthy = await agent.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2,
                                   "two healthy cycles")
    fault_on()
    sim.set_scenario("openai-outage")
    snap = await agent.wait_for(lambda s: _probed("critical", _cycles(healthy))(s)
                                and firing("agent_storage")(s),
                                "openai probed critical while commits fail")
    assert alert(snap, "agent_storage")["severity"] == "critical"
    # commit first, then believe: the decided firing is not shown until it is committed
    assert alert(snap, "openai_health") is None, alert(snap, "openai_health")
    health = await agent.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "storage", health.text
    assert health.json()["reason"]
    metrics = (await agent.get("/metrics")).text
    failures = [line for line in metrics.splitlines()
                if line.startswith("alice_ops_store_commit_failures_total ")]
    assert failures and float(failures[0].split()[1]) >= 1, metrics[:2000]
    # told directly (the outbox is in the failing file): the log and the webhook
    await agent.wait_for(lambda s: notices(hook.requests, "agent_storage", "firing"),
                         "agent_storage at the webhook")
    assert [n["status"] for n in _log_notices(agent, "agent_storage")] == ["firing"]
    assert not notices(hook.requests, "openai_health"), "nothing committed, nothing sent"

    fault_off()
    await agent.wait_for(lambda s: notices(hook.requests, "openai_health", "firing")
                         and notices(hook.requests, "agent_storage", "resolved")
                         and firing("openai_health")(s),
                         "the kept firing notice delivered after the fault", timeout_s=20)
    assert (await agent.get("/healthz")).status_code == 200
    sim.set_scenario("normal")
    await agent.wait_for(lambda s: notices(hook.requests, "openai_health", "resolved"),
                         "openai_health resolved and notified")
    assert len(notices(hook.requests, "openai_health", "firing")) == 1
    assert len(notices(hook.requests, "agent_storage", "firing")) == 1
    # the audit trail has every transition, agent_storage's episode included
    await agent.wait_for(lambda s: len(_rows(db, "SELECT 1 FROM audit WHERE target = "
                                                 "'agent_storage'")) >= 2,
                         "agent_storage's episode stored")
    trail = _rows(db, "SELECT action, target FROM audit WHERE action LIKE 'alert.%' "
                      "ORDER BY id")
    assert ("alert.firing", "openai_health") in trail
    assert ("alert.resolved", "openai_health") in trail
    assert ("alert.firing", "agent_storage") in trail
    assert ("alert.resolved", "agent_storage") in trail
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_disk_full_during_an_outage(tmp_path, sim, start_agent, webhook_receiver):
    """A real full filesystem where it can be mounted (root), else the fault switch."""
    hook = await webhook_receiver()
    fs = tmp_path / "fs"
    mounted = _mount_tmpfs(fs, "16m")
    filler = fs / "filler"
    flag = tmp_path / "fault"
    try:
        db = fs / "state.db"
        config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                              notifiers={"webhooks": [{"name": "hook", "url": hook.url}]},
                              alerts={"success_threshold": 1})
        if mounted:
            agent = await start_agent(config)

            def fault_on() -> None:
                with open(filler, "wb") as out:  # every free block
                    with contextlib.suppress(OSError):
                        while True:
                            out.write(b"\0" * 65536)
                            out.flush()

            def fault_off() -> None:
                filler.unlink()
        else:
            agent = await start_agent.make(config, launcher=FAULTY,
                                           env={"ALICE_TEST_STORE_FAULT": str(flag)}).start()

            def fault_on() -> None:
                flag.write_text("full")

            def fault_off() -> None:
                flag.unlink()
        await _storage_fault_episode(agent, hook, db, sim, fault_on, fault_off)
        assert any("database or disk is full" in r["msg"] for r in agent.records()
                   if r["level"] == "CRITICAL"), agent.tail()
        agent.signal(15)
        assert await agent.wait_exit() == 0
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(fs)], capture_output=True)


async def test_damaged_pages_fire_and_resolve_inside_the_fault(tmp_path, sim, start_agent,
                                                                webhook_receiver):
    """An alert that fires and resolves while every statement fails: both transitions
    are queued (and audited) once the fault clears, none lost."""
    hook = await webhook_receiver()
    db, flag = tmp_path / "state.db", tmp_path / "fault"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]},
                          alerts={"success_threshold": 1})
    agent = await start_agent.make(config, launcher=FAULTY,
                                   env={"ALICE_TEST_STORE_FAULT": str(flag)}).start()
    healthy = await agent.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2,
                                   "two healthy cycles")
    flag.write_text("corrupt")
    sim.set_scenario("openai-outage")
    bad = await agent.wait_for(lambda s: _probed("critical", _cycles(healthy))(s)
                               and firing("agent_storage")(s),
                               "openai_health firing (decided) during the fault")
    assert alert(bad, "openai_health") is None, "an uncommitted transition is shown"
    health = (await agent.get("/healthz")).json()
    assert health["status"] == "storage" and "malformed" in health["reason"]
    sim.set_scenario("normal")
    good = await agent.wait_for(_probed("ok", _cycles(bad)),
                                "openai_health resolved (decided) during the fault")
    assert alert(good, "openai_health") is None, "an uncommitted transition is shown"
    assert not notices(hook.requests, "openai_health")
    flag.unlink()
    await agent.wait_for(lambda s: notices(hook.requests, "openai_health", "resolved")
                         and notices(hook.requests, "agent_storage", "resolved")
                         and _resolved("openai_health")(s),
                         "the episode notified and shown once the fault cleared", timeout_s=20)
    told = notices(hook.requests, "openai_health")
    # one batch held both notices: the receiver hears the episode's latest news once
    # (resolved, with the episode's start), and both rows are in the outbox
    assert [n["status"] for n in told] == ["resolved"]
    kinds = sorted(_rows(db, "SELECT receiver, kind FROM outbox WHERE fingerprint IN "
                             "(SELECT fingerprint FROM alert_states WHERE "
                             "rule = 'openai_health')"))
    assert kinds == [("hook", "firing"), ("hook", "resolved"), ("log", "firing"),
                     ("log", "resolved")], kinds
    trail = _rows(db, "SELECT action FROM audit WHERE target = 'openai_health'")
    assert [a for (a,) in trail] == ["alert.firing", "alert.resolved"]
    assert any("alice-agent --recover" in r["msg"] for r in agent.records()), agent.tail()
    agent.signal(15)
    assert await agent.wait_exit() == 0


@pytest.mark.parametrize("damage", ["header", "pages"])
async def test_a_damaged_state_file_at_start_names_the_recovery(tmp_path, sim, sim_env,
                                                                 start_agent, damage):
    """Exit 65 with one line naming --recover (no restart loop); --recover moves the
    file aside, keeps it, and the agent starts fresh."""
    db = tmp_path / "state.db"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db)
    first = await start_agent(config)
    await first.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2, "cycles")
    first.signal(15)
    assert await first.wait_exit() == 0
    raw = bytearray(db.read_bytes())
    if damage == "header":
        raw[:16] = b"definitely-not-a"
    else:  # every page after the first overwritten: the tables' b-trees are garbage
        raw[4096:] = bytes((i * 7 + 13) % 256 for i in range(len(raw) - 4096))
    db.write_bytes(bytes(raw))
    broken = start_agent.make(config)
    broken.spawn()
    assert await broken.wait_exit(20) == 65
    err = broken.log_text().strip().splitlines()
    lines = [line for line in err if "damaged" in line]
    assert len(lines) == 1 and "alice-agent --recover" in lines[0], err
    assert "Traceback" not in broken.log_text()

    fresh = await start_agent(config, "--recover")
    kept = sorted(p.name for p in tmp_path.glob("state.db.corrupt-*"))
    assert kept and kept[0].startswith("state.db.corrupt-") and kept[0].endswith("Z")
    assert (tmp_path / kept[0]).read_bytes()[:16] == bytes(raw[:16])
    await fresh.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 1,
                         "a cycle on the fresh file")
    fresh.signal(15)
    assert await fresh.wait_exit() == 0
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_a_restart_during_the_fault_continues_the_storage_episode(tmp_path, sim,
                                                                         start_agent,
                                                                         webhook_receiver):
    """kill -9 while commits fail, start again (still failing): agent_storage is announced
    once and resolved once, with one start; both are in the audit trail afterwards."""
    hook = await webhook_receiver()
    db, flag = tmp_path / "state.db", tmp_path / "fault"
    config = write_config(tmp_path / "alice-ops.yaml", sim.urls, data_path=db,
                          notifiers={"webhooks": [{"name": "hook", "url": hook.url}]})
    env = {"ALICE_TEST_STORE_FAULT": str(flag)}
    first = await start_agent.make(config, launcher=FAULTY, env=env).start()
    flag.write_text("full")
    await first.wait_for(firing("agent_storage"), "agent_storage firing")
    await first.wait_for(lambda s: notices(hook.requests, "agent_storage", "firing"),
                         "agent_storage at the webhook")
    first.signal(9)
    assert await first.wait_exit() == -9
    second = await start_agent.make(config, launcher=FAULTY, env=env).start()
    await second.wait_for(lambda s: s["agent"]["cycles_total"].get("openai", 0) >= 2
                          and firing("agent_storage")(s), "still failing after the restart")
    flag.unlink()
    await second.wait_for(lambda s: notices(hook.requests, "agent_storage", "resolved"),
                          "agent_storage resolved")
    told = notices(hook.requests, "agent_storage")
    assert [n["status"] for n in told] == ["firing", "resolved"], told
    assert told[0]["startsAt"] == told[1]["startsAt"]
    await second.wait_for(lambda s: not (tmp_path / "state.db.storage-alert").exists(),
                          "the episode note removed once stored")
    trail = _rows(db, "SELECT action, ts, detail FROM audit WHERE target = 'agent_storage' "
                      "ORDER BY id")
    assert [a for (a, _, _) in trail] == ["alert.firing", "alert.resolved"], trail
    second.signal(15)
    assert await second.wait_exit() == 0
