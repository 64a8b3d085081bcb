"""The acknowledge form: reason (required) and how long the ack holds (default 24h)."""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from tui import format as fmt
from tui.screens.dialog import FormDialog

DEFAULT_DURATION = "24h"


def check_ack(alert: str, reason: str, duration: str) -> dict:
    """Pure: the request, or ValueError naming what to fix."""
    if not reason.strip():
        raise ValueError("a reason is required: say who is on it and why")
    seconds = fmt.parse_duration(duration) if duration.strip() else None
    return {"alert": alert, "comment": reason.strip(), "duration_s": seconds}


class AckForm(FormDialog):
    """Dismisses with {alert, comment, duration_s} or None (esc / cancel)."""

    SUBMIT, FOCUS = "Acknowledge", "reason"

    def __init__(self, alert: Mapping[str, Any]) -> None:
        super().__init__()
        self.alert = alert

    def form_title(self) -> str:
        return f"acknowledge {self.alert.get('name')}"

    def compose_fields(self) -> ComposeResult:
        yield Static(str(self.alert.get("summary", "")), classes="form-note")
        yield Label("reason")
        yield Input(id="reason", placeholder="who is on it, and why (required)")
        yield Label("for (e.g. 2h; empty: 24h)")
        yield Input(DEFAULT_DURATION, id="duration")

    def check(self) -> dict:
        return check_ack(str(self.alert.get("name", "")), self.value("reason"),
                         self.value("duration"))

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.submit()
