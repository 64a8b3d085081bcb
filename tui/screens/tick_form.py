"""Answer (tick) one checklist item: the result and an optional note."""

from __future__ import annotations

from typing import Any, Mapping

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from tui.screens.dialog import FormDialog

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


class TickForm(FormDialog):
    """Dismisses with {result, note} or None."""

    SUBMIT, FOCUS = "Save", "result"

    def __init__(self, kind: str, item: Mapping[str, Any]) -> None:
        super().__init__()
        self.kind, self.item = kind, item

    def form_title(self) -> str:
        return f"{self.kind} checklist: {self.item.get('id', '')}"

    def compose_fields(self) -> ComposeResult:
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

    def check(self) -> dict:
        return check_answer(self.value("result"), self.value("note"))

    @on(Input.Submitted, "#result")
    def _to_note(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    def _enter(self) -> None:
        self.submit()
