"""Silences and acks between their pure form (alerts.silence) and their stored rows."""

from __future__ import annotations

import uuid

from agent.store import AckRow, SilenceRow
from alerts.silence import Ack, Silence, parse_matchers


def new_silence(matchers: str, duration_s: float, comment: str, by: str, now: float
                ) -> tuple[Silence, SilenceRow]:
    """Validate a silence request; ValueError names what is wrong."""
    if duration_s <= 0:
        raise ValueError("a silence needs a positive duration")
    parsed = parse_matchers(matchers)
    silence = Silence(id=uuid.uuid4().hex[:12], matchers=parsed, starts_at=now,
                      ends_at=now + duration_s, created_by=by, comment=comment)
    row = SilenceRow(id=silence.id, matchers=[str(m) for m in parsed], starts_at=now,
                     ends_at=silence.ends_at, created_by=by, comment=comment, created_at=now)
    return silence, row


def silence_from_row(row: SilenceRow) -> Silence:
    return Silence(id=row.id, matchers=parse_matchers(",".join(row.matchers)),
                   starts_at=row.starts_at, ends_at=row.ends_at, created_by=row.created_by,
                   comment=row.comment)


def silence_json(s: Silence) -> dict:
    from agent.snapshot import iso

    return {"id": s.id, "matchers": [str(m) for m in s.matchers], "starts_at": iso(s.starts_at),
            "ends_at": iso(s.ends_at), "created_by": s.created_by, "comment": s.comment}


def ack_from_row(row: AckRow) -> Ack:
    return Ack(alert_fingerprint=row.fingerprint, comment=row.comment,
               expires_at=row.expires_at, by=row.by)
