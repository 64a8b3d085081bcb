"""`alice-ops sim`: run the Alice stack simulator in the foreground until SIGINT/SIGTERM,
printing each service's URL and an alice-ops.yaml `targets:` block pointing at it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from simulator.profiles import DEFAULT_PROFILE, PROFILES, scenarios_for
from simulator.server import BindError, SimPorts, Simulator

DEFAULT_PORTS = {"backend": 18000, "gateway": 18001, "ollama": 21434, "openai": 18080,
                 "prometheus": 19090, "nlu": 17071}
API_KEY_ENV, ADMIN_KEY_ENV = "ALICE_SIM_API_KEY", "ALICE_SIM_ADMIN_KEY"
DEMO_API_KEY, DEMO_ADMIN_KEY = "sk-sim-demo-key", "sk-admin-sim-demo-key"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]  # one line, not the usage block
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alice-ops sim",
        description="Run fake Alice services (backend, voice gateway, Ollama, OpenAI, "
                    "Prometheus) on 127.0.0.1 with a switchable fault scenario.")
    parser.add_argument("--profile", default=DEFAULT_PROFILE, choices=PROFILES,
                        help="which Alice to simulate: guide (what the operations guide "
                             "describes; default) or alice-main (a replay of the real Alice "
                             "main backend, no separate gateway)")
    parser.add_argument("--scenario", default="normal", metavar="NAME",
                        help="fault scenario to start in (default: normal); switch later with "
                             "POST /_sim/scenario on any port. guide: "
                             f"{', '.join(scenarios_for('guide'))}; alice-main: its recorded "
                             "ones (database-error) and the Ollama/OpenAI ones")
    for service, port in DEFAULT_PORTS.items():
        only = " (alice-main: Alice's NLU agent)" if service == "nlu" else \
            " (guide only)" if service == "gateway" else ""
        parser.add_argument(f"--{service}-port", type=int, default=port, metavar="PORT",
                            help=f"{service} port{only} (default: {port}; 0 picks a free port)")
    parser.add_argument("--latency-ms", type=float, default=None, metavar="MS",
                        help="extra delay added to every endpoint")
    parser.add_argument("--api-key", default=None,
                        help=f"OpenAI API key the fake accepts (default: ${API_KEY_ENV} or a "
                             "built-in demo key)")
    parser.add_argument("--admin-key", default=None,
                        help=f"OpenAI admin key for the costs API (default: ${ADMIN_KEY_ENV} or "
                             "a built-in demo key)")
    parser.add_argument("--model", default="gpt-oss:20b", help="Ollama model to serve")
    parser.add_argument("--seed", type=int, default=None, help="seed for the generated traffic")
    return parser


def key_lines(key_source: str) -> list[str]:
    """How to reach the fake OpenAI: the keys it accepts. The built-in demo keys are
    public and printed; keys given by flag or environment are never echoed."""
    if key_source == "demo":
        return [f"Keys it accepts:  export {API_KEY_ENV}={DEMO_API_KEY} "
                f"{ADMIN_KEY_ENV}={DEMO_ADMIN_KEY}  (the built-in demo keys)"]
    return [f"Keys it accepts:  the ones you gave it (--api-key/--admin-key or ${API_KEY_ENV}/"
            f"${ADMIN_KEY_ENV}; not shown)"]


def _model_targets(sim: Simulator) -> list[str]:
    """The `openai:` and `ollama:` targets of both banners' config snippets."""
    urls = sim.urls
    return ["  openai:",
            f'    base_url: "{urls["openai"]}"',
            f'    api_key: "${{{API_KEY_ENV}}}"',
            f'    admin_key: "${{{ADMIN_KEY_ENV}}}"',
            '    model: "gpt-4o-mini"',
            "  ollama:",
            f'    url: "{urls["ollama"]}"',
            f'    model: "{sim.model}"']


def describe(sim: Simulator, key_source: str = "demo") -> str:
    """The startup banner: one line per service, then a ready-to-paste config snippet."""
    if sim.profile == "alice-main":
        return describe_alice_main(sim, key_source)
    urls = sim.urls
    ws = urls["gateway"].replace("http://", "ws://", 1) + "/ws/voice/{session}"
    lines = [f"Alice stack simulator running, scenario: {sim.scenario}",
             f"  backend     {urls['backend']}",
             f"  gateway     {urls['gateway']}  (WebSocket {ws})",
             f"  ollama      {urls['ollama']}",
             f"  openai      {urls['openai']}",
             f"  prometheus  {urls['prometheus']}",
             "",
             "Switch scenario:  curl -X POST -d '{\"scenario\": \"openai-outage\"}' "
             f"{urls['backend']}/_sim/scenario",
             f"Admin API:        {urls['backend']}/api/admin/mode (GET), /api/admin/set-mode, "
             "/api/admin/broadcast, /api/admin/config (what the playbooks change; all state "
             f"at {urls['backend']}/_sim/state)",
             *key_lines(key_source),
             "",
             f"# alice-ops.yaml for the simulator; set {API_KEY_ENV} (and {ADMIN_KEY_ENV})",
             "# to the keys it was started with.",
             "targets:",
             *_model_targets(sim),
             "  gateway:",
             f'    url: "{urls["gateway"]}"',
             "  backend:",
             f'    url: "{urls["backend"]}"',
             "  prometheus:",
             f'    url: "{urls["prometheus"]}"',
             "",
             "Press Ctrl+C to stop."]
    return "\n".join(lines)


