"""`remediate verify` against the guide's simulator and a compose directory: every step
checked without changing anything (URLs served, compose files and services, programs on
PATH), the verdict in `verify`, `plan` and `list`, exit codes 0/1/2/3."""

from __future__ import annotations

import json
import socket

import pytest
from remediation_helpers import SIM_KEY

from agent.cli.main import main

SERVICES = ("redis-cache", "local-ai", "alice-backend", "voice-gateway", "alice-frontend")


def compose_dir(tmp_path, services=SERVICES):
    root = tmp_path / "alice"
    root.mkdir(exist_ok=True)
    text = "services:\n" + "".join(f"  {s}: {{image: {s}}}\n" for s in services)
    for name in ("docker-compose.yml", "docker-compose.local-only.yml",
                 "docker-compose.cloud-first.yml"):
        (root / name).write_text(text)
    return root


def write_config(tmp_path, urls, root, extra=""):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"""
targets:
  openai: {{base_url: "{urls['openai']}", api_key: "{SIM_KEY}"}}
  ollama: {{url: "{urls['ollama']}"}}
  gateway: {{url: "{urls['gateway']}"}}
  backend: {{url: "{urls['backend']}"}}
remediation:
  compose_dir: "{root}"
{extra}""")
    return path


def verify(capsys, path, tmp_path, *names):
    code = main(["remediate", "-c", str(path), "--data", str(tmp_path / "state.db"),
                 "verify", *names, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out)


def by_name(doc):
    return {p["playbook"]: p for p in doc["playbooks"]}


def test_every_playbook_fits_the_guides_deployment(threaded_simulator, tmp_path, capsys,
                                                   fake_docker):
    path = write_config(tmp_path, threaded_simulator.urls, compose_dir(tmp_path))
    code, doc = verify(capsys, path, tmp_path)
    assert (code, doc["status"]) == (0, "applicable"), doc
    playbooks = by_name(doc)
    assert len(playbooks) == 9 and all(p["reason"] == "" for p in playbooks.values())
    checks = {c["title"]: c for c in playbooks["openai-outage"]["checks"]}
    assert checks["HUD shows offline mode"]["detail"] == \
        "POST /api/admin/set-mode: the route exists (GET answered 405)"
    assert checks["backend on the local-only compose file"]["detail"] == \
        "service 'alice-backend' is in docker-compose.local-only.yml"
    assert fake_docker.calls() == []  # nothing was run
    assert threaded_simulator.state.get("mode", "normal") == "normal"
    assert not threaded_simulator.state.get("broadcasts")


def test_compose_problems_make_a_playbook_not_applicable(threaded_simulator, tmp_path, capsys,
                                                         fake_docker):
    root = compose_dir(tmp_path, services=("alice-backend",))
    (root / "docker-compose.cloud-first.yml").write_text("services:\n  - [broken\n")
    (root / "docker-compose.yml").unlink()
    path = write_config(tmp_path, threaded_simulator.urls, root)
    code, doc = verify(capsys, path, tmp_path, "openai-outage")
    assert (code, doc["status"]) == (1, "not_applicable")
    assert by_name(doc)["openai-outage"]["reason"] == (
        "not applicable: step 3 (gateway on the local-only compose file): service "
        "'voice-gateway' is not in docker-compose.local-only.yml (services: alice-backend)")
    _, doc = verify(capsys, path, tmp_path, "local-ai-failure")
    reason = by_name(doc)["local-ai-failure"]["reason"]
    assert reason.startswith(f"not applicable: step 3 (backend on the cloud-first compose "
                             f"file): {root / 'docker-compose.cloud-first.yml'}:")
    assert reason.endswith(": not valid YAML (and 1 more)")
    _, doc = verify(capsys, path, tmp_path, "websocket-issues")
    assert by_name(doc)["websocket-issues"]["reason"] == (
        f"not applicable: step 1 (restart the voice gateway): no compose file in {root} "
        "(compose.yaml / compose.yml / docker-compose.yml)")


def test_docker_missing_from_path(threaded_simulator, tmp_path, capsys):
    path = write_config(tmp_path, threaded_simulator.urls, compose_dir(tmp_path),
                        "  docker: no-such-docker-h4\n")
    code, doc = verify(capsys, path, tmp_path, "websocket-issues")
    assert code == 1 and by_name(doc)["websocket-issues"]["reason"] == (
        "not applicable: step 1 (restart the voice gateway): no-such-docker-h4 is not on PATH")


PLAYBOOKS = """
playbooks:
  - name: probe-paths
    title: every kind of step
    target: backend
    steps:
      - {type: http, title: "not served", url: "{backend}/api/admin/nope?token={secret.ADMIN}",
         headers: {Authorization: "Bearer {secret.ADMIN}"}}
      - {type: http, title: "get route", method: GET, url: "{backend}/api/admin/mode"}
      - {type: command, title: "optional diagnostics", command: missing, optional: true}
      - {type: command, title: "a program here", command: here}
      - {type: wait_healthy, component: prometheus}
  - name: needs-program
    title: a required program that is missing
    target: backend
    steps:
      - {type: command, command: missing}
"""
SECRET = "adm-secret-h4-5d4c3b2a"


def custom_config(tmp_path, urls, backend=None):
    (tmp_path / "playbooks.yaml").write_text(PLAYBOOKS)
    extra = f"""  playbooks_file: "{tmp_path / 'playbooks.yaml'}"
  secrets: {{ADMIN: "{SECRET}"}}
  commands: {{missing: [definitely-not-a-program-h4], here: [sh, -c, "exit 0"]}}
"""
    if backend:
        urls = {**urls, "backend": backend}
    return write_config(tmp_path, urls, compose_dir(tmp_path), extra)


def test_http_commands_and_components_step_by_step(threaded_simulator, tmp_path, capsys):
    path = custom_config(tmp_path, threaded_simulator.urls)
    code, doc = verify(capsys, path, tmp_path, "probe-paths")
    assert code == 1
    checks = [(c["step"], c["status"], c["detail"]) for c in doc["playbooks"][0]["checks"]]
    assert checks == [
        (1, "not_applicable", "POST /api/admin/nope is not served (GET answered 404)"),
        (2, "ok", "GET /api/admin/mode: GET answered 200"),
        (3, "not_applicable", "definitely-not-a-program-h4 is not on PATH"),
        (4, "ok", "sh is on PATH"),
        (5, "not_applicable", "component prometheus is not configured")]
    assert doc["playbooks"][0]["reason"] == ("not applicable: step 1 (not served): POST "
                                             "/api/admin/nope is not served (GET answered "
                                             "404) (and 1 more)")
    code, doc = verify(capsys, path, tmp_path, "needs-program")
    assert code == 1 and doc["playbooks"][0]["reason"].endswith(
        "definitely-not-a-program-h4 is not on PATH")
    main(["remediate", "-c", str(path), "--data", str(tmp_path / "state.db"), "verify",
          "probe-paths"])
    human = capsys.readouterr().out
    assert "probe-paths  NOT APPLICABLE" in human and "step 2 get route" in human
    assert SECRET not in human + json.dumps(doc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_backend_that_does_not_answer_cannot_be_verified_now(threaded_simulator, tmp_path,
                                                               capsys):
    path = custom_config(tmp_path, threaded_simulator.urls,
                         backend=f"http://127.0.0.1:{free_port()}")
    code, doc = verify(capsys, path, tmp_path, "intent-accuracy-drop")
    assert (code, doc["status"]) == (3, "unknown")
    assert by_name(doc)["intent-accuracy-drop"]["reason"] == (
        "cannot verify now: step 1 (lower the confidence threshold temporarily): POST "
        "/api/admin/config: no answer to GET (connection refused or host unreachable) "
        "(and 1 more)")  # its revert step
    code, doc = verify(capsys, path, tmp_path, "probe-paths")  # a definite no still wins
    assert (code, doc["status"]) == (1, "not_applicable")


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("remediation: {compose_dir: .}\n")
    code = main(["remediate", "-c", str(path), "--data", str(tmp_path / "s.db"), "verify",
                 "no-such-playbook"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["alice-ops: remediate: no playbook named 'no-such-playbook' "
                                 "(alice-ops remediate list)"]


def test_plan_and_list_show_the_verdict(threaded_simulator, tmp_path, capsys, fake_docker):
    root = compose_dir(tmp_path, services=("alice-backend",))
    path = write_config(tmp_path, threaded_simulator.urls, root)
    data = ["--data", str(tmp_path / "state.db")]
    assert main(["remediate", "-c", str(path), *data, "plan", "openai-outage"]) == 0
    shown = capsys.readouterr().out
    assert ("verify: not applicable: step 3 (gateway on the local-only compose file): service "
            "'voice-gateway' is not in") in " ".join(shown.split())
    assert "verify: ok: POST /api/admin/set-mode: the route exists (GET answered 405)" in shown
    assert main(["remediate", "-c", str(path), *data, "plan", "openai-outage", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verify"]["verdict"] == "not_applicable" and doc["steps"]
    assert main(["remediate", "-c", str(path), *data, "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["playbooks"]}
    assert rows["openai-outage"]["applicable"] == "not_applicable"
    assert "'voice-gateway' is not in" in rows["openai-outage"]["not_applicable_reason"]
    assert rows["intent-accuracy-drop"]["applicable"] == "applicable"
    assert fake_docker.calls() == []


@pytest.mark.parametrize("demo_args", [["--demo"]])
def test_the_demo_verifies_its_own_sandbox(capsys, demo_args):
    code = main(["remediate", *demo_args, "verify", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert (code, doc["status"]) == (0, "applicable")
    compose = next(c for c in by_name(doc)["openai-outage"]["checks"] if c["step"] == 2)
    assert compose["detail"] == "demo: recorded, not run"


def test_a_run_by_hand_warns_but_is_the_operators_call(threaded_simulator, tmp_path, capsys,
                                                       fake_docker):
    root = compose_dir(tmp_path, services=("alice-backend",))
    path = write_config(tmp_path, threaded_simulator.urls, root)
    code = main(["remediate", "-c", str(path), "--data", str(tmp_path / "state.db"), "run",
                 "intent-accuracy-drop", "--yes"])
    assert code == 0 and "warning" not in capsys.readouterr().err
    main(["remediate", "-c", str(path), "--data", str(tmp_path / "state.db"), "run",
          "websocket-issues", "--yes"])
    err = capsys.readouterr().err
    assert err.startswith("alice-ops: remediate run websocket-issues: warning: not applicable: "
                          "step 1 (restart the voice gateway): service 'voice-gateway' is not "
                          "in docker-compose.yml (services: alice-backend)")
    assert [c[-1] for c in fake_docker.calls()] == ["voice-gateway"]  # it still ran
