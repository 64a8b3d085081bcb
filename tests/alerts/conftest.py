"""Fixtures for the alerts tests: a real Alertmanager, and webhook receivers that record.

Both listen on free loopback ports and are shut down at teardown.
"""

from __future__ import annotations

import pytest

from alertmanager import running_alertmanager  # tests/ is on sys.path
from webhooks import Receivers


@pytest.fixture
def alertmanager_url(tmp_path):
    """Base URL of a fresh Alertmanager (null receiver, no clustering), stopped afterwards."""
    with running_alertmanager(tmp_path / "alertmanager") as url:
        yield url


@pytest.fixture
async def webhook_receiver():
    """Factory: `await webhook_receiver(port=None, status=200, delay_s=0) -> Receiver`."""
    receivers = Receivers()
    yield receivers
    await receivers.close()
