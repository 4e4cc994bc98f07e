"""Report files: the run header, reading reports, resuming them, and writing them safely.

A report is NDJSON: a first line ``{"type":"run",...}`` saying what run made it (record type,
options, accounts, regions, endpoint), one line per record, and a last line
``{"type":"run_end","records":N,"errors":E}`` once the run finished. Readers skip both
(:func:`read_report`); a report without its last line was cut short.

Writing a file never touches the report at its final path until the run is over: records
go to ``.NAME.partial`` beside it (whole lines, flushed at least every second), which is
renamed over ``NAME`` (after ``fsync``) when the run finishes. An interrupted run leaves the
report as it was and keeps the partial file, which ``--resume`` continues; a run that cannot
write (disk full, I/O error) removes the partial file and raises
:class:`~asyncses.engine.errors.ReportWriteError`; a ``kill -9`` leaves the partial file,
which the next ``--resume`` continues and the next plain run replaces.

``--resume`` keeps the records fetched without error (from the partial file of an
interrupted run, or else from the report itself), leaves those items out of the run, and at
the end writes the report anew: the run header, the kept records of the items the run still
listed, then the new records. It refuses a report made by another kind of run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Final

import anyio
import orjson

from .._version import __version__
from ..engine.errors import ReportError, ReportWriteError, UsageError
from ..engine.sink import NdjsonWriter, WriteResult, encode
from .findings import DomainDkim, domain_dkim
from .records import (
    ACCOUNT,
    EMAIL_IDENTITY,
    LISTING,
    EmailIdentityRecord,
    ItemKey,
    answer,
    item_key,
    record_key,
)
from .runner import Resume

__all__ = [
    "RUN",
    "RUN_END",
    "ReportOutput",
    "ReportReader",
    "RunHeader",
    "check_output_path",
    "plan_resume",
    "read_report",
]

RUN: Final = "run"
RUN_END: Final = "run_end"
#: Members of the run header that must match for ``--resume``.
MATCHED: Final = ("record_type", "options", "accounts", "profiles", "regions", "endpoint", "shard")


@dataclass(frozen=True)
class RunHeader:
    """What run made a report: the first line of every report asyncses writes."""

    record_type: str
    options: Mapping[str, Any] = field(default_factory=dict)
    accounts: tuple[str, ...] | None = None
    profiles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    endpoint: str | None = None
    shard: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The header line's object."""
        return {
            "type": RUN,
            "asyncses": __version__,
            "record_type": self.record_type,
            "options": dict(self.options),
            "accounts": list(self.accounts) if self.accounts is not None else None,
            "profiles": list(self.profiles),
            "regions": list(self.regions),
            "endpoint": self.endpoint,
            "shard": self.shard,
            "started": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        }

    def difference(self, other: Mapping[str, Any]) -> str | None:
        """How a report's header ``other`` differs from this run, or ``None``."""
        mine = self.to_json()
        for name in MATCHED:
            theirs = other.get(name)
            if name in ("accounts", "profiles", "regions") and isinstance(theirs, list):
                same = sorted(map(str, theirs)) == sorted(map(str, mine[name] or []))
                if mine[name] is None:
                    same = theirs is None
            else:
                same = theirs == mine[name]
            if not same:
                return f"{name} {_show(theirs)} in the report, {_show(mine[name])} in this run"
        return None


