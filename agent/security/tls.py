"""TLS certificate expiry (the guide's `openssl s_client ... notAfter` check): connect,
verify the chain, read notAfter. < 30 days WARNING, < 7 days CRITICAL, expired or an
invalid chain CRITICAL. A failed verification is retried unverified only to still
report the expiry date.
"""

from __future__ import annotations

import calendar
import socket
import ssl
import time

from vocab.model import Status
from agent.security.finding import Finding

CHECK = "tls"
TIMEOUT_S = 5.0
WARN_DAYS = 30
CRIT_DAYS = 7


def split_host_port(entry: str) -> tuple[str, int]:
    host, _, port = entry.rpartition(":")
    return host.strip("[]"), int(port)


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER item at `pos`."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, pos, pos + length


def not_after(der: bytes) -> float:
    """notAfter of a DER certificate as a Unix time (no third-party parser needed)."""
    _, cert, _ = _der_item(der, 0)               # Certificate SEQUENCE
    _, pos, _ = _der_item(der, cert)             # tbsCertificate SEQUENCE
    tag, _, end = _der_item(der, pos)
    if tag == 0xA0:                              # [0] version, optional
        pos = end
    for _ in range(3):                           # serial, signature algorithm, issuer
        pos = _der_item(der, pos)[2]
    _, validity, _ = _der_item(der, pos)         # validity SEQUENCE
    after = _der_item(der, _der_item(der, validity)[2])
    text = der[after[1]:after[2]].decode("ascii")
    if after[0] == 0x17:                         # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return float(calendar.timegm(time.strptime(text, "%Y%m%d%H%M%SZ")))


def _peer_der(host: str, port: int, context: ssl.SSLContext, timeout: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return der


def _expiry_finding(entry: str, expires: float, now: float, prefix: str = "") -> Finding:
    days = (expires - now) / 86400
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires))
    if days <= 0:
        return Finding(CHECK, entry, Status.CRITICAL,
                       f"{prefix}certificate expired {-days:.0f} days ago ({date})")
    status = (Status.CRITICAL if days < CRIT_DAYS else
              Status.WARNING if days < WARN_DAYS else Status.OK)
    if prefix:
        status = Status.CRITICAL
    return Finding(CHECK, entry, status, f"{prefix}expires in {days:.1f} days ({date})")


def check_tls(entry: str, ca_file: str | None = None, now: float | None = None,
              timeout: float = TIMEOUT_S) -> Finding:
    """One `host:port`: CRITICAL for an expired, nearly expired or untrusted certificate."""
    now = time.time() if now is None else now
    host, port = split_host_port(entry)
    context = ssl.create_default_context()
    try:
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        return Finding(CHECK, entry, Status.UNKNOWN, f"cannot load tls_ca_file {ca_file}: {exc}")
    try:
        return _expiry_finding(entry, not_after(_peer_der(host, port, context, timeout)), now)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or str(exc)
    except (OSError, ssl.SSLError) as exc:
        return Finding(CHECK, entry, Status.UNKNOWN, f"cannot connect: {exc}")
    except (ValueError, IndexError, UnicodeDecodeError):
        return Finding(CHECK, entry, Status.UNKNOWN, "certificate unreadable")
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    try:
        expires = not_after(_peer_der(host, port, unverified, timeout))
    except (OSError, ssl.SSLError, ValueError, IndexError, UnicodeDecodeError):
        return Finding(CHECK, entry, Status.CRITICAL, f"invalid chain: {reason}")
    if expires <= now:
        return _expiry_finding(entry, expires, now)
    return _expiry_finding(entry, expires, now, prefix=f"invalid chain: {reason}; ")
