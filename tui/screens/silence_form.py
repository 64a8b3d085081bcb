"""The silence form: matchers (prefilled with the selected alert), duration, reason."""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tui import format as fmt
from tui.screens.dialog import Dialog

DEFAULT_DURATION = "1h"


def check_silence(matchers: str, duration: str, reason: str) -> dict:
    """Pure: the request, or ValueError naming what to fix."""
    if not matchers.strip():
        raise ValueError('matchers are required, e.g. alertname="openai_error_rate" or '
                         'component="openai"')
    seconds = fmt.parse_duration(duration)
    if not reason.strip():
        raise ValueError("a reason is required: say why this alert may be quiet")
    return {"matchers": matchers.strip(), "duration_s": seconds, "comment": reason.strip()}


class SilenceForm(Dialog):
    """Dismisses with {matchers, duration_s, comment} or None (esc / cancel)."""

    def __init__(self, matchers: str, alert: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.matchers, self.alert = matchers, alert

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form") as box:
            box.border_title = "silence notifications"
            if self.alert:
                yield Static(f"alert {self.alert.get('name')}: {self.alert.get('summary', '')}",
                             classes="form-note")
            yield Label("matchers")
            yield Input(self.matchers, id="matchers",
                        placeholder='alertname="..." or component="openai"')
            yield Label("duration (30m, 2h, 1d)")
            yield Input(DEFAULT_DURATION, id="duration")
            yield Label("reason")
            yield Input(id="reason", placeholder="why (required)")
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Silence", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reason" if self.matchers else "#matchers", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        order = ["matchers", "duration", "reason"]
        i = order.index(event.input.id)
        if i == len(order) - 1 or all(self.query_one(f"#{k}", Input).value.strip()
                                      for k in order):
            self._submit()
        else:
            self.query_one(f"#{order[i + 1]}", Input).focus()

    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        try:
            request = check_silence(self.query_one("#matchers", Input).value,
                                    self.query_one("#duration", Input).value,
                                    self.query_one("#reason", Input).value)
        except ValueError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
