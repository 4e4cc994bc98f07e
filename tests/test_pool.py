"""The engine's concurrency: pagination, run_pool and run_each, without AWS.

Everything runs on an asyncio loop on virtual time (tests/virtualtime.py): ``anyio.sleep`` moves
the clock instead of waiting, so these tests never sleep for real and always interleave the same.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from typing import Any, TypeVar

import anyio
import pytest

from asyncses import PaginationError
from asyncses.engine.paginate import paginate
from asyncses.engine.pool import first_error, run_each, run_pool

from .virtualtime import VirtualTimeLoop

T = TypeVar("T")


def run_virtual(fn: Callable[[], Awaitable[T]]) -> T:
    """Run ``fn`` on the virtual-time loop."""
    return anyio.run(fn, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})


async def numbers(n: int, started: list[int] | None = None) -> AsyncIterator[int]:
    """0..n-1, noting each item as it is produced."""
    for i in range(n):
        if started is not None:
            started.append(i)
        yield i
        await anyio.lowlevel.checkpoint()


Work = Callable[[int], Awaitable[Iterable[int]] | AsyncGenerator[int, None]]


async def collect(source: Any, work: Work, workers: int) -> tuple[list[int], BaseException | None]:
    """Run a pool and read everything it sends; the results and the error it raised, if any."""
    send, recv = anyio.create_memory_object_stream[int](workers)
    results: list[int] = []
    raised: list[BaseException] = []

    async def pool() -> None:
        try:
            await run_pool(source, work, workers, send)
        except Exception as exc:
            raised.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(pool)
        async with recv:
            results = [r async for r in recv]
    return results, raised[0] if raised else None


# -- paginate ------------------------------------------------------------------------------


def test_paginate_follows_tokens_page_by_page() -> None:
    """Items come page by page; the next page is asked for only when it is needed."""
    pages = {None: ([1, 2], "a"), "a": ([3], "b"), "b": ([4, 5], None)}
    asked: list[str | None] = []

    async def fetch(token: str | None) -> Mapping[str, Any]:
        asked.append(token)
        items, following = pages[token]
        return {"Items": items, "NextToken": following}

    async def main() -> list[Any]:
        iterator = paginate(fetch, "Items")
        first = await iterator.__anext__()
        assert asked == [None]
        return [first, *[i async for i in iterator]]

    assert run_virtual(main) == [1, 2, 3, 4, 5]
    assert asked == [None, "a", "b"]


def test_paginate_stops_at_an_empty_token_and_missing_items() -> None:
    """An empty NextToken ends the listing; a page without items is an empty page."""

    async def fetch(token: str | None) -> Mapping[str, Any]:
        return {"NextToken": "x"} if token is None else {"Items": [7], "NextToken": ""}

    async def main() -> list[Any]:
        return [i async for i in paginate(fetch, "Items")]

    assert run_virtual(main) == [7]


def test_paginate_refuses_a_repeated_token() -> None:
    """A service that hands back an earlier token would loop for ever: PaginationError."""
    tokens = iter(["a", "b", "a"])
    pages: list[int] = []

    async def fetch(token: str | None) -> Mapping[str, Any]:
        pages.append(1)
        return {"Items": [len(pages)], "NextToken": next(tokens)}

    async def main() -> list[Any]:
        return [i async for i in paginate(fetch, "Items")]

    with pytest.raises(PaginationError):
        run_virtual(main)
    assert len(pages) == 3


# -- run_pool ------------------------------------------------------------------------------


def test_pool_works_every_item_once_with_bounded_concurrency() -> None:
    """Every item is worked exactly once, never more than ``workers`` at a time."""
    running = peak = 0

    async def work(i: int) -> list[int]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.01 * (i % 7))
        running -= 1
        return [i * 2]

    results, error = run_virtual(lambda: collect(numbers(200), work, 4))
    assert error is None
    assert sorted(results) == [i * 2 for i in range(200)]
    assert peak == 4


def test_pool_results_come_in_completion_order() -> None:
    """A slow item does not hold back the results of faster ones."""

    async def work(i: int) -> list[int]:
        await anyio.sleep(10 if i == 0 else 1)
        return [i]

    results, _ = run_virtual(lambda: collect(numbers(3), work, 3))
    assert results == [1, 2, 0]


def test_pool_sends_none_one_or_several_results_per_item() -> None:
    """A worker may return no result, one, or several for an item: each is sent."""

    async def work(i: int) -> list[int]:
        return [i] * (i % 3)

    results, _ = run_virtual(lambda: collect(numbers(6), work, 2))
    assert sorted(results) == [1, 2, 2, 4, 5, 5]


def test_pool_streams_the_results_of_an_async_generator() -> None:
    """A worker may be an async generator: each result is sent as it is made."""

    async def work(i: int) -> AsyncGenerator[int, None]:
        for j in range(i):
            await anyio.sleep(1)
            yield i * 10 + j

    results, error = run_virtual(lambda: collect(numbers(4), work, 2))
    assert error is None
    assert sorted(results) == [10, 20, 21, 30, 31, 32]


def test_a_consumer_that_leaves_closes_the_work_generator() -> None:
    """Leaving mid-item closes the worker's generator (its cleanup runs) and the pool returns."""
    made: list[int] = []
    closed: list[int] = []

    async def work(i: int) -> AsyncGenerator[int, None]:
        try:
            for j in range(1000):
                made.append(j)
                yield j
        finally:
            closed.append(i)

    async def main() -> None:
        send, recv = anyio.create_memory_object_stream[int](0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_pool, numbers(1), work, 1, send)
            assert [await recv.receive() for _ in range(3)] == [0, 1, 2]
            recv.close()

    run_virtual(main)
    assert closed == [0]
    assert len(made) < 10