def describe_alice_main(sim: Simulator, key_source: str = "demo") -> str:
    """The alice-main banner: the recording it replays, and a config fitted to it."""
    from simulator.profiles.alice_main import recording

    meta = recording().meta
    urls = sim.urls
    ws = urls["backend"].replace("http://", "ws://", 1) + "/ws/alice"
    commit = str(meta.get("alice_commit", "unknown"))[:12]
    lines = [f"Alice stack simulator running, profile: alice-main (replay of the real Alice "
             f"{meta.get('alice_branch', 'main')} backend, commit {commit}, recorded "
             f"{str(meta.get('recorded_at', '?'))[:10]}), scenario: {sim.scenario}",
             f"  backend     {urls['backend']}  (WebSocket {ws})",
             "              no separate voice gateway: the real Alice has none",
             f"  nlu-agent   {urls['nlu']}  (Alice's NLU agent: POST /nlu/classify)",
             f"  ollama      {urls['ollama']}",
             f"  openai      {urls['openai']}",
             f"  prometheus  {urls['prometheus']}  (Alice's own series: alice_b3_*)",
             "",
             "Switch scenario:  curl -X POST -d '{\"scenario\": \"database-error\"}' "
             f"{urls['backend']}/_sim/scenario",
             "Admin API:        none (the real Alice main serves no /api/admin/*: the "
             "admin playbooks are not applicable here)",
             *key_lines(key_source),
             "",
             f"# alice-ops.yaml for this profile; set {API_KEY_ENV} (and {ADMIN_KEY_ENV})",
             "targets:",
             *_model_targets(sim),
             "  backend:",
             f'    url: "{urls["backend"]}"',
             "    health: {path: /api/health, status_path: status, "
             "sub_statuses: [database.status, \"services.*\"]}",
             "  gateway:                  # Alice's WebSocket lives on the backend",
             f'    url: "{urls["backend"]}"',
             "    health: null",
             "    websocket: {path: /ws/alice, send: '{\"type\": \"ping\"}', "
             "expect: {json_path: type, equals: pong}}",
             "  nlu:",
             f'    url: "{urls["nlu"]}"',
             "    path: /nlu/classify",
             "    intent_path: intent",
             "    confidence_path: score",
             "    latency_path: null",
             "  prometheus:",
             f'    url: "{urls["prometheus"]}"',
             "  json_metrics:",
             f'    - {{name: alice_metrics, component: backend, url: "{urls["backend"]}'
             '/api/metrics"}',
             "",
             "Press Ctrl+C to stop."]
    return "\n".join(lines)


async def serve(args: argparse.Namespace) -> int:
    try:
        sim = Simulator(
            scenario=args.scenario, profile=args.profile,
            ports=SimPorts(**{s: getattr(args, f"{s}_port") for s in DEFAULT_PORTS}),
            latency_ms=args.latency_ms, seed=args.seed,
            api_key=args.api_key or os.environ.get(API_KEY_ENV) or DEMO_API_KEY,
            admin_key=args.admin_key or os.environ.get(ADMIN_KEY_ENV) or DEMO_ADMIN_KEY,
            model=args.model)
    except ValueError as exc:  # an unknown scenario for the profile, a missing recording
        print(f"alice-ops sim: {exc}", file=sys.stderr)
        return 2
    try:
        await sim.start()
    except BindError as exc:
        print(f"alice-ops sim: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, done.set)
            handled.append(sig)
    try:
        given = args.api_key or args.admin_key or os.environ.get(API_KEY_ENV) \
            or os.environ.get(ADMIN_KEY_ENV)
        print(describe(sim, "given" if given else "demo"), flush=True)
        await done.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await sim.stop()
    print("alice-ops sim: stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if any(not 0 <= getattr(args, f"{s}_port") <= 65535 for s in DEFAULT_PORTS):
        print("alice-ops sim: ports must be between 0 and 65535", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
