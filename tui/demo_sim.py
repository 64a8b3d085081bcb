"""`alice-tui --demo`'s simulator in a process of its own: its start (aiohttp), its traffic
and its answers run on another core than the dashboard and the agent, which share one GIL.

    python -m tui.demo_sim SCENARIO PROFILE        (the API key in $ALICE_SIM_API_KEY)

It binds free loopback ports, prints one JSON line `{"urls": {...}}` once every service
listens (or `{"error": "..."}` and exits 2), and stops when its stdin closes: when the
dashboard exits, however it ends, so no simulator outlives it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys


async def serve(scenario: str, profile: str, api_key: str) -> int:
    from simulator.server import SimPorts, Simulator

    try:
        sim = Simulator(scenario=scenario, ports=SimPorts(0, 0, 0, 0, 0), api_key=api_key,
                        profile=profile)
        await sim.start()
    except Exception as exc:  # noqa: BLE001 - one line for the dashboard to show
        print(json.dumps({"error": f"{exc.__class__.__name__}: {exc}"}), flush=True)
        return 2
    try:
        print(json.dumps({"urls": sim.urls}), flush=True)
        await _stdin_closed()
    finally:
        await sim.stop()
    return 0


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tui.demo_sim SCENARIO PROFILE", file=sys.stderr)
        return 2
    return asyncio.run(serve(args[0], args[1], os.environ.get("ALICE_SIM_API_KEY", "")))


if __name__ == "__main__":
    sys.exit(main())
