"""Bounded concurrency on anyio task groups and memory streams.

:func:`run_pool` runs ``workers`` tasks on the items of one async source (a paginated
listing). A feeder task reads the source and hands items over through a memory stream
bounded by the number of workers, so work starts on the first page while later pages are
still being fetched, a slow consumer slows the workers, the workers slow the feeder, and
memory stays flat however many items there are. Results go to ``output`` in completion
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
from typing import Any, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["first_error", "run_each", "run_pool"]

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
    items_send, items_recv = anyio.create_memory_object_stream[T](workers)
    errors: list[BaseException] = []
    try:
        async with output, anyio.create_task_group() as tg:
            async with items_recv:
                for _ in range(workers):
                    tg.start_soon(_worker, items_recv.clone(), output.clone(), work)
            await _feed(source, items_send, errors)
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    if errors:
        raise errors[0]


async def _feed(
    source: AsyncIterable[T], items: MemoryObjectSendStream[T], errors: list[BaseException]
) -> None:
    async with items:
        try:
            if hasattr(source, "aclose"):
                async with aclosing(source):  # type: ignore[type-var]  # checked just above
                    async for item in source:
                        await items.send(item)
            else:
                async for item in source:
                    await items.send(item)
        except anyio.BrokenResourceError:
            return  # the workers are gone: nobody wants more items
        except Exception as exc:
            errors.append(exc)


async def _worker(
    items: MemoryObjectReceiveStream[T],
    output: MemoryObjectSendStream[R],
    work: Callable[[T], Awaitable[Iterable[R]] | AsyncGenerator[R, None]],
) -> None:
    async with items, output:
        async for item in items:
            results = work(item)
            try:
                if isinstance(results, AsyncGenerator):
                    async with aclosing(results):
                        async for result in results:
                            await output.send(result)
                else:
                    for result in await results:
                        await output.send(result)
            except anyio.BrokenResourceError:
                return  # the consumer closed its end


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
