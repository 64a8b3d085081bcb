"""What an alert looks like on the wire (pure): its identity labels, its annotations, its text.

Identity is the label set a receiver keys an alert by (Alertmanager's fingerprint is a hash
of all labels). So `severity` is NOT a label there: an alert that escalates from warning to
critical and back stays ONE alert, and no stale warning copy is left behind. Severity goes
in the annotations (`severity`) and in every human text. The agent's `external_labels`
(`site`, `instance`, ...) ARE identity: two agents watching two sites never merge into one
alert, so one site healing never resolves the other's. `runbook` and `runbook_url` say
which playbook covers the alert and where it is documented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from alerts.notifiers.notice import FIRING, Notice

README_REMEDIATION = "remediation"
"""README section anchor for an alert a playbook covers."""
README_ALERTS = "what-is-checked"
"""README section anchor for every other alert (what is checked, and its thresholds)."""

_SEVERITY_RANK = {"critical": 3, "warning": 2, "info": 1, "none": 0}


@dataclass(frozen=True)
class WireOptions:
    """How this agent's alerts are labelled and annotated for every receiver.

    Attributes:
        external_labels: Added to every alert's labels (the alert's own labels win on a
            clash, as Prometheus' external labels do); part of the identity.
        runbooks: Alert name -> the playbooks whose trigger names it.
        runbook_base_url: Where the README is published; `runbook_url` is this plus a
            section anchor. None: no `runbook_url` (the `runbook` command still goes).
        severity_label: Keep `severity` in the labels too (for webhooks and chat, where
            identity is the `fingerprint` field, not the label set). Alertmanager never
            gets it as a label.
    """

    external_labels: Mapping[str, str] = field(default_factory=dict)
    runbooks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    runbook_base_url: str | None = None
    severity_label: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "external_labels", dict(self.external_labels))
        object.__setattr__(self, "runbooks", {k: tuple(v) for k, v in self.runbooks.items()})

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.external_labels.items())),
                     tuple(sorted(self.runbooks.items())), self.runbook_base_url,
                     self.severity_label))


NO_OPTIONS = WireOptions()


def identity_labels(notice: Notice, opts: WireOptions = NO_OPTIONS) -> dict[str, str]:
    """`alertname`, the external labels, the alert's labels; `severity` only with
    `opts.severity_label`.

    >>> from alerts.notifiers.notice import dedupe_key
    >>> n = Notice("fp", "openai_health", {"component": "openai", "severity": "critical"},
    ...            {}, "firing", 0.0, None, dedupe_key("fp", 0.0, "firing", 0))
    >>> identity_labels(n, WireOptions(external_labels={"site": "a"}))
    {'alertname': 'openai_health', 'site': 'a', 'component': 'openai'}
    """
    labels = {"alertname": notice.alertname, **opts.external_labels}
    for key, value in notice.labels.items():
        if key != "severity" or opts.severity_label:
            labels[key] = value
    labels["alertname"] = notice.alertname
    return labels


def runbook_commands(alertname: str, opts: WireOptions) -> list[str]:
    """`alice-ops remediate plan NAME` for each playbook covering the alert."""
    return [f"alice-ops remediate plan {name}" for name in opts.runbooks.get(alertname, ())]


def runbook_url(alertname: str, opts: WireOptions) -> str | None:
    """The README section for the alert: Remediation when a playbook covers it (its
    `runbook` annotation names the playbook), else What is checked."""
    if not opts.runbook_base_url:
        return None
    base = opts.runbook_base_url.split("#", 1)[0]
    anchor = README_REMEDIATION if opts.runbooks.get(alertname) else README_ALERTS
    return f"{base}#{anchor}"


def wire_annotations(notice: Notice, opts: WireOptions = NO_OPTIONS) -> dict[str, str]:
    """The notice's annotations plus `severity`, `runbook` and `runbook_url`."""
    out = dict(notice.annotations)
    out["severity"] = notice.severity or "none"
    commands = runbook_commands(notice.alertname, opts)
    if commands:
        out["runbook"] = "; ".join(commands)
    url = runbook_url(notice.alertname, opts)
    if url:
        out["runbook_url"] = url
    return out


def worst_severity(notices: Sequence[Notice]) -> str:
    """The worst severity among the firing notices ("none" when none fires)."""
    firing = [n.severity or "none" for n in notices if n.status == FIRING]
    return max(firing, key=lambda s: _SEVERITY_RANK.get(s, 0), default="none")


def headline(notices: Sequence[Notice], opts: WireOptions = NO_OPTIONS) -> str:
    """One line for a whole notification: `[FIRING:2] openai_health, ollama_health
    (critical) site=a` / `[RESOLVED] openai_health site=a`."""
    firing = [n for n in notices if n.status == FIRING]
    names = list(dict.fromkeys(n.alertname for n in (firing or notices)))
    shown = ", ".join(names[:3]) + (f" +{len(names) - 3} more" if len(names) > 3 else "")
    where = " ".join(f"{k}={v}" for k, v in sorted(opts.external_labels.items()))
    if firing:
        head = f"[FIRING:{len(firing)}] {shown} ({worst_severity(notices)})"
    else:
        head = f"[RESOLVED] {shown}"
    return f"{head} {where}".rstrip()


def alert_lines(notice: Notice, opts: WireOptions = NO_OPTIONS) -> list[str]:
    """The human lines for one alert: status, name and severity; the cause (summary);
    the description; where; the runbook."""
    ann = wire_annotations(notice, opts)
    status = "FIRING" if notice.status == FIRING else "RESOLVED"
    lines = [f"{status} {notice.alertname} [{ann['severity']}]"]
    for key in ("summary", "cause", "description"):
        if ann.get(key):
            lines.append(f"  {ann[key]}")
    labels = {k: v for k, v in identity_labels(notice, opts).items() if k != "alertname"}
    if labels:
        lines.append("  labels: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    if ann.get("runbook"):
        lines.append(f"  runbook: {ann['runbook']}")
    if ann.get("runbook_url"):
        lines.append(f"  docs: {ann['runbook_url']}")
    return lines


def body_text(notices: Sequence[Notice], opts: WireOptions = NO_OPTIONS) -> str:
    """The plain-text body of one notification: firing alerts first, then resolved."""
    ordered = sorted(notices, key=lambda n: (n.status != FIRING,
                                             -_SEVERITY_RANK.get(n.severity, 0), n.starts_at))
    blocks = ["\n".join(alert_lines(n, opts)) for n in ordered]
    return "\n\n".join(blocks) + "\n"
