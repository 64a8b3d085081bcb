"""Run every configured security check once and collect the findings (checks run
concurrently; blocking ones in threads)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from agent.config import Config
from vocab.model import Status
from agent.security.auth import check_auth_failures
from agent.security.files import check_permissions
from agent.security.finding import Finding
from agent.security.logs import scan_globs
from agent.security.tls import check_tls


@dataclass(frozen=True)
class ScanReport:
    findings: tuple[Finding, ...]

    @property
    def status(self) -> Status:
        return Status.worst(f.status for f in self.findings)

    def to_json(self) -> dict:
        return {"status": self.status.word, "findings": [f.to_json() for f in self.findings]}


async def scan(config: Config, config_path: Path | None,
               prometheus_factory: Callable[[], object] | None = None) -> ScanReport:
    """Findings in a fixed order: secrets, auth failures, TLS, permissions."""
    from agent.remediation.render import secrets_of

    sec = config.security
    known = tuple(secrets_of(config))  # every configured secret, remediation.secrets too
    jobs = [asyncio.to_thread(scan_globs, sec.log_globs, known)]
    prom = config.targets.prometheus
    if prom is not None:
        if prometheus_factory is None:
            from agent.probes.prometheus import make_connection

            def prometheus_factory():
                return make_connection(prom)
        jobs.append(asyncio.to_thread(check_auth_failures, prometheus_factory,
                                      sec.auth_failures_per_hour_alert, prom.url))
    jobs += [asyncio.to_thread(check_tls, entry, sec.tls_ca_file) for entry in sec.tls_hosts]
    paths = ([str(config_path)] if config_path is not None else []) + list(sec.files)
    jobs += [asyncio.to_thread(check_permissions, p) for p in dict.fromkeys(paths)]
    results = await asyncio.gather(*jobs)
    findings: list[Finding] = []
    for result in results:
        findings.extend(result if isinstance(result, list) else [result])
    return ScanReport(tuple(findings))
