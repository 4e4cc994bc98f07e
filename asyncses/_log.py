"""The library's logger: structlog when the host configured it, silent otherwise.

Library code never configures logging. structlog's built-in default prints every level to
stdout, which would make an embedded library chatty on the host's stdout; so until someone
(the CLI, or the host application) calls ``structlog.configure``, asyncses logs nothing.
"""

from __future__ import annotations

from typing import Any

import structlog

__all__ = ["get_logger"]


class _Silent:
    """A logger that drops everything."""

    def _drop(self, *args: Any, **kwargs: Any) -> None:
        return None

    debug = info = warning = error = exception = critical = _drop


_SILENT = _Silent()


def get_logger() -> Any:
    """The ``asyncses`` logger, or a silent one while structlog is unconfigured."""
    if structlog.is_configured():
        return structlog.get_logger("asyncses")
    return _SILENT
