"""botocore answers as JSON-ready values."""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["jsonable", "utc_iso"]


def utc_iso(value: dt.datetime) -> str:
    """A datetime as an ISO 8601 string in UTC (``2024-05-01T12:00:00Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """A copy of a botocore answer without ``ResponseMetadata``, datetimes as ISO 8601 UTC
    strings and bytes as text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return utc_iso(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
