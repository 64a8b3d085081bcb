"""The threshold table as Prometheus alerting rules (pure), for fleets where Prometheus
evaluates and a clustered Alertmanager deduplicates (DESIGN.md, "Real parts").

Only PromQL rows can be exported: probe rows need the agent. Each row gives ONE rule
with exactly the agent's alert name and labels (`component`, `metric`, `service`), so a
silence or route written for the agent's alerts carries over. It fires while the target
is missed; its `severity` is an annotation, templated from the value (critical past the
alert threshold, else warning), never a label: an escalation stays one Alertmanager
alert, as the agent's own do (`alerts.notifiers.wire`). Put the agent's
`external_labels` in Prometheus' `global.external_labels` to get the same identity.
"""

from __future__ import annotations

from typing import Any, Sequence

import yaml

from rules.alerting import metric_alert
from rules.thresholds import ThresholdRow


def _duration(seconds: float) -> str:
    return f"{int(round(seconds))}s"


def prometheus_rules(rows: Sequence[ThresholdRow], for_s: float = 0.0,
                     keep_firing_for_s: float = 0.0, group: str = "alice-ops") -> dict[str, Any]:
    rules = []
    for row in rows:
        if row.promql is None:
            continue
        worse, past = (">", "gt") if row.direction == "lower" else ("<", "lt")
        name = metric_alert(row.component, row.metric)
        labels = {"component": row.component, "metric": row.metric, "service": "alice"}
        query = " ".join(row.promql.split())
        critical = f"{{{{ if {past} $value {float(row.alert)!r} }}}}"
        value = f"{row.title} {{{{ $value | printf \"%.3g\" }}}}"
        rule: dict[str, Any] = {
            "alert": name,
            "expr": f"({query}) {worse}= {row.target:g}",
            "labels": labels,
            "annotations": {
                "severity": f"{critical}critical{{{{ else }}}}warning{{{{ end }}}}",
                "summary": f"{critical}{value} crossed its alert threshold {row.alert_text}"
                           f"{{{{ else }}}}{value} misses its target {row.target_text}"
                           "{{ end }}"}}
        if for_s:
            rule["for"] = _duration(for_s)
        if keep_firing_for_s:
            rule["keep_firing_for"] = _duration(keep_firing_for_s)
        rules.append(rule)
    return {"groups": [{"name": group, "rules": rules}]}


def to_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)
