"""The cost section as Prometheus metric families for the agent's /metrics (read at scrape
time from the snapshot, like every other family): spend and limit per budget window,
the burn rate and the fast-path share, the most expensive sessions and the session cap, the
cost per audio minute, and the app's rate-limit headroom. Nothing without a `cost:` section."""

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
    yield from _session_families(section.get("per_session") or {})
    yield from _audio_families(section.get("audio") or {})
    limits = section.get("rate_limits") or ()
    if limits:
        family = GaugeMetricFamily("alice_ops_rate_limit_remaining",
                                   "Requests or tokens left in the provider's rate-limit window, "
                                   "from the app's own metrics", labels=["kind"])
        for f in limits:
            family.add_metric([f["kind"]], f["remaining"])
        yield family


def _session_families(per: Mapping[str, Any]) -> Iterator[Metric]:
    if not per.get("available"):
        return
    top = GaugeMetricFamily("alice_ops_cost_session_usd",
                            "Spend of the most expensive voice sessions (USD)",
                            labels=["session"])
    for t in per.get("top", ()):
        top.add_metric([t["session"]], t["usd"])
    yield top
    if per.get("cap_usd") is not None:
        cap = GaugeMetricFamily("alice_ops_cost_session_cap_usd", "Per-session spend cap (USD)")
        cap.add_metric([], per["cap_usd"])
        yield cap


def _audio_families(audio: Mapping[str, Any]) -> Iterator[Metric]:
    listed = audio.get("list_usd_per_minute")
    if listed:
        family = GaugeMetricFamily("alice_ops_cost_audio_list_usd_per_minute",
                                   "List price of a minute of audio (USD)",
                                   labels=["direction", "model"])
        for direction in ("input", "output"):
            family.add_metric([direction, audio["model"]], listed[direction])
        yield family
    measured = audio.get("measured")
    if measured:
        family = GaugeMetricFamily("alice_ops_cost_audio_usd_per_minute",
                                   "What a minute of measured session audio cost, all tokens "
                                   "included (USD)", labels=["model"])
        family.add_metric([audio["model"]], measured["usd_per_audio_minute"])
        yield family
