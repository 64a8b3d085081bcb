"""The e-mail notifier against a REAL SMTP server (aiosmtpd) on loopback: plain, STARTTLS
with AUTH (a throw-away self-signed certificate), SMTPS; failures as one redacted line;
and the outbox path (a server down, then up: retried, delivered once)."""

from __future__ import annotations

import asyncio
import email
import shutil
import subprocess
import time
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from agent.config import Config
from vocab.model import Status
from agent.receivers import make_notifiers
from agent.store import OutboxItem, Store
from alerts.dispatch import Dispatcher
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import Backoff, NotifyError, notice_from_event, outbox_entries
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.wire import WireOptions
from alertmanager import free_port
from waiting import wait_for_async

PASSWORD = "smtp-pass-Zq81x"
CAUSE = "HTTP 503 from GET /v1/models"
T0 = time.time() - 60


def event(kind=EventKind.FIRING, rule="openai_health", severity="critical", at=T0):
    return AlertEvent(kind=kind, rule=rule, labels={"component": "openai", "metric": "health"},
                      severity=severity, started_at=T0, at=at, value=None,
                      status=Status.CRITICAL if kind is not EventKind.RESOLVED else Status.OK,
                      summary=f"{rule} firing [{severity}]: {CAUSE}")


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"alice" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl), as (cert, key) paths."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    where = tmp_path_factory.mktemp("tls")
    crt, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(crt), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def _server_context(cert):
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx


@pytest.fixture
def smtp_server():
    """Factory: `smtp_server(**controller_kwargs) -> (inbox, port)`; all stopped at the end."""
    started: list[Controller] = []

    def start(port: int | None = None, **kwargs):
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(),
                                **kwargs)
        controller.start()
        started.append(controller)
        return inbox, controller.port

    yield start
    for controller in started:
        controller.stop()


def notifier(port, **kwargs) -> EmailNotifier:
    kwargs.setdefault("security", "none")
    return EmailNotifier("mail", "127.0.0.1", port, "alice-ops@example.org",
                         ["ops@example.org", "oncall@example.org"], timeout_s=5,
                         opts=WireOptions(external_labels={"site": "lab"},
                                          runbooks={"openai_health": ("openai-outage",)}),
                         **kwargs)


async def test_one_message_per_group_with_name_severity_and_cause(smtp_server):
    inbox, port = smtp_server()
    firing = notice_from_event(event())
    other = notice_from_event(event(rule="ollama_health", severity="warning"))
    await notifier(port).send([firing, other])
    assert len(inbox.messages) == 1  # the group is one e-mail
    msg = inbox.messages[0]
    assert msg["Subject"] == "[FIRING:2] openai_health, ollama_health (critical) site=lab"
    assert msg["From"] == "alice-ops@example.org"
    assert inbox.envelopes[0][1] == ["ops@example.org", "oncall@example.org"]
    body = msg.get_payload(decode=True).decode()
    assert body.index("FIRING openai_health [critical]") < body.index(
        "FIRING ollama_health [warning]")  # worst first
    assert CAUSE in body
    assert "labels: component=openai, metric=health, site=lab" in body
    assert "runbook: alice-ops remediate plan openai-outage" in body


async def test_resolved_subject(smtp_server):
    inbox, port = smtp_server()
    resolved = notice_from_event(event(EventKind.RESOLVED, at=T0 + 30))
    await notifier(port).send([resolved])
    assert inbox.messages[0]["Subject"] == "[RESOLVED] openai_health site=lab"


async def test_starttls_with_login_and_the_password_never_shown(smtp_server, cert):
    inbox, port = smtp_server(tls_context=_server_context(cert), require_starttls=True,
                              authenticator=_auth, auth_require_tls=True)
    mail = notifier(port, security="starttls", username="alice", password=PASSWORD,
                    ca_file=str(cert[0]))
    assert PASSWORD not in repr(mail)
    await mail.send([notice_from_event(event())])
    assert len(inbox.messages) == 1
    raw = inbox.messages[0].as_string()
    assert PASSWORD not in raw

    wrong = notifier(port, security="starttls", username="alice", password="not-" + PASSWORD,
                     ca_file=str(cert[0]))
    with pytest.raises(NotifyError, match=r"SMTP 127\.0\.0\.1:\d+: login refused \(535\)") as e:
        await wrong.send([notice_from_event(event())])
    assert PASSWORD not in e.value.reason and "not-" not in e.value.reason


async def test_starttls_verifies_the_certificate(smtp_server, cert):
    _, port = smtp_server(tls_context=_server_context(cert), require_starttls=True)
    with pytest.raises(NotifyError, match="TLS: CERTIFICATE_VERIFY_FAILED"):
        await notifier(port, security="starttls").send([notice_from_event(event())])


async def test_starttls_required_but_not_offered_is_refused(smtp_server):
    _, port = smtp_server()
    with pytest.raises(NotifyError, match="does not offer STARTTLS"):
        await notifier(port, security="starttls").send([notice_from_event(event())])


async def test_no_password_over_plain_text(smtp_server):
    inbox, port = smtp_server()
    with pytest.raises(NotifyError, match="refusing to send the password"):
        await notifier(port, username="alice", password=PASSWORD).send(
            [notice_from_event(event())])
    assert inbox.messages == []


async def test_smtps_from_the_first_byte(smtp_server, cert):
    inbox, port = smtp_server(ssl_context=_server_context(cert))
    await notifier(port, security="tls", ca_file=str(cert[0])).send([notice_from_event(event())])
    assert len(inbox.messages) == 1


async def test_refused_connection_is_one_line():
    with pytest.raises(NotifyError, match=r"^SMTP 127\.0\.0\.1:\d+: ConnectionRefusedError"):
        await notifier(free_port()).send([notice_from_event(event())])


async def test_through_the_outbox_down_then_up_delivered_once(tmp_path, smtp_server):
    """Configured as a receiver, queued like any other: the server is down (a failure with
    backoff, the password nowhere), comes up, and the notice arrives exactly once."""
    port = free_port()
    config = Config.model_validate({"notifiers": {"email": [{
        "name": "mail", "host": "127.0.0.1", "port": port, "security": "none",
        "from": "alice-ops@example.org", "to": ["ops@example.org"], "password": PASSWORD,
        "allow_plain_auth": True, "username": "alice", "timeout_ms": 3000}]}})
    mail = next(n for n in make_notifiers(config) if n.name == "mail")
    with Store.open(tmp_path / "state.db") as store:
        items = [OutboxItem(**e) for e in outbox_entries([notice_from_event(event())], ["mail"])]
        store.commit_cycle(time.time(), outbox=items)
        dispatcher = Dispatcher([mail], store, backoff=Backoff(base_s=0.1, cap_s=0.2))
        task = asyncio.create_task(dispatcher.run())
        try:
            async def failed():
                return dispatcher.failures_total["mail"] >= 1
            assert await wait_for_async(failed, 10)
            assert "ConnectionRefusedError" in dispatcher.last_errors["mail"]
            assert PASSWORD not in dispatcher.last_errors["mail"]
            inbox, _ = smtp_server(port=port, auth_require_tls=False, authenticator=_auth)

            async def delivered():
                return inbox.messages and not store.due_outbox(time.time() + 3600, 10)
            assert await wait_for_async(delivered, 15)
        finally:
            await dispatcher.stop(grace_s=1)
            await task
    assert len(inbox.messages) == 1
    assert "openai_health" in inbox.messages[0]["Subject"]
