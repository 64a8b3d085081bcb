"""AlertState to and from plain dicts, for the store and the snapshot API (pure)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from vocab.model import Status
from alerts.lifecycle import AlertState, Phase


def state_to_dict(state: AlertState) -> dict[str, Any]:
    data = asdict(state)
    data["phase"] = state.phase.value
    data["status"] = None if state.status is None else state.status.word
    data["transitions"] = list(state.transitions)
    return data


def state_from_dict(data: dict[str, Any]) -> AlertState:
    fields = dict(data)
    fields["phase"] = Phase(fields["phase"])
    fields["status"] = None if fields.get("status") is None else Status.parse(fields["status"])
    fields["transitions"] = tuple(fields.get("transitions") or ())
    known = AlertState.__dataclass_fields__
    return AlertState(**{k: v for k, v in fields.items() if k in known})
