"""Errors, pagination tokens, PageSize checks and timestamps shared by the handlers.

Nothing here imports moto.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")

#: HTTP status of every error code the local endpoint answers.
ERROR_STATUS = {
    "AlreadyExistsException": 400,
    "BadRequestException": 400,
    "InvalidNextTokenException": 400,
    "LimitExceededException": 400,
    "NotFoundException": 404,
    "TooManyRequestsException": 429,
    "UnrecognizedClientException": 403,
    "UnknownOperationException": 404,
    "NotImplemented": 501,
    "InternalFailure": 500,
}

_TOKEN_PREFIX = "asyncses.local"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class SESError(Exception):
    """An SES v2 error answer: ``{"message": ...}``, ``x-amzn-ErrorType: code``, HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        """Create the error; ``status`` defaults to the usual status of ``code``."""
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS.get(code, 400)

    def body(self) -> str:
        """The JSON body SES sends with this error."""
        return json.dumps({"message": self.message})


def bad_request(message: str) -> SESError:
    """A BadRequestException (400)."""
    return SESError("BadRequestException", message)


def not_found(message: str) -> SESError:
    """A NotFoundException (404)."""
    return SESError("NotFoundException", message)


def already_exists(message: str) -> SESError:
    """An AlreadyExistsException (400)."""
    return SESError("AlreadyExistsException", message)


def limit_exceeded(message: str) -> SESError:
    """A LimitExceededException (400)."""
    return SESError("LimitExceededException", message)


# --------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------


def page_size(raw: Any, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """Validate a PageSize (a query string or a JSON number); BadRequestException if invalid."""
    if raw is None:
        return default
    if isinstance(raw, bool):
        raise bad_request(f"Invalid PageSize: {raw!r}")
    try:
        size = int(raw)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid PageSize: {raw!r}") from exc
    if isinstance(raw, float) and raw != size:
        raise bad_request(f"Invalid PageSize: {raw!r}")
    if not 1 <= size <= maximum:
        raise bad_request(f"PageSize must be between 1 and {maximum}; got {size}")
    return size


def encode_token(operation: str, position: Any) -> str:
    """An opaque NextToken for ``operation`` resuming at ``position`` (JSON-able)."""
    raw = json.dumps([_TOKEN_PREFIX, operation, position], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def decode_token(operation: str, token: str, error_code: str = "BadRequestException") -> Any:
    """The position stored in a NextToken of ``operation``; ``error_code`` if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        prefix, op, position = json.loads(raw.decode("utf-8"))
    except (ValueError, TypeError, UnicodeError, binascii.Error) as exc:
        raise SESError(error_code, "The NextToken is invalid.") from exc
    if prefix != _TOKEN_PREFIX or op != operation:
        raise SESError(error_code, "The NextToken is invalid.")
    return position


def paginate(
    items: Sequence[_T], operation: str, token: str | None, size: int
) -> tuple[list[_T], str | None]:
    """One page of ``items`` from an offset NextToken; the next token or None."""
    start = 0
    if token:
        start = decode_token(operation, token)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise bad_request("The NextToken is invalid.")
    end = start + size
    next_token = encode_token(operation, end) if end < len(items) else None
    return list(items[start:end]), next_token


# --------------------------------------------------------------------------
# Timestamps and small helpers
# --------------------------------------------------------------------------


def epoch(value: Any) -> float | None:
    """Epoch seconds (as SES answers timestamps) from a float, datetime or ISO 8601 string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        moment: dt.datetime = value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return round(moment.timestamp(), 3)
    if isinstance(value, str):
        return epoch(dt.datetime.fromisoformat(value))
    raise TypeError(f"not a timestamp: {value!r}")


def parse_time(raw: str, name: str) -> float:
    """A timestamp query parameter (ISO 8601 as botocore sends it, or epoch seconds)."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        stamp = epoch(raw)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid {name}: {raw!r}") from exc
    assert stamp is not None
    return stamp


def drop_none(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the keys whose value is None."""
    return {key: value for key, value in data.items() if value is not None}


def check_enum(value: Any, allowed: Iterable[str], name: str) -> str:
    """``value`` if it is one of ``allowed``, else BadRequestException."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise bad_request(f"Invalid {name}: {value!r}; expected one of {', '.join(allowed)}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is a JSON boolean, else BadRequestException."""
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be a boolean; got {value!r}")
    return value


def check_str(value: Any, name: str, *, max_length: int | None = None) -> str:
    """``value`` if it is a non-empty string (of at most ``max_length``), else BadRequest."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name} is required and must be a non-empty string")
    if max_length is not None and len(value) > max_length:
        raise bad_request(f"{name} must be at most {max_length} characters long")
    return value


def check_tags(raw: Any) -> list[dict[str, str]]:
    """A validated SES TagList (Key 1-128 chars, Value 0-256 chars, at most 50 tags)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("Tags must be a list")
    if len(raw) > 50:
        raise bad_request("A resource can have at most 50 tags")
    tags: list[dict[str, str]] = []
    for tag in raw:
        if not isinstance(tag, dict):
            raise bad_request("Every tag must be an object with Key and Value")
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise bad_request(f"Invalid tag key: {key!r}")
        if not isinstance(value, str) or len(value) > 256:
            raise bad_request(f"Invalid tag value for {key!r}: {value!r}")
        tags.append({"Key": key, "Value": value})
    return tags
