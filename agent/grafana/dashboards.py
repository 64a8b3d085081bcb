"""The operations guide's two Grafana dashboards ("Real-Time Dashboards": Alice Hybrid
Performance, Alice Cost Analysis) as data, over both kinds of series (pure).

Each guide panel reads the guide's own series where Alice exports them (names from the
threshold table and the cost section's metric names, PromQL in its correct form:
`histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))`, not the guide's
`histogram_quantile(0.95, x)`), and the alice-ops agent's `/metrics` (`alice_ops_*`), which has
them even where Alice exports no Prometheus series (JSON sources, probes). Thresholds are the
threshold table's rows, so config overrides show in the panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from agent.grafana.spec import (GREEN, RED, YELLOW, DashboardSpec, PanelSpec, Query, RowSpec,
                                Step, band_steps, grafana_unit, level_steps, steps_for)
from rules.thresholds import ThresholdRow

HYBRID_UID = "alice-ops-hybrid-performance"
COST_UID = "alice-ops-cost-analysis"
TAGS = ("alice", "alice-ops")
STATUS_MAPPINGS = ((0, "OK", "green"), (1, "WARNING", "yellow"), (2, "UNKNOWN", "purple"),
                   (3, "CRITICAL", "red"))

# The guide's Key Operational Metrics table (component, metric), beside its four panels.
GUIDE_TABLE = (("backend", "intent_classification_accuracy"),
               ("openai", "openai_response_latency_p95"),
               ("ollama", "local_ai_queue_depth"),
               ("gateway", "websocket_connection_stability"),
               ("gateway", "audio_quality_score"),
               ("backend", "tool_execution_success_rate"),
               ("backend", "tool_execution_time_p95"))
# Probe readings only alice-ops has (no series of Alice's gives them).
PROBE_ROWS = (("openai", "api_latency_ms"), ("gateway", "ws_exchange_ms"),
              ("ollama", "vram_share"), ("ollama", "generate_tokens_per_s"),
              ("prometheus", "query_latency_ms"))
_BASE_UNITS = {("ms", "_seconds"): (1e-3, "s"), ("percent", "_ratio"): (1e-2, "percentunit")}


@dataclass(frozen=True)
class Inputs:
    """What the dashboards are built from: the threshold table in force (config overrides,
    `export_as`, the cost rows), the cost table's figures and the guide's series names."""

    rows: Sequence[ThresholdRow]
    budgets_usd: Mapping[str, float]  # hourly / daily / weekly
    warning_level: float  # fractions of a budget
    critical_level: float
    routing_band: tuple[float, float]  # fast-path share, percent
    cost: str = "openai_api_cost_usd_total"
    fast: str = "fast_path_requests_total"
    total: str = "total_requests_total"
    tokens: str = "openai_api_tokens_total"
    token_label: str = "direction"
    sessions: str = "active_sessions"

    def row(self, component: str, metric: str) -> ThresholdRow | None:
        return next((r for r in self.rows if r.key == (component, metric)), None)


def agent_value(row: ThresholdRow) -> str:
    return f'alice_ops_metric_value{{component="{row.component}",metric="{row.metric}"}}'


def _row_queries(row: ThresholdRow) -> tuple[Query, ...]:
    guide = (Query(row.promql, "Alice", "guide"),) if row.promql else ()
    return guide + (Query(agent_value(row), "alice-ops", "agent"),)


def row_panel(row: ThresholdRow, kind: str = "stat", title: str | None = None,
              width: int = 6) -> PanelSpec:
    """A threshold row as a panel: its PromQL (a promql row) and the agent's reading."""
    return PanelSpec(title=title or row.title, kind=kind,  # type: ignore[arg-type]
                     unit=grafana_unit(row.unit), queries=_row_queries(row),
                     description=f"Target {row.target_text}, alert {row.alert_text} "
                                 f"({row.component}/{row.metric}).",
                     steps=steps_for(row), width=width,
                     max=10 if row.unit == "score" else None)


def _rows(inputs: Inputs, keys: Sequence[tuple[str, str]]) -> tuple[PanelSpec, ...]:
    return tuple(row_panel(r) for k in keys if (r := inputs.row(*k)) is not None)


