"""`alice-tui --attach` builds its TLS context once, on a thread started before httpx and
Textual are imported (`tui.cli.tls_soon`), and every client of the source shares it: the
check before the UI and the event stream. The context trusts what httpx's default does."""

from __future__ import annotations

import json
import ssl

import certifi
import httpx

from agent.cli.check_agent import default_tls_context
from tui import cli
from tui.source import AttachSource

SNAP = {"seq": 1, "taken_at_unix": 0, "components": [{"name": "openai", "status": "ok"}]}


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/v1/snapshot":
        return httpx.Response(200, json=SNAP)
    body = f"event: snapshot\ndata: {json.dumps(SNAP)}\n\n"
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


async def test_the_check_and_the_stream_share_one_tls_context():
    built: list[ssl.SSLContext] = []

    def build() -> ssl.SSLContext:
        built.append(ssl.create_default_context())
        return built[-1]

    source = AttachSource("https://agent.example:9321", verify=build,
                          transport=httpx.MockTransport(answer))
    await source.check()
    await source.start()
    try:
        assert (await source.next_snapshot(-1, timeout=5))["seq"] == 1
    finally:
        await source.close()
    assert len(built) == 1


def test_tls_soon_gives_the_default_context_built_on_its_thread(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = cli.tls_soon()()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    certifi_count = len(ssl.create_default_context(cafile=certifi.where()).get_ca_certs())
    assert len(context.get_ca_certs()) == certifi_count > 0


def test_the_default_context_honours_ssl_cert_file(monkeypatch, tmp_path):
    bundle = tmp_path / "one.pem"
    with open(certifi.where(), encoding="ascii") as full:
        text = full.read()
    first = text.index("-----BEGIN CERTIFICATE-----")
    bundle.write_text(text[first:text.index("-----END CERTIFICATE-----") + 26])
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert len(default_tls_context().get_ca_certs()) == 1
