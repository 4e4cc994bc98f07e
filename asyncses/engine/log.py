"""The library's logger: structlog, bound to the standard-library logger ``asyncses``.

Library code never configures logging. Events go to ``logging.getLogger("asyncses")`` as
ordinary records whose message reads ``event key=value ...`` and whose ``asyncses``
attribute holds the event as a dict, so a host application's own ``logging`` setup shows
them (retries, throttles, pacing changes), and the command line renders them as JSON lines.
Levels are checked first, so a disabled level costs next to nothing.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["LOGGER_NAME", "get_logger"]

LOGGER_NAME = "asyncses"

# The standard advice for libraries: no output unless the host configures some.
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def _to_stdlib(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The last processor: one readable message, and the whole event for formatters."""
    name = str(event.get("event", ""))
    fields = " ".join(f"{key}={value}" for key, value in event.items() if key != "event")
    message = f"{name} {fields}" if fields else name
    return (message,), {"extra": {"asyncses": dict(event)}}


_PROCESSORS: list[Any] = [
    structlog.stdlib.filter_by_level,
    structlog.contextvars.merge_contextvars,
    _to_stdlib,
]


def get_logger() -> Any:
    """A structlog logger writing to the standard logger ``asyncses``."""
    return structlog.wrap_logger(
        logging.getLogger(LOGGER_NAME),
        processors=_PROCESSORS,
        wrapper_class=structlog.stdlib.BoundLogger,
    )