def _guide_hybrid(inputs: Inputs) -> tuple[PanelSpec, ...]:
    panels = []
    if (r := inputs.row("backend", "intent_routing_latency_p95")) is not None:
        panels.append(row_panel(r, "timeseries", "Intent Routing Latency", 12))
    low, high = inputs.routing_band
    panels.append(PanelSpec(
        title="Fast vs Think Path Usage", kind="timeseries", unit="percent",
        queries=(Query(f"100 * sum(rate({inputs.fast}[5m])) / sum(rate({inputs.total}[5m]))",
                       "Alice", "guide"),
                 Query("100 * alice_ops_fast_path_share_ratio", "alice-ops", "agent")),
        description=f"Fast-path share of routed requests; target {low:g}-{high:g} %.",
        steps=band_steps(low, high), min=0, max=100, width=12))
    if (r := inputs.row("openai", "openai_error_rate")) is not None:
        guide = ((Query(f"100 - ({r.promql})", "Alice", "guide"),) if r.promql else ())
        panels.append(PanelSpec(
            title="OpenAI API Health", kind="timeseries", unit="percent",
            queries=guide + (Query(f"100 - {agent_value(r)}", "alice-ops", "agent"),),
            description=f"Success rate, 100 % minus the fast path error rate (alert above "
                        f"{r.alert:g} %, target below {r.target:g} %).",
            steps=steps_for(r, invert_from=100), min=0, max=100, width=12))
    if (r := inputs.row("ollama", "local_ai_processing_time_p95")) is not None:
        panels.append(row_panel(r, "timeseries", "Local AI Performance", 12))
    return tuple(panels)


def _agent_status() -> tuple[PanelSpec, ...]:
    return (
        PanelSpec(title="Component status", kind="stat", unit="none",
                  queries=(Query("alice_ops_component_status", "{{component}}", "agent"),),
                  mappings=STATUS_MAPPINGS, width=12,
                  steps=(Step(None, "green"), Step(1, "yellow"), Step(2, "purple"),
                         Step(3, "red"))),
        PanelSpec(title="Alerts firing", kind="stat", unit="short",
                  queries=(Query('sum by (severity) (alice_ops_alerts{state="firing"})',
                                 "{{severity}}", "agent"),),
                  steps=(Step(None, "green"), Step(1, "red")), width=6),
        PanelSpec(title="Probe duration p95", kind="timeseries", unit="s",
                  queries=(Query("histogram_quantile(0.95, sum by (le, component) "
                                 "(rate(alice_ops_probe_duration_seconds_bucket[5m])))",
                                 "{{component}}", "agent"),), width=6),
    )


def _ollama(inputs: Inputs) -> tuple[PanelSpec, ...]:
    vram = inputs.row("ollama", "vram_share")
    speed = inputs.row("ollama", "generate_tokens_per_s")
    p = "alice_ops_ollama_"
    return (
        PanelSpec(title="Ollama up", kind="stat", unit="none",
                  queries=(Query(f"{p}up", "up", "agent"),),
                  mappings=((0, "DOWN", "red"), (1, "UP", "green")),
                  steps=(Step(None, RED), Step(1, GREEN)), width=4),
        PanelSpec(title="Model share in VRAM", kind="stat", unit="percentunit",
                  queries=(Query(f"{p}model_vram_ratio", "{{model}}", "agent"),),
                  steps=steps_for(vram, scale=0.01) if vram else (), min=0, max=1, width=5),
        PanelSpec(title="Context length", kind="stat", unit="short",
                  queries=(Query(f"{p}model_context_length_tokens", "{{model}}", "agent"),),
                  width=5),
        PanelSpec(title="Deep probe generation speed", kind="timeseries",
                  unit="suffix: tok/s",
                  queries=(Query(f"{p}probe_generation_tokens_per_second", "{{model}}",
                                 "agent"),),
                  steps=steps_for(speed) if speed else (), width=10),
        PanelSpec(title="Ollama saturated (queue full)", kind="stat", unit="none",
                  queries=(Query(f"{p}saturated", "saturated", "agent"),),
                  mappings=((0, "no", "green"), (1, "SATURATED", "red")),
                  steps=(Step(None, GREEN), Step(1, RED)), width=4),
        PanelSpec(title="Model loads (1 h)", kind="stat", unit="short",
                  queries=(Query(f"sum by (model) (increase({p}model_loads_total[1h]))",
                                 "{{model}}", "agent"),),
                  description="Loads, reloads and context-length changes the probe saw; a "
                              "reload costs the first answer its load time.",
                  steps=(Step(None, GREEN), Step(1, YELLOW)), width=5),
    )


def reexported_panel(row: ThresholdRow) -> PanelSpec:
    """A row's `export_as` gauge, in the base unit its name asks for."""
    name = row.export_as or ""
    scale, unit = 1.0, grafana_unit(row.unit)
    for (from_unit, suffix), (factor, to_unit) in _BASE_UNITS.items():
        if row.unit == from_unit and name.endswith(suffix):
            scale, unit = factor, to_unit
    return PanelSpec(title=f"{row.title} ({name})", kind="timeseries", unit=unit,
                     queries=(Query(name, name, "agent"),),
                     description=f"Re-exported by alice-ops from {row.component}/{row.metric}.",
                     steps=steps_for(row, scale=scale), width=12)


