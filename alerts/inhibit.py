"""Dependencies and inhibition: which alerts only follow from another one (pure).

A `DependencyGraph` says which alerts are *caused by* which: "when `backend_health`
breaches, every backend row goes dark too". `inhibited(alerts, graph, now)` takes
every alert's current facts and returns, for each alert that follows from an active
cause, the alert to blame (its root cause). The runtime shows those grouped under
their cause, does not notify them and runs none of their playbooks; their states
keep moving (monitoring never stops) and a resolved notice is always sent for an
alert that was announced (the dispatcher's rule, not this module's).

The decision is memoryless: it reads only the facts at `now`, so an alert is never
inhibited after its cause has stopped breaching. Cycles in the graph are broken by
strongly connected components: alerts that cause each other are never inhibited by
each other, so at least one active alert is always shown and told.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# labels a selector may match besides the alert's own: its name and its source
ALERTNAME = "alertname"
SOURCE = "source"
"""Where the alert's figure comes from: health, probe, promql, json, cost, ..."""


@dataclass(frozen=True)
class Selector:
    """Label matchers (shell globs: `*`, `?`, `[..]`) that all must match an alert.

    An empty selector matches nothing (a dependency that names no alert is a typo,
    never "everything").
    """

    match: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "match", {str(k): str(v) for k, v in self.match.items()})

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.match.items())))

    def matches(self, labels: Mapping[str, str]) -> bool:
        if not self.match:
            return False
        return all(k in labels and fnmatch.fnmatchcase(labels[k], pattern)
                   for k, pattern in self.match.items())


@dataclass(frozen=True)
class Dependency:
    """One declared dependency: alerts matching `affects` follow from `cause`.

    Attributes:
        name: What depends on it, for people ("backend", "host GPU").
        cause: The failing dependency's alert(s).
        affects: The alerts that follow from it.
        playbooks: Playbooks that do not run while the cause is active (their
            triggers are inhibited too, e.g. the ollama playbooks under ollama_health).
    """

    name: str
    cause: Selector
    affects: tuple[Selector, ...]
    playbooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class DependencyGraph:
    """The declared dependencies, in order."""

    dependencies: tuple[Dependency, ...] = ()

    def edges(self, labels: Mapping[str, Mapping[str, str]]) -> dict[str, set[str]]:
        """cause alert -> the alerts it may inhibit, over the named alerts' labels
        (`alertname` is added); an alert never depends on itself."""
        named = {name: {**lab, ALERTNAME: name} for name, lab in labels.items()}
        out: dict[str, set[str]] = {}
        for dep in self.dependencies:
            causes = [n for n, lab in named.items() if dep.cause.matches(lab)]
            if not causes:
                continue
            targets = {n for n, lab in named.items()
                       if any(sel.matches(lab) for sel in dep.affects)}
            for cause in causes:
                out.setdefault(cause, set()).update(targets - {cause})
        return out

    def playbook_causes(self, playbook: str) -> tuple[Selector, ...]:
        """The cause selectors under which `playbook` must not run."""
        return tuple(d.cause for d in self.dependencies if playbook in d.playbooks)


@dataclass(frozen=True)
class AlertFacts:
    """What inhibition needs to know of one alert.

    Attributes:
        labels: Its labels (component, metric, source, ...).
        active: Whether it breaches now (pending or firing): only an active alert
            is a cause, and only an active alert needs inhibiting.
        since: When its episode started (None if inactive); among several causes
            the earliest one is blamed.
    """

    labels: Mapping[str, str]
    active: bool
    since: float | None = None


def _components(nodes: Sequence[str], edges: Mapping[str, set[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan, iterative): node -> component id."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    ncomp = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(sorted(edges.get(root, ())))))
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp[member] = ncomp
                    if member == node:
                        break
                ncomp += 1
    return comp


def inhibited(alerts: Mapping[str, AlertFacts], graph: DependencyGraph,
              now: float) -> dict[str, str]:
    """Which active alerts follow from another active alert, and the root cause of each.

    Over the active alerts only: an alert is inhibited when an active alert it
    depends on (directly or through a chain of active alerts) exists outside its own
    cycle; it is blamed on the earliest-started (then first by name) active *root*
    reaching it, a root being an active alert nothing active outside its cycle
    inhibits. Roots are never inhibited, so whenever any alert is active at least
    one is not inhibited.

    Args:
        alerts: Every alert by name, with its facts at `now`.
        graph: The declared dependencies.
        now: The evaluation time (the facts are as of then; nothing older is kept).

    Returns:
        alert name -> root cause alert name, for the inhibited alerts only.
    """
    del now  # memoryless by design: the facts already are "as of now"
    active = sorted(n for n, f in alerts.items() if f.active)
    if len(active) < 2:
        return {}
    edges = {c: {t for t in ts if t in alerts and alerts[t].active}
             for c, ts in graph.edges({n: alerts[n].labels for n in active}).items()
             if c in alerts and alerts[c].active}
    comp = _components(active, edges)
    fed = {comp[t] for c, ts in edges.items() for t in ts if comp[t] != comp[c]}
    roots = sorted((n for n in active if comp[n] not in fed),
                   key=lambda n: (alerts[n].since if alerts[n].since is not None
                                  else float("inf"), n))
    blamed: dict[str, str] = {}
    for root in roots:  # breadth-first from each root, earliest root first
        frontier = [root]
        seen = {root}
        while frontier:
            nxt: list[str] = []
            for node in frontier:
                for target in sorted(edges.get(node, ())):
                    if target in seen:
                        continue
                    seen.add(target)
                    nxt.append(target)
                    if comp[target] in fed and target not in blamed:
                        blamed[target] = root
            frontier = nxt
    return blamed


def playbook_inhibited(playbook: str, graph: DependencyGraph,
                       alerts: Mapping[str, AlertFacts]) -> str | None:
    """The active alert under which `playbook` must not run (its cause), or None."""
    for selector in graph.playbook_causes(playbook):
        for name in sorted(alerts):
            facts = alerts[name]
            if facts.active and selector.matches({**facts.labels, ALERTNAME: name}):
                return name
    return None


_PHASE_RANK = {"firing": 0, "pending": 1, "resolved": 2}
_SEVERITY_RANK = {"critical": 0, "warning": 1}


def display_order(alerts: Sequence[Mapping[str, object]]) -> list[int]:
    """Indexes of `alerts` (dicts with name, state, severity, started_at, inhibited_by)
    in the order people read them: firing first, by severity, then oldest first; each
    inhibited alert right under its cause (in the same order among themselves)."""
    def key(i: int) -> tuple[int, int, float, str]:
        a = alerts[i]
        started = a.get("started_at")
        return (_PHASE_RANK.get(str(a.get("state")), 3),
                _SEVERITY_RANK.get(str(a.get("severity")), 2),
                started if isinstance(started, (int, float)) else float("inf"),
                str(a.get("name")))

    by_name = {str(a.get("name")): i for i, a in enumerate(alerts)}
    under: dict[int, list[int]] = {}
    tops: list[int] = []
    for i, a in enumerate(alerts):
        cause = a.get("inhibited_by")
        parent = by_name.get(str(cause)) if cause else None
        if parent is not None and parent != i and not alerts[parent].get("inhibited_by"):
            under.setdefault(parent, []).append(i)
        else:
            tops.append(i)
    out: list[int] = []
    for i in sorted(tops, key=key):
        out.append(i)
        out.extend(sorted(under.get(i, ()), key=key))
    return out
