"""The ``asyncses`` command line: a thin layer over :class:`asyncses.Client`.

Owns
    ``parser``    the argument parser and the option groups ``scripts/`` reuse;
    ``audit``     an audit command: report file, signals, progress, exit code;
    ``commands``  ``summary``, ``diff``, ``create-pool``;
    ``exits``     the exit codes, and the mapping of errors to them;
    ``logs``      logging to stderr (JSON lines off a terminal);
    ``progress``  the live progress bar;
    ``demo``      ``asyncses demo`` on the embedded local endpoint.

May import
    everything below it: the client, the reports, the SES adapter and the engine.
    Records go to the output; logs, progress and errors to stderr.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from . import changes, commands, exits
from .audit import COMMANDS, Audit, run_audit
from .logs import configure_logging
from .parser import build_parser, settings_from

__all__ = ["main", "run_async"]

#: Allocations between two collections of the youngest generation (Python's default: 700).
YOUNG_THRESHOLD = 20_000


def run_async(fn: Callable[[], Any]) -> int:
    """``anyio.run`` on asyncio, with uvloop when it is installed, in a process tuned for a
    long run of many small objects: what the imports made lives as long as the process and
    leaves the collector's generations, and the youngest is collected less often (answers
    are freed by reference counting; the collector is only for cycles)."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    options: dict[str, Any] = {}
    try:
        import uvloop  # noqa: F401  # only probing that it is there

        options["use_uvloop"] = True
    except ImportError:
        pass
    result: int = anyio.run(fn, backend="asyncio", backend_options=options)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(getattr(args, "log_level", "warning"))
    try:
        if args.command == "summary":
            return commands.summary(args)
        if args.command == "diff":
            return commands.diff(args)
        if args.command == "demo":
            from .demo import run_demo

            return run_async(lambda: run_demo(args))
        if args.command == "create-pool":
            return run_async(lambda: commands.create_pool(args))
        if args.command == "plan":
            return changes.plan_command(args)
        if args.command == "apply":
            return run_async(lambda: changes.apply_command(args))
        audit = Audit(
            settings=settings_from(args),
            record_type=COMMANDS[args.command],
            options=_options(args),
            output=args.output,
            resume=args.resume,
            fail_on=frozenset(getattr(args, "fail_on", ()) or ()),
            progress=not args.no_progress,
            jobs=args.jobs,
        )
        return run_async(lambda: run_audit(audit))
    except (Exception, KeyboardInterrupt, BaseExceptionGroup) as exc:
        return exits.answer(exc)


def _options(args: Any) -> dict[str, Any]:
    """The report options of an audit command (they go into the run header)."""
    command = args.command
    if command == "identities":
        return {"list_only": bool(args.list_only)}
    if command == "pools":
        return {"with_ips": bool(args.with_ips)}
    if command == "import-jobs":
        return {"destination_type": args.destination_type, "details": bool(args.details)}
    if command == "account":
        return {"quota_threshold": args.quota_threshold}
    if command == "suppressions":
        return {
            "reasons": sorted(set(args.reason)),
            "since": args.since,
            "until": args.until,
            "details": bool(args.details),
        }
    if command == "contact-lists":
        return {"contacts": bool(args.contacts)}
    return {}
