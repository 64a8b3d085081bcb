"""The `alice-main` profile: the real Alice main backend and its NLU agent replayed from
recordings (simulator/profiles/recordings/alice_main/, also at tests/data/alice_main/;
made by `python -m simulator.record`), and a Prometheus whose series are the ones scraped
from the recorded `/metrics`.

The backend port serves what the real backend served (`simulator.profiles.replay`), with
the `/_sim/*` control routes, injected latency and the hang/garbage scenarios of every
simulated service. A recorded scenario (`scenario_<name>.json`, e.g. `database-error`)
replaces the answers it recorded while it is active.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from aiohttp import web

from simulator import promql
from simulator.context import SimContext
from simulator.profiles import replay
from simulator.profiles.recording import Recording, load
from simulator.services.base import make_app
from simulator.services.prom_api import SimSource
from simulator.services.prom_api import create_app as create_prometheus

# shipped with the package (tests/data/alice_main links here), so an installed wheel can
# replay it too
DEFAULT_RECORDING = Path(__file__).resolve().parent / "recordings" / "alice_main"
SERVICES = ("backend", "nlu", "ollama", "openai", "prometheus")
JOBS = {"backend": "alice-backend", "nlu": "alice-nlu-agent"}
RECORDED_SERVICE = {"backend": "backend", "nlu": "nlu_agent"}
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


class RecordingMissing(ValueError):
    """The recordings the profile replays are not where it looked."""


@functools.lru_cache(maxsize=4)
def recording(root: Path = DEFAULT_RECORDING) -> Recording:
    """The recording at `root` (read once); RecordingMissing naming the path if absent."""
    if not (root / "meta.json").is_file():
        raise RecordingMissing(f"alice-main profile: no recording at {root}")
    return load(root)


def recorded_scenarios(root: Path = DEFAULT_RECORDING) -> tuple[str, ...]:
    try:
        return tuple(recording(root).scenarios)
    except RecordingMissing:
        return ()


def parse_exposition(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample line of Prometheus text (comments skipped;
    lines that are not samples are ignored, as a lenient scraper does)."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or line.lstrip().startswith("#"):
            continue
        try:
            value = float(match.group(3))
        except ValueError:
            continue
        labels = dict(_LABEL.findall(match.group(2) or ""))
        samples.append((match.group(1), labels, value))
    return samples


class RecordedSource(SimSource):
    """Prometheus's view of an Alice that exposes the recorded `/metrics`: the recorded
    samples as constant series (job alice-backend), plus `up` of each service."""

    def __init__(self, ctx: SimContext, rec: Recording) -> None:
        super().__init__(ctx, services=SERVICES, jobs=JOBS)
        exchange = rec.find("backend", "GET", "/metrics")
        text = ""
        if exchange is not None and exchange.status == 200:
            text = exchange.body_text or ""
        self.samples = parse_exposition(text)

    def _labels(self, labels: dict[str, str]) -> dict[str, str]:
        instance = self.ctx.urls.get("backend", "").split("//", 1)[-1]
        return {**labels, "job": JOBS["backend"], "instance": instance}

    def instant(self, name: str, t: float) -> promql.Vector:
        if name == "up":
            return self.up()
        return [(self._labels(labels), value) for n, labels, value in self.samples
                if n == name]

    def delta(self, name: str, t: float, range_s: float, follow_scenario: bool):
        # recorded values do not move: every series increased by 0 over the window
        return [(self._labels(labels), 0.0, range_s) for n, labels, _ in self.samples
                if n == name]

    def names(self) -> list[str]:
        return sorted({n for n, _, _ in self.samples} | {"up"})


def backend_app(ctx: SimContext, root: Path = DEFAULT_RECORDING) -> web.Application:
    return replay.create_app(make_app("backend", ctx), recording(root), "backend")


def nlu_app(ctx: SimContext, root: Path = DEFAULT_RECORDING) -> web.Application:
    return replay.create_app(make_app("nlu", ctx), recording(root), "nlu_agent")


def prometheus_app(ctx: SimContext, root: Path = DEFAULT_RECORDING) -> web.Application:
    return create_prometheus(ctx, RecordedSource(ctx, recording(root)))
