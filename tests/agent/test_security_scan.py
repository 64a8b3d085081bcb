"""`alice-ops security scan`: planted secrets, generated certificates served on
loopback, file modes, the auth-failure query; no secret ever printed whole."""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from simquery import query
from waiting import wait_for

from agent.cli.main import main
from vocab.model import Status
from agent.security.auth import QUERY, check_auth_failures
from agent.security.tls import check_tls

KEY48 = "sk-" + "Ab3dE" * 9 + "xyz"
PROJ = "sk-proj-" + "Qw9_-" * 10
ADMIN = "sk-admin-" + "Zx7Vb" * 8
AUTH = "Authorization: Bearer " + "tok3nAuthHeader" * 3
BEARER_TOKEN = "eyJhbGciOiJIUzI1NiJ9.bareBearerPayload.sig0123456789"
SECRETS = [KEY48, PROJ, ADMIN, "tok3nAuthHeader" * 3, BEARER_TOKEN]
ROOT = Path(__file__).resolve().parents[2]


def write_log(path):
    lines = ["2025-01-01 INFO start"] * 3 + [
        f"calling openai with key={KEY48}",         # line 4
        "nothing here",
        f'config {{"api_key": "{PROJ}"}}',          # line 6
        "filler",
        f"admin key {ADMIN} used for costs",        # line 8
        "still nothing",
        f"GET /v1/models headers: {AUTH}",          # line 10
        f"retry with Bearer {BEARER_TOKEN} ok",     # line 11
    ]
    path.write_text("\n".join(lines) + "\n")
    return {4: "OpenAI key", 6: "OpenAI key", 8: "OpenAI key", 10: "Authorization header",
            11: "bearer token"}


