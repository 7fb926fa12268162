"""The times an attempt record carries (ISO 8601 text), read without loading the record's model."""

from __future__ import annotations


def record_time(record: dict) -> str | None:
    """The time a record carries: when it was saved, else when the attempt ended or started (older records)."""
    for key in ("saved", "ended", "started"):
        if isinstance(record.get(key), str) and record[key]:
            return record[key]
    return None
