"""The token bucket and its adaptive (CUBIC) rate, on a fake clock."""

from __future__ import annotations

import pytest

from asyncses._ratelimit import RateLimiter


class FakeTime:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(time: FakeTime, rate: float | None, **kwargs: object) -> RateLimiter:
    return RateLimiter(rate, clock=time.clock, sleep=time.sleep, **kwargs)  # type: ignore[arg-type]


async def test_fixed_rate_spaces_requests() -> None:
    """At 10 req/s with no burst, 21 acquisitions take 2 s of (fake) time."""
    time = FakeTime()
    bucket = limiter(time, 10.0, adaptive=False)
    start = time.now
    for _ in range(21):
        await bucket.acquire()
    assert time.now - start == pytest.approx(2.0)


async def test_burst_lets_the_first_requests_through() -> None:
    """A burst of 5 passes 5 requests at once, then spaces the rest."""
    time = FakeTime()
    bucket = limiter(time, 10.0, adaptive=False, burst=5)
    for _ in range(5):
        await bucket.acquire()
    assert time.slept == []
    await bucket.acquire()
    assert time.slept and time.slept[0] == pytest.approx(0.1)


async def test_fixed_rate_ignores_throttles() -> None:
    """With a fixed rate, throttles are only counted; the rate stays."""
    time = FakeTime()
    bucket = limiter(time, 50.0, adaptive=False)
    bucket.on_throttle(time.now)
    bucket.on_success()
    assert bucket.rate == 50.0
    assert bucket.throttles == 1


async def test_adaptive_has_no_limit_until_the_first_throttle() -> None:
    """Adaptive mode starts unlimited and then cuts to beta times the measured rate."""
    time = FakeTime()
    bucket = limiter(time, None)
    for _ in range(200):  # 200 requests in 1 s: measured ~200/s
        await bucket.acquire()
        time.now += 0.005
    assert bucket.rate is None and time.slept == []
    bucket.on_throttle(time.now)
    assert bucket.rate is not None
    assert 100 < bucket.rate < 180  # 0.7 x ~200


async def test_one_cut_per_congestion_event() -> None:
    """Throttles of requests sent before the last cut do not cut again."""
    time = FakeTime()
    bucket = limiter(time, 100.0)
    sent_before = await bucket.acquire()
    time.now += 0.01
    bucket.on_throttle(time.now)
    first = bucket.rate
    bucket.on_throttle(sent_before)
    assert bucket.rate == first


async def test_rate_grows_back_towards_the_last_maximum() -> None:
    """After a cut, successes grow the rate back near the rate that drew the throttle."""
    time = FakeTime()
    bucket = limiter(time, 100.0)
    for _ in range(100):
        await bucket.acquire()
    bucket.on_throttle(time.now)
    cut = bucket.rate
    assert cut is not None and cut < 100
    for _ in range(2000):
        await bucket.acquire()
        bucket.on_success()
    assert bucket.rate is not None and bucket.rate > cut


def test_invalid_rates_are_refused() -> None:
    """A non-positive rate, or a fixed limiter without one, is refused."""
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        RateLimiter(None, adaptive=False)
