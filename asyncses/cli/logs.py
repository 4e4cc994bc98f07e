"""The command line's logging: the ``asyncses`` logger to stderr, secrets scrubbed.

The library logs to the standard logger ``asyncses`` (see :mod:`asyncses.engine.log`); the
command line gives it a handler on stderr that renders each event with structlog: JSON lines
when stderr is not a terminal (for log collectors), coloured key=value lines when it is.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, Final, TextIO

import orjson
import structlog

from ..engine.log import LOGGER_NAME
from ..ses.errors import scrub

__all__ = ["LOG_LEVELS", "configure_logging", "redact"]

LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
_SECRET_VARIABLES: Final = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")


def redact(event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Scrub anything that looks like a secret (or is one of the environment's) from every
    string of an event."""
    secrets = [os.environ.get(name) for name in _SECRET_VARIABLES]
    for key, value in event.items():
        if isinstance(value, str):
            value = scrub(value)
            for secret in secrets:
                if secret and len(secret) >= 8 and secret in value:
                    value = value.replace(secret, "<redacted>")
            event[key] = value
    return event


class _Formatter(logging.Formatter):
    """Renders a record's structlog event (or its plain message) as one line."""

    def __init__(self, *, json_lines: bool) -> None:
        super().__init__()
        self._json = json_lines
        self._console = None if json_lines else structlog.dev.ConsoleRenderer(colors=True)

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = dict(getattr(record, "asyncses", None) or {})
        if not event:
            event["event"] = record.getMessage()
        event["level"] = record.levelname.lower()
        event["timestamp"] = (
            dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat().replace("+00:00", "Z")
        )
        redact(event)
        if self._console is None:
            return orjson.dumps(event, default=str).decode()
        rendered: str = self._console(None, record.levelname.lower(), event)
        return rendered


if TYPE_CHECKING:
    _StreamHandler = logging.StreamHandler[TextIO]
else:
    _StreamHandler = logging.StreamHandler  # not subscriptable at run time


class _Handler(_StreamHandler):
    """The command line's own handler (so that configuring again replaces it)."""


def configure_logging(level: str) -> None:
    """Send the ``asyncses`` logger's events at ``level`` and above to stderr."""
    logger = logging.getLogger(LOGGER_NAME)
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    handler = _Handler(sys.stderr)
    handler.setFormatter(_Formatter(json_lines=not sys.stderr.isatty()))
    logger.addHandler(handler)
    logger.setLevel(getattr(logging, level.upper()))
    logger.propagate = False
