"""Simulate the pacer against a token-bucket quota on virtual time (seconds of traffic in ms).

The model: a service whose quota is a token bucket (``rate`` per second, ``burst`` deep,
full at the start, no ``Retry-After``), ``latency`` seconds per request; a client that pages
through a listing (one request per ``page`` items) and looks every item up with
``concurrency`` workers, every request paced by one :class:`asyncses.engine.pacing.Pacer`,
a throttled request retried through the pacer. The quota may change at given times.

    python -m benchmarks.pacing_sim                  # the standard cases
    python -m benchmarks.pacing_sim --rate 20 --items 1500
    python -m benchmarks.pacing_sim --schedule 0:5,60:50 --items 4000

It measures the pacing alone: no HTTP, no CPU cost, no interpreter start. The end-to-end
figures come from ``python -m benchmarks.run``.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from asyncses.engine.pacing import Pacer
from tests.virtualtime import VirtualTimeLoop

__all__ = ["SimResult", "simulate"]


@dataclass
class SimResult:
    """What one simulated run did."""

    items: int
    successes: int = 0
    throttles: int = 0
    end: float = 0.0
    #: per whole second: (successes, throttles)
    timeline: list[list[int]] = field(default_factory=list)
    schedule: list[tuple[float, float]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return self.successes + self.throttles

    @property
    def throttled_share(self) -> float:
        return self.throttles / max(1, self.requests)

    def goodput_share(self, rate: float) -> float:
        """Successes per second over the whole run, as a share of ``rate``."""
        return self.successes / max(self.end, 1e-9) / rate

    def follow_time(self, change_at: float, new_rate: float, window: int = 5) -> float | None:
        """Seconds after ``change_at`` until a ``window``-second stretch succeeds at 90% or
        more of a higher quota, or throttles at most 3% with no more than the quota after a
        lower one; None if it never does."""
        start = math.ceil(change_at)
        old_rate = next((r for t, r in reversed(self.schedule) if t < change_at), new_rate)
        for second in range(start, len(self.timeline) - window + 1):
            span = self.timeline[second : second + window]
            ok = sum(s for s, _ in span) / window
            throttled = sum(t for _, t in span)
            total = sum(s + t for s, t in span)
            if new_rate >= old_rate:
                if ok >= 0.9 * new_rate:
                    return second - change_at
            elif throttled <= 0.03 * total and ok <= new_rate * 1.05:
                return second - change_at
        return None


class _Bucket:
    def __init__(self, schedule: Sequence[tuple[float, float]], burst: float) -> None:
        self._schedule = sorted(schedule)
        self._burst = burst
        self._tokens = burst
        self._last = 0.0

    def rate(self, now: float) -> float:
        rate = self._schedule[0][1]
        for start, value in self._schedule:
            if start <= now:
                rate = value
        return rate

    def take(self, now: float) -> bool:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self.rate(now))
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


async def _run(
    result: SimResult,
    schedule: Sequence[tuple[float, float]],
    burst: float,
    concurrency: int,
    latency: float,
    page: int,
    make_pacer: Callable[[], Pacer],
    jitter: float,
    seed: int,
) -> None:
    bucket = _Bucket(schedule, burst)
    rng = random.Random(seed)
    pacer = make_pacer()

    def note(ok: bool) -> None:
        second = int(anyio.current_time())
        while len(result.timeline) <= second:
            result.timeline.append([0, 0])
        result.timeline[second][0 if ok else 1] += 1
        if ok:
            result.successes += 1
        else:
            result.throttles += 1

    async def request() -> None:
        while True:
            sent = await pacer.acquire()
            await anyio.sleep(latency / 2 * (1 + jitter * rng.uniform(-1, 1)))
            ok = bucket.take(anyio.current_time())
            await anyio.sleep(latency / 2 * (1 + jitter * rng.uniform(-1, 1)))
            note(ok)
            if ok:
                pacer.on_success(sent)
                return
            pacer.on_throttle(sent)

    send, receive = anyio.create_memory_object_stream[int](concurrency)

    async def lister() -> None:
        async with send:
            for first in range(0, result.items, page):
                await request()
                for item in range(first, min(first + page, result.items)):
                    await send.send(item)

    async def worker(items: Any) -> None:
        async with items:
            async for _item in items:
                await request()

    async with anyio.create_task_group() as tg:
        tg.start_soon(lister)
        async with receive:
            for _ in range(concurrency):
                tg.start_soon(worker, receive.clone())
    result.end = anyio.current_time()


def simulate(
    *,
    items: int,
    rate: float | None = None,
    schedule: Sequence[tuple[float, float]] | None = None,
    burst: float = 5.0,
    concurrency: int = 32,
    latency: float = 0.05,
    page: int = 1000,
    startup: float = 0.0,
    jitter: float = 0.5,
    seed: int = 0,
    pacer: Callable[[], Pacer] | None = None,
) -> SimResult:
    """Run one simulation; ``schedule`` is ``[(from_second, rate), ...]`` (or give ``rate``).

    Each half of a request's ``latency`` varies by up to ``jitter`` of itself, drawn from
    ``random.Random(seed)``; ``startup`` seconds pass before the first request.
    """
    steps = list(schedule or [(0.0, float(rate or 1.0))])
    result = SimResult(items=items, schedule=steps)

    def make() -> Pacer:
        return (pacer or (lambda: Pacer(clock=anyio.current_time)))()

    async def main() -> None:
        await anyio.sleep(startup)
        await _run(result, steps, burst, concurrency, latency, page, make, jitter, seed)

    anyio.run(main, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})
    result.end += 0.0
    return result


STANDARD = (
    ("2 req/s, 150 items", {"rate": 2.0, "items": 150}),
    ("20 req/s, 1,500 items", {"rate": 20.0, "items": 1500}),
    ("150 req/s, 11,250 items", {"rate": 150.0, "items": 11250}),
    ("5 -> 50 req/s at 40 s", {"schedule": [(0.0, 5.0), (40.0, 50.0)], "items": 3000}),
    ("50 -> 5 req/s at 30 s", {"schedule": [(0.0, 50.0), (30.0, 5.0)], "items": 1800}),
)


def _report(name: str, result: SimResult) -> None:
    rate = result.schedule[0][1]
    line = (
        f"{name:<26} {result.successes:>6} ok {result.throttles:>5} 429 "
        f"({result.throttled_share:6.2%}) {result.end:7.1f} s"
    )
    if len(result.schedule) == 1:
        line += f"  goodput {result.goodput_share(rate):6.1%} of {rate:g}/s"
    else:
        change, new = result.schedule[1]
        follow = result.follow_time(change, new)
        line += f"  follows in {follow if follow is not None else 'never'} s"
    print(line)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pacing_sim")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--schedule", help="from:rate,from:rate (seconds:req/s)")
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--burst", type=float, default=5.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeline", action="store_true", help="print successes/429s per second")
    args = parser.parse_args(argv)
    cases: list[tuple[str, dict[str, Any]]]
    if args.rate or args.schedule:
        schedule = (
            [(float(a), float(b)) for a, b in (p.split(":") for p in args.schedule.split(","))]
            if args.schedule
            else None
        )
        cases = [("custom", {"rate": args.rate, "schedule": schedule, "items": args.items})]
    else:
        cases = list(STANDARD)
    for name, options in cases:
        result = simulate(
            burst=args.burst, latency=args.latency, concurrency=args.concurrency, **options
        )
        _report(name, result)
        if args.timeline:
            print("   ", " ".join(f"{s}/{t}" for s, t in result.timeline))


if __name__ == "__main__":
    main()
