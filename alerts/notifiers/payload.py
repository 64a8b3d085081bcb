"""Pure payload formatters: notices in, Alertmanager-shaped JSON out (no I/O).

`alertmanager_webhook_payload` is the body Alertmanager's own webhook receiver
posts (its `template.Data` plus version/groupKey/truncatedAlerts), so any tool
that accepts Alertmanager webhooks accepts ours. `alertmanager_v2_alerts` is the
body of Alertmanager's `POST /api/v2/alerts` (a list of postable alerts).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from alerts.notifiers.notice import FIRING, Notice
from alerts.notifiers.wire import NO_OPTIONS, WireOptions, identity_labels, wire_annotations
from alerts.silence import fingerprint

WATCHDOG = "Watchdog"
"""The always-firing alert (kube-prometheus' convention): its absence downstream means
the agent, or its path to Alertmanager, is dead."""

ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero `time.Time` in JSON: Alertmanager's endsAt of a firing alert in webhooks."""

DEFAULT_RESEND_INTERVAL_S = 60.0
"""How often firing alerts are re-posted to Alertmanager (cf. Prometheus'
--rules.alert.resend-delay)."""

RESEND_TTL_FACTOR = 4
"""A firing alert's endsAt is now + 4 x the resend interval, Prometheus' own rule: three
re-posts may be lost before Alertmanager resolves the alert by itself."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def rfc3339(ts: float | None) -> str:
    """Unix seconds as RFC 3339 UTC, rounded to the millisecond (`2024-05-01T12:00:00.250Z`);
    None is Go's zero time."""
    if ts is None:
        return ZERO_TIME
    when = _EPOCH + timedelta(milliseconds=round(ts * 1000))  # exact: no float truncation
    text = when.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The pairs every mapping has with the same value (Alertmanager's commonLabels)."""
    if not maps:
        return {}
    first, rest = maps[0], maps[1:]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}


def group_key(group_labels: Mapping[str, str], route: str = "{}") -> str:
    """Alertmanager's groupKey: the route's key, a colon, the group labels in braces."""
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    return f"{route}:{{{inner}}}"


def _webhook_alert(notice: Notice, generator_url: str, opts: WireOptions) -> dict[str, Any]:
    # chat and incident tools key alerts by `fingerprint`: severity may stay a label here,
    # the fingerprint is the alert's (plus the external labels), never the severity's
    shown = WireOptions(opts.external_labels, opts.runbooks, opts.runbook_base_url,
                        severity_label=True)
    fp = notice.fingerprint
    if opts.external_labels:
        fp = fingerprint(notice.alertname, identity_labels(notice, opts))
    return {"status": notice.status, "labels": identity_labels(notice, shown),
            "annotations": wire_annotations(notice, opts),
            "startsAt": rfc3339(notice.starts_at), "endsAt": rfc3339(notice.ends_at),
            "generatorURL": generator_url, "fingerprint": fp}


def alertmanager_webhook_payload(notices: Sequence[Notice], receiver: str,
                                 group_labels: Mapping[str, str], external_url: str, *,
                                 generator_url: str = "", opts: WireOptions = NO_OPTIONS
                                 ) -> dict[str, Any]:
    """One webhook notification for a group of notices, in Alertmanager's format (version 4).

    Args:
        notices: The group's alerts, in order.
        receiver: The receiver's name.
        group_labels: Labels the group is keyed by ({} when everything due for the
            receiver goes out as one group, as the dispatcher does).
        external_url: Where the sender can be reached (the agent's URL).
        generator_url: Each alert's generatorURL (defaults to `external_url`).
        opts: External labels and runbook annotations (`alerts.notifiers.wire`).

    Returns:
        `{"version": "4", "groupKey", "truncatedAlerts": 0, "status", "receiver",
        "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "alerts"}`;
        status is "firing" if any alert fires, else "resolved"; a firing alert's
        endsAt is Go's zero time.
    """
    alerts = [_webhook_alert(n, generator_url or external_url, opts) for n in notices]
    firing = any(n.status == FIRING for n in notices)
    return {
        "version": "4",
        "groupKey": group_key(group_labels),
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": dict(group_labels),
        "commonLabels": _common([a["labels"] for a in alerts]),
        "commonAnnotations": _common([a["annotations"] for a in alerts]),
        "externalURL": external_url,
        "alerts": alerts,
    }


def alertmanager_v2_alerts(notices: Sequence[Notice], generator_url: str, *, now: float,
                           resend_interval_s: float = DEFAULT_RESEND_INTERVAL_S,
                           opts: WireOptions = NO_OPTIONS,
                           watchdog_since: float | None = None) -> list[dict[str, Any]]:
    """The body of `POST /api/v2/alerts` for these notices.

    Alertmanager resolves an alert by itself once its endsAt passes, so a firing
    alert is posted with endsAt = now + RESEND_TTL_FACTOR x `resend_interval_s`
    and must be re-posted every `resend_interval_s` while it fires (the dispatcher
    does this for receivers with a `resend_interval_s`). A resolved alert is posted
    with endsAt = the time it resolved, which ends it at once.

    Labels are the identity (`wire.identity_labels`: no `severity`, plus the external
    labels); severity, runbook and runbook_url are annotations. With `watchdog_since`
    the always-firing `Watchdog` alert (started then) goes first.
    """
    ttl_end = now + RESEND_TTL_FACTOR * resend_interval_s
    alerts = [{"labels": identity_labels(n, opts), "annotations": wire_annotations(n, opts),
               "startsAt": rfc3339(n.starts_at),
               "endsAt": rfc3339(ttl_end if n.status == FIRING else n.ends_at),
               "generatorURL": generator_url}
              for n in notices]
    if watchdog_since is not None:
        alerts.insert(0, watchdog_alert(generator_url, since=watchdog_since, ends_at=ttl_end,
                                        opts=opts))
    return alerts


def watchdog_alert(generator_url: str, *, since: float, ends_at: float,
                   opts: WireOptions = NO_OPTIONS) -> dict[str, Any]:
    """The `Watchdog` postable alert: always firing while the agent runs (severity none)."""
    where = " ".join(f"{k}={v}" for k, v in sorted(opts.external_labels.items()))
    return {"labels": {**opts.external_labels, "alertname": WATCHDOG},
            "annotations": {
                "severity": "none",
                "summary": f"alice-agent is alive{f' ({where})' if where else ''}",
                "description": "Always firing while the agent runs and reaches this "
                               "Alertmanager. Route it to a dead man's switch: its absence "
                               "means the agent or its path here is down."},
            "startsAt": rfc3339(since), "endsAt": rfc3339(ends_at),
            "generatorURL": generator_url}
