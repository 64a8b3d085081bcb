"""Typed confirmation before a playbook runs: the operator types the playbook's name."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from tui.screens.dialog import FormDialog


def check_confirmation(name: str, typed: str) -> str:
    """Pure: the typed text when it is the playbook's name, else ValueError."""
    if typed.strip() != name:
        raise ValueError(f"type {name} exactly to run it (esc cancels)")
    return typed.strip()


class ConfirmRun(FormDialog):
    """Dismisses with the typed name (it matched) or None."""

    SUBMIT, SUBMIT_VARIANT, FOCUS = "Run", "error", "confirm"

    def __init__(self, name: str, title: str, steps: int, mode: str) -> None:
        super().__init__()
        self.playbook, self.title_, self.steps, self.mode = name, title, steps, mode

    def form_title(self) -> str:
        return f"run playbook {self.playbook}"

    def compose_fields(self) -> ComposeResult:
        yield Static(f"{self.title_}: {self.steps} step(s) will run now, on the real "
                     f"system (its mode is {self.mode}). Dry-run it first with p.",
                     classes="form-note")
        yield Label(f"type {self.playbook} to confirm")
        yield Input(id="confirm", placeholder=self.playbook)

    def check(self) -> str:
        return check_confirmation(self.playbook, self.value("confirm"))

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.submit()
