"""The dependency graph as data: the shipped defaults, the config's changes, alert labels.

`rules/defaults/dependencies.yaml` declares which alerts follow from which; the
config's `alerts.dependencies` replaces entries by name or adds new ones. `graph()`
gives the `alerts.inhibit.DependencyGraph` the runtime decides with, and
`alert_labels` the labels each alert is matched by (its own plus `source`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.inhibit import (ALERTNAME, SOURCE, AlertFacts, Dependency, DependencyGraph,
                            Selector)
from alerts.lifecycle import AlertState, Phase
from rules.alerting import BoundRule
from rules.thresholds import ThresholdRow

DEFAULTS = "rules/defaults/dependencies.yaml"
LabelValue = Annotated[str, Field(min_length=1)]
LABEL_NAMES = (ALERTNAME, "component", "metric", SOURCE, "service")


class DependencySpec(BaseModel):
    """One dependency: while an alert `cause` selects breaches, those `affects` selects
    are inhibited (shown under it, not notified, their playbooks not run)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=64)]
    """What it is, e.g. `backend`; a config entry replaces the default of this name."""
    cause: dict[str, LabelValue]
    """Label globs of the failing dependency's alert, e.g. `{alertname: backend_health}`."""
    affects: tuple[dict[str, LabelValue], ...] = ()
    """Label globs of the alerts that follow from it; labels: alertname, component,
    metric, source (health, probe, promql, json, cost); `[]` turns the entry off."""
    playbooks: tuple[str, ...] = ()
    """Playbooks that do not run while the cause breaches."""


class DependencyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dependencies: tuple[DependencySpec, ...]


def _check(spec: DependencySpec) -> list[str]:
    problems = []
    for where, sel in [("cause", spec.cause)] + [(f"affects[{i}]", s)
                                                  for i, s in enumerate(spec.affects)]:
        if not sel:
            problems.append(f"{where}: an empty selector matches nothing")
        for key in sel:
            if key not in LABEL_NAMES:
                problems.append(f"{where}.{key}: unknown label (use one of "
                                f"{', '.join(LABEL_NAMES)})")
    return problems


def problems(specs: Sequence[DependencySpec]) -> list[tuple[int, str]]:
    """(index, why) of each entry with a selector that can match nothing."""
    return [(i, why) for i, spec in enumerate(specs) for why in _check(spec)]


@lru_cache(maxsize=1)
def default_specs() -> tuple[DependencySpec, ...]:
    """The entries of rules/defaults/dependencies.yaml."""
    text = resources.files("rules").joinpath("defaults/dependencies.yaml").read_text("utf-8")
    try:
        specs = DependencyFile.model_validate(yaml.safe_load(text)).dependencies
    except ValidationError as exc:  # a broken shipped file is a bug: name it
        raise ValueError(f"{DEFAULTS}: {exc.errors()[0]['msg']}") from None
    bad = problems(specs)
    if bad:
        raise ValueError(f"{DEFAULTS}: dependencies[{bad[0][0]}]: {bad[0][1]}")
    return specs


def merged(overrides: Sequence[DependencySpec] = ()) -> tuple[DependencySpec, ...]:
    """The defaults with each override replacing the default of its name, new names
    appended in order."""
    by_name = {s.name: s for s in overrides}
    out = [by_name.pop(s.name, s) for s in default_specs()]
    out += [s for s in overrides if s.name in by_name]
    return tuple(out)


def graph(overrides: Sequence[DependencySpec] = ()) -> DependencyGraph:
    """The dependency graph of the defaults with the config's entries applied."""
    return DependencyGraph(tuple(
        Dependency(name=s.name, cause=Selector(s.cause),
                   affects=tuple(Selector(a) for a in s.affects), playbooks=s.playbooks)
        for s in merged(overrides) if s.affects or s.playbooks))


def source_of(bound: BoundRule, rows: Mapping[tuple[str, str], ThresholdRow]) -> str:
    """Where an alert's figure comes from: health, promql, json, probe (or the
    component, e.g. cost, for rows a capability adds)."""
    if bound.metric is None:
        return "health"
    row = rows.get((bound.component, bound.metric))
    if row is None:
        return bound.component
    if row.promql is not None:
        return "promql"
    if row.json is not None:
        return "json"
    return "probe"


def alert_labels(rules: Mapping[str, BoundRule], rows: Sequence[ThresholdRow]
                 ) -> dict[str, dict[str, str]]:
    """Every alert's labels as dependencies match them: its own plus `source`."""
    by_key = {(r.component, r.metric): r for r in rows}
    return {name: {**b.rule.labels, SOURCE: source_of(b, by_key)} for name, b in rules.items()}


def alert_facts(states: Mapping[str, AlertState], labels: Mapping[str, Mapping[str, str]]
                ) -> dict[str, AlertFacts]:
    """What inhibition reads of each alert state: breaching now (pending or firing)
    and since when."""
    return {name: AlertFacts(labels=labels.get(name, {}),
                             active=s.phase in (Phase.PENDING, Phase.FIRING),
                             since=s.active_since)
            for name, s in states.items()}


class Inhibition:
    """The runtime's view of inhibition between cycles: the decision of the latest cycle
    (`causes`, from the pure `alerts.inhibit.inhibited`) and the alerts released from it
    lately. A released alert that still fires is told only once it has fired on its own
    for `release_s` (its cause's recovery usually takes its followers along within a
    cycle or two; telling each of them late would be the storm again). That hold is
    the notify step's, never the decision's: it is not shown as inhibited."""

    def __init__(self, graph: DependencyGraph, labels: Mapping[str, Mapping[str, str]],
                 release_s: float = 30.0, previous: Inhibition | None = None,
                 group_wait_s: float = 0.0) -> None:
        self.graph, self.labels, self.release_s = graph, labels, release_s
        self.group_wait_s = group_wait_s
        self.causes: dict[str, str] = dict(previous.causes) if previous else {}
        self._released: dict[str, float] = dict(previous._released) if previous else {}
        self._fired: dict[str, float] = dict(previous._fired) if previous else {}

    def update(self, states: Mapping[str, AlertState], now: float) -> dict[str, str]:
        """Decide over every alert state now; returns alert -> its root cause."""
        from alerts.inhibit import inhibited

        causes = (inhibited(alert_facts(states, self.labels), self.graph, now)
                  if self.graph.dependencies else {})
        for name in set(self.causes) - set(causes):
            self._released[name] = now
        self._released = {n: t for n, t in self._released.items()
                          if n not in causes and now - t < self.release_s
                          and n in states and states[n].phase in (Phase.PENDING, Phase.FIRING)}
        self.causes = causes
        self._fired = {n: s.fired_at for n, s in states.items()
                       if s.phase is Phase.FIRING and s.fired_at is not None}
        return causes

    def holds(self, alert: str | None, now: float) -> bool:
        """Whether a notice of `alert` waits now: inhibited, lately released, or fired
        less than `group_wait_s` ago (Alertmanager's group_wait: what fires together
        is told together, in one notification, once the wait is over; a follower
        whose cause fires a cycle later is inhibited by then)."""
        if alert is None:
            return False
        if alert in self.causes:
            return True
        fired = self._fired.get(alert)
        if fired is not None and now - fired < self.group_wait_s:
            return True
        at = self._released.get(alert)
        return at is not None and now - at < self.release_s
