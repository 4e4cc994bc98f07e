"""A bounded worker pool: items from one or more sources, ``concurrency`` workers, one output.

Sources are async iterables (paginated listings), read concurrently, each by its own feeder
task, so work starts on the first page while later pages are still being fetched. Items pass
through a memory stream bounded by the concurrency, so a slow consumer slows the workers, the
workers slow the feeders, and memory stays flat however many items there are. Results go to
``output`` in completion order; ``output`` is closed when everything is done.

A worker function must not raise for an item it could not process: it returns a result that
says so (an error record). A source that fails stops only itself; the pool finishes the items
already listed, then raises the first such error.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["run_pool"]

T = TypeVar("T")
R = TypeVar("R")


async def run_pool(
    sources: Sequence[AsyncIterable[T]],
    work: Callable[[T], Awaitable[R]],
    output: MemoryObjectSendStream[R],
    *,
    concurrency: int,
) -> None:
    """Run ``work`` on every item of ``sources`` with at most ``concurrency`` at once."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    items_send, items_recv = anyio.create_memory_object_stream[T](concurrency)
    errors: list[BaseException] = []
    try:
        async with output, anyio.create_task_group() as tg:
            async with items_recv:
                for _ in range(concurrency):
                    tg.start_soon(_worker, items_recv.clone(), output.clone(), work)
            async with items_send, anyio.create_task_group() as feeders:
                for source in sources:
                    feeders.start_soon(_feed, source, items_send.clone(), errors)
    except BaseExceptionGroup as group:
        raise _first(group) from None
    if errors:
        raise errors[0]


async def _feed(
    source: AsyncIterable[T], items: MemoryObjectSendStream[T], errors: list[Any]
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
    work: Callable[[T], Awaitable[R]],
) -> None:
    async with items, output:
        async for item in items:
            result = await work(item)
            try:
                await output.send(result)
            except anyio.BrokenResourceError:
                return  # the consumer closed its end


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf of a (nested) exception group."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