def test_pool_accepts_a_plain_async_iterable() -> None:
    """A source without ``aclose`` (not a generator) is read just the same."""

    class Source:
        def __aiter__(self) -> AsyncIterator[int]:
            return numbers(5)

    async def work(i: int) -> list[int]:
        return [i]

    results, _ = run_virtual(lambda: collect(Source(), work, 2))
    assert sorted(results) == [0, 1, 2, 3, 4]


def test_pool_applies_backpressure_to_the_source() -> None:
    """A consumer that stops reading stops the listing too: memory stays bounded."""
    started: list[int] = []

    async def work(i: int) -> list[int]:
        return [i]

    async def main() -> int:
        send, recv = anyio.create_memory_object_stream[int](2)
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_pool, numbers(10_000, started), work, 2, send)
            await anyio.sleep(60)  # a minute of (virtual) time in which nobody reads
            seen = len(started)
            tg.cancel_scope.cancel()
        recv.close()
        return seen

    assert run_virtual(main) < 20  # a few buffers' worth, not the whole source


def test_pool_closes_its_output_at_the_end() -> None:
    """The consumer's iteration ends by itself once the pool is done (EndOfStream)."""

    async def work(i: int) -> list[int]:
        return [i]

    async def main() -> list[int]:
        send, recv = anyio.create_memory_object_stream[int](1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_pool, numbers(3), work, 1, send)
            async with recv:
                got = [r async for r in recv]  # would hang (deadlock error) if never closed
        with pytest.raises(anyio.ClosedResourceError):
            await send.send(9)
        return got

    assert run_virtual(main) == [0, 1, 2]


def test_a_consumer_that_leaves_stops_the_pool_and_closes_the_source() -> None:
    """Closing the receiving end stops the workers quietly and closes the source generator."""
    closed: list[bool] = []
    worked: list[int] = []

    async def source() -> AsyncIterator[int]:
        try:
            for i in range(1000):
                yield i
        finally:
            closed.append(True)

    async def work(i: int) -> list[int]:
        worked.append(i)
        return [i]

    async def main() -> None:
        send, recv = anyio.create_memory_object_stream[int](1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_pool, source(), work, 2, send)
            assert await recv.receive() is not None
            recv.close()  # the consumer leaves: run_pool must return, not raise

    run_virtual(main)
    assert closed == [True]
    assert len(worked) < 10


def test_a_failing_source_raises_after_the_items_it_listed() -> None:
    """Items listed before a source failed are still worked; then its error is raised."""

    async def broken() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise RuntimeError("listing failed")

    async def work(i: int) -> list[int]:
        await anyio.sleep(1)
        return [i]

    results, error = run_virtual(lambda: collect(broken(), work, 2))
    assert sorted(results) == [1, 2]
    assert isinstance(error, RuntimeError) and str(error) == "listing failed"


def test_an_error_in_a_worker_is_raised_unwrapped() -> None:
    """A worker that raises (a bug) ends the pool with that error, not an exception group."""

    async def work(i: int) -> list[int]:
        if i == 3:
            raise KeyError("bug")
        return [i]

    _results, error = run_virtual(lambda: collect(numbers(10), work, 2))
    assert isinstance(error, KeyError)


def test_pool_needs_a_worker() -> None:
    """Zero workers is a programming error, refused at once."""

    async def work(i: int) -> list[int]:
        return [i]

    async def main() -> None:
        send, recv = anyio.create_memory_object_stream[int](1)
        with send, recv, pytest.raises(ValueError):
            await run_pool(numbers(1), work, 0, send)

    run_virtual(main)


# -- run_each ------------------------------------------------------------------------------


def test_run_each_runs_every_job_at_most_limit_at_a_time() -> None:
    """Every job runs once, with never more than ``limit`` running together."""
    running = peak = 0
    done: list[int] = []

    async def run(job: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(1 + job % 3)
        running -= 1
        done.append(job)

    run_virtual(lambda: run_each(range(20), run, limit=3))
    assert sorted(done) == list(range(20))
    assert peak == 3


def test_run_each_takes_jobs_as_slots_free() -> None:
    """Jobs start as slots free up: 6 one-second jobs, 2 at a time, take 3 seconds."""

    async def run(job: int) -> None:
        await anyio.sleep(1)

    async def main() -> float:
        start = anyio.current_time()
        await run_each(range(6), run, limit=2)
        return anyio.current_time() - start

    assert run_virtual(main) == pytest.approx(3.0)


def test_run_each_first_error_cancels_the_others_and_is_unwrapped() -> None:
    """The first job to fail cancels the rest; its own error is raised, not a group."""
    finished: list[int] = []
    cancelled: list[int] = []

    async def run(job: int) -> None:
        try:
            if job == 1:
                await anyio.sleep(1)
                raise LookupError("job 1 failed")
            await anyio.sleep(100)
            finished.append(job)
        except anyio.get_cancelled_exc_class():
            cancelled.append(job)
            raise

    with pytest.raises(LookupError, match="job 1 failed"):
        run_virtual(lambda: run_each(range(4), run, limit=4))
    assert finished == []
    assert sorted(cancelled) == [0, 2, 3]


def test_run_each_needs_a_limit() -> None:
    """A limit below one is a programming error."""

    async def run(job: int) -> None:
        return None

    with pytest.raises(ValueError):
        run_virtual(lambda: run_each([1], run, limit=0))


def test_first_error_unwraps_nested_groups() -> None:
    """first_error finds the first leaf of nested groups; a plain error is itself."""
    leaf = KeyError("inner")
    group = BaseExceptionGroup("outer", [ExceptionGroup("mid", [leaf, ValueError()])])
    assert first_error(group) is leaf
    plain = RuntimeError("x")
    assert first_error(plain) is plain
