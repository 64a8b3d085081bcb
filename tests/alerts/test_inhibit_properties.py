"""Properties of inhibition (hypothesis): over random graphs and random alert states,
nothing stays inhibited once its causes stop, someone is always told, and an announced
alert's resolution always goes out."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vocab.model import Status
from alerts.dispatch import plan
from alerts.inhibit import AlertFacts, Dependency, DependencyGraph, Selector, inhibited
from alerts.lifecycle import EventKind, transition
from alerts.rule import AlertRule

NAMES = [f"a{i}" for i in range(7)]
GROUPS = ["x", "y", "z"]


@st.composite
def graphs(draw) -> DependencyGraph:
    deps = []
    for _ in range(draw(st.integers(0, 8))):
        cause = draw(st.sampled_from(NAMES))
        affects = draw(st.lists(st.one_of(
            st.sampled_from(NAMES).map(lambda n: {"alertname": n}),
            st.sampled_from(GROUPS).map(lambda g: {"group": g})), min_size=1, max_size=3))
        deps.append(Dependency(cause, Selector({"alertname": cause}),
                               tuple(Selector(a) for a in affects)))
    return DependencyGraph(tuple(deps))


@st.composite
def alert_sets(draw) -> dict[str, AlertFacts]:
    out = {}
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, unique=True)):
        active = draw(st.booleans())
        out[name] = AlertFacts({"group": draw(st.sampled_from(GROUPS))}, active,
                               draw(st.floats(0, 100)) if active else None)
    return out


def reaches(graph: DependencyGraph, alerts: dict[str, AlertFacts], src: str, dst: str) -> bool:
    """A path src -> dst over active alerts (the graph restricted to them)."""
    edges = graph.edges({n: f.labels for n, f in alerts.items() if f.active})
    seen, todo = {src}, [src]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt == dst:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


@settings(max_examples=400, deadline=None)
@given(graphs(), alert_sets(), st.floats(0, 1e9))
def test_every_inhibited_alert_has_an_active_uninhibited_cause_that_reaches_it(g, alerts, now):
    held = inhibited(alerts, g, now)
    for name, cause in held.items():
        assert alerts[name].active and alerts[cause].active
        assert cause not in held and cause != name
        assert reaches(g, alerts, cause, name)


@settings(max_examples=400, deadline=None)
@given(graphs(), alert_sets(), st.floats(0, 1e9))
def test_monitoring_never_stops_someone_active_is_always_told(g, alerts, now):
    held = inhibited(alerts, g, now)
    active = {n for n, f in alerts.items() if f.active}
    assert not active or active - set(held)


@settings(max_examples=400, deadline=None)
@given(graphs(), alert_sets(), st.floats(0, 1e9))
def test_no_alert_stays_inhibited_after_its_cause_resolves(g, alerts, now):
    """Resolve the blamed cause: the alert is free, or blamed on another active cause
    that still reaches it; resolve every cause that reaches it: it is free."""
    held = inhibited(alerts, g, now)
    for name, cause in held.items():
        after = {**alerts, cause: AlertFacts(alerts[cause].labels, False, None)}
        again = inhibited(after, g, now + 1)
        if name in again:
            assert again[name] != cause and reaches(g, after, again[name], name)
        others = {n: (AlertFacts(f.labels, False, None) if n != name and
                      reaches(g, alerts, n, name) and not reaches(g, alerts, name, n) else f)
                  for n, f in alerts.items()}
        assert name not in inhibited(others, g, now + 1)


@settings(max_examples=200, deadline=None)
@given(graphs(), alert_sets())
def test_the_decision_reads_no_clock(g, alerts):
    assert inhibited(alerts, g, 0.0) == inhibited(alerts, g, 1e9)


SERIES = st.lists(st.tuples(st.sampled_from([Status.OK, Status.CRITICAL]),
                            st.sampled_from([Status.OK, Status.CRITICAL])),
                  min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(SERIES)
def test_resolution_is_never_suppressed(series):
    """A cause and a dependent stepped together through the lifecycle and the planner,
    with the inhibition decision as the runtime wires it (`silenced` or inhibited):
    every announced episode of the dependent gets its resolved notice, and the
    dependent is never announced while its cause breaches."""
    g = DependencyGraph((Dependency("c", Selector({"alertname": "cause"}),
                                    (Selector({"alertname": "dep"}),)),))
    rules = {"cause": AlertRule("cause", {"component": "c"}, success_threshold=1,
                                flap_window_s=0),
             "dep": AlertRule("dep", {"component": "d"}, success_threshold=1,
                              flap_window_s=0)}
    states: dict = {}
    ledger: dict = {}
    announced = False
    for i, (cause_status, dep_status) in enumerate(series):
        now = float(i * 10)
        events = []
        for name, status in (("cause", cause_status), ("dep", dep_status)):
            states[name], evs = transition(states.get(name), status, None, rules[name], now)
            events += evs
        facts = {n: AlertFacts({}, s.phase.value in ("pending", "firing"), s.active_since)
                 for n, s in states.items()}
        held = inhibited(facts, g, now)
        result = plan(events, ledger, repeat_interval_s=None, now=now,
                      silenced=lambda labels, held=held: labels["alertname"] in held)
        ledger = result.ledger
        told = [n for n in result.notices if n.alertname == "dep"]
        resolved_now = any(e.rule == "dep" and e.kind is EventKind.RESOLVED for e in events)
        if resolved_now:
            assert [n.status for n in told] == (["resolved"] if announced else [])
            announced = False
        for n in told:
            if n.status == "firing":
                assert "dep" not in held
                announced = True
