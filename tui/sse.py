"""Server-sent events, parsed line by line (the agent's /api/v1/events stream).

Pure: feed it lines, it returns complete events. Follows the WHATWG rules the agent
uses: `event:`, `data:` (joined by newlines), `id:`, comments start with `:`, a
blank line dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event: str
    data: str
    id: str | None = None


class SseParser:
    def __init__(self) -> None:
        self._event, self._data, self._id = "", [], None

    def feed(self, line: str) -> Event | None:
        """One line without its newline; returns an Event when a blank line ends one."""
        line = line.rstrip("\r\n")
        if not line:
            if not self._data and not self._event:
                return None
            event = Event(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None
