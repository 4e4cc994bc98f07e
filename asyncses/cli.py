"""The ``asyncses`` command: a thin layer over the library.

Exit codes: 0 all records fetched; 1 the report holds error records (or findings named by
``--fail-on``, or a listing failed part-way); 2 usage or configuration error; 130/143
interrupted by SIGINT/SIGTERM. Records go to the output; logs, progress and errors to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, MutableMapping, Sequence
from contextlib import AsyncExitStack
from typing import Any, NoReturn

import anyio
import orjson
import structlog

from . import _ses
from ._client import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    MAX_CONCURRENCY,
    Client,
    RecordStream,
    validate_settings,
)
from ._diff import diff_records, render_diff_markdown
from ._exceptions import (
    AccessError,
    AlreadyExistsError,
    AsyncsesError,
    EndpointError,
    OperationError,
    ReportError,
    UsageError,
)
from ._findings import FINDINGS, LIST_FINDINGS
from ._output import ReportOutput, ResumePlan, check_output_path, iter_report, plan_resume
from ._pool import first_error
from ._pools import parse_tags, validate_pool
from ._progress import Progress
from ._records import DEDICATED_IP_POOL, EMAIL_IDENTITY, IMPORT_JOB
from ._summary import render_summary, summarize

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a pipeline cut short

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


# -- argument parsing ------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"asyncses: error: {message} (see '{self.prog} --help')\n")


def _whole(name: str, low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number, not {text!r}"
            ) from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{name} must be {span}, not {value}")
        return value

    return parse


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"rate must be a number, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"rate must be a positive number, not {text}")
    return value


def _processes(text: str) -> int:
    if text == "auto":  # one per core, up to 4: past that the endpoint's latency dominates
        return max(1, min(os.cpu_count() or 1, 4))
    return _whole("processes", 1, 64)(text)


def _csv(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"no region in {text!r}")
    return parts


def _finding(text: str) -> str:
    code = text.strip().upper()
    if code not in FINDINGS:
        raise argparse.ArgumentTypeError(
            f"unknown finding {text!r}: use one of {', '.join(FINDINGS)}"
        )
    return code


def _common(parser: argparse.ArgumentParser, *, output: bool = True) -> None:
    group = parser.add_argument_group("AWS and engine")
    group.add_argument(
        "--region",
        action="append",
        type=_csv,
        metavar="REGION",
        help="region to audit; repeat or give a comma list for several (default: AWS_REGION)",
    )
    group.add_argument(
        "--profile",
        action="append",
        metavar="PROFILE",
        help="AWS profile; repeat for several accounts (records then carry 'account')",
    )
    group.add_argument(
        "--endpoint-url", metavar="URL", help="SES endpoint (AWS_ENDPOINT_URL_SESV2)"
    )
    group.add_argument(
        "--concurrency",
        type=_whole("concurrency", 1, MAX_CONCURRENCY),
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"lookups in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    group.add_argument(
        "--max-attempts",
        type=_whole("max attempts", 1),
        default=DEFAULT_MAX_ATTEMPTS,
        metavar="N",
        help="tries per call on throttling, 5xx and connection errors "
        f"(default {DEFAULT_MAX_ATTEMPTS})",
    )
    group.add_argument(
        "--page-size",
        type=_whole("page size", 1, _ses.MAX_PAGE_SIZE),
        default=_ses.MAX_PAGE_SIZE,
        metavar="N",
        help=f"PageSize of list calls, 1-{_ses.MAX_PAGE_SIZE} (default {_ses.MAX_PAGE_SIZE})",
    )
    group.add_argument(
        "--rate",
        type=_rate,
        metavar="R",
        help="fixed requests/second per region and operation (default: adapt to throttling)",
    )
    group.add_argument(
        "--processes",
        type=_processes,
        default=_processes("auto"),
        metavar="N",
        help="processes for the lookups of large identity audits "
        "(default: auto, one per core, at most 4)",
    )
    out = parser.add_argument_group("output")
    if output:
        out.add_argument(
            "-o", "--output", default="-", metavar="PATH", help="NDJSON report, '-' for stdout"
        )
        out.add_argument(
            "--resume",
            action="store_true",
            help="keep the records of --output fetched without error; fetch the rest",
        )
    out.add_argument("--log-level", choices=LOG_LEVELS, default="warning", type=str.lower)
    out.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``asyncses`` argument parser."""
    parser = _Parser(
        prog="asyncses",
        description="Concurrent, throttle-safe audits of Amazon SES v2 accounts, as NDJSON.",
    )
    parser.add_argument("--version", action="version", version=f"asyncses {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("identities", help="audit every email identity")
    _common(p)
    p.add_argument("--list-only", action="store_true", help="list fields only, no lookups")
    p.add_argument(
        "--fail-on",
        action="append",
        type=_finding,
        default=[],
        metavar="CODE",
        help=f"exit 1 if any identity has this finding ({', '.join(FINDINGS)})",
    )

    p = sub.add_parser("pools", help="audit every dedicated IP pool")
    _common(p)
    p.add_argument("--with-ips", action="store_true", help="add each pool's dedicated IPs")

    p = sub.add_parser("import-jobs", help="report every import job")
    _common(p)
    p.add_argument("--destination-type", choices=_ses.IMPORT_DESTINATION_TYPES, type=str.upper)
    p.add_argument("--details", action="store_true", help="add GetImportJob fields per job")

    p = sub.add_parser("create-pool", help="create a dedicated IP pool")
    p.add_argument("name", metavar="NAME")
    _common(p, output=False)
    p.add_argument("--scaling-mode", default="STANDARD", metavar="MODE", help="STANDARD or MANAGED")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")

    p = sub.add_parser("summary", help="counts of a report")
    p.add_argument("report", metavar="REPORT")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    p = sub.add_parser("diff", help="what changed between two reports")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--format", choices=("ndjson", "markdown"), default="ndjson")

    p = sub.add_parser("demo", help="audit an embedded local SES endpoint and summarize it")
    p.add_argument("--identities", type=_whole("identities", 1, 100_000), default=300)
    p.add_argument("--output-dir", metavar="DIR", help="keep the reports in DIR")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="warning", type=str.lower)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


