"""The cost section as Prometheus metric families for the agent's /metrics (read at scrape
time from the snapshot, like every other family): spend and limit per budget window,
the burn rate and the fast-path share. Nothing without a `cost:` section."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric


def cost_families(section: Mapping[str, Any]) -> Iterator[Metric]:
    if not section:
        return
    spent = GaugeMetricFamily("alice_ops_cost_spent_usd",
                              "OpenAI spend in the current budget window (USD)",
                              labels=["window", "source"])
    limit = GaugeMetricFamily("alice_ops_cost_budget_usd", "Budget of the window (USD)",
                              labels=["window"])
    for b in section.get("budgets", ()):
        limit.add_metric([b["window"]], b["limit_usd"])
        if b["spent_usd"] is not None:
            spent.add_metric([b["window"], b["source"] or ""], b["spent_usd"])
    yield spent
    yield limit
    burn = section.get("burn_rate_usd_per_hour")
    if burn is not None:
        family = GaugeMetricFamily("alice_ops_cost_burn_usd_per_hour",
                                   "Spend rate over the last hour (USD per hour)")
        family.add_metric([], burn)
        yield family
    share = (section.get("routing") or {}).get("fast_share_percent")
    if share is not None:
        family = GaugeMetricFamily("alice_ops_fast_path_share_ratio",
                                   "Fast-path share of routed requests (0..1)")
        family.add_metric([], share / 100)
        yield family
