"""Silences and acks between their pure form (alerts.silence) and their stored rows."""

from __future__ import annotations

import uuid

from agent.store import AckRow, SilenceRow
from alerts.silence import Ack, Silence, parse_matchers


MAX_DURATION_S = 10 * 365 * 86400.0
"""Longest silence or ack: its end must stay a date every reader can show (a silence
ending in the year 33715 once made every snapshot, hence every cycle, fail)."""


def check_duration(duration_s: float, what: str) -> float:
    """`duration_s` if it is a usable length for a silence or an ack, else ValueError."""
    if not 0 < duration_s <= MAX_DURATION_S:  # also refuses NaN
        raise ValueError(f"{what} needs a positive duration of at most "
                         f"{MAX_DURATION_S / 86400:g} days, got {duration_s:g} s")
    return duration_s


def new_silence(matchers: str, duration_s: float, comment: str, by: str, now: float
                ) -> tuple[Silence, SilenceRow]:
    """Validate a silence request; ValueError names what is wrong."""
    check_duration(duration_s, "a silence")
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
