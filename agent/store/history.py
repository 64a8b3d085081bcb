"""Samples history: raw points for the last hour, one-minute buckets after that.

Functions over an open connection; the caller (`Store`) owns the transaction.
"""

from __future__ import annotations

import math
import sqlite3

from agent.store.rows import BucketRow, SamplePoint

BUCKET_S = 60

# Fold raw samples older than the cutoff into minute buckets. A bucket that already
# exists (a late sample for a minute downsampled before) is merged: counts add up,
# the average is weighted by count, min/max/worst combine. NULL values (UNKNOWN
# readings) count towards worst_status but not towards count/avg/min/max.
# The WHERE clause also keeps SQLite's parser from reading ON CONFLICT as a join.
_DOWNSAMPLE = f"""
INSERT INTO samples_1m (ts, component, metric, avg, min, max, count, worst_status)
SELECT CAST(ts / {BUCKET_S} AS INTEGER) * {BUCKET_S}.0 AS bucket, component, metric,
       avg(value), min(value), max(value), count(value), max(status)
FROM samples WHERE ts < :cutoff
GROUP BY component, metric, bucket
ON CONFLICT (component, metric, ts) DO UPDATE SET
    avg = CASE WHEN samples_1m.count + excluded.count = 0 THEN NULL
               ELSE (coalesce(samples_1m.avg, 0) * samples_1m.count
                     + coalesce(excluded.avg, 0) * excluded.count)
                    / (samples_1m.count + excluded.count) END,
    min = min(coalesce(samples_1m.min, excluded.min), coalesce(excluded.min, samples_1m.min)),
    max = max(coalesce(samples_1m.max, excluded.max), coalesce(excluded.max, samples_1m.max)),
    count = samples_1m.count + excluded.count,
    worst_status = max(samples_1m.worst_status, excluded.worst_status)
"""


def downsample(conn: sqlite3.Connection, now: float, raw_keep_s: float) -> tuple[int, int]:
    """Move raw samples from whole minutes older than `raw_keep_s` into buckets.

    The cutoff is rounded down to a minute start, so a minute is folded once it is
    complete rather than split between raw rows and a bucket.

    Returns:
        (raw samples folded, buckets written or merged).
    """
    cutoff = math.floor((now - raw_keep_s) / BUCKET_S) * BUCKET_S
    buckets = conn.execute(_DOWNSAMPLE, {"cutoff": cutoff}).rowcount
    folded = conn.execute("DELETE FROM samples WHERE ts < ?", (cutoff,)).rowcount
    return folded, buckets


def points(conn: sqlite3.Connection, component: str, metric: str, since: float,
           until: float | None) -> list[SamplePoint]:
    """Raw samples and bucket averages with `since <= ts <= until`, ordered by ts.

    A bucket is included when its minute start lies in the range.
    """
    until = math.inf if until is None else until
    rows = conn.execute(
        """SELECT ts, value, status FROM samples
           WHERE component = :c AND metric = :m AND ts >= :since AND ts <= :until
           UNION ALL
           SELECT ts, avg, worst_status FROM samples_1m
           WHERE component = :c AND metric = :m AND ts >= :since AND ts <= :until
           ORDER BY ts""",
        {"c": component, "m": metric, "since": since, "until": until},
    ).fetchall()
    return [SamplePoint(*row) for row in rows]


def buckets(conn: sqlite3.Connection, component: str, metric: str, since: float,
            until: float | None) -> list[BucketRow]:
    """The one-minute buckets whose start lies in `[since, until]`, ordered by ts."""
    until = math.inf if until is None else until
    rows = conn.execute(
        """SELECT ts, avg, min, max, count, worst_status FROM samples_1m
           WHERE component = ? AND metric = ? AND ts >= ? AND ts <= ? ORDER BY ts""",
        (component, metric, since, until),
    ).fetchall()
    return [BucketRow(*row) for row in rows]
