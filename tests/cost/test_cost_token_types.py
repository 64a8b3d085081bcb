"""Spend by token type (pure): Realtime audio priced apart from text, cost per audio minute,
a session's Responses summed and judged against a per-session cap."""

from __future__ import annotations

import pytest

from agent.config import parse_config
from rules.budget import Level, Levels
from rules.cost_table import (Price, TokenUsage, default_table, parse_table, session_spend,
                              table_for, usage_from_realtime)

REALTIME = "gpt-4o-realtime-preview-2024-10-01"

# A Realtime response.done usage, as the API reports it (cached counts inside the totals).
DONE_USAGE = {"total_tokens": 2400, "input_tokens": 1400, "output_tokens": 1000,
              "input_token_details": {"text_tokens": 400, "audio_tokens": 1000,
                                      "cached_tokens": 300,
                                      "cached_tokens_details": {"text_tokens": 100,
                                                                "audio_tokens": 200}},
              "output_token_details": {"text_tokens": 100, "audio_tokens": 900}}


def test_realtime_usage_splits_cached_from_fresh():
    assert usage_from_realtime(DONE_USAGE) == TokenUsage(
        text_in=300, cached_text_in=100, text_out=100, audio_in=800, cached_audio_in=200,
        audio_out=900)
    assert usage_from_realtime({}) == TokenUsage()


def test_audio_costs_far_more_than_text_on_a_realtime_model():
    _, price = default_table().price(REALTIME)
    usage = usage_from_realtime(DONE_USAGE)
    by_type = (300 * 0.005 + 100 * 0.0025 + 100 * 0.02 + 800 * 0.1 + 200 * 0.02
               + 900 * 0.2) / 1000
    assert price.cost_of(usage) == pytest.approx(by_type)
    at_text_rate = price.cost(1400, 1000)  # what a text-only table would have said
    assert price.cost_of(usage) > 9 * at_text_rate
    assert price.unpriced(usage) == ()


@pytest.mark.parametrize(("model", "per_minute"), [
    (REALTIME, (0.06, 0.24)),  # OpenAI's own "about $0.06 in / $0.24 out per minute"
    ("gpt-realtime-2025-08-28", (0.0192, 0.0768)),  # by prefix: the gpt-realtime row
    ("gpt-4o-mini", None),
])
def test_cost_per_audio_minute(model, per_minute):
    _, price = default_table().price(model)
    got = price.audio_minute_usd()
    if per_minute is None:
        assert got is None
    else:
        assert got == pytest.approx(per_minute)


def test_unpriced_audio_is_named_not_hidden():
    text_only = Price(0.005, 0.02)
    usage = TokenUsage(text_in=10, audio_in=600, audio_out=1200)
    assert text_only.unpriced(usage) == ("audio_in", "audio_out")
    assert text_only.cost_of(usage) == pytest.approx(text_only.cost(610, 1200))
    assert Price(1, 1, cached_input_per_1k=0.5).rates()["cached_audio_in"] == 1  # text rate


@pytest.mark.parametrize(("minutes", "cap", "want"), [
    (1, 1.0, Level.OK), (3, 1.0, Level.WARNING), (3.3, 1.0, Level.CRITICAL),
    (4, 1.0, Level.EXCEEDED), (10, None, Level.OK),
])
def test_session_cap(minutes, cap, want):
    _, price = default_table().price(REALTIME)
    six_seconds = TokenUsage(audio_in=60, audio_out=120)  # $0.30 a minute, both ways
    spend = session_spend(price, [six_seconds] * round(minutes * 10), cap, Levels())
    assert spend.cost_usd == pytest.approx(0.3 * minutes)
    assert spend.level is want
    assert spend.usage.audio_out == pytest.approx(1200 * minutes)


def test_config_prices_audio():
    config = parse_config("""
cost:
  prices:
    my-voice: {input_per_1k: 0.001, output_per_1k: 0.002, audio_input_per_1k: 0.05,
               audio_output_per_1k: 0.1}
""", "<t>", {})
    name, price = table_for(config.cost).price("my-voice-2026")
    assert name == "my-voice" and price.audio_minute_usd() == pytest.approx((0.03, 0.12))
    assert price.cached_input_per_1k is None


def test_a_bad_price_row_names_the_file():
    data = {"budgets": {"hourly_usd": 1, "daily_usd": 2, "weekly_usd": 3},
            "levels": {"warning": 0.8, "critical": 0.9, "exceeded": 1.0},
            "routing_band_percent": [60, 70], "tokens_per_request": {"prompt": 1,
                                                                    "completion": 1},
            "prices": {"default": {"input_per_1k": 1, "output_per_1k": 1,
                                   "audio_input_per_1k": "lots"}},
            "capacity": {"high_load_per_s": 1, "low_load_per_s": 0, "bands": []}}
    with pytest.raises(ValueError, match="^x.yaml: ValueError"):
        parse_table(data, "x.yaml")
