"""Bounded concurrency on anyio task groups and memory streams.

:func:`run_pool` runs ``workers`` tasks on the items of one async source (a paginated
listing). The workers take its items in turn (a worker that finds a page used up fetches
the next one while the others work on theirs), so work starts on the first page, a slow
consumer slows the workers, the workers slow the listing, and memory stays flat however
many items there are. Results go to ``output`` in completion
order; ``output`` is closed when everything is done.

:func:`run_each` runs a coroutine per job (one per account and region, say), at most
``limit`` at a time, each in its own task.

A worker function must not raise for an item it could not process: it returns a result
that says so (an error record). A source that fails stops only itself: the pool finishes
the items already listed, then raises that error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any, Generic, TypeVar, cast

import anyio
from anyio.streams.memory import MemoryObjectSendStream

__all__ = ["first_error", "run_each", "run_pool", "send"]

T = TypeVar("T")
R = TypeVar("R")


async def run_pool(
    source: AsyncIterable[T],
    work: Callable[[T], Awaitable[Iterable[R]] | AsyncGenerator[R, None]],
    workers: int,
    output: MemoryObjectSendStream[R],
) -> None:
    """Run ``work`` on every item of ``source`` with ``workers`` tasks; send every result it
    gives (none, one or several per item: a list, or an async iterator for many) to
    ``output`` (closed at the end)."""
    if workers < 1:
        raise ValueError("the pool needs at least one worker")
    feed = _Feed(source)
    try:
        async with output, anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(_worker, feed, output.clone(), work)
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    finally:
        await feed.aclose()
    if feed.error is not None:
        raise feed.error


class _Feed(Generic[T]):
    """The source, shared by the workers: each takes the next item in turn (one listing
    call at a time, items in order). A source that fails ends the feed; the error waits
    until the items already taken are done."""

    def __init__(self, source: AsyncIterable[T]) -> None:
        self._items = aiter(source)
        self._lock = anyio.Lock(fast_acquire=True)
        self._done = False
        self.error: Exception | None = None

    async def next(self) -> tuple[bool, T | None]:
        """``(True, item)``, or ``(False, None)`` once the feed has ended."""
        async with self._lock:
            if self._done:
                return False, None
            try:
                return True, await anext(self._items)
            except StopAsyncIteration:
                self._done = True
            except Exception as exc:
                self._done = True
                self.error = exc
            return False, None

    def stop(self) -> None:
        """Nobody wants more items (the consumer has gone)."""
        self._done = True

    async def aclose(self) -> None:
        closer = getattr(self._items, "aclose", None)
        if closer is not None:
            with anyio.CancelScope(shield=True):
                await closer()


async def _worker(
    feed: _Feed[T],
    output: MemoryObjectSendStream[R],
    work: Callable[[T], Awaitable[Iterable[R]] | AsyncGenerator[R, None]],
) -> None:
    async with output:
        while True:
            more, item = await feed.next()
            if not more:
                return
            results = work(cast(T, item))
            try:
                if isinstance(results, AsyncGenerator):
                    async with aclosing(results):
                        async for result in results:
                            await send(output, result)
                else:
                    for result in await results:
                        await send(output, result)
            except anyio.BrokenResourceError:
                feed.stop()
                return  # the consumer closed its end


async def send(stream: MemoryObjectSendStream[R], item: R) -> None:
    """``await stream.send(item)``, without its yield to the event loop when the buffer has
    room: a record per request would otherwise cost a loop iteration on each side. The
    worker yields at its next request anyway."""
    try:
        stream.send_nowait(item)
    except anyio.WouldBlock:
        await stream.send(item)


async def run_each(jobs: Iterable[T], run: Callable[[T], Awaitable[Any]], *, limit: int) -> None:
    """Run ``run(job)`` for every job, at most ``limit`` at a time; the first error that
    escapes a job cancels the others and is raised (unwrapped from its task group)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    slots = anyio.Semaphore(limit)

    async def one(job: T) -> None:
        try:
            await run(job)
        finally:
            slots.release()

    try:
        async with anyio.create_task_group() as tg:
            for job in jobs:
                await slots.acquire()
                tg.start_soon(one, job)
    except BaseExceptionGroup as group:
        raise first_error(group) from None


def first_error(group: BaseException) -> BaseException:
    """The first leaf of a (nested) exception group; any other exception itself."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
