"""The exported Prometheus rules: promtool accepts them, and `promtool test rules`
(series in, alerts at given times out) shows they fire when the table says they should."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from rules.export import prometheus_rules, to_yaml
from rules.thresholds import default_rows

PROMTOOL = Path("/usr/bin/promtool")


def _promtool(*args: str) -> subprocess.CompletedProcess:
    if not PROMTOOL.exists():
        pytest.fail("promtool is missing: ./scripts/test installs Debian's prometheus")
    return subprocess.run([str(PROMTOOL), *args], capture_output=True, text=True, timeout=60)


def test_every_promql_row_exports_one_rule_under_the_agents_name_and_labels():
    from rules.alerting import metric_alert

    doc = prometheus_rules(default_rows())
    rules = doc["groups"][0]["rules"]
    promql_rows = [r for r in default_rows() if r.promql]
    assert len(rules) == len(promql_rows)
    assert [r["alert"] for r in rules] == [metric_alert(r.component, r.metric)
                                           for r in promql_rows]
    assert not any(r["alert"].endswith("_warning") for r in rules)
    for rule, row in zip(rules, promql_rows):
        assert rule["labels"] == {"component": row.component, "metric": row.metric,
                                  "service": "alice"}  # no severity: it is not identity
        assert "critical" in rule["annotations"]["severity"]


def test_promtool_accepts_the_rules(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(to_yaml(prometheus_rules(default_rows(), for_s=60)))
    proc = _promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _step(minute: int, severity: str | None, value: str = "") -> dict:
    name = "backend_intent_classification_accuracy"
    if severity is None:
        return {"eval_time": f"{minute}m", "alertname": name, "exp_alerts": []}
    what = ("crossed its alert threshold < 85 %" if severity == "critical"
            else "misses its target > 90 %")
    return {"eval_time": f"{minute}m", "alertname": name, "exp_alerts": [{
        "exp_labels": {"component": "backend", "metric": "intent_classification_accuracy",
                       "service": "alice"},
        "exp_annotations": {"severity": severity,
                            "summary": f"Intent classification accuracy {value} {what}"}}]}


def test_rules_fire_on_a_fake_clock(tmp_path):
    """Accuracy 95 % for 5 minutes then 80 %; with for: 2m the alert is not yet firing
    1 minute after the drop and is firing (critical) 3 minutes after it."""
    (tmp_path / "rules.yml").write_text(to_yaml(prometheus_rules(default_rows(), for_s=120)))
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": 'intent_classification_accuracy{instance="a"}',
                          "values": "0.95x5 0.80x10"}],
        "alert_rule_test": [_step(4, None), _step(7, None),  # breached at 6m, for: 2m
                            _step(9, "critical", "80")]}]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    proc = _promtool("test", "rules", str(tmp_path / "tests.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_escalation_is_one_alert_whose_severity_annotation_follows_the_value(tmp_path):
    """warning -> critical -> warning -> resolved: at every step exactly one alert, with
    the same labels; only the severity annotation (and the summary) change."""
    (tmp_path / "rules.yml").write_text(to_yaml(prometheus_rules(default_rows())))
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": 'intent_classification_accuracy{instance="a"}',
                          "values": "0.95x4 0.88x4 0.80x4 0.88x4 0.95x4"}],
        # "vxN" is N+1 samples, one a minute: 95 at 0-4m, 88 at 5-9m, 80 at 10-14m, ...
        "alert_rule_test": [_step(2, None), _step(7, "warning", "88"),
                            _step(12, "critical", "80"), _step(17, "warning", "88"),
                            _step(22, None)]}]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    proc = _promtool("test", "rules", str(tmp_path / "tests.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
