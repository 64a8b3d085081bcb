"""The threshold table as Prometheus alerting rules (pure), for fleets where Prometheus
evaluates and a clustered Alertmanager deduplicates (DESIGN.md, "Real parts").

Only PromQL rows can be exported: probe rows need the agent. Each row gives two
rules, `<alert>_warning` (target missed) and `<alert>` (alert threshold crossed),
with the same names and labels the agent uses, so silences carry over.
"""

from __future__ import annotations

from typing import Sequence

import yaml

from rules.alerting import metric_alert
from rules.thresholds import ThresholdRow


def _duration(seconds: float) -> str:
    return f"{int(round(seconds))}s"


def prometheus_rules(rows: Sequence[ThresholdRow], for_s: float = 0.0,
                     keep_firing_for_s: float = 0.0, group: str = "alice-ops") -> dict:
    rules = []
    for row in rows:
        if row.promql is None:
            continue
        worse, better = (">", "<") if row.direction == "lower" else ("<", ">")
        name = metric_alert(row.component, row.metric)
        labels = {"component": row.component, "metric": row.metric, "service": "alice"}
        query = " ".join(row.promql.split())
        for severity, op, limit, what in (
                ("critical", worse, row.alert, f"crossed its alert threshold {row.alert_text}"),
                ("warning", f"{worse}=", row.target, f"misses its target {row.target_text}")):
            rule = {"alert": name if severity == "critical" else f"{name}_warning",
                    "expr": f"({query}) {op} {limit:g}",
                    "labels": {**labels, "severity": severity},
                    "annotations": {"summary": f"{row.title} {{{{ $value | printf \"%.3g\" }}}} "
                                               f"{what}"}}
            if severity == "warning":  # only while not already critical
                rule["expr"] += f" and ({query}) {better}= {row.alert:g}"
            if for_s:
                rule["for"] = _duration(for_s)
            if keep_firing_for_s:
                rule["keep_firing_for"] = _duration(keep_firing_for_s)
            rules.append(rule)
    return {"groups": [{"name": group, "rules": rules}]}


def to_yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)
