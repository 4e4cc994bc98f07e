"""The pacer on virtual time: how it starts, learns a quota from 429s, and follows changes."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import pytest

from asyncses.engine.pacing import Pacer

from .virtualtime import VirtualTimeLoop

OPTIONS = {"loop_factory": VirtualTimeLoop}


def run(fn: Callable[[], Awaitable[None]]) -> None:
    """Run ``fn`` on an event loop whose clock is virtual (sleeps take no real time)."""
    anyio.run(fn, backend="asyncio", backend_options=OPTIONS)


@dataclass
class Bucket:
    """A service's quota: a token bucket of ``rate`` per second, ``burst`` deep, full at 0."""

    schedule: list[tuple[float, float]]
    burst: float = 5.0
    tokens: float = 5.0
    last: float = 0.0
    answers: list[tuple[float, bool]] = field(default_factory=list)

    def rate(self, now: float) -> float:
        return [r for t, r in self.schedule if t <= now][-1]

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate(now))
        self.last = now
        ok = self.tokens >= 1.0
        if ok:
            self.tokens -= 1.0
        self.answers.append((now, ok))
        return ok

    def throttled(self, start: float = 0.0, end: float = float("inf")) -> int:
        return sum(1 for t, ok in self.answers if start <= t < end and not ok)

    def passed(self, start: float = 0.0, end: float = float("inf")) -> int:
        return sum(1 for t, ok in self.answers if start <= t < end and ok)


async def drive(
    pacer: Pacer, bucket: Bucket, requests: int, *, workers: int = 32, latency: float = 0.05
) -> float:
    """Send ``requests`` successful requests through ``pacer`` to ``bucket`` (a throttled one
    is sent again), ``workers`` at a time; return the virtual time it took."""
    rng = random.Random(7)
    todo = iter(range(requests))

    async def worker() -> None:
        for _ in todo:
            while True:
                sent = await pacer.acquire()
                await anyio.sleep(latency / 2 * rng.uniform(0.5, 1.5))
                ok = bucket.take(anyio.current_time())
                await anyio.sleep(latency / 2 * rng.uniform(0.5, 1.5))
                if ok:
                    pacer.on_success(sent)
                    break
                pacer.on_throttle(sent)

    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)
    return anyio.current_time()


def new_pacer(rate: float | None = None) -> Pacer:
    return Pacer(rate, clock=anyio.current_time)


def test_fixed_rate_paces_exactly() -> None:
    """A fixed pacer hands out slots 1/rate apart and learns nothing from 429s."""

    async def main() -> None:
        pacer = new_pacer(10.0)
        times = [await pacer.acquire() for _ in range(21)]
        assert times[-1] - times[0] == pytest.approx(2.0, abs=1e-6)
        pacer.on_throttle(times[-1])
        assert pacer.rate() == 10.0 and pacer.quota is None

    run(main)


def test_cautious_start_doubles_slowly_at_first() -> None:
    """The first seconds are paced: no burst of hundreds of requests at once."""

    async def main() -> None:
        pacer = new_pacer()
        start = anyio.current_time()
        sent = 0
        while anyio.current_time() - start < 1.0:
            stamp = await pacer.acquire()
            pacer.on_success(stamp)
            sent += 1
        assert 5 <= sent <= 25  # 8/s to start, doubling no faster than every 6 requests

    run(main)


def test_a_throttle_counts_by_the_time_its_request_was_sent() -> None:
    """429s of requests sent before an event ended change nothing: one cut per event."""

    async def main() -> None:
        pacer = new_pacer()
        bucket = Bucket([(0.0, 20.0)])
        await drive(pacer, bucket, 400)
        cuts = pacer.stats.cuts
        assert pacer.quota == pytest.approx(20.0, rel=0.15)
        assert not pacer.measuring
        # A burst of late 429s for requests sent long ago: answered by an earlier event.
        for _ in range(50):
            pacer.on_throttle(0.001)
        assert not pacer.measuring
        assert pacer.stats.cuts == cuts
        assert pacer.rate() >= 0.8 * 20.0
        # One sent now starts a new event: the pace is held while it is measured.
        pacer.on_throttle(await pacer.acquire())
        assert pacer.measuring

    run(main)


