"""The acknowledge form: reason (required) and how long the ack holds (default 24h)."""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tui import format as fmt
from tui.screens.dialog import Dialog

DEFAULT_DURATION = "24h"


def check_ack(alert: str, reason: str, duration: str) -> dict:
    """Pure: the request, or ValueError naming what to fix."""
    if not reason.strip():
        raise ValueError("a reason is required: say who is on it and why")
    seconds = fmt.parse_duration(duration) if duration.strip() else None
    return {"alert": alert, "comment": reason.strip(), "duration_s": seconds}


class AckForm(Dialog):
    """Dismisses with {alert, comment, duration_s} or None (esc / cancel)."""

    def __init__(self, alert: Mapping[str, Any]) -> None:
        super().__init__()
        self.alert = alert

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form") as box:
            box.border_title = f"acknowledge {self.alert.get('name')}"
            yield Static(str(self.alert.get("summary", "")), classes="form-note")
            yield Label("reason")
            yield Input(id="reason", placeholder="who is on it, and why (required)")
            yield Label("for (e.g. 2h; empty: 24h)")
            yield Input(DEFAULT_DURATION, id="duration")
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Acknowledge", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        try:
            request = check_ack(str(self.alert.get("name", "")),
                                self.query_one("#reason", Input).value,
                                self.query_one("#duration", Input).value)
        except ValueError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