def run_scan(capsys, tmp_path, security_yaml, extra_yaml=""):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"security:\n{security_yaml}{extra_yaml}")
    path.chmod(0o600)
    code = main(["security", "scan", "--config", str(path), "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out), out


def test_planted_secrets_found_with_line_numbers_never_whole(tmp_path, capsys):
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    expected = write_log(log)
    (tmp_path / "logs" / "clean.log").write_text("all good\n")
    code, doc, out = run_scan(capsys, tmp_path, f'  log_globs: ["{tmp_path}/logs/*.log"]\n')
    secrets = [f for f in doc["findings"] if f["check"] == "secrets"]
    found = {int(f["target"].rsplit(":", 1)[1]): f for f in secrets if f["status"] == "warning"}
    assert {n: f["detail"].split(":")[0] for n, f in found.items()} == expected
    assert all(f["target"].startswith(str(log)) for f in found.values())
    assert "sk-Ab…<redacted>" in found[4]["detail"]
    assert "sk-pr…<redacted>" in found[6]["detail"]
    assert "Bearer tok3n…<redacted>" in found[10]["detail"]
    assert [f["status"] for f in secrets if f["target"].endswith("clean.log")] == ["ok"]
    assert (code, doc["status"]) == (1, "warning")
    for secret in SECRETS:
        assert secret not in out.out and secret not in out.err
        assert secret[:12] not in out.out


def test_human_table_hides_secrets_too(tmp_path):
    log = tmp_path / "app.log"
    write_log(log)
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f'security:\n  log_globs: ["{log}"]\n')
    path.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "agent.cli.main", "security",
                           "scan", "-c", str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    for secret in SECRETS:
        assert secret[:12] not in proc.stdout + proc.stderr


def test_unreadable_and_unmatched_logs_are_unknown(tmp_path, capsys):
    log = tmp_path / "rotated.log"
    log.symlink_to(tmp_path / "gone.log")  # matched by the glob, cannot be opened (even by root)
    code, doc, _ = run_scan(capsys, tmp_path,
                            f'  log_globs: ["{log}", "{tmp_path}/none/*.log"]\n')
    statuses = [(f["target"], f["status"]) for f in doc["findings"] if f["check"] == "secrets"]
    assert statuses == [(str(log), "unknown"), (f"{tmp_path}/none/*.log", "unknown")]
    assert code == 3


@pytest.mark.parametrize("mode, status", [(0o600, "ok"), (0o640, "ok"), (0o644, "warning"),
                                          (0o666, "critical")])
def test_file_permissions(tmp_path, capsys, mode, status):
    env = tmp_path / ".env"
    env.write_text("OPENAI_API_KEY=x\n")
    env.chmod(mode)
    code, doc, _ = run_scan(capsys, tmp_path, f'  files: ["{env}", "{tmp_path}/missing.env"]\n')
    perms = {f["target"]: f["status"] for f in doc["findings"] if f["check"] == "permissions"}
    assert perms == {str(tmp_path / "alice-ops.yaml"): "ok", str(env): status,
                     f"{tmp_path}/missing.env": "unknown"}


def test_world_readable_config_file_is_a_warning(tmp_path, capsys):
    path = tmp_path / "alice-ops.yaml"
    path.write_text("security: {}\n")
    path.chmod(0o644)
    code = main(["security", "scan", "-c", str(path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert (code, doc["status"]) == (1, "warning")
    assert doc["findings"] == [{"check": "permissions", "target": str(path), "status": "warning",
                                "detail": "mode 0644: world-readable (chmod o-r)"}]


# --- TLS ---------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA and four leaf certificates for 127.0.0.1: expired, 5, 20 and 90 days."""
    d = tmp_path_factory.mktemp("certs")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "365", "-subj", "/CN=alice-ops test CA", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out",
            "leaf.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    paths = {}
    for name, days in (("expired", "-1"), ("d5", "5"), ("d20", "20"), ("d90", "90")):
        openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", days, "-extfile", "san.ext", "-out",
                f"{name}.pem", cwd=d)
        paths[name] = d / f"{name}.pem"
    return d, paths


class TLSServer:
    """Completes TLS handshakes on a free loopback port with one certificate."""

    def __init__(self, cert, key):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    with self.context.wrap_socket(conn, server_side=True):
                        pass
                except (OSError, ssl.SSLError):
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def servers(certs):
    d, paths = certs
    running = {name: TLSServer(path, d / "leaf.key") for name, path in paths.items()}
    yield {name: f"127.0.0.1:{s.port}" for name, s in running.items()}
    for s in running.values():
        s.close()


def days_left(detail: str) -> float:
    return float(re.search(r"expires in ([\d.]+) days", detail).group(1))


@pytest.mark.parametrize("name, status, days", [
    ("expired", Status.CRITICAL, None),
    ("d5", Status.CRITICAL, 5),
    ("d20", Status.WARNING, 20),
    ("d90", Status.OK, 90),
])
def test_certificate_expiry_with_trusted_ca(certs, servers, name, status, days):
    finding = check_tls(servers[name], str(certs[0] / "ca.pem"))
    assert finding.status is status, finding.detail
    if days is None:
        assert finding.detail.startswith("certificate expired "), finding.detail
    else:
        assert days_left(finding.detail) == pytest.approx(days, abs=0.1)


def test_untrusted_chain_is_critical_and_still_dated(servers):
    finding = check_tls(servers["d90"])
    assert finding.status is Status.CRITICAL
    assert finding.detail.startswith("invalid chain: ")
    assert days_left(finding.detail) == pytest.approx(90, abs=0.1)


def test_closed_port_is_unknown():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    finding = check_tls(f"127.0.0.1:{port}", timeout=2)
    assert finding.status is Status.UNKNOWN and "cannot connect" in finding.detail


def test_scan_json_with_tls_hosts(certs, servers, tmp_path, capsys):
    hosts = ", ".join(f'"{servers[n]}"' for n in ("expired", "d5", "d20", "d90"))
    code, doc, _ = run_scan(capsys, tmp_path,
                            f'  tls_hosts: [{hosts}]\n  tls_ca_file: "{certs[0] / "ca.pem"}"\n')
    assert [f["status"] for f in doc["findings"] if f["check"] == "tls"] == \
        ["critical", "critical", "warning", "ok"]
    assert (code, doc["status"]) == (2, "critical")


# --- auth failures -------------------------------------------------------------------------

class FakeProm:
    def __init__(self, result):
        self.result, self.queries = result, []

    def custom_query(self, query):
        self.queries.append(query)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize("value, status", [("0", Status.OK), ("10", Status.OK),
                                           ("11", Status.WARNING), ("50", Status.WARNING),
                                           ("51", Status.CRITICAL), ("NaN", Status.UNKNOWN)])
def test_auth_failure_rate(value, status):
    prom = FakeProm([{"metric": {}, "value": [0, value]}])
    finding = check_auth_failures(lambda: prom, 10, "http://prom")
    assert finding.status is status and prom.queries == [QUERY]


def test_auth_failure_empty_result_names_the_query():
    finding = check_auth_failures(lambda: FakeProm([]), 10, "http://prom")
    assert finding.status is Status.UNKNOWN and QUERY in finding.detail


def test_auth_failure_query_error_is_unknown_and_redacted():
    boom = FakeProm(ConnectionError(f"refused, header Bearer {BEARER_TOKEN}"))
    finding = check_auth_failures(lambda: boom, 10, "http://prom")
    assert finding.status is Status.UNKNOWN and BEARER_TOKEN not in finding.detail


def test_auth_failures_from_the_simulators_prometheus(tmp_path, capsys):
    from simulator.server import run_in_thread

    with run_in_thread(seed=3, scenario="openai-auth-failure") as sim:
        # simulated traffic has counted some failures
        assert wait_for(lambda: (query(sim, QUERY) or 0) > 0, timeout=30, step=0.1)
        code, doc, _ = run_scan(capsys, tmp_path, "  auth_failures_per_hour_alert: 0\n",
                                f'targets:\n  prometheus: {{url: "{sim.urls["prometheus"]}"}}\n')
    auth = [f for f in doc["findings"] if f["check"] == "auth_failures"]
    assert len(auth) == 1 and auth[0]["status"] == "critical", auth
