"""The fake backend: health per scenario, the admin API and the NLU classifier."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.nlu import FAST_INTENTS, GOLD_SAMPLE, classify
from simulator.scenarios import SCENARIOS


async def test_health_per_scenario(sim, http):
    url = sim.urls["backend"] + "/api/health"
    response = await http.get(url)
    assert response.status_code == 200
    assert '"status":"healthy"' in response.text  # the guide's health_check.sh greps this
    sim.set_scenario("backend-degraded")
    degraded = (await http.get(url)).json()
    assert degraded["status"] == "degraded" and degraded["checks"]
    for scenario in SCENARIOS:
        if scenario in ("hang", "garbage", "backend-degraded"):
            continue
        sim.set_scenario(scenario)
        assert (await http.get(url)).json() == {"status": "healthy"}


async def test_set_mode_and_broadcast_are_stored(sim, http):
    base = sim.urls["backend"]
    assert sim.state == {"mode": "normal", "mode_message": "", "broadcasts": []}
    response = await http.post(base + "/api/admin/set-mode", json={
        "mode": "offline", "message": "Running in offline mode due to service interruption"})
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["mode"] == "offline"
    body = {"type": "info", "message": "Alice is running in offline mode."}
    assert (await http.post(base + "/api/admin/broadcast", json=body)).status_code == 200
    state = sim.state
    assert state["mode"] == "offline" and state["mode_message"].startswith("Running")
    assert state["broadcasts"] == [body]
    assert (await http.get(base + "/_sim/state")).json() == state


async def test_admin_rejects_bad_json(sim, http):
    base = sim.urls["backend"]
    for payload in (b"not json", b"[1, 2]", b'{"message": "no mode"}', b""):
        response = await http.post(base + "/api/admin/set-mode", content=payload,
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 400, payload
    response = await http.post(base + "/api/admin/broadcast", content=b"{oops")
    assert response.status_code == 400
    assert sim.state["mode"] == "normal" and sim.state["broadcasts"] == []


async def test_classify_routes_fast_and_think(sim, http):
    url = sim.urls["backend"] + "/api/nlu/classify"
    greeting = (await http.post(url, json={"text": "Hej Alice!"})).json()
    assert greeting["intent"] == "GREETING" and greeting["route"] == "fast"
    assert 0 <= greeting["confidence"] <= 1 and greeting["latency_ms"] > 0
    complex_ = (await http.post(url, json={"text": "Förklara varför himlen är blå"})).json()
    assert complex_["intent"] == "COMPLEX_REASONING" and complex_["route"] == "think"
    assert (await http.post(url, json={"txt": "x"})).status_code == 400


async def _gold_accuracy(http, url) -> float:
    right = 0
    for text, intent in GOLD_SAMPLE:
        right += (await http.post(url, json={"text": text})).json()["intent"] == intent
    return right / len(GOLD_SAMPLE)


async def test_accuracy_drop_lowers_gold_accuracy(sim, http):
    url = sim.urls["backend"] + "/api/nlu/classify"
    normal = await _gold_accuracy(http, url)
    sim.set_scenario("accuracy-drop")
    dropped = await _gold_accuracy(http, url)
    assert normal >= 0.95
    assert dropped < 0.9 and dropped < normal


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.booleans())
def test_classifier_is_total_and_deterministic(text, degraded):
    first = classify(text, degraded_accuracy=degraded)
    assert first == classify(text, degraded_accuracy=degraded)
    assert 0 <= first.confidence <= 1
    assert first.route == ("fast" if first.intent in FAST_INTENTS else "think")
