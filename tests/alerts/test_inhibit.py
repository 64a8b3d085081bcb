"""Inhibition's pure core (alerts.inhibit) and the shipped dependency graph: tables."""

from __future__ import annotations

import pytest

from alerts.inhibit import (AlertFacts, Dependency, DependencyGraph, Selector, display_order,
                            inhibited, playbook_inhibited)
from rules.alerting import build_rules
from rules.dependencies import DependencySpec, alert_labels, graph, merged
from rules.thresholds import default_rows


def dep(cause: str, *affects: dict[str, str], playbooks: tuple[str, ...] = ()) -> Dependency:
    return Dependency(name=cause, cause=Selector({"alertname": cause}),
                      affects=tuple(Selector(a) for a in affects), playbooks=playbooks)


def facts(**active: float | None) -> dict[str, AlertFacts]:
    """name=since (None: inactive); each alert's component is its name's prefix."""
    return {name: AlertFacts({"component": name.split("_")[0]}, since is not None, since)
            for name, since in active.items()}


BACKEND = DependencyGraph((dep("backend_health", {"component": "backend"}),))


def test_a_dependency_inhibits_what_follows_from_it_not_itself() -> None:
    alerts = facts(backend_health=10.0, backend_latency=12.0, backend_accuracy=11.0,
                   openai_health=13.0)
    assert inhibited(alerts, BACKEND, 20.0) == {"backend_latency": "backend_health",
                                                "backend_accuracy": "backend_health"}


def test_an_inactive_cause_inhibits_nothing() -> None:
    alerts = facts(backend_health=None, backend_latency=12.0)
    assert inhibited(alerts, BACKEND, 20.0) == {}


def test_an_inactive_dependent_is_not_listed() -> None:
    assert inhibited(facts(backend_health=1.0, backend_latency=None), BACKEND, 2.0) == {}


def test_chains_blame_the_root() -> None:
    g = DependencyGraph((dep("prom_health", {"alertname": "backend_health"}),
                         dep("backend_health", {"component": "backend"})))
    alerts = facts(prom_health=5.0, backend_health=6.0, backend_latency=7.0)
    assert inhibited(alerts, g, 8.0) == {"backend_health": "prom_health",
                                         "backend_latency": "prom_health"}


def test_a_chain_through_an_inactive_alert_does_not_hold() -> None:
    g = DependencyGraph((dep("prom_health", {"alertname": "backend_health"}),
                         dep("backend_health", {"component": "backend"})))
    alerts = facts(prom_health=5.0, backend_health=None, backend_latency=7.0)
    assert inhibited(alerts, g, 8.0) == {}


def test_a_cycle_inhibits_neither_side() -> None:
    g = DependencyGraph((dep("a_x", {"alertname": "b_x"}), dep("b_x", {"alertname": "a_x"})))
    assert inhibited(facts(a_x=1.0, b_x=2.0), g, 3.0) == {}
    assert inhibited(facts(a_x=1.0, b_x=None), g, 3.0) == {}


def test_two_roots_the_earliest_is_blamed() -> None:
    g = DependencyGraph((dep("a_h", {"alertname": "c_x"}), dep("b_h", {"alertname": "c_x"})))
    assert inhibited(facts(a_h=5.0, b_h=3.0, c_x=9.0), g, 10.0) == {"c_x": "b_h"}
    assert inhibited(facts(a_h=5.0, b_h=None, c_x=9.0), g, 10.0) == {"c_x": "a_h"}


@pytest.mark.parametrize("selector,labels,hit", [
    ({"component": "backend"}, {"component": "backend"}, True),
    ({"metric": "gpu_*"}, {"metric": "gpu_temperature"}, True),
    ({"metric": "gpu_*"}, {"metric": "cpu_percent"}, False),
    ({"component": "backend", "source": "json"}, {"component": "backend", "source": "promql"},
     False),
    ({}, {"component": "backend"}, False),  # an empty selector is never "everything"
    ({"component": "backend"}, {}, False),
])
def test_selectors(selector, labels, hit) -> None:
    assert Selector(selector).matches(labels) is hit


def test_playbooks_under_a_breaching_cause() -> None:
    g = DependencyGraph((dep("ollama_health", {"component": "ollama"},
                             playbooks=("local-ai-degradation",)),))
    assert playbook_inhibited("local-ai-degradation", g,
                              facts(ollama_health=1.0)) == "ollama_health"
    assert playbook_inhibited("local-ai-degradation", g, facts(ollama_health=None)) is None
    assert playbook_inhibited("local-ai-failure", g, facts(ollama_health=1.0)) is None


def test_display_order_severity_then_age_inhibited_under_their_cause() -> None:
    rows = [
        {"name": "w_old", "state": "firing", "severity": "warning", "started_at": 1.0},
        {"name": "c_new", "state": "firing", "severity": "critical", "started_at": 9.0},
        {"name": "c_old", "state": "firing", "severity": "critical", "started_at": 2.0},
        {"name": "dep", "state": "firing", "severity": "critical", "started_at": 0.5,
         "inhibited_by": "w_old"},
        {"name": "p", "state": "pending", "severity": "critical", "started_at": 0.0},
        {"name": "r", "state": "resolved", "severity": "critical", "started_at": 0.0},
    ]
    names = [rows[i]["name"] for i in display_order(rows)]
    assert names == ["c_old", "c_new", "w_old", "dep", "p", "r"]


# -- the shipped graph, over the shipped rules --------------------------------------------

