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

__all__ = ["EXIT_CODES", "EXIT_CODES_HELP", "answer", "fail"]

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

_USAGE_LINE = "  2    usage or configuration error (nothing was written)"
_PIPE_LINE = "  141  standard output was closed early"

#: The exit codes of the commands that are not audits, as their ``--help`` ends.
EXIT_CODES: Final = {
    "summary": f"""exit codes:
  0    done
  2    a report cannot be read (missing, not NDJSON)
{_PIPE_LINE}""",
    "diff": f"""exit codes:
  0    nothing changed
  1    something changed (as diff(1))
  2    a report cannot be read (missing, not NDJSON)
{_PIPE_LINE}""",
    "plan": f"""exit codes:
  0    the plan is written (it may hold no change)
{_USAGE_LINE}
  3    the plan could not be written""",
    "apply": f"""exit codes:
  0    every change applied, already done, or would apply (--dry-run)
  1    a change failed or drifted, or its account or region could not be reached
  2    usage or configuration error, or a plan that does not check out: nothing sent
  3    the outcomes could not be written
  130  interrupted (143: SIGTERM); --resume -o OUTCOMES goes on
{_PIPE_LINE}""",
    "create-pool": f"""exit codes:
  0    created; the pool is printed as one JSON line
  1    a pool of that name exists already
{_USAGE_LINE}
{_PIPE_LINE}""",
    "daily-report": f"""exit codes:
  0    done, every record fetched; the reports and the Markdown are in place
  1    error records or --fail-on findings (the reports are in place all the same)
{_USAGE_LINE}
  3    a file could not be written (the folder is as it was)
  130  interrupted (143: SIGTERM); the folder is as it was""",
    "demo": f"""exit codes:
  0    done
{_USAGE_LINE}""",
}


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
