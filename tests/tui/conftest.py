"""Fixtures of the TUI tests (helpers live in tui_helpers.py)."""

from __future__ import annotations

import time

import pytest
from tui_helpers import load


@pytest.fixture
def ok_snapshot() -> dict:
    return load("ok.json")


@pytest.fixture
def outage_snapshot() -> dict:
    return load("outage.json")


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch):
    """Deterministic rendering: no NO_COLOR from the caller, UTC wall-clock times."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


