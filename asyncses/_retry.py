"""The one retry policy: which failures are retried, how often, and how long to wait.

Only :class:`~asyncses.RetryableError` is retried (throttling, 5xx, connection errors and
timeouts); everything else fails at once. Waits grow exponentially with full jitter up to a
cap, and a server's ``Retry-After`` hint is honoured when it asks for longer. Every attempt
has its own deadline and first takes a slot from the rate limiter; a throttle feeds the limiter.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from ._exceptions import EndpointError, OperationError, RetryableError, ThrottledError
from ._log import get_logger
from ._ratelimit import RateLimiter

__all__ = ["CallStats", "RetryPolicy", "call_with_retry"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

#: The longest ``Retry-After`` we honour, in seconds.
MAX_RETRY_AFTER = 300.0


@dataclass
class CallStats:
    """Counters of one client's calls, for progress and the end-of-run summary.

    ``processes`` counts the lookup processes started (see ``Client(processes=...)``);
    ``listed`` the items listed so far; ``listings`` and ``listings_open`` the listings
    started and not yet at their last page.
    """

    calls: int = 0
    retries: int = 0
    throttles: int = 0
    failures: int = 0
    processes: int = 0
    listed: int = 0
    listings: int = 0
    listings_open: int = 0

    @property
    def listing_done(self) -> bool:
        """True once every counted listing has had its last page (``listed`` is the total)."""
        return self.listings > 0 and self.listings_open == 0


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry: ``max_attempts`` in all, waits from ``base_delay`` up to ``max_delay``."""

    max_attempts: int = 8
    base_delay: float = 0.1
    max_delay: float = 20.0
    attempt_timeout: float = 30.0
    sleep: Sleep = field(default=anyio.sleep, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt``: jittered backoff, or the
        server's ``Retry-After`` hint when it asks for longer."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt, 32))
        backoff = random.uniform(0, ceiling)
        hint = getattr(exc, "retry_after", None)
        if hint is not None:
            return max(backoff, min(float(hint), MAX_RETRY_AFTER))
        return backoff

    def wait(self, state: RetryCallState) -> float:
        """tenacity's view of :meth:`backoff`."""
        exc = state.outcome.exception() if state.outcome else None
        return self.backoff(state.attempt_number, exc)

    def retrying(self, *, first_attempt: int = 1) -> AsyncRetrying:
        """A fresh tenacity controller for one call, counting attempts from ``first_attempt``."""
        offset = first_attempt - 1
        return AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts - offset),
            wait=lambda state: self.backoff(
                state.attempt_number + offset,
                state.outcome.exception() if state.outcome else None,
            ),
            retry=retry_if_exception_type(RetryableError),
            sleep=self.sleep,
            reraise=True,
        )


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    operation: str,
    key: str | None = None,
    limiter: RateLimiter | None = None,
    stats: CallStats | None = None,
) -> T:
    """Run ``fn`` under ``policy``; raise the last :class:`OperationError` if it fails for good.

    ``fn`` must raise :class:`OperationError` subclasses (translated errors) only; a timeout of
    one attempt becomes an :class:`EndpointError`. The error carries the number of attempts.
    The first attempt runs directly (most calls need no other); tenacity takes over from the
    first retryable failure.
    """
    stats = stats if stats is not None else CallStats()
    try:
        return await _attempt(fn, policy, 1, operation, key, limiter, stats)
    except RetryableError as exc:
        if policy.max_attempts == 1:
            raise
        first: RetryableError = exc
    await policy.sleep(policy.backoff(1, first))
    async for attempt in policy.retrying(first_attempt=2):
        with attempt:
            number = attempt.retry_state.attempt_number + 1
            stats.retries += 1
            return await _attempt(fn, policy, number, operation, key, limiter, stats)
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover


async def _attempt(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    number: int,
    operation: str,
    key: str | None,
    limiter: RateLimiter | None,
    stats: CallStats,
) -> T:
    """One attempt: a slot from the limiter, a deadline, and the accounting of its outcome."""
    sent = await limiter.acquire() if limiter is not None else 0.0
    stats.calls += 1
    try:
        try:
            with anyio.fail_after(policy.attempt_timeout):
                result = await fn()
        except TimeoutError:
            raise EndpointError(
                f"no answer within {policy.attempt_timeout:g} s",
                operation=operation,
                code="Timeout",
                key=key,
            ) from None
    except ThrottledError as exc:
        stats.throttles += 1
        if limiter is not None:
            limiter.on_throttle(sent)
        _note_failure(exc, number, policy, stats)
        raise
    except OperationError as exc:
        _note_failure(exc, number, policy, stats)
        raise
    if limiter is not None:
        limiter.on_success()
    return result


def _note_failure(exc: OperationError, number: int, policy: RetryPolicy, stats: CallStats) -> None:
    exc.attempts = number
    final = not isinstance(exc, RetryableError) or number >= policy.max_attempts
    if final:
        stats.failures += 1
    get_logger().debug(
        "call failed",
        operation=exc.operation,
        key=exc.key,
        code=exc.code,
        status=exc.status,
        attempt=number,
        final=final,
    )
