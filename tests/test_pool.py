"""The generic engine: pagination and the bounded worker pool, without AWS."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import pytest

from asyncses import PaginationError
from asyncses._paginate import paginate
from asyncses._pool import Workers, run_pool


async def test_paginate_follows_tokens_and_yields_as_pages_arrive() -> None:
    """Items come page by page; the next page is asked for only when needed."""
    pages = {None: ([1, 2], "a"), "a": ([3], "b"), "b": ([4, 5], None)}
    asked: list[str | None] = []

    async def fetch(token: str | None) -> Mapping[str, Any]:
        asked.append(token)
        items, nxt = pages[token]
        return {"Items": items, "NextToken": nxt}

    iterator = paginate(fetch, "Items")
    assert await iterator.__anext__() == 1
    assert asked == [None]
    assert [i async for i in iterator] == [2, 3, 4, 5]
    assert asked == [None, "a", "b"]


async def test_paginate_refuses_a_repeated_token() -> None:
    """A service that hands back an old token would loop for ever: it is an error."""

    async def fetch(token: str | None) -> Mapping[str, Any]:
        return {"Items": [1], "NextToken": "same"}

    with pytest.raises(PaginationError):
        [i async for i in paginate(fetch, "Items")]


async def numbers(n: int, started: list[int] | None = None) -> AsyncIterator[int]:
    for i in range(n):
        if started is not None:
            started.append(i)
        yield i
        await anyio.lowlevel.checkpoint()


async def test_pool_processes_every_item_once_with_bounded_concurrency() -> None:
    """Every item is worked once; never more than `concurrency` at a time."""
    running = peak = 0

    async def work(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.001)
        running -= 1
        return i * 2

    send, recv = anyio.create_memory_object_stream[int](4)
    results: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: run_pool([numbers(200)], [Workers(work, 4)], send))
        async with recv:
            results = [r async for r in recv]
    assert sorted(results) == [i * 2 for i in range(200)]
    assert peak == 4


async def test_pool_applies_backpressure_to_the_source() -> None:
    """A consumer that stops reading stops the listing too: memory stays bounded."""
    started: list[int] = []

    async def work(i: int) -> int:
        return i

    send, recv = anyio.create_memory_object_stream[int](2)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: run_pool([numbers(10_000, started)], [Workers(work, 2)], send))
        await anyio.sleep(0.05)
        assert len(started) < 20  # a few buffers' worth, not the whole source
        tg.cancel_scope.cancel()
    recv.close()


async def test_a_failing_source_raises_after_the_items_it_listed() -> None:
    """Items listed before a source failed are still worked; then its error is raised."""

    async def broken() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise RuntimeError("listing failed")

    async def work(i: int) -> int:
        return i

    send, recv = anyio.create_memory_object_stream[int](10)
    got: list[int] = []
    raised: list[BaseException] = []

    async def pool() -> None:
        try:
            await run_pool([broken(), numbers(3)], [Workers(work, 2)], send)
        except RuntimeError as exc:
            raised.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(pool)
        async with recv:
            got = [r async for r in recv]
    assert sorted(got) == [0, 1, 1, 2, 2]
    assert [str(e) for e in raised] == ["listing failed"]
