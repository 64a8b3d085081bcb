"""Alert rules derived from the threshold table (pure): one per metric row, one per component.

`<component>_health` follows the probe's own verdict (down, auth failure, model
missing); `<component>_<metric>` follows a threshold row. Lifecycle defaults come
from the config's `alerts:` section, with per-alert overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from vocab.model import Status
from alerts.rule import AlertRule
from rules.thresholds import ThresholdRow


@dataclass(frozen=True)
class BoundRule:
    """A rule and what it watches: a component's probe status, or one metric."""

    rule: AlertRule
    component: str
    metric: str | None = None  # None: the component's probe status


def health_alert(component: str) -> str:
    return f"{component}_health"


def metric_alert(component: str, metric: str) -> str:
    return metric if metric.startswith(f"{component}_") else f"{component}_{metric}"


def build_rules(rows: Sequence[ThresholdRow], components: Iterable[str], settings: Any
                ) -> dict[str, BoundRule]:
    """Every alert rule for the configured components, keyed by alert name."""
    overrides = {o.alert: o for o in settings.rules}
    components = list(components)
    bound: dict[str, BoundRule] = {}

    def make(name: str, labels: dict[str, str]) -> AlertRule:
        o = overrides.get(name)

        def pick(field: str) -> Any:
            value = getattr(o, field, None) if o is not None else None
            return getattr(settings, field) if value is None else value

        floor = getattr(o, "severity_floor", None) if o is not None else None
        return AlertRule(name=name, labels=labels, for_s=pick("for_s"),
                         keep_firing_for_s=pick("keep_firing_for_s"),
                         failure_threshold=pick("failure_threshold"),
                         success_threshold=pick("success_threshold"),
                         flap_window_s=settings.flap_window_s,
                         flap_max_transitions=settings.flap_max_transitions,
                         fire_on=Status.CRITICAL if floor == "critical" else Status.WARNING,
                         unknown_is_breach=settings.unknown_is_breach)

    for component in components:
        name = health_alert(component)
        bound[name] = BoundRule(make(name, {"component": component, "service": "alice"}),
                                component)
    for row in rows:
        if row.component not in components:
            continue
        name = metric_alert(row.component, row.metric)
        labels = {"component": row.component, "metric": row.metric, "service": "alice"}
        bound[name] = BoundRule(make(name, labels), row.component, row.metric)
    return bound


def unknown_overrides(settings: Any, names: Iterable[str]) -> list[tuple[int, str]]:
    """(index, why) of each `alerts.rules` entry that names no rule in `names` (a typo
    would otherwise be silently ignored), with the closest known name when one is near."""
    import difflib

    known = sorted(set(names))
    out: list[tuple[int, str]] = []
    for i, o in enumerate(settings.rules):
        if o.alert in known:
            continue
        near = difflib.get_close_matches(o.alert, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else \
            " (`alice-ops rules show` lists the alerts)"
        out.append((i, f"no alert named {o.alert!r}{hint}"))
    return out
