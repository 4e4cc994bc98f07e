"""The retry policy as pure functions, and call_with_retry with an injected sleep and clock.

Nothing here waits: sleeps are recorded and move a fake clock; the one test that needs an
attempt to hang runs on the virtual-time loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from asyncses import (
    AccessError,
    CallStats,
    EndpointError,
    NotFoundError,
    OperationError,
    RetryPolicy,
    ServiceError,
    ThrottledError,
)
from asyncses.engine.pacing import MAX_RETRY_AFTER, Pacer
from asyncses.engine.retry import call_with_retry

from .virtualtime import VirtualTimeLoop


class FakeTime:
    """A clock that only moves when the code under test sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, **fields: Any) -> RetryPolicy:
        """A retry policy that sleeps and reads the time through this fake."""
        return RetryPolicy(sleep=self.sleep, clock=self.clock, **fields)


def throttle(retry_after: float | None = None) -> ThrottledError:
    return ThrottledError(
        "slow down", operation="Op", code="TooManyRequestsException", retry_after=retry_after
    )


def server_error(retry_after: float | None = None) -> ServiceError:
    return ServiceError(
        "boom", operation="Op", code="InternalFailure", status=500, retry_after=retry_after
    )


def calls(
    *outcomes: OperationError | str, each: Callable[[], None] | None = None
) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A call that raises or returns ``outcomes`` in turn (the last repeats); its call count."""
    count = [0]

    async def call() -> str:
        index = min(count[0], len(outcomes) - 1)
        count[0] += 1
        if each is not None:
            each()
        outcome = outcomes[index]
        if isinstance(outcome, OperationError):
            raise outcome
        return outcome

    return call, count


# -- the policy as pure functions ----------------------------------------------------------


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    """Waits after n failures lie in [0, min(max_delay, base * 2**n)], and vary."""
    policy = RetryPolicy(base_delay=0.1, max_delay=2.0)
    for failures in range(1, 12):
        ceiling = min(2.0, 0.1 * 2**failures)
        waits = [policy.backoff(failures, server_error()) for _ in range(300)]
        assert all(0.0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling * 0.75  # spread over the range, not a constant
        assert min(waits) < ceiling * 0.25


def test_backoff_of_a_throttle_is_zero() -> None:
    """A throttle waits for its pacer, not for a backoff."""
    policy = RetryPolicy(base_delay=5.0)
    assert {policy.backoff(n, throttle()) for n in range(1, 10)} == {0.0}
    assert policy.backoff(3, throttle(retry_after=30.0)) == 0.0


def test_backoff_honours_retry_after_for_5xx() -> None:
    """A Retry-After longer than the backoff is waited in full; absurd hints are capped."""
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    assert policy.backoff(1, server_error(retry_after=7.5)) == 7.5
    assert policy.backoff(1, server_error(retry_after=10_000)) == MAX_RETRY_AFTER
    short = [policy.backoff(6, server_error(retry_after=0.01)) for _ in range(200)]
    assert all(wait >= 0.01 for wait in short) and max(short) > 0.5  # the backoff wins


def test_stop_counts_failures_but_not_throttles() -> None:
    """5xx and connection errors stop at max_attempts; throttles only when the quota stalls."""
    time = FakeTime()
    policy = time.policy(max_attempts=3, stall_timeout=60.0)
    assert not policy.stop(2, server_error(), last_progress=time.now)
    assert policy.stop(3, server_error(), last_progress=time.now)
    assert not policy.stop(1000, throttle(), last_progress=time.now - 59.0)
    assert policy.stop(0, throttle(), last_progress=time.now - 60.0)


def test_policy_refuses_nonsense() -> None:
    """Zero attempts or non-positive timeouts are programming errors, refused at once."""
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(attempt_timeout=0)
    with pytest.raises(ValueError):
        RetryPolicy(stall_timeout=-1)


# -- call_with_retry -----------------------------------------------------------------------


async def test_first_attempt_success_sleeps_not() -> None:
    """A call that works at once is sent once, with no wait."""
    time = FakeTime()
    stats = CallStats()
    call, count = calls("ok")
    assert await call_with_retry(call, time.policy(), operation="Op", stats=stats) == "ok"
    assert count == [1] and time.sleeps == []
    assert (stats.calls, stats.retries, stats.failures) == (1, 0, 0)


async def test_throttles_do_not_use_up_max_attempts() -> None:
    """Twenty throttles in a row, then success, with max_attempts=2: the call succeeds."""
    time = FakeTime()
    stats = CallStats()
    call, count = calls(*[throttle()] * 20, "ok")
    result = await call_with_retry(call, time.policy(max_attempts=2), operation="Op", stats=stats)
    assert result == "ok"
    assert count == [21]
    assert (stats.calls, stats.retries, stats.throttles, stats.failures) == (21, 20, 20, 0)
    assert set(time.sleeps) == {0.0}  # the pacer, not a backoff, spaces throttled calls


async def test_a_stalled_quota_gives_up_saying_so() -> None:
    """Throttled with nothing getting through for stall_timeout: ThrottledError saying why."""
    time = FakeTime()
    stats = CallStats()

    def ten_seconds_pass() -> None:  # each attempt waits its slot: time goes by
        time.now += 10.0

    call, count = calls(throttle(), each=ten_seconds_pass)
    with pytest.raises(ThrottledError) as caught:
        await call_with_retry(
            call, time.policy(max_attempts=2, stall_timeout=60.0), operation="Op", stats=stats
        )
    assert count == [6]  # 60 s of 10 s attempts
    assert caught.value.attempts == 6
    assert "throttled for 60 s" in str(caught.value)
    assert caught.value.operation == "Op" and caught.value.code == "TooManyRequestsException"
    assert (stats.throttles, stats.failures) == (6, 1)


async def test_a_throttled_call_goes_on_while_its_quota_makes_progress() -> None:
    """Other calls on the same pacer getting through keep a throttled call from stalling."""
    time = FakeTime()
    pacer = Pacer(rate=1000.0, clock=time.clock, sleep=time.sleep)
    attempts = [0]

    def others_get_through() -> None:
        attempts[0] += 1
        time.now += 10.0
        if attempts[0] % 3 == 0:
            pacer.on_success(time.now - 1.0)  # another caller's request got through

    call, count = calls(*[throttle()] * 30, "ok", each=others_get_through)
    policy = time.policy(stall_timeout=60.0)
    assert await call_with_retry(call, policy, operation="Op", pacer=pacer) == "ok"
    assert count == [31]  # 300 s of throttles, never 60 s without progress
    assert pacer.stats.throttles == 30 and pacer.stats.successes == 10 + 1


async def test_server_errors_use_up_attempts() -> None:
    """5xx counts against max_attempts: three tries, two backoffs, then the error."""
    time = FakeTime()
    stats = CallStats()
    call, count = calls(server_error())
    with pytest.raises(ServiceError) as caught:
        await call_with_retry(call, time.policy(max_attempts=3), operation="Op", stats=stats)
    assert count == [3]
    assert caught.value.attempts == 3
    assert caught.value.to_record()["attempts"] == 3
    assert len(time.sleeps) == 2
    assert (stats.calls, stats.retries, stats.failures) == (3, 2, 1)


async def test_throttles_between_server_errors_do_not_count() -> None:
    """Only the 5xx count: 2 errors and 5 throttles fit in max_attempts=3."""
    time = FakeTime()
    call, count = calls(
        server_error(), throttle(), throttle(), server_error(), throttle(), throttle(), "ok"
    )
    assert await call_with_retry(call, time.policy(max_attempts=3), operation="Op") == "ok"
    assert count == [7]


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError("gone", operation="Op", code="NotFoundException", status=404),
        AccessError("no", operation="Op", code="AccessDeniedException", status=403),
        OperationError("bad", operation="Op", code="BadRequestException", status=400),
    ],
    ids=["not-found", "access", "bad-request"],
)
async def test_non_retryable_errors_fail_at_once(error: OperationError) -> None:
    """A non-retryable error is raised after one attempt, with no wait."""
    time = FakeTime()
    stats = CallStats()
    call, count = calls(error)
    with pytest.raises(type(error)) as caught:
        await call_with_retry(call, time.policy(), operation="Op", stats=stats)
    assert caught.value is error
    assert count == [1] and time.sleeps == []
    assert caught.value.attempts == 1
    assert (stats.calls, stats.failures) == (1, 1)


async def test_non_retryable_after_retries_carries_every_attempt() -> None:
    """A 404 after two 5xx is raised at once, and says it was the third attempt."""
    time = FakeTime()
    call, count = calls(
        server_error(), server_error(), NotFoundError("x", operation="Op", code="N")
    )
    with pytest.raises(NotFoundError) as caught:
        await call_with_retry(call, time.policy(max_attempts=8), operation="Op")
    assert count == [3] and caught.value.attempts == 3
    assert "after 3 attempts" in str(caught.value)


async def test_retry_after_is_waited_for_a_5xx() -> None:
    """A 503 with Retry-After: 7.5 is tried again after 7.5 s, not after the short backoff."""
    time = FakeTime()
    call, _count = calls(server_error(retry_after=7.5), "ok")
    policy = time.policy(base_delay=0.01, max_delay=0.05)
    assert await call_with_retry(call, policy, operation="Op") == "ok"
    assert time.sleeps == [7.5]


async def test_retry_after_of_a_throttle_pauses_the_pacer() -> None:
    """A throttle's Retry-After holds back the pacer's next slot (no backoff on top)."""
    time = FakeTime()
    pacer = Pacer(rate=1000.0, clock=time.clock, sleep=time.sleep)
    sent: list[float] = []
    call, _count = calls(throttle(retry_after=4.0), "ok", each=lambda: sent.append(time.now))
    await call_with_retry(call, time.policy(), operation="Op", pacer=pacer)
    assert sent == [1000.0, 1004.0]
    assert time.sleeps == [0.0, 4.0]  # the backoff of a throttle, then the pacer's pause


async def test_outcomes_are_reported_to_the_pacer() -> None:
    """Every attempt takes a slot; throttles and successes are reported to the pacer."""
    time = FakeTime()
    pacer = Pacer(rate=1000.0, clock=time.clock, sleep=time.sleep)

    def tick() -> None:
        time.now += 0.01

    call, _count = calls(throttle(), server_error(), "ok", each=tick)
    await call_with_retry(call, time.policy(), operation="Op", pacer=pacer)
    assert (pacer.stats.sent, pacer.stats.throttles, pacer.stats.successes) == (3, 1, 1)
    assert pacer.last_success == time.now


def test_a_hung_attempt_times_out_and_is_retried() -> None:
    """Each attempt has its own deadline; a timeout becomes a retryable EndpointError."""
    count = [0]

    async def hang_once() -> str:
        count[0] += 1
        if count[0] == 1:
            await anyio.sleep(3600)
        return "ok"

    async def main() -> tuple[str, float]:
        start = anyio.current_time()
        result = await call_with_retry(
            hang_once, RetryPolicy(attempt_timeout=5.0, base_delay=0.0), operation="Op"
        )
        return result, anyio.current_time() - start

    result, elapsed = anyio.run(
        main, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop}
    )
    assert result == "ok" and count == [2]
    assert elapsed == pytest.approx(5.0)


def test_attempts_that_always_hang_end_as_timeouts() -> None:
    """A call that never answers ends after max_attempts deadlines as EndpointError Timeout."""

    async def hang() -> str:
        await anyio.sleep(3600)
        return "never"

    async def main() -> None:
        await call_with_retry(
            hang, RetryPolicy(max_attempts=3, attempt_timeout=2.0), operation="Op", key="k"
        )

    with pytest.raises(EndpointError) as caught:
        anyio.run(main, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})
    assert caught.value.code == "Timeout" and caught.value.attempts == 3
    assert caught.value.key == "k"
