"""Messages between the feed worker and the widgets.

`SnapshotArrived` is high-frequency: like toolong's messages it defines `can_replace`,
so a newer snapshot replaces an older one still waiting in the queue.
"""

from __future__ import annotations

from textual.message import Message


class SnapshotArrived(Message):
    """A new immutable snapshot (the agent's `Snapshot.to_json()` dict)."""

    def __init__(self, snapshot: dict, received_at: float) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.received_at = received_at

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotArrived)
