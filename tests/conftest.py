"""Shared fixtures: keep tests away from the user's real config and data."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("ALICE_OPS_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _normal_afterwards(request):
    """A test that used a shared simulator (a fixture named `sim`) leaves it in `normal`."""
    yield
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").set_scenario("normal")