def _show(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "none"
    return orjson.dumps(value).decode()


# -- reading -------------------------------------------------------------------------------


class ReportReader:
    """The records of an NDJSON report (a path, or ``-`` for standard input), one pass.

    Iterating yields ``(line number, raw line, record)`` for every record; the run header
    and end lines are kept in :attr:`header` and :attr:`end`, not yielded. A torn last line
    (a crash mid-write) is skipped and noted in :attr:`torn`; any other line that is not a
    JSON object raises :class:`~asyncses.engine.errors.ReportError` naming the line.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.name = os.fspath(path)
        self.header: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None
        self.torn = False
        self.records = 0

    def __iter__(self) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
        if self.name == "-":
            yield from self._lines(sys.stdin.buffer, "<stdin>")
            return
        try:
            stream = open(self.name, "rb")  # noqa: SIM115  # closed below; a generator holds it
        except FileNotFoundError:
            raise ReportError(f"{self.name}: no such report") from None
        except IsADirectoryError:
            raise ReportError(f"{self.name}: is a folder, not a report") from None
        except OSError as exc:
            raise ReportError(f"{self.name}: cannot read the report: {exc.strerror}") from None
        with stream:
            yield from self._lines(stream, self.name)

    def _lines(self, stream: IO[bytes], name: str) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
        number = 0
        for raw in stream:
            number += 1
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if not raw.endswith(b"\n") and not stream.read(1):
                    self.torn = True  # a torn last line: the crash happened mid-write
                    return
                raise ReportError(f"{name}:{number}: not a JSON record") from None
            if not isinstance(record, dict):
                raise ReportError(f"{name}:{number}: not a JSON object")
            kind = record.get("type")
            if kind == RUN:
                if self.header is None:
                    self.header = record
                continue
            if kind == RUN_END:
                self.end = record
                continue
            self.records += 1
            yield number, raw if raw.endswith(b"\n") else raw + b"\n", record

    @property
    def complete(self) -> bool:
        """True when the report ends as a finished run's does (or predates run headers)."""
        return not self.torn and (self.header is None or self.end is not None)


def read_report(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every record of a report (header and end lines left out)."""
    for _number, _raw, record in ReportReader(path):
        yield record


# -- resuming ------------------------------------------------------------------------------


@dataclass
class ResumePlan:
    """What ``--resume`` keeps, and where it came from."""

    path: Path
    source: Path | None = None  # the file the kept records are read from
    partial: bool = False  # the source is an interrupted run's partial file
    resume: Resume = field(default_factory=Resume)
    kept: int = 0
    retried: int = 0
    hits: int = 0

    @property
    def done(self) -> set[ItemKey]:
        """Keys of the items already fetched."""
        skip = self.resume.skip
        assert isinstance(skip, set)
        return skip


def partial_path(path: Path) -> Path:
    """The partial file of a report being written."""
    return path.with_name(f".{path.name}.partial")


def plan_resume(
    path: str | os.PathLike[str], header: RunHeader, fail_on: frozenset[str] = frozenset()
) -> ResumePlan:
    """Read what ``--resume`` can keep: the partial file of an interrupted run if there is
    one, else the report. Refuses (:class:`UsageError`) a report of another kind of run."""
    plan = ResumePlan(Path(path))
    plan.resume.skip = set()
    partial = partial_path(plan.path)
    if partial.exists():
        plan.source, plan.partial = partial, True
    elif plan.path.exists():
        plan.source = plan.path
    else:
        return plan
    reader = ReportReader(plan.source)
    dkim: dict[tuple[str | None, str], dict[str, DomainDkim]] = {}
    for number, _raw, record in reader:
        if reader.header is None:
            raise UsageError(
                f"cannot resume {plan.path}: it has no run header (written by asyncses "
                "before 0.2, or not by asyncses); run without --resume"
            )
        try:
            key = record_key(record)
        except (KeyError, ValueError):
            raise ReportError(f"{plan.source}:{number}: not an asyncses record") from None
        if record.get("error") is not None or key[0] in (ACCOUNT, LISTING):
            plan.retried += 1
            continue
        plan.done.add(key)
        plan.kept += 1
        if fail_on and fail_on.intersection(record.get("findings") or ()):
            plan.hits += 1
        if key[0] == EMAIL_IDENTITY and record.get("IdentityType") == "DOMAIN":
            standing = domain_dkim(answer(EmailIdentityRecord, record))
            dkim.setdefault((key[1], key[2]), {})[standing.domain] = standing
    if reader.header is None:
        if plan.kept or plan.retried:
            raise UsageError(f"cannot resume {plan.path}: it has no run header")
        return plan  # an empty file: nothing to keep
    difference = header.difference(reader.header)
    if difference is not None:
        raise UsageError(f"cannot resume {plan.path}: made by another kind of run ({difference})")
    plan.resume.dkim = dkim
    return plan


# -- writing -------------------------------------------------------------------------------


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
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"output {path!r} is not writable")


class ReportOutput:
    """The report of one command-line run: standard output, or a file written safely.

    :meth:`open` (before the run: takes the lock, writes the header), :meth:`write` per
    record, then :meth:`finish` (the run is over: the report takes its place) or
    :meth:`abandon` (interrupted: the report stays as it was; the partial file stays for
    ``--resume``, or goes with ``discard``).
    """

    def __init__(self, path: str, header: RunHeader, *, plan: ResumePlan | None = None) -> None:
        self.path = path
        self.header = header
        self.plan = plan
        self.new = WriteResult()
        self._writer: NdjsonWriter | None = None
        self._appended_from = 0  # where this run's records start in a continued partial
        # Written directly (standard output, a device), the header and the units' error
        # records wait for the first item: a run that turns out to be a configuration error
        # (every unit refused the credentials, an endpoint that is not SES) writes nothing.
        self._held: list[tuple[bytes, bool]] | None = None

    @property
    def target(self) -> Path:
        return Path(self.path)

    @property
    def partial(self) -> Path:
        return partial_path(self.target)

    async def open(self) -> None:
        """Start the partial file (or continue an interrupted run's), holding its lock."""
        await anyio.to_thread.run_sync(self._open)

    @property
    def direct(self) -> bool:
        """True for standard output and special files (a device, a pipe): written as the
        records come, with nothing to rename (and no device to replace)."""
        if self.path == "-":
            return True
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            return False
        return not stat.S_ISREG(mode)

    def _open(self) -> None:
        if self.path == "-":
            self._writer = NdjsonWriter(sys.stdout.buffer, name="<stdout>")
            self._held = [(encode(self.header.to_json()), False)]
            return
        if self.direct:
            if self.plan is not None:
                raise UsageError(f"cannot resume {self.path}: not a regular file")
            try:
                device = open(self.path, "wb")  # noqa: SIM115  # the writer closes it
            except OSError as exc:
                raise ReportWriteError(self.path, exc.strerror or str(exc)) from None
            self._writer = NdjsonWriter(device, name=self.path, close=True)
            self._held = [(encode(self.header.to_json()), False)]
            return
        continuing = self.plan is not None and self.plan.partial
        try:
            stream = _locked_file(self.partial, like=self.target, keep=continuing)
        except BlockingIOError:
            raise UsageError(f"another run is writing {self.path}") from None
        except OSError as exc:
            raise ReportWriteError(str(self.partial), exc.strerror or str(exc)) from None
        # A run killed while writing a resumed report anew left this; the partial file it
        # read is still there (this run continues it, or replaces it).
        with contextlib.suppress(FileNotFoundError):
            self._compact_path.unlink()
        self._appended_from = stream.tell()
        self._writer = NdjsonWriter(stream, name=self.path, close=True, fsync=True)
        if not continuing:
            self._writer.write_line(encode(self.header.to_json()), count=False)

    async def flush_every_second(self) -> None:
        """Keep flushing while the run lasts (run it in the run's task group)."""
        assert self._writer is not None, "open() first"
        await self._writer.flush_every(1.0)

    async def write(self, record: Mapping[str, Any]) -> None:
        """Write one record."""
        assert self._writer is not None, "open() first"
        self.new.records += 1
        if record.get("error") is not None:
            self.new.errors += 1
        if self._held is not None:
            if record.get("type") == ACCOUNT:
                self._held.append((encode(record), True))
                return
            self._release(self._writer)
        await self._writer.write(record)

    def _release(self, writer: NdjsonWriter) -> None:
        """Hand what was held back to the writer."""
        held, self._held = self._held or [], None
        for line, counted in held:
            writer.write_line(line, error=counted, count=counted)

    async def finish(self, stats: Mapping[str, Any] | None = None) -> WriteResult:
        """The run is over: close, and put the report in place. Returns what it holds.
        ``stats`` (calls, retries, throttles) go into the end line."""
        writer, self._writer = self._writer, None
        assert writer is not None, "open() first"
        end = {"type": RUN_END, "records": self.new.records, "errors": self.new.errors}
        end.update(stats or {})
        result = self.new
        with anyio.CancelScope(shield=True):
            if self.direct:
                self._release(writer)
                writer.write_line(encode(end), count=False)
                await writer.aclose()
                return result
            try:
                # The partial file's lock is held until it has taken its place: another run
                # must not take (and empty) it in between.
                if self.plan is not None and self.plan.source is not None:
                    await writer.sync()
                    result = await anyio.to_thread.run_sync(self._compact)
                else:
                    writer.write_line(encode(end), count=False)
                    await writer.sync()
                    await anyio.to_thread.run_sync(os.replace, self.partial, self.target)
            except BaseException:
                if not self._continued:
                    await anyio.to_thread.run_sync(self._discard)
                raise
            finally:
                await writer.aclose()
        return result

    async def abandon(self, *, discard: bool = False) -> None:
        """The run stopped early: leave the report as it was. The partial file stays for
        ``--resume`` unless ``discard`` (and it was not an interrupted run's to begin with:
        that one stays, whatever happens)."""
        writer, self._writer = self._writer, None
        if writer is not None and not discard:
            self._release(writer)  # what was fetched is kept
        self._held = None
        with anyio.CancelScope(shield=True):
            try:
                if writer is not None:
                    try:
                        await writer.aclose()
                    except ReportWriteError:
                        discard = True
                        raise
            finally:
                if discard and not self.direct and not self._continued:
                    await anyio.to_thread.run_sync(self._discard)

    @property
    def _compact_path(self) -> Path:
        return self.target.with_name(f".{self.target.name}.compact")

    @property
    def _continued(self) -> bool:
        """True when this run continues an interrupted run's partial file, whose records a
        later ``--resume`` still wants if this one fails too."""
        return self.plan is not None and self.plan.partial

    def _discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.partial.unlink()

    def _compact(self) -> WriteResult:
        """Write the resumed report anew: header, kept records, new records; then rename."""
        plan = self.plan
        assert plan is not None and plan.source is not None
        resume = plan.resume
        temp = self._compact_path
        result = WriteResult()
        try:
            with _new_file(temp, like=self.target) as out:
                out.write(encode(self.header.to_json()))
                seen: set[ItemKey] = set()
                # Records of the earlier run first: kept if fetched without error and still
                # listed (or their unit's listing did not finish: nothing says they are gone).
                if plan.partial:
                    old = _lines(self.partial, 0, self._appended_from)
                    new = _lines(self.partial, self._appended_from, None)
                else:
                    old = _lines(plan.source, 0, None)
                    new = _lines(self.partial, 0, None)
                for raw, record in old:
                    key = record_key(record)
                    if key not in resume.skip or key in seen:
                        continue
                    item = item_key(record)
                    if item not in resume.seen and (key[1], key[2]) in resume.listed:
                        continue  # gone since: not listed any more
                    seen.add(key)
                    out.write(raw)
                    result.records += 1
                # Then this run's records.
                for raw, record in new:
                    key = record_key(record)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.write(raw)
                    result.records += 1
                    result.errors += record.get("error") is not None
                end = {"type": RUN_END, "records": result.records, "errors": result.errors}
                out.write(encode(end))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.target)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise ReportWriteError(self.path, exc.strerror or str(exc)) from None
        self._discard()
        return result


def _lines(path: Path, start: int, stop: int | None) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """The records on the whole lines of ``path`` between byte offsets ``start`` and
    ``stop`` (run header and end lines, and a torn last line, left out)."""
    with open(path, "rb") as stream:
        stream.seek(start)
        position = start
        for raw in stream:
            position += len(raw)
            if stop is not None and position > stop:
                return
            if not raw.endswith(b"\n") or not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("type") not in (RUN, RUN_END):
                yield raw, record


def _mode(like: Path) -> int:
    """The mode of ``like`` if it exists, else the usual mode for new files."""
    try:
        return stat.S_IMODE(os.stat(like).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _new_file(path: Path, *, like: Path) -> BinaryIO:
    """A new file at ``path`` (truncated if it exists), with the mode of ``like``."""
    mode = _mode(like)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    return os.fdopen(fd, "wb")


def _locked_file(path: Path, *, like: Path, keep: bool) -> BinaryIO:
    """The partial file at ``path``, locked against other runs (``BlockingIOError`` if one
    holds it), then emptied, or with ``keep`` cut after its last whole line (a torn line,
    from a crash mid-write, goes) and positioned to append."""
    mode = _mode(like)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        stream = os.fdopen(fd, "r+b")
    except BaseException:
        os.close(fd)
        raise
    if not keep:
        os.fchmod(fd, mode)
        stream.truncate(0)
        return stream
    return _after_last_line(stream)


def _after_last_line(stream: BinaryIO) -> BinaryIO:
    """``stream`` positioned to append a line: a last line that lacks only its newline is
    kept (as readers keep it), one cut short (a crash mid-write) is cut off."""
    data_end = stream.seek(0, os.SEEK_END)
    # Find the last newline; everything after it is a torn line.
    position = data_end
    chunk = 4096
    last_newline = -1
    while position > 0 and last_newline < 0:
        start = max(0, position - chunk)
        stream.seek(start)
        block = stream.read(position - start)
        index = block.rfind(b"\n")
        if index >= 0:
            last_newline = start + index
        position = start
    keep = last_newline + 1
    if keep != data_end:
        stream.seek(keep)
        tail = stream.read()
        try:
            whole = isinstance(orjson.loads(tail), dict)
        except orjson.JSONDecodeError:
            whole = False
        if whole:
            stream.seek(data_end)
            stream.write(b"\n")
            return stream
        stream.truncate(keep)
    stream.seek(keep)
    return stream
