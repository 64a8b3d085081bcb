"""Record session_runaway.json, the fixture of the session-cap snapshot tests, from the
simulator (run once, like record_fixtures.py):

    .venv/bin/python tests/tui/data/record_session_runaway.py

The demo stack as `alice-tui --demo` runs it, with a 0.10 USD per-session cap (the cap of
`alice-ops cost --demo`) and the checklist deadline moved to 23:59 (no overdue alert):
a few rounds of normal traffic, then `session-runaway` until `cost_session_cap` fires
critical for sess_sim03.
"""

import asyncio
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
sys.path.insert(0, str(HERE))

from record_fixtures import write  # noqa: E402


async def main() -> None:
    from agent.demo import demo_stack, with_demo_capabilities
    from agent.service import AgentService

    async with demo_stack("normal", warmup_s=1.2) as (sim, config):
        with tempfile.TemporaryDirectory() as tmp:
            config = with_demo_capabilities(config, str(Path(tmp) / "state.db"))
            config = config.model_copy(update={
                "checklists": config.checklists.model_copy(
                    update={"daily_at": "23:58", "deadline": "23:59"}),
                "cost": config.cost.model_copy(update={"session_cap_usd": 0.1})})
            agent = config.agent.model_copy(update={
                "intervals": config.agent.intervals.model_copy(update={"fast_s": 0.5})})
            service = await AgentService.start(config.model_copy(update={"agent": agent}),
                                               serve_api=False)
            try:
                await asyncio.sleep(6)
                await service.runtime.checklists.tick()
                sim.set_scenario("session-runaway")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    snap = service.runtime.snapshot.to_json()
                    if any(a["name"] == "cost_session_cap" and a["state"] == "firing"
                           and a["severity"] == "critical" for a in snap["alerts"]):
                        break
                else:
                    raise SystemExit("cost_session_cap did not fire critical within 60 s")
                await asyncio.sleep(1.5)
                write("session_runaway.json", service.runtime.snapshot.to_json())
            finally:
                await service.stop()


if __name__ == "__main__":
    asyncio.run(main())
