"""The agent's durable state (alerts, notification outbox, silences, acks, audit trail,
samples history) in one SQLite file in WAL mode.

`agent.store.connection` documents what a committed write survives (WAL,
synchronous=FULL); `agent.store.database` holds the `Store` API."""

from agent.store.connection import default_path, state_path
from agent.store.database import Store
from agent.store.errors import StoreError
from agent.store.rows import (
    AckRow,
    AlertStateRow,
    AuditRecord,
    AuditRow,
    BucketRow,
    OutboxItem,
    OutboxRow,
    SamplePoint,
    SilenceRow,
)
from agent.store.schema import LATEST as SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION", "AckRow", "AlertStateRow", "AuditRecord", "AuditRow", "BucketRow",
    "OutboxItem", "OutboxRow", "SamplePoint", "SilenceRow", "Store", "StoreError",
    "default_path", "state_path",
]