COMPONENTS = ("openai", "ollama", "gateway", "backend", "prometheus", "host")


@pytest.fixture(scope="module")
def shipped():
    from agent.config import AlertSettings

    rows = default_rows()
    rules = build_rules(rows, COMPONENTS, AlertSettings())
    return alert_labels(rules, rows), graph()


def _all_active(labels, **inactive) -> dict[str, AlertFacts]:
    return {n: AlertFacts(lab, n not in inactive, 1.0) for n, lab in labels.items()}


def test_shipped_prometheus_down_holds_every_promql_row(shipped) -> None:
    labels, g = shipped
    alerts = {n: AlertFacts(lab, n == "prometheus_health" or lab["source"] == "promql", 1.0)
              for n, lab in labels.items()}
    held = inhibited(alerts, g, 2.0)
    promql = {n for n, lab in labels.items() if lab["source"] == "promql"}
    assert len(promql) >= 8 and set(held) == promql
    assert set(held.values()) == {"prometheus_health"}


def test_shipped_backend_down_holds_the_backend_rows_only(shipped) -> None:
    labels, g = shipped
    alerts = {n: AlertFacts(lab, lab["component"] in ("backend",), 1.0)
              for n, lab in labels.items()}
    held = inhibited(alerts, g, 2.0)
    assert "backend_health" not in held
    assert set(held) == {n for n, lab in labels.items()
                         if lab["component"] == "backend" and n != "backend_health"}


def test_shipped_host_gpu_holds_the_vram_share(shipped) -> None:
    labels, g = shipped
    alerts = {n: AlertFacts(lab, n in ("host_gpu_memory_percent", "ollama_vram_share"), 1.0)
              for n, lab in labels.items()}
    assert inhibited(alerts, g, 2.0) == {"ollama_vram_share": "host_gpu_memory_percent"}


def test_config_entries_replace_by_name_or_add() -> None:
    off = DependencySpec(name="backend", cause={"alertname": "backend_health"}, affects=())
    extra = DependencySpec(name="tts", cause={"alertname": "tts_health"},
                           affects=({"component": "gateway"},))
    specs = merged((off, extra))
    names = [s.name for s in specs]
    assert names.count("backend") == 1 and names[-1] == "tts"
    g = graph((off, extra))
    assert "backend" not in [d.name for d in g.dependencies]
    assert g.dependencies[-1].cause.matches({"alertname": "tts_health"})


def test_config_rejects_a_selector_with_an_unknown_label(tmp_path) -> None:
    from agent.config import ConfigError, load_config

    path = tmp_path / "alice-ops.yaml"
    path.write_text("alerts:\n  dependencies:\n    - name: x\n      cause: {alertname: a}\n"
                    "      affects: [{componnent: backend}]\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert any("alerts.dependencies" in p and "componnent" in p and "unknown label" in p
               for p in err.value.problems), err.value.problems


# -- the runtime's view between cycles (rules.dependencies.Inhibition) -------------------

def _state(phase: str, since: float):
    from alerts.lifecycle import AlertState, Phase

    p = Phase(phase)
    return AlertState(phase=p, since=since, last_eval=since,
                      active_since=since if p in (Phase.PENDING, Phase.FIRING) else None,
                      fired_at=since if p is Phase.FIRING else None)


def test_a_released_follower_waits_release_s_then_is_told() -> None:
    from rules.dependencies import Inhibition

    labels = {"backend_health": {"component": "backend"},
              "backend_latency": {"component": "backend"}}
    inh = Inhibition(BACKEND, labels, release_s=30.0)
    inh.update({"backend_health": _state("firing", 0), "backend_latency": _state("firing", 1)},
               10.0)
    assert inh.causes == {"backend_latency": "backend_health"} and inh.holds("backend_latency", 10)
    # the cause resolves: not inhibited any more (never shown so), but its notice waits
    inh.update({"backend_health": _state("resolved", 20), "backend_latency": _state("firing", 1)},
               20.0)
    assert inh.causes == {}
    assert inh.holds("backend_latency", 49.0) and not inh.holds("backend_latency", 50.0)
    assert not inh.holds("backend_health", 20.0) and not inh.holds(None, 20.0)


def test_a_released_follower_that_resolves_meanwhile_is_forgotten() -> None:
    from rules.dependencies import Inhibition

    labels = {"backend_health": {}, "backend_latency": {"component": "backend"}}
    inh = Inhibition(BACKEND, labels)
    inh.update({"backend_health": _state("firing", 0), "backend_latency": _state("firing", 1)}, 5)
    inh.update({"backend_health": _state("resolved", 6), "backend_latency": _state("firing", 1)},
               6)
    inh.update({"backend_health": _state("resolved", 6),
                "backend_latency": _state("resolved", 8)}, 8)
    assert not inh.holds("backend_latency", 9.0)


def test_group_wait_holds_a_new_firing_alert_then_lets_it_out() -> None:
    from rules.dependencies import Inhibition

    inh = Inhibition(DependencyGraph(), {"a_x": {}}, group_wait_s=5.0)
    inh.update({"a_x": _state("firing", 100.0)}, 100.0)
    assert inh.holds("a_x", 104.9) and not inh.holds("a_x", 105.0)
    off = Inhibition(DependencyGraph(), {"a_x": {}})
    off.update({"a_x": _state("firing", 100.0)}, 100.0)
    assert not off.holds("a_x", 100.0)
