"""Report files: reading an existing report for ``--resume``, and writing one safely.

A plain run writes its report in place, whole lines only, flushed at least every second, so a
crash leaves at most a torn final line. A resumed run never edits the old report: it copies
the records worth keeping into a temporary file beside it, appends the new records there, and
renames it over the old one at the end (also when interrupted), so the report on disk is
always either the old one or the new one.

Nothing is opened, created or truncated before the first record arrives, so a run refused for
bad input or an unreachable endpoint leaves an existing report exactly as it was.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio
import orjson

from ._exceptions import ReportError, UsageError
from ._records import ItemKey, record_key
from ._report import NdjsonWriter, WriteResult

__all__ = ["ReportOutput", "ResumePlan", "iter_report", "plan_resume"]


def iter_report(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    """Yield ``(line number, raw line, record)`` for each record of an NDJSON report.

    A torn final line (no newline, not valid JSON: a crash mid-write) is skipped. Any other
    line that is not a JSON object raises :class:`ReportError` naming the line.
    """
    name = os.fspath(path)
    try:
        stream = open(name, "rb")  # noqa: SIM115  # closed below; a generator holds it
    except FileNotFoundError:
        raise ReportError(f"{name}: no such report") from None
    except OSError as exc:
        raise ReportError(f"{name}: cannot read the report: {exc.strerror}") from None
    with stream:
        number = 0
        for raw in stream:
            number += 1
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if not raw.endswith(b"\n") and not stream.read(1):
                    return  # a torn last line: the crash happened mid-write
                raise ReportError(f"{name}:{number}: not a JSON record") from None
            if not isinstance(record, dict):
                raise ReportError(f"{name}:{number}: not a JSON object")
            yield number, raw if raw.endswith(b"\n") else raw + b"\n", record


@dataclass
class ResumePlan:
    """What ``--resume`` keeps of an existing report, and which items it skips."""

    path: Path
    done: set[ItemKey] = field(default_factory=set)
    kept: int = 0
    retried: int = 0
    hits: int = 0
    record_type: str | None = None


def plan_resume(
    path: str | os.PathLike[str], record_type: str, fail_on: Collection[str] = ()
) -> ResumePlan:
    """Read a report to resume: every line must parse (but a torn last one), every record
    must be of ``record_type``. Records without an error are kept and their items skipped;
    ``hits`` counts the kept ones with a finding named in ``fail_on``."""
    plan = ResumePlan(Path(path), record_type=record_type)
    if not plan.path.exists():
        return plan
    for number, _raw, record in iter_report(path):
        try:
            key = record_key(record)
        except (KeyError, ValueError):
            raise ReportError(f"{path}:{number}: not an asyncses record") from None
        if key[0] != record_type:
            raise ReportError(
                f"{path}:{number}: a record of type {key[0]}; this run writes {record_type} records"
            )
        if record.get("error") is None:
            plan.done.add(key)
            plan.kept += 1
            if fail_on and set(fail_on).intersection(record.get("findings") or ()):
                plan.hits += 1
        else:
            plan.retried += 1
    return plan


def check_output_path(path: str) -> None:
    """Raise :class:`UsageError` if a report cannot be written at ``path``."""
    if path == "-":
        return
    if not path:
        raise UsageError("the output path is empty")
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"output {path!r} is a folder, not a file")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"output folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"output folder {str(folder)!r} is not writable")


class ReportOutput:
    """The report of one CLI run: standard output, a file, or a resumed file."""

    def __init__(self, path: str, *, resume: ResumePlan | None = None) -> None:
        self._path = path
        self._resume = resume
        self._writer: NdjsonWriter | None = None
        self._temp: str | None = None
        self._open_lock = anyio.Lock()
        self.new = WriteResult()

    @property
    def opened(self) -> bool:
        """True once the first record made the run open its output."""
        return self._writer is not None

    async def write(self, record: Mapping[str, Any]) -> None:
        """Write one record, opening the output on the first."""
        if self._writer is None:
            async with self._open_lock:  # several consumers (one per account) share the output
                if self._writer is None:
                    self._writer = await anyio.to_thread.run_sync(self._open)
        await self._writer.write(record)
        self.new.records += 1
        if record.get("error") is not None:
            self.new.errors += 1

    def _open(self) -> NdjsonWriter:
        if self._path == "-":
            return NdjsonWriter(sys.stdout.buffer)
        if self._resume is None:
            return NdjsonWriter(open(self._path, "wb"), close=True)
        target = Path(self._path)
        fd, self._temp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".resume", dir=target.parent
        )
        # mkstemp makes the file owner-only; the rewritten report keeps the old one's mode.
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        stream: IO[bytes] = os.fdopen(fd, "wb")
        writer = NdjsonWriter(stream, close=True, fsync=True)
        if target.exists():
            for _number, raw, record in iter_report(target):
                if record.get("error") is None:
                    writer.write_line(raw)
        return writer

    @property
    def result(self) -> WriteResult:
        """Every record in the report as it stands (kept ones included)."""
        return self._writer.result if self._writer is not None else WriteResult()

    async def close(self, *, complete: bool = True) -> None:
        """Flush and close. ``complete=False`` for a run that ended without a record."""
        with anyio.CancelScope(shield=True):
            if self._writer is None:
                if complete and self._path != "-" and self._resume is None:
                    # An empty audit still leaves an (empty) report.
                    await anyio.to_thread.run_sync(Path(self._path).write_bytes, b"")
                return
            await self._writer.aclose()
            if self._temp is not None:
                await anyio.to_thread.run_sync(os.replace, self._temp, self._path)
                self._temp = None
