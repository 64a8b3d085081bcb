"""`remediate verify` on both simulator profiles: the playbooks that call the guide's admin
API are applicable on `guide` and not applicable on `alice-main` (the real Alice main
backend answers 404 there), naming the step and the URL path; compose files are in place
on both, so only the deployment's HTTP surface differs."""

from __future__ import annotations

import json

import pytest

from agent.cli.main import main
from rules.playbooks import default_playbooks

SERVICES = ("redis-cache", "local-ai", "alice-backend", "voice-gateway", "alice-frontend")


def admin_api_playbooks() -> set[str]:
    """The shipped playbooks with a required step on the backend's admin API."""
    return {pb.name for pb in default_playbooks()
            for step in pb.steps + pb.revert
            if step.type == "http" and not step.optional and "/api/admin/" in step.url}


def write_config(tmp_path, profile, urls) -> str:
    root = tmp_path / "alice"
    root.mkdir()
    text = "services:\n" + "".join(f"  {s}: {{image: {s}}}\n" for s in SERVICES)
    for name in ("docker-compose.yml", "docker-compose.local-only.yml",
                 "docker-compose.cloud-first.yml"):
        (root / name).write_text(text)
    gateway = (f'{{url: "{urls["gateway"]}"}}' if profile == "guide" else  # none on main:
               f'{{url: "{urls["backend"]}", health: null, websocket: {{path: /ws/alice}}}}')
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"""
targets:
  ollama: {{url: "{urls['ollama']}"}}
  backend: {{url: "{urls['backend']}"}}
  gateway: {gateway}
remediation: {{compose_dir: "{root}"}}
""")
    return str(path)


@pytest.fixture(params=["guide", "alice-main"])
def deployment(request):
    from simulator.server import run_in_thread

    with run_in_thread(profile=request.param, api_key="sk-sim-verify-000000000000") as sim:
        yield request.param, sim


def test_admin_api_playbooks_fit_the_guide_but_not_alice_main(deployment, tmp_path, capsys,
                                                              fake_docker):
    profile, sim = deployment
    config = write_config(tmp_path, profile, sim.urls)
    code = main(["remediate", "-c", config, "--data", str(tmp_path / "s.db"), "verify",
                 "--json"])
    doc = json.loads(capsys.readouterr().out)
    verdicts = {p["playbook"]: p for p in doc["playbooks"]}
    admin = admin_api_playbooks()
    assert len(admin) >= 6 and set(verdicts) == {pb.name for pb in default_playbooks()}
    if profile == "guide":
        assert (code, doc["status"]) == (0, "applicable")
        assert all(verdicts[name]["verdict"] == "applicable" for name in admin)
        return
    assert (code, doc["status"]) == (1, "not_applicable")
    for name in admin:
        v = verdicts[name]
        assert v["verdict"] == "not_applicable", name
        assert v["reason"].startswith("not applicable: step "), v["reason"]
        assert " /api/admin/" in v["reason"] and "is not served (GET answered 404)" in \
            v["reason"]
    assert verdicts["full-recovery"]["verdict"] == "applicable"  # compose only: it fits
    ws = verdicts["websocket-issues"]
    assert ws["verdict"] == "not_applicable" and "/api/connections/status" in ws["reason"]
    assert fake_docker.calls() == []

