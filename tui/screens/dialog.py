"""Base of the dialogs (details, help, forms): a modal box; esc closes it."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import ModalScreen


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "back", "close", id="back")]

    def action_back(self) -> None:
        self.dismiss(None)
