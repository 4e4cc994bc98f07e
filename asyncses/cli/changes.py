"""``asyncses plan`` and ``asyncses apply``: bulk changes from a reviewed plan."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from typing import BinaryIO

import anyio

from ..changes.apply import FINAL, OUTCOME
from ..changes.plan import parse_where, plan, plan_header, read_plan, report_records
from ..client import Client
from ..engine.errors import ReportWriteError, UsageError
from ..engine.log import get_logger
from ..engine.sink import NdjsonWriter, encode
from ..reports.files import RUN_END, ReportReader, RunHeader
from . import exits
from .parser import settings_from

#: How the summary counts an account or region that could not be reached (its changes wait
#: for a ``--resume``).
NOT_REACHED = "not reached (account or region)"

__all__ = ["apply_command", "plan_command"]


def plan_command(args: argparse.Namespace) -> int:
    """``asyncses plan ACTION [ARGS] --from REPORT... [--where COND]... [-o PLAN]``"""
    arguments = list(args.arguments)
    if args.behavior_on_mx_failure:
        arguments += ["--behavior-on-mx-failure", args.behavior_on_mx_failure]
    where = [parse_where(text) for text in args.where]
    changes = list(
        plan(args.action, report_records(args.reports), arguments=arguments, where=where)
    )
    header = plan_header(args.action, arguments, args.reports, where, changes)
    lines = [encode(header), *(encode(change) for change in changes)]
    if args.output == "-":
        sys.stdout.buffer.writelines(lines)
        sys.stdout.flush()
    else:
        _write_file(args.output, b"".join(lines))
    destructive = header["destructive"]
    sys.stderr.write(
        f"asyncses: {len(changes)} changes planned"
        + (
            f", {destructive} destructive (apply needs --confirm {destructive})"
            if destructive
            else ""
        )
        + "\n"
    )
    return exits.OK


def _write_file(path: str, data: bytes) -> None:
    temp = f"{path}.tmp"
    try:
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise ReportWriteError(path, exc.strerror or str(exc)) from None


def _done(path: str) -> set[str]:
    """Ids of the changes with a final outcome in an outcomes file (for ``--resume``)."""
    if not os.path.exists(path):
        return set()
    done: set[str] = set()
    for _number, _raw, record in ReportReader(path):
        if record.get("type") == "outcome" and record.get("status") in FINAL:
            done.add(str(record.get("change")))
    return done


async def apply_command(args: argparse.Namespace) -> int:
    """``asyncses apply PLAN [--dry-run] [-o OUTCOMES] [--resume] [--confirm N]``"""
    started = time.monotonic()
    loaded = await anyio.to_thread.run_sync(read_plan, args.plan)
    destructive = loaded.destructive
    if destructive and args.confirm != destructive and not args.dry_run:
        raise UsageError(
            f"the plan has {destructive} destructive changes: apply it with --confirm "
            f"{destructive} (after reviewing them)"
        )
    if args.confirm is not None and args.confirm != destructive:
        raise UsageError(
            f"--confirm {args.confirm} does not match the plan's {destructive} destructive changes"
        )
    if args.resume and args.output == "-":
        raise UsageError("--resume needs -o OUTCOMES (it skips the changes done there)")
    done = await anyio.to_thread.run_sync(_done, args.output) if args.resume else set()
    foreign = done - {change["id"] for change in loaded.changes}
    if foreign:
        raise UsageError(
            f"{args.output} holds outcomes of {len(foreign)} changes that are not in "
            f"{args.plan} (another plan's outcomes?): --resume continues the same plan"
        )
    if not args.region:  # the plan's changes say where they go
        args.region = [sorted({change["region"] for change in loaded.changes})]
    settings = settings_from(args).replace(include_account=True)
    counts: dict[str, int] = {}
    interrupted: signal.Signals | None = None
    async with Client(settings) as client:
        stream = client.apply(loaded.changes, dry_run=args.dry_run, done=done)
        header = RunHeader(
            record_type="outcome", options={"plan": args.plan, "dry_run": args.dry_run}
        )
        writer = await anyio.to_thread.run_sync(_open_outcomes, args.output, args.resume)
        try:
            writer.write_line(encode(header.to_json()), count=False)
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:

                    async def watch() -> None:
                        nonlocal interrupted
                        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                            async for received in signals:
                                interrupted = received
                                get_logger().warning("interrupted", signal=received.name)
                                scope.cancel()
                                return

                    tg.start_soon(watch)
                    async with stream as outcomes:
                        async for outcome in outcomes:
                            await writer.write(outcome)
                            await writer.flush()  # as they happen: a resume trusts them
                            # An account or region that could not be reached: its changes
                            # wait for a --resume.
                            status = (
                                outcome["status"] if outcome["type"] == OUTCOME else NOT_REACHED
                            )
                            counts[status] = counts.get(status, 0) + 1
                    tg.cancel_scope.cancel()
            if interrupted is None:
                end = {
                    "type": RUN_END,
                    "records": sum(counts.values()),
                    "errors": counts.get("failed", 0) + counts.get(NOT_REACHED, 0),
                }
                writer.write_line(encode(end), count=False)
        finally:
            await writer.aclose()
        stats = client.stats
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    sys.stderr.write(
        f"asyncses: {summary} ({len(done)} done before); {stats.calls} calls, "
        f"{stats.throttles} throttles, {time.monotonic() - started:.1f} s\n"
    )
    if interrupted is not None:
        return exits.SIGNALS[interrupted]
    settled = {"applied", "already", "would-apply"}
    return exits.ERRORS if set(counts) - settled else exits.OK


def _open_outcomes(path: str, append: bool) -> NdjsonWriter:
    if path == "-":
        return NdjsonWriter(sys.stdout.buffer, name="<stdout>")
    try:
        stream = open(path, "ab" if append else "wb")  # noqa: SIM115  # the writer closes it
        if append:
            _drop_torn_line(stream)
    except OSError as exc:
        raise ReportWriteError(path, exc.strerror or str(exc)) from None
    return NdjsonWriter(stream, name=path, close=True, fsync=True)


def _drop_torn_line(stream: BinaryIO) -> None:
    """Cut a last line that a crash left without its end (an outcome half written: its
    change is read again on this resume, and found done if it was), so that what this run
    appends starts on a line of its own."""
    size = stream.seek(0, os.SEEK_END)
    with open(stream.name, "rb") as reader:
        end = size
        while end > 0:
            start = max(0, end - 65536)
            reader.seek(start)
            chunk = reader.read(end - start)
            if end == size and chunk.endswith(b"\n"):
                return
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                stream.truncate(start + cut + 1)
                return
            end = start
    stream.truncate(0)  # one line, and torn
