"""`alice-ops grafana export`'s edge: the config in force as dashboard inputs, and the
dashboards written as one JSON file each (`<uid>.json`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.config import Config, CostMetricNames
from agent.grafana.dashboards import Inputs, dashboards
from agent.grafana.render import build, to_text
from agent.grafana.spec import DashboardSpec


def inputs_for(config: Config) -> Inputs:
    """The threshold table in force (overrides, endpoint rows, the cost rows with `cost:`)
    and the cost table's budgets, levels, routing band and series names."""
    from agent.check import threshold_rows
    from agent.cost.component import cost_rows
    from rules.cost_table import table_for

    table = table_for(config.cost)
    names = config.cost.metrics if config.cost is not None else CostMetricNames()
    return Inputs(rows=threshold_rows(config) + cost_rows(config),
                  budgets_usd=dict(table.budgets), warning_level=table.levels.warning,
                  critical_level=table.levels.critical, routing_band=table.routing_band,
                  cost=names.cost, fast=names.fast, total=names.total, tokens=names.tokens,
                  token_label=names.token_label, sessions=names.sessions)


def specs_for(config: Config) -> tuple[DashboardSpec, ...]:
    return dashboards(inputs_for(config))


def export(config: Config, out_dir: Path) -> list[dict[str, Any]]:
    """Write each dashboard to `out_dir/<uid>.json` (the directory is made if missing);
    return one entry per file: path, uid, title, panel and query counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs_for(config):
        path = out_dir / f"{spec.uid}.json"
        path.write_text(to_text(build(spec)), encoding="utf-8")
        written.append({"path": str(path), "uid": spec.uid, "title": spec.title,
                        "panels": len(spec.panels),
                        "queries": sum(len(p.queries) for p in spec.panels)})
    return written
