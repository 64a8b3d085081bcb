"""Shared fixtures: keep tests away from the user's real config and data."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("ALICE_OPS_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _normal_afterwards(request):
    """A test that used a shared simulator (a fixture named `sim`) leaves it in `normal`.
    The simulator is asked for here, at set-up, so it is torn down after this reset."""
    sim = request.getfixturevalue("sim") if "sim" in request.fixturenames else None
    yield
    if sim is not None and hasattr(sim, "set_scenario"):
        sim.set_scenario("normal")