def hybrid_performance(inputs: Inputs) -> DashboardSpec:
    rows = [RowSpec("The guide's panels", _guide_hybrid(inputs)),
            RowSpec("Key Operational Metrics", _rows(inputs, GUIDE_TABLE)),
            RowSpec("alice-ops probes and status", _rows(inputs, PROBE_ROWS) + _agent_status()),
            RowSpec("Local AI (Ollama, from the alice-ops exporter)", _ollama(inputs))]
    exported = tuple(reexported_panel(r) for r in inputs.rows if r.export_as)
    if exported:
        rows.append(RowSpec("Re-exported readings (export_as)", exported))
    return DashboardSpec(
        uid=HYBRID_UID, title="Alice Hybrid Performance", tags=TAGS,
        description="The operations guide's Hybrid Performance Dashboard: intent routing, "
                    "fast and think paths, voice gateway and tools, with the guide's "
                    "thresholds (alice-ops grafana export).",
        rows=tuple(r for r in rows if r.panels))


def cost_analysis(inputs: Inputs) -> DashboardSpec:
    daily = inputs.budgets_usd.get("daily")
    hourly = inputs.budgets_usd.get("hourly")
    warn, crit = inputs.warning_level, inputs.critical_level
    low, high = inputs.routing_band
    spend_today = f"sum(increase({inputs.cost}[1d]))"
    guide = (
        PanelSpec(title="OpenAI API Costs (Daily)", kind="timeseries", unit="currencyUSD",
                  queries=(Query(spend_today, "Alice (last 24 h)", "guide"),
                           Query('alice_ops_cost_spent_usd{window="daily"}',
                                 "alice-ops today ({{source}})", "agent")),
                  description="Spend over the last 24 h (Alice's counter) and since the day's "
                              "start (alice-ops' budget window)"
                              + (f"; daily budget {daily:g} USD." if daily else "."),
                  steps=level_steps(daily * warn, daily * crit) if daily else (), width=12),
        PanelSpec(title="Cost per User Session", kind="timeseries", unit="currencyUSD",
                  queries=(Query(f"{spend_today} / sum({inputs.sessions})", "Alice", "guide"),),
                  description="Spend over the last 24 h divided by active sessions (the "
                              "guide's `openai_api_cost_usd / active_sessions` divides a "
                              "lifetime counter).", width=12),
        PanelSpec(title="Fast Path Efficiency", kind="stat", unit="percent",
                  queries=(Query(f"100 * sum(increase({inputs.fast}[1d])) / "
                                 f"sum(increase({inputs.total}[1d]))", "Alice (24 h)", "guide"),
                           Query("100 * alice_ops_fast_path_share_ratio", "alice-ops (5 m)",
                                 "agent")),
                  description=f"Fast-path share; the guide's optimal band is {low:g}-{high:g} %.",
                  steps=band_steps(low, high), min=0, max=100, width=12),
        PanelSpec(title="Tokens per hour", kind="timeseries", unit="short",
                  queries=(Query(f"sum by ({inputs.token_label}) "
                                 f"(rate({inputs.tokens}[1h])) * 3600",
                                 f"{{{{{inputs.token_label}}}}}", "guide"),), width=12),
    )
    budget_rows = [r for r in inputs.rows if r.component == "cost"]
    budgets = (
        PanelSpec(title="Budget used", kind="stat", unit="percent",
                  queries=(Query('alice_ops_metric_value{component="cost",metric=~".+_budget"}',
                                 "{{metric}}", "agent"),),
                  description=f"Spend per budget window; warning at {warn * 100:g} %, "
                              f"critical at {crit * 100:g} %.",
                  steps=steps_for(budget_rows[0]) if budget_rows
                  else level_steps(warn * 100, crit * 100), min=0, max=100, width=8),
        PanelSpec(title="Spend and budget per window", kind="timeseries", unit="currencyUSD",
                  queries=(Query("alice_ops_cost_spent_usd", "spent {{window}} ({{source}})",
                                 "agent"),
                           Query("alice_ops_cost_budget_usd", "budget {{window}}", "agent")),
                  width=8),
        PanelSpec(title="Burn rate", kind="timeseries", unit="currencyUSD",
                  queries=(Query(f"sum(rate({inputs.cost}[1h])) * 3600", "Alice (USD/h)",
                                 "guide"),
                           Query("alice_ops_cost_burn_usd_per_hour", "alice-ops (USD/h)",
                                 "agent")),
                  description="USD per hour over the last hour"
                              + (f"; hourly budget {hourly:g} USD." if hourly else "."),
                  steps=level_steps(hourly * warn, hourly * crit) if hourly else (), width=8),
    )
    return DashboardSpec(
        uid=COST_UID, title="Alice Cost Analysis", tags=TAGS,
        description="The operations guide's Cost Optimization Dashboard: OpenAI spend, cost "
                    "per session and fast-path efficiency, with alice-ops' budgets "
                    "(alice-ops grafana export).",
        rows=(RowSpec("The guide's panels", guide), RowSpec("Budgets (alice-ops)", budgets)))


def dashboards(inputs: Inputs) -> tuple[DashboardSpec, DashboardSpec]:
    return hybrid_performance(inputs), cost_analysis(inputs)
