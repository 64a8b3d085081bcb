"""One result of a security check: what was checked, where, its status and a line of detail."""

from __future__ import annotations

from dataclasses import dataclass

from vocab.model import Status


@dataclass(frozen=True)
class Finding:
    check: str
    """secrets | auth_failures | tls | permissions"""
    target: str
    status: Status
    detail: str

    def to_json(self) -> dict:
        return {"check": self.check, "target": self.target, "status": self.status.word,
                "detail": self.detail}
