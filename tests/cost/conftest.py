"""Fixtures of the cost tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def cost_samples():
    """`section -> get_sample_value` of a registry holding the cost section's /metrics
    families (agent.cost.metrics.cost_families), as the agent exports them."""
    from prometheus_client import CollectorRegistry

    from agent.cost.metrics import cost_families

    def read(section: dict):
        class Collector:
            def collect(self):
                return cost_families(section)

        registry = CollectorRegistry()
        registry.register(Collector())
        return registry.get_sample_value
    return read
