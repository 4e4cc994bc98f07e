"""The retry policy as pure functions and with an injected sleep: nothing here waits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from tenacity import RetryCallState

from asyncses import (
    EndpointError,
    NotFoundError,
    OperationError,
    ServiceError,
    ThrottledError,
)
from asyncses._ratelimit import RateLimiter
from asyncses._retry import MAX_RETRY_AFTER, CallStats, RetryPolicy, call_with_retry


class Sleeps:
    """An injected sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def failing(*errors: OperationError, result: str = "ok") -> Callable[[], Awaitable[str]]:
    """A call that raises ``errors`` in turn, then returns ``result``."""
    pending = list(errors)

    async def call() -> str:
        if pending:
            raise pending.pop(0)
        return result

    return call


def throttle(retry_after: float | None = None) -> ThrottledError:
    return ThrottledError(
        "slow down", operation="Op", code="TooManyRequestsException", retry_after=retry_after
    )


def state_after(attempt: int, exc: BaseException) -> RetryCallState:
    """A tenacity retry state as it is after ``attempt`` failed with ``exc``."""
    policy = RetryPolicy()
    state = RetryCallState(policy.retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


async def test_retryable_errors_are_retried_until_success() -> None:
    """Throttles, 5xx and connection errors are retried; the call then succeeds."""
    sleeps = Sleeps()
    stats = CallStats()
    call = failing(
        throttle(),
        ServiceError("boom", operation="Op", code="InternalFailure", status=500),
        EndpointError("reset", operation="Op", code="ConnectionClosedError"),
    )
    result = await call_with_retry(call, RetryPolicy(sleep=sleeps), operation="Op", stats=stats)
    assert result == "ok"
    assert len(sleeps.waits) == 3
    assert (stats.calls, stats.retries, stats.throttles) == (4, 3, 1)


async def test_non_retryable_errors_fail_at_once() -> None:
    """A 404 is not retried and carries attempts=1."""
    sleeps = Sleeps()
    with pytest.raises(NotFoundError) as caught:
        await call_with_retry(
            failing(NotFoundError("gone", operation="Op", code="NotFoundException")),
            RetryPolicy(sleep=sleeps),
            operation="Op",
        )
    assert caught.value.attempts == 1
    assert sleeps.waits == []


async def test_attempts_are_capped_and_recorded() -> None:
    """After max_attempts failures the last error is raised with its attempt count."""
    sleeps = Sleeps()
    errors = [throttle() for _ in range(10)]
    with pytest.raises(ThrottledError) as caught:
        await call_with_retry(
            failing(*errors), RetryPolicy(max_attempts=4, sleep=sleeps), operation="Op"
        )
    assert caught.value.attempts == 4
    assert len(sleeps.waits) == 3
    assert caught.value.to_record()["attempts"] == 4


def test_backoff_is_jittered_exponential_and_capped() -> None:
    """Waits stay within [0, min(cap, base * 2**n)]: full jitter, exponential, capped."""
    policy = RetryPolicy(base_delay=0.1, max_delay=2.0)
    for attempt in range(1, 12):
        ceiling = min(2.0, 0.1 * 2**attempt)
        waits = [policy.wait(state_after(attempt, throttle())) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 4  # jitter spreads over the range, not a constant
    assert len({policy.wait(state_after(3, throttle())) for _ in range(20)}) > 1


def test_retry_after_is_honoured_and_bounded() -> None:
    """A Retry-After hint longer than the backoff is waited; absurd hints are capped."""
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    assert policy.wait(state_after(1, throttle(retry_after=7.5))) == 7.5
    assert policy.wait(state_after(1, throttle(retry_after=10_000))) == MAX_RETRY_AFTER


async def test_a_hung_attempt_times_out_and_is_retried() -> None:
    """Each attempt has its own deadline; a timeout becomes a retryable EndpointError."""
    import anyio

    calls = 0

    async def hang_once() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep(10)
        return "ok"

    sleeps = Sleeps()
    policy = RetryPolicy(attempt_timeout=0.05, sleep=sleeps)
    assert await call_with_retry(hang_once, policy, operation="Op") == "ok"
    assert calls == 2


async def test_a_throttle_feeds_the_rate_limiter() -> None:
    """A throttled attempt cuts an adaptive limiter's rate; success lets it grow."""
    limiter = RateLimiter(rate=100.0, adaptive=True)
    await call_with_retry(
        failing(throttle()), RetryPolicy(sleep=Sleeps()), operation="Op", limiter=limiter
    )
    assert limiter.throttles == 1
    assert limiter.rate is not None and limiter.rate < 100.0


def test_policy_refuses_zero_attempts() -> None:
    """max_attempts below 1 is a programming error, refused at once."""
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
