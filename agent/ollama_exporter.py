"""What the Ollama probe knows, as Prometheus families for the agent's `/metrics` (Ollama has
no `/metrics` of its own, ollama#3144): model residency, VRAM share, context length, load
events, saturation and version. Built at scrape time from the latest probe result.

Names carry the agent's `alice_ops_` namespace and base units (`_bytes`, `_seconds`,
`_ratio`, `_total`); a model is a `model` label, as `/api/ps` names it.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from vocab.model import ProbeResult

PREFIX = "alice_ops_ollama_"


class LoadCounter:
    """Model load events seen across successive Ollama probe results (plain state).

    A load is counted when the deep probe loaded or reloaded the model, when a model appears
    in `/api/ps` that the previous result did not list, or when a listed model's
    `context_length` changed (another client's options made Ollama reload it). Feeding the
    same result twice counts nothing twice.
    """

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self._last: ProbeResult | None = None
        self._seen: dict[str, Any] = {}  # model -> context_length at the last result

    def observe(self, result: ProbeResult | None) -> None:
        if result is None or result is self._last or "models" not in result.details:
            return
        self._last = result
        now = {m["name"]: m.get("context_length") for m in result.details["models"]}
        first = not self._seen and not self.totals
        for name, ctx in now.items():
            if not first and (name not in self._seen or self._seen[name] != ctx):
                self._count(name)
        required = result.details.get("required") or {}
        model = result.details.get("model")
        if model and (required.get("reloaded") or required.get("loaded_by_probe")):
            self._count(model)
            now.setdefault(model, required.get("context_length"))
        self._seen = now

    def _count(self, model: str) -> None:
        self.totals[model] = self.totals.get(model, 0) + 1


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, doc, labels=labels or [])


def ollama_families(result: ProbeResult | None, loads: LoadCounter) -> Iterator[Metric]:
    """Families for the latest Ollama probe result; nothing when Ollama is not probed."""
    if result is None:
        return
    loads.observe(result)
    details: Mapping[str, Any] = result.details
    up = _gauge("up", "1 when the Ollama API answered the last probe")
    up.add_metric([], 1 if "version" in details else 0)
    yield up
    if "version" in details:
        info = _gauge("version_info", "Ollama server version (value 1)", ["version"])
        info.add_metric([str(details["version"])], 1)
        yield info
    yield from _residency(details.get("models") or [])
    required = details.get("required") or {}
    model = details.get("model", "")
    saturated = _gauge("saturated", "1 while Ollama answers 503 server busy (queue full)")
    saturated.add_metric([], 1 if required.get("saturated") else 0)
    yield saturated
    if "load_duration_s" in required:
        load = _gauge("probe_load_duration_seconds",
                      "load_duration of the last deep-probe generate", ["model"])
        load.add_metric([model], required["load_duration_s"])
        yield load
    if "runner_gpu_bytes" in required:
        gpu = _gauge("runner_gpu_memory_bytes",
                     "GPU memory NVML sees Ollama's runner processes hold", ["model"])
        gpu.add_metric([model], required["runner_gpu_bytes"])
        yield gpu
    tps = result.readings.get("tokens_per_s")
    if tps is not None and tps.known:
        speed = _gauge("probe_generation_tokens_per_second",
                       "Generation speed of the last deep-probe generate", ["model"])
        speed.add_metric([model], tps.value)
        yield speed
    counted = CounterMetricFamily(PREFIX + "model_loads",
                                  "Model load events seen by the probe (loads, reloads, a "
                                  "changed context length)", labels=["model"])
    for name, n in sorted(loads.totals.items()):
        counted.add_metric([name], n)
    yield counted


def _residency(models: list[Mapping[str, Any]]) -> Iterator[Metric]:
    loaded = _gauge("model_loaded", "1 for each model /api/ps lists as loaded", ["model"])
    size = _gauge("model_size_bytes", "Loaded model size (/api/ps size)", ["model"])
    vram = _gauge("model_vram_bytes", "Part of the model in VRAM (/api/ps size_vram)",
                  ["model"])
    share = _gauge("model_vram_ratio", "size_vram / size (0..1)", ["model"])
    ctx = _gauge("model_context_length_tokens", "Context length of the loaded runner",
                 ["model"])
    expires = _gauge("model_expires_timestamp_seconds", "When the model unloads (unix time)",
                     ["model"])
    for m in models:
        name = m["name"]
        loaded.add_metric([name], 1)
        size.add_metric([name], m["size_bytes"])
        vram.add_metric([name], m["vram_bytes"])
        if m["size_bytes"]:
            share.add_metric([name], min(1.0, m["vram_bytes"] / m["size_bytes"]))
        if m.get("context_length"):
            ctx.add_metric([name], m["context_length"])
        if m.get("expires_at") is not None:
            expires.add_metric([name], m["expires_at"])
    yield from (loaded, size, vram, share, ctx, expires)
