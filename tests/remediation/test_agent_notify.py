"""A playbook's `notify` step reaches the agent's receivers: queued through the outbox
as a `remediation_notice` alert, like any notification."""

from __future__ import annotations

from remediation_helpers import SIM_KEY, wait_for
from webhooks import Receivers

from agent.config import parse_config
from agent.service import AgentService

PLAYBOOKS = """
playbooks:
  - name: tell-ops
    title: tell the administrators that OpenAI is down
    target: openai
    trigger: {alerts: [openai_health], severity: [critical]}
    steps:
      - {type: notify, severity: critical, message: "OpenAI is down: look at the fast path"}
"""


def notices(receiver) -> list[dict]:
    return [a for r in receiver.requests if isinstance(r.body, dict)
            for a in r.body.get("alerts", [])
            if a["labels"].get("alertname") == "remediation_notice"]


async def _ready(hook) -> bool:
    return bool(notices(hook))


async def test_a_notify_step_is_delivered_to_the_webhooks(simulator, tmp_path):
    (tmp_path / "playbooks.yaml").write_text(PLAYBOOKS)
    receivers = Receivers()
    hook = await receivers()
    try:
        config = parse_config(f"""
targets:
  openai: {{base_url: "{simulator.urls['openai']}", api_key: "{SIM_KEY}"}}
agent:
  listen: "127.0.0.1:0"
  data_path: "{tmp_path / 'state.db'}"
  intervals: {{fast_s: 0.2}}
notifiers:
  webhooks: [{{name: ops, url: "{hook.url}"}}]
remediation:
  compose_dir: "{tmp_path}"
  playbooks_file: "{tmp_path / 'playbooks.yaml'}"
  playbooks: {{tell-ops: {{mode: execute}}}}
""", "<test>")
        service = await AgentService.start(config)
        try:
            simulator.set_scenario("openai-outage")
            await wait_for(lambda: _ready(hook), timeout_s=15)
            shown = service.runtime.snapshot.remediation["notices"]
        finally:
            await service.stop()
    finally:
        await receivers.close()
    notice = notices(hook)[0]
    assert notice["status"] == "firing"
    assert notice["labels"]["playbook"] == "tell-ops"
    assert notice["labels"]["severity"] == "critical"
    assert notice["annotations"]["summary"] == "OpenAI is down: look at the fast path"
    assert shown[0]["message"] == "OpenAI is down: look at the fast path"
    assert shown[0]["playbook"] == "tell-ops"
