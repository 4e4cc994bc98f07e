"""Lookups on the other cores: child processes that each run a share of a pool's workers.

Building, signing and parsing an AWS request costs close to a millisecond of CPU in botocore,
so one event loop tops out near a thousand lookups a second, whatever the concurrency. Past a
threshold of listed items, a run starts child processes (``python -m asyncses._worker``): the
parent keeps the listing, the output and its own share of the workers; each child runs the
same lookup function on the items the parent sends it (``asyncses._worker``) and sends the
records back.

The protocol is NDJSON over the child's stdin and stdout: a first line with the child's
settings, then ``[id, item]`` lines in and ``[id, record]`` lines out, and a last
``["stats", {...}]`` line when the child's stdin closes. A child that dies is no loss: the
items it held are looked up again by the parent.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import orjson
from anyio.abc import Process, TaskGroup
from anyio.streams.buffered import BufferedByteReceiveStream

from ._log import get_logger
from ._pool import Workers

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["MAX_LINE", "SHARD_THRESHOLD", "STATS", "ShardSet"]

#: Children start once a run has listed this many items (smaller runs stay in one process).
SHARD_THRESHOLD = 1000

#: The longest line either side sends (one record).
MAX_LINE = 64 * 1024 * 1024
#: The first member of the child's last line, which carries its counters.
STATS = "stats"

Lookup = Callable[[Any], Awaitable[Any]]


class ShardGone(Exception):
    """The child process ended before it answered."""


class _Pending:
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: Any = None
        self.error = False


class _Shard:
    """One child process and the items it has not answered yet."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._settings = settings
        self._process: Process | None = None
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._alive = False
        self._reader_done = anyio.Event()
        self.stats: dict[str, int] = {}

    async def start(self, task_group: TaskGroup) -> None:
        self._process = await anyio.open_process(
            [sys.executable, "-m", "asyncses._worker"],
            stdin=-1,  # subprocess.PIPE
            stdout=-1,
            stderr=None,
        )
        assert self._process.stdin is not None
        await self._process.stdin.send(orjson.dumps(self._settings) + b"\n")
        self._alive = True
        task_group.start_soon(self._read)

    @property
    def alive(self) -> bool:
        """True while the child runs and answers."""
        return self._alive

    async def submit(self, item: Any) -> Any:
        if not self._alive or self._process is None or self._process.stdin is None:
            raise ShardGone
        ident = self._next_id
        self._next_id += 1
        pending = self._pending[ident] = _Pending()
        try:
            await self._process.stdin.send(orjson.dumps([ident, item]) + b"\n")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self._pending.pop(ident, None)
            self._alive = False
            raise ShardGone from None
        await pending.done.wait()
        if pending.error:
            raise ShardGone
        return pending.result

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        lines = BufferedByteReceiveStream(self._process.stdout)
        try:
            while True:
                line = await lines.receive_until(b"\n", MAX_LINE)
                ident, payload = orjson.loads(line)
                if ident == STATS:
                    self.stats = payload
                    continue
                pending = self._pending.pop(ident, None)
                if pending is not None:
                    pending.result = payload
                    pending.done.set()
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError):
            pass
        finally:
            self._alive = False
            self._reader_done.set()
            for pending in self._pending.values():
                pending.error = True
                pending.done.set()
            self._pending.clear()

    async def close(self, *, graceful: bool) -> None:
        process = self._process
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            if graceful and process.stdin is not None:
                with contextlib.suppress(anyio.BrokenResourceError, OSError):
                    await process.stdin.aclose()  # EOF: the child finishes and exits
                with anyio.move_on_after(10):
                    await process.wait()
                    await self._reader_done.wait()  # its last line holds its counters
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()


class ShardSet:
    """The child processes of one run.

    They start when the run starts (a child needs most of a second to import botocore, time
    the parent spends listing and looking up on its own) but take work only once the run has
    listed ``threshold`` items; a smaller run kills them unused. Use as an async context
    manager around the pool; :meth:`workers` gives the worker groups that feed the children
    (each falls back to ``fallback`` if its child is gone).
    """

    def __init__(
        self,
        client: Client,
        kind: str,
        options: Mapping[str, Any],
        *,
        children: int,
        per_child: int,
        threshold: int | None = None,
    ) -> None:
        self._client = client
        self._threshold = SHARD_THRESHOLD if threshold is None else threshold
        self._per_child = per_child
        settings = {
            "kind": kind,
            "options": dict(options),
            "account": client.account,
            "client": client.shard_settings(per_child),
        }
        self._shards = [_Shard(settings) for _ in range(children)]
        # The client's counters add up over its runs: this run's are the growth from here.
        self._listed_before = client.stats.listed
        self._listings_before = client.stats.listings
        self._tg: TaskGroup | None = None
        self.running = False  # True once children take work: stand-in workers then retire

    async def __aenter__(self) -> ShardSet:
        self._tg = await anyio.create_task_group().__aenter__()
        # Shielded: a cancellation in the middle would leave the task group open and a child
        # running with nobody to stop it; starting is quick, and the body sees the cancel.
        with anyio.CancelScope(shield=True):
            for shard in self._shards:
                try:
                    await shard.start(self._tg)
                except OSError as exc:
                    get_logger().warning("could not start a lookup process", error=str(exc))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        for shard in self._shards:
            # Children that worked finish and report; unused or aborted ones are killed.
            await shard.close(graceful=exc_type is None and self.running)
            for name, value in shard.stats.items():
                if isinstance(value, int) and hasattr(self._client.stats, name):
                    setattr(self._client.stats, name, getattr(self._client.stats, name) + value)
        # The readers end with their processes; the body's own exception (if any) goes on as
        # it is, not wrapped in an exception group.
        await self._tg.__aexit__(None, None, None)
        return None

    def workers(self, fallback: Lookup) -> list[Workers[Any, Any]]:
        """One worker group per child; its workers wait until the run is large enough."""
        groups: list[Workers[Any, Any]] = []
        for shard in self._shards:

            async def work(item: Any, shard: _Shard = shard) -> Any:
                try:
                    return await shard.submit(item)
                except ShardGone:
                    return await fallback(item)

            async def ready(shard: _Shard = shard) -> bool:
                return await self._large_enough() and shard.alive

            groups.append(Workers(work, self._per_child, ready))
        return groups

    async def _large_enough(self) -> bool:
        stats = self._client.stats
        while stats.listed - self._listed_before < self._threshold:
            if stats.listings > self._listings_before and stats.listings_open == 0:
                return False  # a small run, listed in full: one process is enough
            await anyio.sleep(0.05)
        if not self.running and any(shard.alive for shard in self._shards):
            self.running = True
            self._client.stats.processes += sum(shard.alive for shard in self._shards)
        return True
