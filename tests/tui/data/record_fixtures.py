"""Record the snapshot fixtures of the TUI snapshot tests from the simulator (run once):

    .venv/bin/python tests/tui/data/record_fixtures.py

ok.json: the demo stack in its normal scenario after ~20 probe rounds (configured as
alice-tui --demo runs it: spend tracking and checklists on; the checklist deadline moved
to 23:59 so no overdue alert fires whenever this runs);
outage.json: the same after `openai-outage`, with one alert silenced and one acked, a
dry-run of the openai-outage playbook and one checklist item answered.
"""

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))


async def main() -> None:
    from agent.demo import demo_stack
    from agent.service import AgentService
    from agent.demo import with_demo_capabilities

    async with demo_stack("normal", warmup_s=1.2) as (sim, config):
        with tempfile.TemporaryDirectory() as tmp:
            config = with_demo_capabilities(config, str(Path(tmp) / "state.db"))
            # a deadline that has not passed whenever this runs: no checklist_overdue alert
            config = config.model_copy(update={"checklists": config.checklists.model_copy(
                update={"daily_at": "23:58", "deadline": "23:59"})})
            agent = config.agent.model_copy(update={
                "intervals": config.agent.intervals.model_copy(update={"fast_s": 0.5})})
            service = await AgentService.start(config.model_copy(update={"agent": agent}),
                                               serve_api=False)
            try:
                await asyncio.sleep(12)
                await service.runtime.checklists.tick()
                await asyncio.sleep(0.5)
                write("ok.json", service.runtime.snapshot.to_json())
                sim.set_scenario("openai-outage")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    snap = service.runtime.snapshot.to_json()
                    if sum(a["state"] == "firing" for a in snap["alerts"]) >= 3:
                        break
                await asyncio.sleep(4)
                rt = service.runtime
                await rt.add_silence('alertname="openai_response_latency_p95"', 7200,
                                     "provider incident, tracked in INC-42", "ops@example")
                await rt.add_ack("openai_health", "on it: failing over to local", 3600,
                                 "ops@example")
                await rt.remediation_plan("openai-outage", "ops@example")
                await rt.checklist_answer("daily", "hud_display", "warn",
                                          "HUD shows the offline banner", "ops@example")
                await asyncio.sleep(1.5)
                write("outage.json", rt.snapshot.to_json())
            finally:
                await service.stop()


def write(name: str, snap: dict) -> None:
    (HERE / name).write_text(json.dumps(snap, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {name}: seq {snap['seq']}, status {snap['status']}, "
          f"{len(snap['alerts'])} alerts")


if __name__ == "__main__":
    asyncio.run(main())
