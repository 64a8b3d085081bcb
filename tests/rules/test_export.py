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


def test_every_promql_row_exports_two_rules():
    doc = prometheus_rules(default_rows())
    rules = doc["groups"][0]["rules"]
    promql_rows = [r for r in default_rows() if r.promql]
    assert len(rules) == 2 * len(promql_rows)
    assert {r["labels"]["severity"] for r in rules} == {"warning", "critical"}


def test_promtool_accepts_the_rules(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(to_yaml(prometheus_rules(default_rows(), for_s=60)))
    proc = _promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_fire_on_a_fake_clock(tmp_path):
    """Accuracy 95 % for 5 minutes then 80 %; with for: 2m the critical alert is not yet
    firing 1 minute after the drop and is firing 3 minutes after it."""
    (tmp_path / "rules.yml").write_text(to_yaml(prometheus_rules(default_rows(), for_s=120)))
    labels = {"component": "backend", "metric": "intent_classification_accuracy",
              "service": "alice", "severity": "critical"}
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": 'intent_classification_accuracy{instance="a"}',
                          "values": "0.95x5 0.80x10"}],
        "alert_rule_test": [
            {"eval_time": "4m", "alertname": "backend_intent_classification_accuracy",
             "exp_alerts": []},
            {"eval_time": "7m", "alertname": "backend_intent_classification_accuracy",
             "exp_alerts": []},  # breached at 6m, for: 2m not elapsed yet
            {"eval_time": "9m", "alertname": "backend_intent_classification_accuracy",
             "exp_alerts": [{"exp_labels": labels, "exp_annotations": {
                 "summary": "Intent classification accuracy 80 crossed its alert threshold < 85 %"}}]},
            {"eval_time": "9m", "alertname": "backend_intent_classification_accuracy_warning",
             "exp_alerts": []},  # critical, so not also warning
        ]}]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    proc = _promtool("test", "rules", str(tmp_path / "tests.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
