"""`config validate` is what the commands do: one path (`parse_config`) refuses strict-YAML
duplicates, overrides that match nothing and clashing receiver names; it accepts
`gpu: off` unquoted and names two Alertmanagers apart by default."""

from __future__ import annotations

import json

import pytest

from agent.cli.main import main
from agent.config import ConfigError, parse_config


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "f.yaml", {})
    return err.value.problems


def test_duplicate_keys_anywhere_name_both_lines():
    text = """targets:
  openai: {api_key: x}
check:
  deadline_s: 3
  deadline_s: 4
targets:
  backend: {url: "http://b:1", url: "http://c:2"}
alerts:
  rules:
    - alert: host_health
      for_s: 1
      for_s: 2
"""
    assert problems(text) == [
        "f.yaml:5: check.deadline_s: duplicate key (first at line 4)",
        "f.yaml:6: targets: duplicate key (first at line 1)",
        "f.yaml:7: targets.backend.url: duplicate key (first at line 7)",
        "f.yaml:12: alerts.rules[0].for_s: duplicate key (first at line 11)",
    ]


def test_merge_keys_are_not_duplicates():
    text = """targets:
  backend: &b {url: "http://b:1", timeout_ms: 900}
  gateway: {<<: *b, url: "http://g:2"}
"""
    loaded = parse_config(text, "f.yaml", {})
    assert loaded.targets.gateway.timeout_ms == 900 and loaded.targets.gateway.url == "http://g:2"


@pytest.mark.parametrize("word,expected", [("off", "off"), ("'off'", "off"), ("no", "off"),
                                           ("auto", "auto"), ("required", "required")])
def test_gpu_off_unquoted_is_off(word, expected):
    assert parse_config(f"targets: {{host: {{gpu: {word}}}}}", "f.yaml", {}) \
        .targets.host.gpu == expected


def test_gpu_on_is_refused_with_the_reason():
    assert problems("targets:\n  host: {gpu: on}\n") == [
        "f.yaml:2: targets.host.gpu: expected auto, required or off (a bare on/yes/true is "
        "YAML's true: write auto or required)"]


def test_two_alertmanagers_as_the_readme_shows_get_distinct_names():
    config = parse_config("""notifiers:
  alertmanagers: [{url: "http://am-a:9093"}, {url: "http://am-b:9093"}]
  webhooks: [{url: "https://hooks.example/x"}, {name: pager, url: "http://p"}]
""", "f.yaml", {})
    assert [a.name for a in config.notifiers.alertmanagers] == ["alertmanager-am-a-9093",
                                                                 "alertmanager-am-b-9093"]
    assert [w.name for w in config.notifiers.webhooks] == ["webhook-hooks.example-443", "pager"]


def test_and_the_agent_builds_their_dispatcher():
    from agent.service import make_notifiers
    from alerts.dispatch import Dispatcher

    config = parse_config('notifiers: {alertmanagers: [{url: "http://a:1"}, {url: "http://b:1"}]}',
                          "f.yaml", {})
    names = [n.name for n in make_notifiers(config)]
    assert names == ["log", "alertmanager-a-1", "alertmanager-b-1"]
    assert Dispatcher is not None  # names unique: the dispatcher's own check passes


@pytest.mark.parametrize("text,expected", [
    ('notifiers: {alertmanagers: [{url: "http://a:1"}, {url: "http://a:1/other"}]}',
     "f.yaml:1: notifiers: alertmanagers[1]: receiver name 'alertmanager-a-1' is also the "
     "name of alertmanagers[0] (give each a distinct name:)"),
    ('notifiers: {webhooks: [{name: x, url: "http://a:1"}], alertmanagers: [{name: x, url: '
     '"http://b:1"}]}',
     "f.yaml:1: notifiers: alertmanagers[0]: receiver name 'x' is also the name of "
     "webhooks[0] (give each a distinct name:)"),
    ('notifiers: {webhooks: [{name: log, url: "http://a:1"}]}',
     "f.yaml:1: notifiers: webhooks[0]: receiver name 'log' is reserved (the agent's "
     "structured log)"),
])
def test_clashing_or_reserved_receiver_names_are_refused(text, expected):
    assert problems(text) == [expected]


def test_a_threshold_override_that_matches_no_row_is_refused_at_its_line():
    text = """check: {deadline_s: 5}
thresholds:
  - {component: openai, metric: api_latency_ms, target: 40}
  - {component: openai, metric: no_such_metric, target: 1}
  - {component: gateway, metric: nothing, enabled: false}
"""
    assert problems(text) == [
        "f.yaml:4: thresholds[1]: no default row openai/no_such_metric; to add one give "
        "title, unit, direction, alert",
        "f.yaml:5: thresholds[2]: no row gateway/nothing to disable (`alice-ops rules show` "
        "lists them)"]


def test_a_complete_new_row_is_fine_and_its_alert_can_be_overridden():
    config = parse_config("""thresholds:
  - {component: backend, metric: queue_depth, title: queue depth, unit: "", probe: queue,
     direction: lower, target: 10, alert: 50}
alerts:
  rules: [{alert: backend_queue_depth, for_s: 30}, {alert: backend_health, for_s: 5}]
""", "f.yaml", {})
    assert config.alerts.rules[0].for_s == 30


def test_an_alert_override_that_names_no_alert_is_refused_with_a_suggestion():
    assert problems("""alerts:
  rules:
    - {alert: openai_helth, for_s: 3}
    - {alert: zzz_top}
""") == ["f.yaml:3: alerts.rules[0].alert: no alert named 'openai_helth' (did you mean "
         "'openai_health'?)",
         "f.yaml:4: alerts.rules[1].alert: no alert named 'zzz_top' (`alice-ops rules show` "
         "lists the alerts)"]


@pytest.mark.parametrize("body", [
    "thresholds:\n  - {component: openai, metric: nope, target: 1}\n",
    "alerts: {rules: [{alert: nope}]}\n",
    "targets: {openai: {api_key: x}}\ntargets: {}\n",
])
def test_validate_and_check_agree(tmp_path, capsys, body):
    """What validate refuses, check refuses the same way (exit 3, the same lines), and
    neither says "unexpected error"."""
    path = tmp_path / "alice-ops.yaml"
    path.write_text(body)
    assert main(["config", "validate", str(path), "--json"]) == 1
    refused = json.loads(capsys.readouterr().out)["problems"]
    assert refused and all(line.startswith(f"{path}:") for line in refused)
    assert main(["check", "--config", str(path)]) == 3
    err = capsys.readouterr().err
    assert err.splitlines() == [f"alice-ops: {line}" for line in refused]
    assert "unexpected error" not in err


def test_settings_for_a_playbook_that_does_not_exist_are_refused():
    assert problems("""remediation:
  playbooks:
    openai-outage: {mode: off}
    openai-outgae: {mode: dry-run}
""") == ["f.yaml:4: remediation.playbooks.openai-outgae: no playbook with this name "
         "(`alice-ops remediate list` lists them)"]