@pytest.mark.parametrize(("quota", "requests"), [(2.0, 150), (20.0, 1500), (150.0, 11250)])
def test_learns_the_quota_and_paces_just_under_it(quota: float, requests: int) -> None:
    """Against a token bucket (burst 5, no Retry-After) the pace settles just under the quota:
    nearly all of it used, few requests throttled."""

    async def main() -> None:
        pacer = new_pacer()
        bucket = Bucket([(0.0, quota)])
        elapsed = await drive(pacer, bucket, requests)
        assert bucket.passed() == requests
        throttled = bucket.throttled() / len(bucket.answers)
        assert throttled <= (0.05 if quota < 10 else 0.03)
        assert requests / elapsed >= 0.93 * quota
        assert pacer.quota == pytest.approx(quota, rel=0.1)

    run(main)


def test_follows_a_quota_that_goes_up() -> None:
    """5 -> 50 req/s: within 30 s the pace uses most of the new quota."""

    async def main() -> None:
        pacer = new_pacer()
        bucket = Bucket([(0.0, 5.0), (40.0, 50.0)])
        await drive(pacer, bucket, 3000)
        assert bucket.passed(65.0, 70.0) >= 0.85 * 50.0 * 5.0

    run(main)


def test_follows_a_quota_that_goes_down() -> None:
    """50 -> 5 req/s: the 429s stop within seconds, and the pace settles under 5/s."""

    async def main() -> None:
        pacer = new_pacer()
        bucket = Bucket([(0.0, 50.0), (30.0, 5.0)])
        await drive(pacer, bucket, 1800)
        assert bucket.throttled(40.0, 90.0) <= 0.05 * (bucket.passed(40.0, 90.0) + 1)
        assert bucket.passed(40.0, 90.0) >= 0.9 * 5.0 * 50.0
        assert pacer.quota == pytest.approx(5.0, rel=0.15)

    run(main)


def test_follows_a_quota_that_goes_down_a_little() -> None:
    """21 -> 20 req/s: a pace a few percent above the quota draws a lone 429 now and then,
    each too rare for one event to measure; they still bring the pace under the quota."""

    async def main() -> None:
        pacer = new_pacer()
        bucket = Bucket([(0.0, 21.0), (40.0, 20.0)])
        await drive(pacer, bucket, 3000)
        later = [ok for t, ok in bucket.answers if t >= 70.0]
        assert len(later) > 1000
        assert later.count(False) <= 0.007 * len(later)  # 15 of 1,584 without the notch
        assert bucket.passed(70.0, 130.0) >= 0.95 * 20.0 * 60.0

    run(main)


def test_probes_are_rare_at_a_low_quota() -> None:
    """At 2 req/s, after the start, the pace holds for tens of seconds between probes."""

    async def main() -> None:
        pacer = new_pacer()
        bucket = Bucket([(0.0, 2.0)])
        await drive(pacer, bucket, 200)
        assert bucket.throttled(15.0) <= 4  # in ~85 s after the start

    run(main)


def test_a_pause_holds_back_a_caller_already_waiting() -> None:
    """A caller already waiting for its slot does not go before a Retry-After pause ends."""

    async def main() -> None:
        pacer = new_pacer(1.0)
        await pacer.acquire()
        woke: list[float] = []

        async def waiter() -> None:
            woke.append(await pacer.acquire())

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.1)
            pacer.on_throttle(anyio.current_time(), retry_after=5.0)
        assert woke and woke[0] >= 5.0  # the Retry-After pause held it back

    run(main)


def test_retry_after_is_honoured() -> None:
    """A Retry-After hint (SES sends none, a proxy might) pauses every slot until it passes."""

    async def main() -> None:
        pacer = new_pacer()
        first = await pacer.acquire()
        pacer.on_throttle(first, retry_after=3.0)
        nxt = await pacer.acquire()
        assert nxt - first >= 3.0

    run(main)


def test_rate_never_runs_far_ahead_of_what_gets_through() -> None:
    """A client held back by something else (one worker, slow answers) keeps a pace near
    what it really achieves, so no burst follows when the hold-up ends."""

    async def main() -> None:
        pacer = new_pacer()
        for _ in range(40):
            stamp = await pacer.acquire()
            await anyio.sleep(0.5)  # one request at a time, slow: 2/s really sent
            pacer.on_success(stamp)
        assert pacer.rate() <= 16.0

    run(main)
