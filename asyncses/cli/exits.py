"""Exit codes, and the one function that maps the error that ended a command to its code.

===  =====================================================================================
0    every record fetched; ``diff``: nothing changed
1    the report was written but holds error records, ``--fail-on`` findings, or a listing
     that stopped part-way; ``diff``: something changed
2    usage or configuration error: bad flag, unreachable endpoint, no credentials, a report
     that cannot be resumed
3    the report could not be written (disk full, I/O error); the previous one is untouched
130  interrupted by SIGINT (143: SIGTERM); the report is untouched, ``--resume`` finishes
141  standard output was closed early (``asyncses identities | head``)
===  =====================================================================================
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Final

from ..engine.errors import (
    AccessError,
    AsyncsesError,
    EndpointError,
    NotServiceError,
    OperationError,
    ReportError,
    ReportWriteError,
    UsageError,
)
from ..engine.pool import first_error

__all__ = ["EXIT_CODES_HELP", "answer", "fail"]

OK: Final = 0
ERRORS: Final = 1
USAGE: Final = 2
WRITE: Final = 3
SIGNALS: Final = {signal.SIGINT: 130, signal.SIGTERM: 143}
BROKEN_PIPE: Final = 141  # 128 + SIGPIPE, as a shell reports a pipeline cut short

#: The exit codes, as every command's ``--help`` ends.
EXIT_CODES_HELP: Final = """exit codes:
  0    done, every record fetched
  1    the report holds error records, --fail-on findings or a listing that stopped part-way
  2    usage or configuration error (nothing was written)
  3    the report could not be written (the previous one is untouched)
  130  interrupted (143: SIGTERM); the report is untouched, --resume finishes the run
  141  standard output was closed early"""


def fail(message: str, code: int = USAGE) -> int:
    """One line on stderr; return ``code``."""
    sys.stderr.write(f"asyncses: error: {message}\n")
    return code


def answer(raised: BaseException) -> int:
    """The exit code, and the one-line message, for the error that ended a command.

    Task groups wrap what they raise: the first real error inside answers for the group.
    Anything not foreseen here is a bug and goes on, traceback and all.
    """
    exc = first_error(raised)
    if isinstance(exc, ReportWriteError):
        return fail(str(exc), WRITE)
    if isinstance(exc, (UsageError, ReportError)):
        return fail(str(exc))
    if isinstance(exc, OperationError):
        config = isinstance(exc, (EndpointError, AccessError, NotServiceError))
        return fail(str(exc), USAGE if config else ERRORS)
    if isinstance(exc, AsyncsesError):
        return fail(str(exc), ERRORS)
    if isinstance(exc, KeyboardInterrupt):
        return SIGNALS[signal.SIGINT]
    if isinstance(exc, BrokenPipeError):
        # stdout closed early (`| head`): stop quietly, as a shell pipeline expects. Point
        # stdout at /dev/null so the interpreter's last flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    if isinstance(exc, OSError):
        return fail(f"{exc.filename or 'I/O'}: {exc.strerror or exc}", WRITE)
    raise raised
