"""The silence form: matchers (prefilled with the selected alert), duration, reason."""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from tui import format as fmt
from tui.screens.dialog import FormDialog

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


class SilenceForm(FormDialog):
    """Dismisses with {matchers, duration_s, comment} or None (esc / cancel)."""

    SUBMIT = "Silence"

    def __init__(self, matchers: str, alert: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.matchers, self.alert = matchers, alert
        self.FOCUS = "reason" if matchers else "matchers"  # prefilled: on to the reason

    def form_title(self) -> str:
        return "silence notifications"

    def compose_fields(self) -> ComposeResult:
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

    def check(self) -> dict:
        return check_silence(self.value("matchers"), self.value("duration"),
                             self.value("reason"))

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        order = ["matchers", "duration", "reason"]
        i = order.index(event.input.id)
        if i == len(order) - 1 or all(self.value(k).strip() for k in order):
            self.submit()
        else:
            self.query_one(f"#{order[i + 1]}", Input).focus()
