"""The dry-run preview of a playbook (`p` on the Remediation screen): every step exactly
as the agent would run it (URLs, bodies, env changes with their diff, docker argv), then
the revert steps. Secrets arrive redacted from the agent."""

from __future__ import annotations

import json
from typing import Any, Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.screens.dialog import Dialog


def step_lines(step: Mapping[str, Any], number: str) -> Text:
    """Pure: one step as shown: '1. <title>' then what exactly it does."""
    text = Text(f"{number}. ", style="bold")
    text.append(str(step.get("title") or step.get("type")), style="bold")
    if step.get("optional"):
        text.append("  (optional)", style="dim")
    text.append("\n")
    kind = step.get("type")
    detail: list[str] = []
    if kind == "http":
        detail.append(f"{step.get('method', 'POST')} {step.get('url', '')}")
        if step.get("body") is not None:
            detail.append("body " + json.dumps(step["body"], sort_keys=True))
        if step.get("headers"):
            detail.append("headers " + json.dumps(step["headers"], sort_keys=True))
    elif kind == "env":
        detail.append(f"in {step.get('file', '')}: " + ", ".join(
            f"{k}={v}" for k, v in (step.get("set") or {}).items()))
        for change in step.get("diff") or []:
            detail.append(f"  {json.dumps(change, sort_keys=True)}")
        if step.get("diff_error"):
            detail.append(f"  cannot read it: {step['diff_error']}")
    elif kind in ("compose", "command"):
        detail.append("$ " + " ".join(str(a) for a in step.get("argv") or []))
    elif kind == "wait_healthy":
        detail.append(f"until {step.get('component')} is healthy (every "
                      f"{step.get('interval_s', '?')} s)")
    elif kind == "notify":
        detail.append(f"{step.get('severity', 'info')}: {step.get('message', '')}")
    detail.append(f"timeout {step.get('timeout_s', '?')} s")
    for line in detail:
        text.append(f"     {line}\n", style="dim" if line.startswith("timeout") else "")
    return text


def plan_text(plan: Mapping[str, Any]) -> Text:
    """Pure: the whole dry-run: title, guide section, steps, revert steps."""
    text = Text(f"{plan.get('title', plan.get('playbook', ''))}\n", style="bold")
    if plan.get("guide"):
        text.append(f"guide: {plan['guide']}\n", style="dim")
    if plan.get("read_only"):
        text.append("the agent is read-only: a run would be refused\n", style="bold yellow")
    steps = plan.get("steps") or []
    text.append(f"\n{len(steps)} step(s), in order:\n")
    for i, step in enumerate(steps, start=1):
        text.append_text(step_lines(step, str(i)))
    revert = plan.get("revert") or []
    if revert:
        when = "when the alert resolves" if plan.get("revert_on_resolve") else "on failure"
        text.append(f"\nrevert ({when}):\n")
        for i, step in enumerate(revert, start=1):
            text.append_text(step_lines(step, f"r{i}"))
    return text


class PlanDialog(Dialog):
    def __init__(self, plan: Mapping[str, Any]) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = (f"dry-run: {self.plan.get('playbook', '')} (nothing was run; "
                                "esc closes)")
            yield Static(plan_text(self.plan), id="plan")
