"""A client-side request-rate limit: a token bucket, fixed or adaptive.

The bucket is a GCRA ("virtual scheduling") bucket: each caller reserves the next free slot
under the lock-free single-threaded event loop, then sleeps until it. It is shared by every
worker that calls the same operation in the same region.

Adaptive mode follows botocore's ``retries/adaptive.py``: no limit until the first throttle,
then CUBIC congestion control. A throttle cuts the rate to ``beta`` times the rate we were
really sending at; successes grow it back along a cubic curve that flattens near the rate
that last drew a throttle and probes past it slowly. Only throttles of requests *sent after*
the last cut count, so a burst of 429s from requests already in flight cuts the rate once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["RateLimiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class _RateMeter:
    """Smoothed rate of events per second, measured in fixed buckets of time."""

    __slots__ = ("_bucket", "_count", "_last", "_smoothing", "rate")

    def __init__(self, now: float, bucket: float = 0.5, smoothing: float = 0.8) -> None:
        self._bucket = bucket
        self._smoothing = smoothing
        self._last = now
        self._count = 0
        self.rate = 0.0

    def tick(self, now: float) -> None:
        self._count += 1
        elapsed = now - self._last
        if elapsed >= self._bucket:
            current = self._count / elapsed
            self.rate = current * self._smoothing + self.rate * (1 - self._smoothing)
            self._count = 0
            self._last = now

    def current(self, now: float) -> float:
        """The smoothed rate, or the raw rate of the first bucket before there is one."""
        if self.rate:
            return self.rate
        return self._count / max(now - self._last, 1e-3)


class RateLimiter:
    """Token bucket of ``rate`` requests per second with room for ``burst`` at once.

    With ``adaptive=True`` the rate is found at run time (``rate`` is then only the start,
    ``None`` for no limit until the first throttle). With ``adaptive=False`` the rate is
    fixed: :meth:`on_throttle` and :meth:`on_success` change nothing.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        adaptive: bool = True,
        burst: float = 1.0,
        min_rate: float = 0.5,
        beta: float = 0.7,
        scale: float = 0.4,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        if not adaptive and rate is None:
            raise ValueError("a fixed limiter needs a rate")
        self._rate = rate
        self._adaptive = adaptive
        self._burst = max(1.0, burst)
        self._min_rate = min_rate
        self._beta = beta
        self._scale = scale
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._tat = now  # theoretical arrival time of the next request
        self._meter = _RateMeter(now)
        self._last_cut = -math.inf
        self._w_max = rate or 0.0
        self._k = 0.0
        self.throttles = 0

    @property
    def rate(self) -> float | None:
        """The current limit in requests per second, ``None`` when there is none."""
        return self._rate

    @property
    def measured_rate(self) -> float:
        """The smoothed rate at which requests were really sent."""
        return self._meter.rate

    async def acquire(self) -> float:
        """Wait for a slot; return the time it was asked for (pass it to ``on_throttle``)."""
        now = self._clock()
        if self._adaptive:
            self._meter.tick(now)
        rate = self._rate
        if rate is None:
            return now
        interval = 1.0 / rate
        tat = self._tat if self._tat > now else now
        self._tat = tat + interval
        delay = tat - now - (self._burst - 1.0) * interval
        if delay > 1e-6:  # below that it is float noise, not a wait
            await self._sleep(delay)
        return now

    def on_success(self) -> None:
        """A request went through: let the rate grow along the cubic curve."""
        if not self._adaptive or self._rate is None:
            return
        t = self._clock() - self._last_cut
        target = self._scale * (t - self._k) ** 3 + self._w_max
        # Never run far ahead of what we really send (botocore caps at twice the measured rate).
        ceiling = max(2.0 * self._meter.current(self._clock()), self._w_max)
        self._rate = max(self._min_rate, min(target, ceiling))

    def on_throttle(self, sent_at: float | None = None) -> None:
        """A request that asked for its slot at ``sent_at`` was throttled.

        Cut the rate, once per congestion event.
        """
        self.throttles += 1
        if not self._adaptive:
            return
        if sent_at is not None and sent_at < self._last_cut:
            return  # sent before the last cut: that cut already answered this congestion
        now = self._clock()
        measured = self._meter.current(now)
        base = measured if self._rate is None else min(self._rate, measured)
        self._w_max = max(base, self._min_rate)
        self._k = (self._w_max * (1 - self._beta) / self._scale) ** (1 / 3)
        self._last_cut = now
        self._rate = max(self._min_rate, self._w_max * self._beta)
        # Let already reserved slots drain at the new rate rather than all at once.
        self._tat = max(self._tat, now)