# -- logging -----------------------------------------------------------------------------------


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: scrub anything that looks like a secret from every string."""
    secrets = [
        os.environ.get(name)
        for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
    ]
    for key, value in event.items():
        if isinstance(value, str):
            value = _ses.scrub(value)
            for secret in secrets:
                if secret and len(secret) >= 8 and secret in value:
                    value = value.replace(secret, "<redacted>")
            event[key] = value
    return event


def configure_logging(level: str) -> None:
    """structlog to stderr: colours on a terminal, JSON lines otherwise."""
    renderer: Any
    if sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


# -- running ---------------------------------------------------------------------------------


def _exit_now(signum: int, _frame: Any) -> None:
    """A signal handler for the second signal: no more cleanup, exit 130/143 now."""
    os._exit(EXIT_SIGNALS[signal.Signals(signum)])


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"asyncses: error: {message}\n")
    return code


def _regions(args: argparse.Namespace) -> list[str] | None:
    regions = [region for group in (args.region or []) for region in group]
    return regions or None


def _client_settings(args: argparse.Namespace) -> dict[str, Any]:
    regions = _regions(args)
    endpoint = args.endpoint_url
    validate_settings(
        regions=regions,
        endpoint_url=endpoint,
        concurrency=args.concurrency,
        rate=args.rate,
        max_attempts=args.max_attempts,
        page_size=args.page_size,
    )
    return {
        "regions": regions,
        "endpoint_url": endpoint,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "max_attempts": args.max_attempts,
        "page_size": args.page_size,
        "processes": args.processes,
    }


def _profiles(args: argparse.Namespace) -> list[str | None]:
    profiles: list[str | None] = list(dict.fromkeys(args.profile or [])) or [None]
    return profiles


class _Run:
    """One audit command: clients, output, signals, progress, exit code."""

    def __init__(self, args: argparse.Namespace, record_type: str) -> None:
        self.args = args
        self.record_type = record_type
        self.signal: signal.Signals | None = None
        self.listing_error: AsyncsesError | None = None
        self.plan: ResumePlan | None = None
        self.started = time.monotonic()

    def streams(self, client: Client) -> RecordStream[Any]:
        args = self.args
        skip = self.plan.done if self.plan is not None else ()
        if self.record_type == EMAIL_IDENTITY:
            return client.email_identities(list_only=args.list_only, skip=skip)
        if self.record_type == DEDICATED_IP_POOL:
            return client.dedicated_ip_pools(with_ips=args.with_ips, skip=skip)
        return client.import_jobs(
            destination_type=args.destination_type, details=args.details, skip=skip
        )

    async def main(self) -> int:
        args = self.args
        settings = _client_settings(args)
        unseen = set(getattr(args, "fail_on", None) or ()) - LIST_FINDINGS
        if getattr(args, "list_only", False) and unseen:
            raise UsageError(
                f"--fail-on {', '.join(sorted(unseen))} cannot fire with --list-only "
                f"(the list fields only show {', '.join(sorted(LIST_FINDINGS))})"
            )
        check_output_path(args.output)
        failed_findings: set[str] = set(getattr(args, "fail_on", []) or [])
        if args.resume:
            if args.output == "-":
                raise UsageError("--resume needs -o FILE (it resumes that report)")
            self.plan = await anyio.to_thread.run_sync(
                plan_resume, args.output, self.record_type, failed_findings
            )
        output = ReportOutput(args.output, resume=self.plan)
        profiles = _profiles(args)
        hits = self.plan.hits if self.plan is not None else 0  # kept records count too
        finished = False
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    Client(profile=profile, include_account=len(profiles) > 1, **settings)
                )
                for profile in profiles
            ]
            progress = Progress.create(
                enabled=not args.no_progress, clients=clients, label=self.record_type
            )
            stack.enter_context(progress)

            async def consume(client: Client) -> None:
                nonlocal hits
                try:
                    async with self.streams(client) as records:
                        async for record in records:
                            await output.write(record)
                            progress.advance(record)
                            if failed_findings and failed_findings.intersection(
                                record.get("findings") or ()
                            ):
                                hits += 1
                except AsyncsesError as exc:
                    self.listing_error = self.listing_error or exc

            try:
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._watch_signals, scope)
                        async with anyio.create_task_group() as consumers:
                            for client in clients:
                                consumers.start_soon(consume, client)
                        tg.cancel_scope.cancel()
                finished = self.signal is None and self.listing_error is None
            finally:
                # Only a run that finished may leave an empty report in place of an old one.
                await output.close(complete=finished)
                progress.stop()
                if output.opened or self.listing_error is None:
                    self._summary_line(output, clients)
        if self.signal is not None:
            return EXIT_SIGNALS[self.signal]
        if self.listing_error is not None:
            return self._listing_failed(self.listing_error, output)
        if output.result.errors:
            return EXIT_ERRORS
        if hits:
            sys.stderr.write(
                f"asyncses: {hits} records have findings named by --fail-on "
                f"({', '.join(sorted(failed_findings))})\n"
            )
            return EXIT_ERRORS
        return EXIT_OK

    def _listing_failed(self, exc: AsyncsesError, output: ReportOutput) -> int:
        if isinstance(exc, (EndpointError, AccessError)) and not output.opened:
            return _fail(str(exc), EXIT_USAGE)
        return _fail(f"the listing stopped early: {exc}", EXIT_ERRORS)

    async def _watch_signals(self, scope: anyio.CancelScope) -> None:
        try:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for received in signals:
                    self.signal = received
                    structlog.get_logger("asyncses").warning(
                        "interrupted; flushing the report", signal=received.name
                    )
                    scope.cancel()  # this watcher goes with it: see below
        finally:
            if self.signal is not None:
                # While the run winds down, a second signal stops the process at once.
                for sig in EXIT_SIGNALS:
                    signal.signal(sig, _exit_now)

    def _summary_line(self, output: ReportOutput, clients: Sequence[Client]) -> None:
        calls = sum(c.stats.calls for c in clients)
        retries = sum(c.stats.retries for c in clients)
        throttles = sum(c.stats.throttles for c in clients)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"asyncses: {output.new.records} records, {output.new.errors} errors, "
            f"{calls} calls, {retries} retries, {throttles} throttles, {elapsed:.1f} s"
            + (f" ({self.plan.kept} kept from the resumed report)" if self.plan else "")
            + "\n"
        )


async def _create_pool(args: argparse.Namespace) -> int:
    settings = _client_settings(args)
    tags = parse_tags(args.tag)
    scaling_mode = args.scaling_mode.upper()
    validate_pool(args.name, scaling_mode, tags)
    profiles = _profiles(args)
    if len(profiles) > 1:
        raise UsageError("create-pool takes one --profile")
    regions = settings.pop("regions")
    if regions and len(regions) > 1:
        raise UsageError("create-pool takes one --region")
    async with Client(profile=profiles[0], regions=regions, **settings) as client:
        try:
            record = await client.create_dedicated_ip_pool(args.name, scaling_mode, tags)
        except AlreadyExistsError:
            return _fail(f"a dedicated IP pool named {args.name!r} already exists", EXIT_ERRORS)
    sys.stdout.buffer.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    sys.stdout.flush()
    return EXIT_OK


def _summary(args: argparse.Namespace) -> int:
    summary = summarize(record for _n, _raw, record in iter_report(args.report))
    sys.stdout.write(render_summary(summary, args.format, title=os.path.basename(args.report)))
    if args.format == "json":
        sys.stdout.write("\n")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    old = (record for _n, _raw, record in iter_report(args.old))
    new = (record for _n, _raw, record in iter_report(args.new))
    changes = diff_records(old, new)
    if args.format == "markdown":
        title = f"Changes from {os.path.basename(args.old)} to {os.path.basename(args.new)}"
        sys.stdout.write(render_diff_markdown(changes, title=title))
    else:
        for change in changes:
            sys.stdout.buffer.write(orjson.dumps(change, option=orjson.OPT_APPEND_NEWLINE))
        sys.stdout.flush()
    return EXIT_OK


def _run_async(fn: Callable[[], Any]) -> int:
    """``anyio.run`` on asyncio, with uvloop when it is installed."""
    options: dict[str, Any] = {}
    try:
        import uvloop  # noqa: F401  # only probing that it is there

        options["use_uvloop"] = True
    except ImportError:
        pass
    result: int = anyio.run(fn, backend="asyncio", backend_options=options)
    return result


def _answer(raised: BaseException) -> int:
    """The exit code, and the one-line message, for the error that ended a command.

    Task groups wrap what they raise: the first real error inside answers for the group.
    Anything not foreseen here is a bug and goes on, traceback and all.
    """
    exc = first_error(raised)
    if isinstance(exc, (UsageError, ReportError)):
        return _fail(str(exc))
    if isinstance(exc, OperationError):
        code = EXIT_USAGE if isinstance(exc, (EndpointError, AccessError)) else EXIT_ERRORS
        return _fail(str(exc), code)
    if isinstance(exc, AsyncsesError):
        return _fail(str(exc), EXIT_ERRORS)
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_SIGNALS[signal.SIGINT]
    if isinstance(exc, BrokenPipeError):
        # stdout closed early (`| head`): stop quietly, as a shell pipeline expects. Point
        # stdout at /dev/null so the interpreter's last flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    if isinstance(exc, OSError):
        return _fail(f"cannot write the report: {exc.strerror or exc}", EXIT_ERRORS)
    raise raised


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level if "log_level" in args else "warning")
    try:
        if args.command == "summary":
            return _summary(args)
        if args.command == "diff":
            return _diff(args)
        if args.command == "demo":
            from ._demo import run_demo

            return _run_async(lambda: run_demo(args))
        if args.command == "create-pool":
            return _run_async(lambda: _create_pool(args))
        record_type = {
            "identities": EMAIL_IDENTITY,
            "pools": DEDICATED_IP_POOL,
            "import-jobs": IMPORT_JOB,
        }[args.command]
        return _run_async(_Run(args, record_type).main)
    except (Exception, KeyboardInterrupt, BaseExceptionGroup) as exc:
        return _answer(exc)
