"""Inhibition and precedence in remediation planning (rules.remediation, pure): an inhibited
trigger starts nothing, a playbook under a breaching cause is held, and two conflicting
playbooks (cost-critical routes local, local-ai-failure routes to the cloud) never both run."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.remediation import Kind, Ledger, Signal, Spec, finish, plan

CLOUD = Spec("local-ai-failure", "ollama", ("ollama_health",), ("critical",), mode="execute",
             conflicts_with=("cost-critical",), precedence=10, revert_on_resolve=True)
LOCAL = Spec("cost-critical", "cost", ("cost_daily_budget",), ("critical",), mode="execute",
             revert_on_resolve=True)


def firing(*names: str, inhibited: tuple[str, ...] = ()) -> list[Signal]:
    return [Signal(n, "firing", "critical", inhibited=n in inhibited) for n in names]


def kinds(planning) -> dict[str, tuple[Kind, str]]:
    return {d.playbook: (d.kind, d.reason) for d in planning.decisions}


def test_an_inhibited_trigger_starts_nothing() -> None:
    spec = Spec("local-ai-degradation", "ollama", ("ollama_queue",), mode="execute")
    assert plan(firing("ollama_queue", inhibited=("ollama_queue",)), [spec], {}, 0.0
                ).decisions == ()
    assert kinds(plan(firing("ollama_queue"), [spec], {}, 0.0))[spec.name][0] is Kind.RUN


def test_a_playbook_under_a_breaching_cause_is_held_with_the_cause() -> None:
    spec = Spec("local-ai-degradation", "ollama", ("ollama_queue",), mode="execute",
                inhibited_by="ollama_health")
    got = kinds(plan(firing("ollama_queue"), [spec], {}, 0.0))
    assert got[spec.name] == (Kind.HOLD, "inhibited: ollama_health breaches")
    dry = Spec("x", "ollama", ("ollama_queue",), mode="dry-run", inhibited_by="ollama_health")
    assert plan(firing("ollama_queue"), [dry], {}, 0.0).decisions == ()


def test_both_triggered_the_higher_precedence_runs_the_other_waits() -> None:
    for order in ([LOCAL, CLOUD], [CLOUD, LOCAL]):
        got = kinds(plan(firing("ollama_health", "cost_daily_budget"), order, {}, 0.0))
        assert got["local-ai-failure"][0] is Kind.RUN
        assert got["cost-critical"][0] is Kind.HOLD
        assert got["cost-critical"][1].startswith("local-ai-failure ")
    got = kinds(plan(firing("ollama_health", "cost_daily_budget"), [LOCAL, CLOUD], {}, 0.0))
    assert got["cost-critical"][1] == "local-ai-failure takes precedence (they conflict)"


def test_while_the_winner_is_applied_the_loser_stays_held() -> None:
    ledgers = {"local-ai-failure": Ledger(applied=True)}
    got = kinds(plan(firing("cost_daily_budget"), [LOCAL, CLOUD], ledgers, 100.0))
    assert got["cost-critical"][0] is Kind.HOLD and "applied" in got["cost-critical"][1]


def test_the_winner_overrides_an_applied_loser() -> None:
    ledgers = {"cost-critical": Ledger(applied=True)}
    got = kinds(plan(firing("ollama_health", "cost_daily_budget"), [LOCAL, CLOUD], ledgers,
                     100.0))
    assert got["local-ai-failure"][0] is Kind.RUN


def test_both_applied_the_winner_reverts_first_then_the_loser() -> None:
    both = {"local-ai-failure": Ledger(applied=True), "cost-critical": Ledger(applied=True)}
    got = kinds(plan([], [LOCAL, CLOUD], both, 100.0))
    assert got == {"local-ai-failure": (Kind.REVERT, "trigger resolved")}
    after = {**both, "local-ai-failure": Ledger(applied=False)}
    assert kinds(plan([], [LOCAL, CLOUD], after, 200.0)) == {
        "cost-critical": (Kind.REVERT, "trigger resolved")}


def test_the_shipped_playbooks_declare_it() -> None:
    from rules.playbooks import default_playbooks

    by_name = {p.name: p for p in default_playbooks()}
    assert by_name["local-ai-failure"].conflicts_with == ("cost-critical",)
    assert by_name["local-ai-failure"].precedence > by_name["cost-critical"].precedence


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=1,
                max_size=40))
def test_never_both_running(steps) -> None:
    """Random trigger series, each run finishing (ok or not) a step later: the two
    conflicting playbooks are never running at the same time."""
    ledgers: dict[str, Ledger] = {}
    for i, (ollama_down, over_budget, ok) in enumerate(steps):
        now = 1000.0 * i  # past every cooldown
        for name, led in list(ledgers.items()):
            if led.running:
                ledgers[name] = finish(led, ok, now, revert_on_resolve=True)
        before = dict(ledgers)
        names = [n for n, on in (("ollama_health", ollama_down),
                                 ("cost_daily_budget", over_budget)) if on]
        result = plan(firing(*names), [LOCAL, CLOUD], ledgers, now)
        ledgers = dict(result.ledgers)
        running = [n for n, led in ledgers.items() if led.running]
        assert len(running) <= 1
        started = {d.playbook for d in result.decisions if d.kind in (Kind.RUN, Kind.REVERT)}
        assert len(started) <= 1
        if "cost-critical" in started:  # the loser acts only while the winner is idle
            winner = before.get("local-ai-failure", Ledger())
            assert not winner.running and not winner.applied
            assert not ollama_down
        before = dict(ledgers)
