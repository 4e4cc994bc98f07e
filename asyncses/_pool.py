"""A bounded worker pool: items from one or more sources, groups of workers, one output.

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
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["Workers", "first_error", "run_pool"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Workers(Generic[T, R]):
    """``count`` workers that run ``work`` on items.

    With ``ready``, each worker first awaits it and stands down without taking an item if it
    returns False (workers that only join a large run, for example). With ``retire``, a
    worker stops taking items once it returns True (workers that stand in until others come).
    """

    work: Callable[[T], Awaitable[R]]
    count: int
    ready: Callable[[], Awaitable[bool]] | None = None
    retire: Callable[[], bool] | None = None


async def run_pool(
    sources: Sequence[AsyncIterable[T]],
    workers: Sequence[Workers[T, R]],
    output: MemoryObjectSendStream[R],
) -> None:
    """Run the ``workers`` on every item of ``sources``; send each result to ``output``."""
    total = sum(group.count for group in workers)
    if total < 1 or any(group.count < 0 for group in workers):
        raise ValueError("the pool needs at least one worker")
    items_send, items_recv = anyio.create_memory_object_stream[T](total)
    errors: list[BaseException] = []
    try:
        async with output, anyio.create_task_group() as tg:
            async with items_recv:
                for group in workers:
                    for _ in range(group.count):
                        tg.start_soon(_worker, items_recv.clone(), output.clone(), group)
            async with items_send, anyio.create_task_group() as feeders:
                for source in sources:
                    feeders.start_soon(_feed, source, items_send.clone(), errors)
    except BaseExceptionGroup as group:
        raise first_error(group) from None
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
    items: MemoryObjectReceiveStream[T], output: MemoryObjectSendStream[R], group: Workers[T, R]
) -> None:
    async with items, output:
        if group.ready is not None and not await group.ready():
            return
        work, retire = group.work, group.retire
        while retire is None or not retire():
            try:
                item = await items.receive()
            except anyio.EndOfStream:
                return
            result = await work(item)
            try:
                await output.send(result)
            except anyio.BrokenResourceError:
                return  # the consumer closed its end


def first_error(group: BaseException) -> BaseException:
    """The first leaf of a (nested) exception group; any other exception itself."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc
