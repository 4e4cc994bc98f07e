"""The NDJSON sink: one JSON object per line, written as records arrive.

Encoding is orjson; lines collect in a buffer that is written out, whole lines only, from a
worker thread (so a slow disk never stalls the event loop) whenever it holds ``flush_bytes``
or ``flush_interval`` seconds have passed. Closing always flushes, even when cancelled.
A failed write (disk full, I/O error) raises :class:`~asyncses.engine.errors.ReportWriteError`
naming the file; a closed pipe raises ``BrokenPipeError`` as it is.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import AsyncIterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

import anyio
import orjson

from .errors import ReportWriteError

__all__ = ["NdjsonWriter", "WriteResult", "write_ndjson"]

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


@dataclass
class WriteResult:
    """What a report holds once written: ``records`` lines, ``errors`` of them error records."""

    records: int = 0
    errors: int = 0


def encode(record: Mapping[str, Any]) -> bytes:
    """One record as one NDJSON line (with its newline)."""
    return orjson.dumps(record, option=_OPTIONS)


class NdjsonWriter:
    """Write records to a binary stream as NDJSON; use as an async context manager.

    With ``close``, closing the writer closes the stream (after ``os.fsync`` with ``fsync``).
    """

    def __init__(
        self,
        stream: IO[bytes],
        *,
        name: str = "<stream>",
        close: bool = False,
        fsync: bool = False,
        flush_bytes: int = 256 * 1024,
        flush_interval: float = 1.0,
    ) -> None:
        self._stream = stream
        self.name = name
        self._close = close
        self._fsync = fsync
        self._flush_bytes = flush_bytes
        self._flush_interval = flush_interval
        self._buffer = bytearray()
        self._last_flush = time.monotonic()
        self._lock = anyio.Lock()
        self.result = WriteResult()

    async def __aenter__(self) -> NdjsonWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def write(self, record: Mapping[str, Any]) -> None:
        """Queue one record; write the buffer out when it is due."""
        self.write_line(encode(record), error=record.get("error") is not None)
        if (
            len(self._buffer) >= self._flush_bytes
            or time.monotonic() - self._last_flush >= self._flush_interval
        ):
            await self.flush()

    def write_line(self, line: bytes, *, error: bool = False, count: bool = True) -> None:
        """Queue one already encoded line (ending in a newline) without flushing; ``count``
        it as a record (or not: a header line, say)."""
        self._buffer += line
        if count:
            self.result.records += 1
            if error:
                self.result.errors += 1

    async def flush_every(self, seconds: float | None = None) -> None:
        """Flush whatever waits at least every ``seconds`` (``flush_interval`` by default),
        until cancelled: run it beside the writing task, so that a record is on disk within
        a second even when the next one is long in coming."""
        interval = self._flush_interval if seconds is None else seconds
        while True:
            await anyio.sleep(interval)
            if self._buffer and time.monotonic() - self._last_flush >= interval:
                await self.flush()

    async def flush(self) -> None:
        """Write out what is buffered, from a worker thread, shielded from cancellation.

        One write at a time, of everything buffered when its turn comes, so lines leave in
        the order they came and a slow disk gets fewer, larger writes (not one per line);
        the next flush falls due ``flush_interval`` after this one has finished."""
        with anyio.CancelScope(shield=True):
            async with self._lock:
                if self._buffer:
                    data = bytes(self._buffer)
                    self._buffer.clear()
                    await anyio.to_thread.run_sync(self._write_out, data)
                self._last_flush = time.monotonic()

    def _write_out(self, data: bytes) -> None:
        with self._translated():
            self._stream.write(data)
            self._stream.flush()

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise ReportWriteError(self.name, exc.strerror or str(exc)) from None

    async def sync(self) -> None:
        """Flush everything and, for a writer that syncs (``fsync=True``), make it durable, keeping
        the stream open (a caller may rename the file before letting go of it)."""
        await self.flush()
        if self._fsync:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._sync)

    def _sync(self) -> None:
        with self._translated():
            os.fsync(self._stream.fileno())

    async def aclose(self) -> None:
        """Flush everything, then close the stream if this writer owns it."""
        try:
            await self.flush()
        finally:
            if self._close:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._finish)

    def _finish(self) -> None:
        try:
            with self._translated():
                if self._fsync:  # on disk before anyone renames it into place
                    os.fsync(self._stream.fileno())
        finally:
            with self._translated():
                self._stream.close()


async def write_ndjson(
    records: AsyncIterable[Mapping[str, Any]],
    target: str | os.PathLike[str] | IO[bytes],
) -> WriteResult:
    """Write every record of ``records`` to ``target`` as NDJSON and return the counts.

    ``target`` is a path (``"-"`` for standard output) or an open binary stream, which is left
    open. Lines already written stay written if the iteration fails or is cancelled.
    """
    if isinstance(target, (str, os.PathLike)):
        name = os.fspath(target)
        if name == "-":
            writer = NdjsonWriter(sys.stdout.buffer, name="<stdout>")
        else:
            try:
                stream = await anyio.to_thread.run_sync(open, name, "wb")
            except OSError as exc:
                raise ReportWriteError(name, exc.strerror or str(exc)) from None
            writer = NdjsonWriter(stream, name=name, close=True)
    else:
        writer = NdjsonWriter(target)
    async with writer:
        async for record in records:
            await writer.write(record)
    return writer.result
