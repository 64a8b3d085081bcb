"""Answer (tick) one checklist item: the result and an optional note."""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tui.screens.dialog import Dialog

RESULTS = ("pass", "warn", "fail", "skipped")
ALIASES = {"y": "pass", "yes": "pass", "ok": "pass", "p": "pass", "w": "warn", "n": "fail",
           "no": "fail", "f": "fail", "s": "skipped", "skip": "skipped"}


def check_answer(result: str, note: str) -> dict:
    """Pure: {result, note}, or ValueError naming the accepted answers."""
    word = result.strip().lower()
    word = ALIASES.get(word, word)
    if word not in RESULTS:
        raise ValueError(f"result: one of {', '.join(RESULTS)} (or y / n), got "
                         f"{result.strip()!r}")
    if word in ("warn", "fail") and not note.strip():
        raise ValueError("a note is required for warn and fail: say what you saw")
    return {"result": word, "note": note.strip()}


class TickForm(Dialog):
    """Dismisses with {result, note} or None."""

    def __init__(self, kind: str, item: Mapping[str, Any]) -> None:
        super().__init__()
        self.kind, self.item = kind, item

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form") as box:
            box.border_title = f"{self.kind} checklist: {self.item.get('id', '')}"
            text = str(self.item.get("text", ""))
            if self.item.get("prompt"):
                text += f"\n{self.item['prompt']}"
            if self.item.get("evidence"):
                text += f"\nchecked automatically: {self.item['evidence']}"
            yield Static(text, classes="form-note")
            yield Label("result: pass, warn, fail, skipped (y / n)")
            yield Input("pass", id="result")
            yield Label("note (required for warn / fail)")
            yield Input(str(self.item.get("note") or ""), id="note")
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#result", Input).focus()

    @on(Input.Submitted, "#result")
    def _to_note(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        try:
            answer = check_answer(self.query_one("#result", Input).value,
                                  self.query_one("#note", Input).value)
        except ValueError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(answer)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
