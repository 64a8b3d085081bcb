"""What goes on the wire (pure): identity labels without severity, external labels, the
runbook annotations, and the webhook fingerprint that tells sites apart."""

from __future__ import annotations

import pytest

from vocab.model import Status
from alerts.lifecycle import AlertEvent, EventKind
from alerts.notifiers import alertmanager_v2_alerts, alertmanager_webhook_payload
from alerts.notifiers import notice_from_event
from alerts.notifiers.payload import WATCHDOG
from alerts.notifiers.wire import (WireOptions, body_text, headline, identity_labels,
                                   runbook_url, wire_annotations)

T0 = 1_700_000_000.0
OPTS = WireOptions(external_labels={"site": "a", "instance": "box1"},
                   runbooks={"openai_health": ("openai-outage", "full-recovery")},
                   runbook_base_url="https://docs.example/alice-ops/README.md#top")


def notice(severity="warning", kind=EventKind.FIRING, rule="openai_health", labels=None):
    event = AlertEvent(kind=kind, rule=rule, labels=labels or {"component": "openai"},
                       severity=severity, started_at=T0, at=T0 + 5, value=None,
                       status=Status.WARNING, summary=f"{rule}: HTTP 503 from GET /v1/models")
    return notice_from_event(event)


def test_severity_is_not_identity_external_labels_are():
    warning, critical = notice("warning"), notice("critical", EventKind.SEVERITY_CHANGED)
    assert identity_labels(warning, OPTS) == identity_labels(critical, OPTS) == {
        "alertname": "openai_health", "site": "a", "instance": "box1", "component": "openai"}
    other_site = WireOptions(external_labels={"site": "b", "instance": "box1"})
    assert identity_labels(warning, other_site) != identity_labels(warning, OPTS)


def test_an_alerts_own_label_wins_over_an_external_one():
    clash = notice(labels={"component": "openai", "instance": "from-rule"})
    assert identity_labels(clash, OPTS)["instance"] == "from-rule"


def test_severity_label_kept_only_when_asked():
    keep = WireOptions(severity_label=True)
    assert identity_labels(notice("critical"), keep)["severity"] == "critical"
    assert "severity" not in identity_labels(notice("critical"))


@pytest.mark.parametrize("rule, runbook, anchor", [
    ("openai_health", "alice-ops remediate plan openai-outage; "
                      "alice-ops remediate plan full-recovery", "#remediation"),
    ("host_cpu_percent", None, "#what-is-checked"),
])
def test_runbook_annotations(rule, runbook, anchor):
    ann = wire_annotations(notice("critical", rule=rule), OPTS)
    assert ann.get("runbook") == runbook
    assert ann["runbook_url"] == "https://docs.example/alice-ops/README.md" + anchor
    assert ann["severity"] == "critical"


def test_no_runbook_url_without_a_base():
    assert runbook_url("openai_health", WireOptions(runbooks=OPTS.runbooks)) is None
    assert "runbook_url" not in wire_annotations(notice(), WireOptions())


def test_v2_alerts_escalation_keeps_the_label_set():
    bodies = [alertmanager_v2_alerts([notice(s)], "", now=T0 + 10, opts=OPTS)[0]
              for s in ("warning", "critical", "warning")]
    assert len({tuple(sorted(b["labels"].items())) for b in bodies}) == 1
    assert [b["annotations"]["severity"] for b in bodies] == ["warning", "critical", "warning"]


def test_watchdog_goes_first_with_the_external_labels():
    body = alertmanager_v2_alerts([], "http://agent", now=T0, opts=OPTS, watchdog_since=T0 - 60)
    assert [a["labels"] for a in body] == [{"alertname": WATCHDOG, "site": "a",
                                            "instance": "box1"}]
    assert body[0]["annotations"]["severity"] == "none"


def test_webhook_fingerprint_is_per_site_and_stable_across_severity():
    def fp(severity, opts):
        payload = alertmanager_webhook_payload([notice(severity)], "r", {}, "", opts=opts)
        return payload["alerts"][0]["fingerprint"]

    site_b = WireOptions(external_labels={"site": "b", "instance": "box1"})
    assert fp("warning", OPTS) == fp("critical", OPTS)
    assert fp("warning", OPTS) != fp("warning", site_b)
    assert fp("warning", WireOptions()) == notice().fingerprint  # unchanged without labels


def test_headline_and_body_text():
    firing, resolved = notice("critical"), notice(kind=EventKind.RESOLVED, rule="ollama_health")
    assert headline([resolved, firing], OPTS) == \
        "[FIRING:1] openai_health (critical) instance=box1 site=a"
    assert headline([resolved], WireOptions()) == "[RESOLVED] ollama_health"
    text = body_text([resolved, firing], OPTS)
    assert text.index("FIRING openai_health [critical]") < text.index("RESOLVED ollama_health")
    assert "HTTP 503 from GET /v1/models" in text
    many = [notice(rule=f"r{i}") for i in range(5)]
    assert headline(many) == "[FIRING:5] r0, r1, r2 +2 more (warning)"


def test_the_log_record_carries_the_external_labels():
    from alerts.notifiers.log import log_record

    record = log_record(notice("critical"), "log", OPTS)
    assert record["labels"] == {"site": "a", "instance": "box1", "component": "openai",
                                "severity": "critical"}
    assert log_record(notice(), "log")["labels"] == {"component": "openai",
                                                     "severity": "warning"}
