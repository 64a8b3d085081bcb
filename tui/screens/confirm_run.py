"""Typed confirmation before a playbook runs: the operator types the playbook's name."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tui.screens.dialog import Dialog


def check_confirmation(name: str, typed: str) -> str:
    """Pure: the typed text when it is the playbook's name, else ValueError."""
    if typed.strip() != name:
        raise ValueError(f"type {name} exactly to run it (esc cancels)")
    return typed.strip()


class ConfirmRun(Dialog):
    """Dismisses with the typed name (it matched) or None."""

    def __init__(self, name: str, title: str, steps: int, mode: str) -> None:
        super().__init__()
        self.playbook, self.title_, self.steps, self.mode = name, title, steps, mode

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form") as box:
            box.border_title = f"run playbook {self.playbook}"
            yield Static(f"{self.title_}: {self.steps} step(s) will run now, on the real "
                         f"system (its mode is {self.mode}). Dry-run it first with p.",
                         classes="form-note")
            yield Label(f"type {self.playbook} to confirm")
            yield Input(id="confirm", placeholder=self.playbook)
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Run", id="submit", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        try:
            typed = check_confirmation(self.playbook, self.query_one("#confirm", Input).value)
        except ValueError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(typed)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
