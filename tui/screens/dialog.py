"""Base of the dialogs (details, help, forms): a modal box; esc closes it."""

from __future__ import annotations

import abc
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "back", "close", id="back")]

    def action_back(self) -> None:
        self.dismiss(None)


class _AbstractScreen(type(ModalScreen), abc.ABCMeta):
    """Textual's metaclass with ABCMeta's check: a form lacking a hook cannot be built."""


class FormDialog(Dialog, metaclass=_AbstractScreen):
    """A form: the fields, a line for what to fix, submit and cancel. Submitting
    dismisses with `check()`'s request, or shows its ValueError and stays; cancel (or
    esc) dismisses with None. Subclasses give the title, the fields and `check`."""

    SUBMIT = "Submit"
    SUBMIT_VARIANT = "primary"
    FOCUS = ""  # the id of the Input focused first (an instance may choose its own)

    @abc.abstractmethod
    def form_title(self) -> str:
        """The box's title."""

    @abc.abstractmethod
    def compose_fields(self) -> ComposeResult:
        """The form's fields (Inputs with ids)."""

    @abc.abstractmethod
    def check(self) -> Any:
        """Pure over the fields' values: the request, or ValueError naming what to fix."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form") as box:
            box.border_title = self.form_title()
            yield from self.compose_fields()
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button(self.SUBMIT, id="submit", variant=self.SUBMIT_VARIANT,
                             compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.FOCUS}", Input).focus()

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    @on(Button.Pressed, "#submit")
    def submit(self) -> None:
        try:
            request = self.check()
        except ValueError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
