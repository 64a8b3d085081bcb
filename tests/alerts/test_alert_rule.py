"""AlertRule: validation and the breach / severity mapping."""

from __future__ import annotations

import pytest

from vocab.model import Status
from alerts.rule import AlertRule, worse_severity
from alerts.silence import fingerprint

OK, WARN, UNK, CRIT = Status.OK, Status.WARNING, Status.UNKNOWN, Status.CRITICAL


@pytest.mark.parametrize(("kwargs", "status", "breach", "clear", "severity"), [
    ({}, OK, False, True, None),
    ({}, WARN, True, False, "warning"),
    ({}, UNK, True, False, "warning"),
    ({}, CRIT, True, False, "critical"),
    ({"fire_on": CRIT}, WARN, False, True, None),
    ({"fire_on": CRIT}, UNK, True, False, "warning"),
    ({"fire_on": CRIT}, CRIT, True, False, "critical"),
    ({"unknown_is_breach": False}, UNK, False, False, None),
    ({"fire_on": CRIT, "unknown_is_breach": False}, UNK, False, False, None),
])
def test_breach_clear_and_severity(kwargs, status, breach, clear, severity) -> None:
    rule = AlertRule("r", **kwargs)
    assert (rule.is_breach(status), rule.is_clear(status), rule.severity_of(status)) == (
        breach, clear, severity)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": ""}, "name"),
    ({"for_s": -1}, "for_s"),
    ({"keep_firing_for_s": float("nan")}, "keep_firing_for_s"),
    ({"flap_window_s": float("inf")}, "flap_window_s"),
    ({"failure_threshold": 0}, "failure_threshold"),
    ({"success_threshold": 1.5}, "success_threshold"),
    ({"flap_max_transitions": True}, "flap_max_transitions"),
    ({"fire_on": Status.OK}, "fire_on"),
    ({"fire_on": Status.UNKNOWN}, "unknown_is_breach"),
    ({"labels": {"component": 1}}, "labels"),
])
def test_invalid_rules_are_rejected_with_the_field_named(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        AlertRule(**{"name": "r", **kwargs})


def test_labels_are_copied_and_the_rule_is_hashable() -> None:
    labels = {"component": "openai", "metric": "error_rate"}
    rule = AlertRule("openai_error_rate", labels)
    labels["component"] = "ollama"
    assert rule.labels == {"component": "openai", "metric": "error_rate"}
    same = AlertRule("openai_error_rate", {"metric": "error_rate", "component": "openai"})
    assert rule == same and hash(rule) == hash(same) and len({rule, same}) == 1
    assert rule.fingerprint == fingerprint("openai_error_rate", labels | {"component": "openai"})


def test_fire_on_accepts_a_plain_int() -> None:
    assert AlertRule("r", fire_on=3).fire_on is Status.CRITICAL


@pytest.mark.parametrize(("a", "b", "worst"), [
    (None, None, None), (None, "warning", "warning"), ("warning", "critical", "critical"),
    ("critical", "warning", "critical"), ("critical", None, "critical"),
])
def test_worse_severity(a, b, worst) -> None:
    assert worse_severity(a, b) == worst
