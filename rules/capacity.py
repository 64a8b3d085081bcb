"""Capacity planning (pure): load and host figures mapped onto the guide's scaling table.

The guide's Capacity Planning section: a band per user load (1-10, 10-50, 50-100,
100+ users) with gateway and backend instances, local-AI memory and an OpenAI budget;
capacity_monitor.sh calls HIGH LOAD above 100 requests/s and LOW below 10. Active
sessions stand for users. `plan` returns the band, the verdicts and the headroom left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from vocab.model import Status


@dataclass(frozen=True)
class Band:
    name: str
    users: int | None
    """Upper bound of the band (None: no bound)."""
    gateway: tuple[int, int | None]
    backend: tuple[int, int | None]
    local_ai_memory_gb: float
    openai_usd_per_day: tuple[float, float | None]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "users_max": self.users, "gateway": list(self.gateway),
                "backend": list(self.backend), "local_ai_memory_gb": self.local_ai_memory_gb,
                "openai_usd_per_day": list(self.openai_usd_per_day)}


def parse_bands(items: Sequence[dict[str, Any]], source: str) -> tuple[Band, ...]:
    bands = []
    for i, item in enumerate(items):
        try:
            bands.append(Band(name=str(item["name"]), users=item["users"],
                              gateway=tuple(item["gateway"]), backend=tuple(item["backend"]),
                              local_ai_memory_gb=float(item["local_ai_memory_gb"]),
                              openai_usd_per_day=tuple(item["openai_usd_per_day"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{source}: capacity.bands[{i}]: {exc}") from None
    upper = [b.users for b in bands[:-1]]
    rising = [u for u in upper if u is not None]
    if not bands or len(rising) != len(upper) or rising != sorted(rising):
        raise ValueError(f"{source}: capacity.bands: upper bounds must rise, only the last "
                         "may be null")
    return tuple(bands)


@dataclass(frozen=True)
class Load:
    """What was measured; any figure may be unknown (None)."""

    sessions: float | None = None
    fast_per_s: float | None = None
    think_per_s: float | None = None
    cpu_percent: float | None = None
    memory_percent: float | None = None
    memory_total_gb: float | None = None
    disk_percent: float | None = None
    gpu_memory_percent: float | None = None
    gpu_util_percent: float | None = None
    spend_usd_per_day: float | None = None
    """OpenAI spend per day at the current run rate, for the budget band."""


@dataclass(frozen=True)
class Limits:
    high_load_per_s: float = 100.0
    low_load_per_s: float = 10.0
    cpu_target: float = 70.0
    cpu_alert: float = 90.0
    memory_target: float = 80.0
    memory_alert: float = 90.0
    disk_target: float = 80.0
    disk_alert: float = 90.0


@dataclass(frozen=True)
class Finding:
    what: str
    status: Status
    detail: str


@dataclass(frozen=True)
class CapacityPlan:
    band: Band | None
    next_band: Band | None
    headroom_users: float | None
    headroom_percent: float | None
    load_per_s: float | None
    load_verdict: str  # "high", "low", "normal", "unknown"
    findings: tuple[Finding, ...]
    status: Status
    recommendation: str


def band_for(users: float, bands: Sequence[Band]) -> int:
    """Index of the band holding `users` (bounds inclusive: 10 users is "1-10")."""
    for i, band in enumerate(bands):
        if band.users is None or users <= band.users:
            return i
    return len(bands) - 1


def _instances(span: tuple[int, int | None]) -> str:
    low, high = span
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"


def _usd_span(span: tuple[float, float | None]) -> str:
    low, high = span
    return f"{low:g}+ USD/day" if high is None else f"{low:g}-{high:g} USD/day"


def _host(findings: list[Finding], what: str, value: float | None, target: float,
          alert: float) -> None:
    if value is None:
        return
    status = Status.OK if value < target else (Status.CRITICAL if value > alert
                                               else Status.WARNING)
    findings.append(Finding(what, status, f"{value:.0f} % (target < {target:g} %, "
                                          f"alert > {alert:g} %)"))


def plan(load: Load, bands: Sequence[Band], limits: Limits = Limits()) -> CapacityPlan:
    findings: list[Finding] = []
    rates = [r for r in (load.fast_per_s, load.think_per_s) if r is not None]
    total = sum(rates) if rates else None
    if total is None:
        verdict, load_status = "unknown", Status.UNKNOWN
        findings.append(Finding("load", Status.UNKNOWN, "request rates unknown"))
    elif total > limits.high_load_per_s:
        verdict, load_status = "high", Status.WARNING
        findings.append(Finding("load", Status.WARNING,
                                f"HIGH LOAD: {total:.1f} requests/s (> {limits.high_load_per_s:g}"
                                "/s): consider scaling up"))
    elif total < limits.low_load_per_s:
        verdict, load_status = "low", Status.OK
        findings.append(Finding("load", Status.OK,
                                f"LOW LOAD: {total:.1f} requests/s (< {limits.low_load_per_s:g}"
                                "/s): consider scaling down"))
    else:
        verdict, load_status = "normal", Status.OK
        findings.append(Finding("load", Status.OK,
                                f"NORMAL LOAD: {total:.1f} requests/s: capacity adequate"))
    _host(findings, "cpu", load.cpu_percent, limits.cpu_target, limits.cpu_alert)
    _host(findings, "memory", load.memory_percent, limits.memory_target, limits.memory_alert)
    _host(findings, "disk", load.disk_percent, limits.disk_target, limits.disk_alert)
    if load.gpu_memory_percent is not None:
        _host(findings, "gpu memory", load.gpu_memory_percent, 90.0, 97.0)

    band = next_band = None
    headroom_users = headroom_percent = None
    if load.sessions is None:
        findings.append(Finding("sessions", Status.UNKNOWN, "active sessions unknown"))
    else:
        i = band_for(load.sessions, bands)
        band = bands[i]
        next_band = bands[i + 1] if i + 1 < len(bands) else None
        if band.users is not None:
            headroom_users = max(0.0, band.users - load.sessions)
            headroom_percent = 100.0 * headroom_users / band.users if band.users else 0.0
        findings.append(Finding(
            "band", Status.OK,
            f"{load.sessions:.0f} active sessions: {band.name} band: gateway "
            f"{_instances(band.gateway)}, backend {_instances(band.backend)}, local AI "
            f"{band.local_ai_memory_gb:g} GB RAM, OpenAI {_usd_span(band.openai_usd_per_day)}"))
        if load.memory_total_gb is not None and load.memory_total_gb < band.local_ai_memory_gb:
            findings.append(Finding(
                "local ai memory", Status.WARNING,
                f"{load.memory_total_gb:.1f} GB RAM on this host, the {band.name} band wants "
                f"{band.local_ai_memory_gb:g} GB for the local AI"))
        _low, high = band.openai_usd_per_day
        if load.spend_usd_per_day is not None:
            if high is not None and load.spend_usd_per_day > high:
                findings.append(Finding(
                    "openai budget", Status.WARNING,
                    f"{load.spend_usd_per_day:.2f} USD/day is above the {band.name} band's "
                    f"{_usd_span(band.openai_usd_per_day)}: route more to local"))
            else:
                findings.append(Finding(
                    "openai budget", Status.OK,
                    f"{load.spend_usd_per_day:.2f} USD/day (band: "
                    f"{_usd_span(band.openai_usd_per_day)})"))
    status = Status.worst([load_status, *(f.status for f in findings)])
    if verdict == "high" or (headroom_percent is not None and headroom_percent < 20
                             and next_band is not None):
        target = next_band or band
        rec = ("scale up" + (f" towards the {target.name} band: gateway "
                             f"{_instances(target.gateway)}, backend "
                             f"{_instances(target.backend)}, local AI "
                             f"{target.local_ai_memory_gb:g} GB" if target else ""))
    elif verdict == "low":
        rec = "scale down: load is low"
    elif verdict == "unknown" and band is None:
        rec = "unknown: no request rates or sessions (configure targets.prometheus)"
    else:
        rec = "capacity adequate"
    return CapacityPlan(band, next_band, headroom_users, headroom_percent, total, verdict,
                        tuple(findings), status, rec)


def plan_json(p: CapacityPlan) -> dict[str, Any]:
    return {"status": p.status.word,
            "band": p.band.to_json() if p.band else None,
            "next_band": p.next_band.to_json() if p.next_band else None,
            "headroom_users": p.headroom_users,
            "headroom_percent": None if p.headroom_percent is None
            else round(p.headroom_percent, 1),
            "requests_per_s": None if p.load_per_s is None else round(p.load_per_s, 3),
            "load": p.load_verdict, "recommendation": p.recommendation,
            "findings": [{"what": f.what, "status": f.status.word, "detail": f.detail}
                         for f in p.findings]}
