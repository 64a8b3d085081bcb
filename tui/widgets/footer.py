"""The key footer, recomposed only when what it shows changes.

Textual's Footer rebuilds all its keys whenever the screen's bindings may have
changed, and a focus change announces that twice (at once, and again after the next
refresh). Opening or closing the Alerts filter, or tabbing between tiles, changes
focus but not the keys shown; each rebuild cost a layout and a full repaint (two frames
of a key's latency). This footer remembers what it last drew and skips the rebuild when
the shown keys are the same (as drawn, or as a rebuild already scheduled will draw).
When the keys to show are some of those drawn (focusing the Alerts filter hides every
printable key: they are typed into it), it hides the others in place, in the same frame
as the focus change, and shows them again on the way back: no rebuild, no second frame.
Hidden keys keep their width (`visibility`, not `display`), so that is a repaint of the
footer and not a new layout of the screen (enter in the filter: p50 66 -> 32 ms).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class DashboardFooter(Footer):
    _drawn: Any = None
    _composed: Any = None  # what compose built (_drawn can be a subset of it, hidden)

    def _shown(self, screen: Screen) -> tuple:
        """Everything Footer.compose reads, for the bindings it shows."""
        app = self.app
        active = screen.active_bindings
        keys = tuple((b.key, app.get_key_display(b), b.description, b.action, enabled, tooltip,
                      id(b.group), getattr(b.group, "description", None),
                      getattr(b.group, "compact", None))
                     for _node, b, enabled, tooltip in active.values() if b.show)
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        if palette is not None:
            _node, b, enabled, tooltip = palette
            palette = (b.key, app.get_key_display(b), b.description, enabled, tooltip)
        return keys, palette, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, self.compact

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._drawn = self._composed = self._shown(self.screen)
        yield from super().compose()

    def _hide_others(self, shown: tuple) -> bool:
        """Show exactly the keys of `shown` by hiding/showing the composed ones; False
        when that cannot be done (other keys, groups, a different palette key)."""
        composed = self._composed
        if composed is None or shown[1:] != composed[1:]:
            return False
        wanted = set(shown[0])
        if not wanted <= set(composed[0]) or any(entry[6] is not None and entry[7]
                                                 for entry in composed[0]):
            return False  # new keys, or grouped keys (a KeyGroup per group)
        keys = [c for c in self.children if isinstance(c, FooterKey)
                and not c.has_class("-command-palette")]
        actions = [entry[3] for entry in composed[0]]
        if len(keys) != len(composed[0]) or [k.action for k in keys] != actions:
            return False  # Footer.compose shows one key per action: not one per entry
        for child, entry in zip(keys, composed[0]):
            # visibility, not display: a hidden key keeps its width, so hiding and
            # showing keys is a repaint of the footer, never a new layout of the screen
            child.styles.visibility = "visible" if entry in wanted else "hidden"
        self._drawn = shown
        return True

    def bindings_changed(self, screen: Screen) -> None:
        if self._bindings_ready and self.is_attached and screen is self.screen:
            shown = self._shown(screen)
            if shown == self._drawn:
                return  # drawn already, or a rebuild for exactly this is on its way
            if self._hide_others(shown):
                return
            if screen.app.app_focus:
                # Rebuild now, in the frame that shows the change (Footer waits for the
                # next refresh first: one more frame, and a second layout).
                self._drawn = shown
                self.call_later(self.recompose)
                return
        super().bindings_changed(screen)
