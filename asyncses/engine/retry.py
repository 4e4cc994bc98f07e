"""The one retry policy: which failures are tried again, how often, and how long to wait.

Only :class:`~asyncses.engine.errors.RetryableError` is tried again; anything else fails at
once. Two kinds are told apart:

* a **throttle** (429) is not a failure: the call waits for its pacer's next slot and is
  sent again, without using up ``max_attempts``, for as long as its quota makes progress.
  Only when no request on that quota has succeeded for ``stall_timeout`` seconds does the
  call give up, saying so;
* a **5xx, a connection error or a timeout** counts against ``max_attempts``; waits grow
  exponentially with full jitter up to ``max_delay``, or follow a ``Retry-After`` hint
  when it asks for longer.

Every attempt takes a slot from the pacer, has its own deadline (``attempt_timeout``) and
reports its outcome to the pacer. The first attempt runs directly (most calls need no
other); tenacity takes over from the first retryable failure.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from .errors import EndpointError, OperationError, RetryableError, ThrottledError
from .log import get_logger
from .pacing import MAX_RETRY_AFTER, Pacer

__all__ = ["CallStats", "RetryPolicy", "call_with_retry"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass
class CallStats:
    """Counters of calls, for progress displays and the end-of-run summary line.

    ``calls`` counts requests sent, ``retries`` the ones sent again, ``throttles`` the 429s,
    ``failures`` the calls that failed for good; ``listed`` counts items listed so far,
    ``listings`` and ``listings_open`` the listings started and not yet at their last page.
    """

    calls: int = 0
    retries: int = 0
    throttles: int = 0
    failures: int = 0
    listed: int = 0
    listings: int = 0
    listings_open: int = 0

    @property
    def listing_done(self) -> bool:
        """True once every counted listing has had its last page (``listed`` is the total)."""
        return self.listings > 0 and self.listings_open == 0


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry. See the module docstring for what counts as an attempt."""

    max_attempts: int = 8
    base_delay: float = 0.1
    max_delay: float = 20.0
    attempt_timeout: float = 30.0
    stall_timeout: float = 300.0
    sleep: Sleep = field(default=anyio.sleep, compare=False, repr=False)
    clock: Clock = field(default=time.monotonic, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.attempt_timeout > 0 or not self.stall_timeout > 0:
            raise ValueError("timeouts must be positive")

    def backoff(self, failures: int, exc: BaseException | None) -> float:
        """Seconds to wait after the ``failures``-th failure that counts: jittered
        exponential backoff, or the server's ``Retry-After`` hint when it asks for longer.
        A throttle waits for the pacer instead (no sleep here)."""
        if isinstance(exc, ThrottledError):
            return 0.0
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(failures, 32))
        wait = random.uniform(0, ceiling)
        hint = getattr(exc, "retry_after", None)
        if hint is not None:
            return max(wait, min(float(hint), MAX_RETRY_AFTER))
        return wait

    def stop(self, failures: int, exc: BaseException | None, last_progress: float) -> bool:
        """Whether to give up: too many failures that count, or a throttled quota that has
        let nothing through for ``stall_timeout`` seconds."""
        if isinstance(exc, ThrottledError):
            return self.clock() - last_progress >= self.stall_timeout
        return failures >= self.max_attempts


class _Attempts:
    """What one call's retry state needs beyond tenacity's: failures that count, and when
    its quota last made progress."""

    __slots__ = ("failures", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.failures = 0


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    operation: str,
    key: str | None = None,
    pacer: Pacer | None = None,
    in_flight: anyio.Semaphore | None = None,
    stats: CallStats | None = None,
) -> T:
    """Run ``fn`` under ``policy``; raise the last :class:`OperationError` if it fails for good.

    ``fn`` must raise :class:`OperationError` subclasses only (translated errors); a timeout
    of one attempt becomes an :class:`EndpointError`. The error carries how many times the
    call was sent. ``in_flight`` bounds the requests in flight across callers.
    """
    stats = stats if stats is not None else CallStats()
    state = _Attempts(policy.clock())
    sent = 0
    try:
        sent += 1
        return await _attempt(fn, policy, operation, key, pacer, in_flight, stats)
    except RetryableError as exc:
        first: RetryableError = exc
        if not isinstance(exc, ThrottledError):
            state.failures = 1
        if _stop(policy, state, pacer, exc):
            exc.attempts = sent
            stats.failures += 1
            raise _final(exc, policy) from None
    except OperationError:
        stats.failures += 1
        raise
    await policy.sleep(policy.backoff(state.failures, first))

    def stop(retry: RetryCallState) -> bool:
        exc = retry.outcome.exception() if retry.outcome else None
        return _stop(policy, state, pacer, exc)

    def wait(retry: RetryCallState) -> float:
        exc = retry.outcome.exception() if retry.outcome else None
        return policy.backoff(state.failures, exc)

    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception_type(RetryableError),
        sleep=policy.sleep,
        reraise=True,
    )
    last: RetryableError = first

    def progress() -> float:
        return _last_progress(state, pacer)

    try:
        async for attempt in retrying:
            with attempt:
                # After a throttle the call waits for a slot only until its quota has
                # stalled: then it gives up without sending the request again.
                stalls = progress if isinstance(last, ThrottledError) else None
                try:
                    sent += 1
                    stats.retries += 1
                    return await _attempt(
                        fn, policy, operation, key, pacer, in_flight, stats, stalls
                    )
                except _Stalled:
                    sent -= 1
                    stats.retries -= 1
                    raise last from None
                except RetryableError as exc:
                    last = exc
                    if not isinstance(exc, ThrottledError):
                        state.failures += 1
                    raise
    except OperationError as exc:
        exc.attempts = sent
        stats.failures += 1
        raise _final(exc, policy) from None
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover


def _last_progress(state: _Attempts, pacer: Pacer | None) -> float:
    """When the call's quota last let a request through (or the call started, if later)."""
    last = state.started
    if pacer is not None and pacer.last_success is not None:
        last = max(last, pacer.last_success)
    return last


def _stop(
    policy: RetryPolicy, state: _Attempts, pacer: Pacer | None, exc: BaseException | None
) -> bool:
    return policy.stop(state.failures, exc, _last_progress(state, pacer))


class _Stalled(Exception):
    """A throttled call's quota stalled while it waited for a slot: nothing was sent."""


async def _slot(pacer: Pacer, policy: RetryPolicy, progress: Callable[[], float]) -> float:
    """A slot from ``pacer``, or :class:`_Stalled` once nothing has got through on its
    quota for ``stall_timeout`` seconds (``progress()`` says when something last did)."""
    while True:
        remaining = progress() + policy.stall_timeout - policy.clock()
        if remaining <= 0:
            raise _Stalled
        with anyio.move_on_after(remaining):
            return await pacer.acquire()
        # The deadline passed while waiting; a success meanwhile moves it on: look again.


def _final(exc: OperationError, policy: RetryPolicy) -> OperationError:
    """The error a call gives up with; a stalled throttle says why."""
    if isinstance(exc, ThrottledError):
        stalled = ThrottledError(
            f"throttled for {policy.stall_timeout:g} s with no request on this quota "
            f"getting through ({exc.message})",
            operation=exc.operation,
            code=exc.code,
            key=exc.key,
            status=exc.status,
        )
        stalled.attempts = exc.attempts
        return stalled
    return exc


async def _attempt(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    operation: str,
    key: str | None,
    pacer: Pacer | None,
    in_flight: anyio.Semaphore | None,
    stats: CallStats,
    stalls: Callable[[], float] | None = None,
) -> T:
    """One attempt: a slot from the pacer, a deadline, and the accounting of its outcome.
    With ``stalls`` (when the quota last made progress), waiting for the slot ends in
    :class:`_Stalled` once the quota has stalled."""
    if pacer is None:
        sent_at = 0.0
    elif stalls is None:
        sent_at = await pacer.acquire()
    else:
        sent_at = await _slot(pacer, policy, stalls)
    stats.calls += 1
    try:
        try:
            if in_flight is None:
                result = await _within(fn, policy.attempt_timeout)
            else:
                async with in_flight:
                    result = await _within(fn, policy.attempt_timeout)
        except TimeoutError:
            raise EndpointError(
                f"no answer within {policy.attempt_timeout:g} s",
                operation=operation,
                code="Timeout",
                key=key,
            ) from None
    except ThrottledError as exc:
        stats.throttles += 1
        if pacer is not None:
            pacer.on_throttle(sent_at, exc.retry_after)
        get_logger().debug("throttled", operation=operation, key=key)
        raise
    except OperationError as exc:
        get_logger().debug(
            "call failed", operation=operation, key=key, code=exc.code, status=exc.status
        )
        raise
    if pacer is not None:
        pacer.on_success(sent_at)
    return result


async def _within(fn: Callable[[], Awaitable[T]], seconds: float) -> T:
    """``await fn()`` or raise :class:`TimeoutError` after ``seconds``: what
    ``anyio.fail_after`` does, without its generator-based context manager on every call."""
    with anyio.CancelScope(deadline=anyio.current_time() + seconds) as scope:
        return await fn()
    assert scope.cancelled_caught
    raise TimeoutError
