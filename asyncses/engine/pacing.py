"""Pacing requests to a quota that nobody tells us: one :class:`Pacer` per quota.

A service such as SES answers 429 above a per-account, per-region request rate that it does
not publish, with no ``Retry-After`` and no rate-limit headers. The pacer finds that rate
from the 429s alone and sends just under it. It is shared by every worker (and every
operation) that draws on the same quota.

How it paces
    Slots are handed out one at a time, in arrival order, ``1 / rate`` apart, each worked out
    when it is due (not promised ahead), so a cut takes effect at the next slot rather than
    after slots already promised at the old rate.

How it learns (adaptive mode)
    *A cautious start.* The rate starts at ``initial_rate`` and doubles every
    ``start_doubling`` seconds, but no sooner than ``start_requests`` requests' worth of
    time, so at a low quota the first seconds do not throw a burst at the service.

    *One congestion event at a time.* A 429 counts by the time its request was *sent*
    (:meth:`acquire` returns it): one sent before the last event ended was sent too fast
    for the rate that event set, and that event has answered it. A 429 for a request sent
    after it starts a new event.

    *The accepted rate, measured while throttled.* An event holds the pace steady for a
    moment (``measure_requests`` requests, ``min_measure`` seconds at least; less if more
    than ``heavy_share`` of them are refused) and counts what gets through: once the
    service's bucket is empty, every request beyond the quota is refused, so the share of
    requests that got through, times the pace, *is* the quota. Measurements that agree
    are pooled, so a low quota (a few requests a second, few samples per event) is known
    precisely after a few events. The pace is then set at ``margin`` of it. An event that
    shows nothing refused was a false alarm and changes nothing, unless it came at the pace
    set under the quota: then the quota learned was a little high, and comes down to that
    pace. Leaving the start, where the pace may be far above the quota, the pace first
    comes down to half.

    *Rare, short probes.* After a cut the pace holds for ``hold_requests`` requests' worth
    of time (between ``min_hold`` and ``max_hold`` seconds), then grows, doubling every
    ``probe_requests`` requests' worth of time (``min_probe_doubling`` seconds at least),
    until a 429. A probe refused near the known quota goes straight back under it (one 429);
    one refused far above it measures the new quota. A quota that went up is found within a
    few doublings, one that went down at its first 429. The pace never runs ahead of
    twice what really gets through, so a client held back by something else (concurrency,
    a slow listing) does not pile up a rate it never used.

A fixed pacer (``rate=...``) paces at that rate and learns nothing. Either kind honours a
``Retry-After`` hint, should one arrive: no slot is handed out before it has passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from .log import get_logger

__all__ = ["Pacer", "PacerStats"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: The longest ``Retry-After`` honoured, in seconds.
MAX_RETRY_AFTER = 300.0

#: How early a slot may be handed out, in seconds: less than a timer's own slack, and it
#: spares a sleep per request at high rates. The schedule still moves on a whole interval.
SLACK = 0.002


@dataclass
class PacerStats:
    """What one pacer has seen: slots handed out, successes, throttles and rate cuts."""

    sent: int = 0
    successes: int = 0
    throttles: int = 0
    cuts: int = 0


class _Event:
    """A congestion event being measured: when it began, the pace held, the outcomes of the
    requests sent since (by send time)."""

    __slots__ = ("first", "outcomes", "pace", "start", "throttled")

    def __init__(self, start: float, pace: float, latency: float) -> None:
        self.start = start
        self.pace = pace
        # The earliest send time that counts: requests sent before the event, still on
        # their way, take what the emptied bucket refills, so the first slots after it
        # may be refused even below the quota.
        self.first = start + max(1.0 / pace, 1.5 * latency)
        self.outcomes: list[tuple[float, bool]] = []
        self.throttled = 0  # refused requests that count

    def note(self, sent_at: float, passed: bool) -> None:
        if sent_at >= self.start:
            self.outcomes.append((sent_at, passed))
            if not passed and sent_at >= self.first:
                self.throttled += 1

    def measure(self, *, stopped_at_refusal: bool) -> tuple[float, float] | None:
        """What the outcomes say of the quota as ``(requests that got through, seconds)``,
        or ``None`` if nothing showed the pace to be above it.

        Once the event emptied the service's bucket, every request beyond the quota is
        refused, so of the requests sent at the held pace, the share that got through,
        times the pace, is the quota. Shares of the whole window stay right when answers
        come back out of order. A window that a refusal ended (too many refused to go on)
        is measured between its first and last refusal, or, failing that, counts the last
        refusal as half a request: stopping at a refusal would bias the share low.
        """
        window = [passed for sent, passed in sorted(self.outcomes) if sent >= self.first]
        refused = [i for i, passed in enumerate(window) if not passed]
        if not refused:
            return None
        passed = len(window) - len(refused)
        if not passed:  # nothing got through: far above the quota
            return 0.5, (len(refused) + 0.5) / self.pace
        if stopped_at_refusal:
            between = refused[-1] - refused[0]
            if between > len(refused) - 1:
                # Between two refusals the bucket went from empty to empty: what got
                # through in between came at exactly the quota, with no bias from where
                # the window stopped.
                return float(between - (len(refused) - 1)), between / self.pace
            return float(passed), (len(window) - 0.5) / self.pace
        return float(passed), len(window) / self.pace


class Pacer:
    """Paces the requests drawn on one quota; adaptive unless ``rate`` fixes the rate.

    Call :meth:`acquire` before sending a request, then :meth:`on_success` or
    :meth:`on_throttle` with the send time it returned. Other failures (5xx, timeouts)
    say nothing about the quota and need no report.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        initial_rate: float = 8.0,
        start_doubling: float = 0.25,
        start_requests: float = 6.0,
        exit_cut: float = 0.5,
        climb_factor: float = 1.5,
        margin: float = 0.985,
        measure_requests: float = 20.0,
        min_measure: float = 0.6,
        heavy_share: float = 0.25,
        heavy_throttles: int = 3,
        max_measure_throttles: int = 6,
        cheap_requests: float = 10.0,
        agree: float = 0.2,
        forget: float = 0.5,
        near: float = 2.0,
        shortcut_requests: float = 300.0,
        hold_requests: float = 70.0,
        min_hold: float = 8.0,
        max_hold: float = 40.0,
        probe_requests: float = 20.0,
        min_probe_doubling: float = 4.0,
        min_rate: float = 0.05,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        if rate is not None and not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number, not {rate!r}")
        if not initial_rate > 0:
            raise ValueError("initial_rate must be positive")
        self._fixed = rate
        self._initial = initial_rate
        self._start_doubling = start_doubling
        self._start_requests = start_requests
        self._exit_cut = exit_cut
        self._climb_factor = climb_factor
        self._margin = margin
        self._measure_requests = measure_requests
        self._min_measure = min_measure
        self._heavy_share = heavy_share
        self._heavy_throttles = heavy_throttles
        self._max_measure_throttles = max_measure_throttles
        self._cheap_requests = cheap_requests
        self._agree = agree
        self._forget = forget
        self._near = near
        self._shortcut_requests = shortcut_requests
        self._hold_requests = hold_requests
        self._min_hold = min_hold
        self._max_hold = max_hold
        self._probe_requests = probe_requests
        self._min_probe_doubling = min_probe_doubling
        self._min_rate = min_rate
        self._clock = clock
        self._sleep = sleep
        now = clock()
        # -- pacing
        self._next = now  # the earliest time the next slot may be handed out
        self._paused_until = now
        self._lock = anyio.Lock()
        self._started = False
        # -- the start phase: its rate, when that last grew, by what factor it grows
        self._starting = True
        self._start_rate = initial_rate
        self._start_step = now
        self._start_factor = 2.0
        # -- after the start: the pace set at the last cut, when, how long it holds, and how
        # fast it then grows
        self._base = initial_rate
        self._cut_at = -math.inf
        self._hold = 0.0
        self._doubling = min_probe_doubling
        self._settled = -math.inf  # throttles of requests sent before this are answered
        self._event: _Event | None = None
        # -- the quota learned: pooled measurements (requests over seconds)
        self._pool_passed = 0.0
        self._pool_span = 0.0
        self._successes = _Window(now)
        self._latency = 0.0  # smoothed time from send to answer
        self.last_success: float | None = None
        self.stats = PacerStats()

    # -- what it is doing ----------------------------------------------------------------

    @property
    def fixed(self) -> bool:
        """True when the rate was given, not learned."""
        return self._fixed is not None

    @property
    def measuring(self) -> bool:
        """True while a congestion event is being measured (the pace is held steady)."""
        return self._event is not None

    @property
    def quota(self) -> float | None:
        """The quota learned so far, in requests per second (``None`` before a 429)."""
        return self._pool_passed / self._pool_span if self._pool_span > 0 else None

    def rate(self, now: float | None = None) -> float:
        """The pace at ``now`` (default: the clock's now), in requests per second."""
        if self._fixed is not None:
            return self._fixed
        now = self._clock() if now is None else now
        if self._event is not None:
            return self._event.pace  # held steady while the event is measured
        if self._starting:
            rate = self._start_pace(now)
        else:
            rate = self._base
            probing = now - self._cut_at - self._hold
            if probing > 0:
                rate *= 2.0 ** (probing / self._doubling)
        # Never far ahead of what really gets through: twice the recent success rate, over
        # the last second, or the last half second once that holds enough answers to be
        # steady (so a ramp towards a large quota is not held back for long).
        recent = self._successes.count(now, 1.0)
        half = self._successes.count(now, 0.5)
        if half >= self._cheap_requests:
            recent = max(recent, 2.0 * half)
        cap = max(self._initial, self._base, 2.0 * recent)
        return max(self._min_rate, min(rate, cap))

    def _start_pace(self, now: float) -> float:
        while True:
            step = max(self._start_doubling, self._start_requests / self._start_rate)
            if now - self._start_step < step:
                return self._start_rate
            self._start_step += step
            self._start_rate *= self._start_factor

    # -- pacing ---------------------------------------------------------------------------

    async def acquire(self) -> float:
        """Wait for the next slot; return the time the request may go out (its send time)."""
        now = self._clock()
        if not self._started:
            self._started = True
            self._start_step = self._next = self._paused_until = now
        self._settle(now)
        if now + SLACK >= max(self._next, self._paused_until) and not self._lock.locked():
            self._grant(now)
            return now
        async with self._lock:  # one waiter at a time, in arrival order
            while True:
                now = self._clock()
                self._settle(now)
                due = max(self._next, self._paused_until)
                if now + SLACK >= due:
                    self._grant(now)
                    return now
                wait = due - now
                if self._event is not None:  # wake when the measurement is due to end
                    wait = min(wait, max(0.0, self._event_end() - now))
                await self._sleep(wait)

    def _grant(self, now: float) -> None:
        interval = 1.0 / self.rate(now)
        # A slot taken a little late (timer slack) does not push the schedule back; one
        # taken up to SLACK early moves it on all the same, so the pace holds on average.
        self._next = max(self._next, now - interval) + interval
        self.stats.sent += 1

    # -- learning -------------------------------------------------------------------------

    def on_success(self, sent_at: float) -> None:
        """The request sent at ``sent_at`` got through."""
        now = self._clock()
        self.stats.successes += 1
        self.last_success = now
        self._successes.add(now)
        self._latency += 0.1 * (now - sent_at - self._latency)
        if self._event is not None:
            self._event.note(sent_at, True)
            self._settle(now)

    def on_throttle(self, sent_at: float, retry_after: float | None = None) -> None:
        """The request sent at ``sent_at`` was throttled (HTTP 429).

        Starts a congestion event, or counts towards the one being measured; honours
        ``retry_after`` if given.
        """
        now = self._clock()
        self.stats.throttles += 1
        if retry_after is not None and retry_after > 0:
            self._paused_until = max(self._paused_until, now + min(retry_after, MAX_RETRY_AFTER))
        if self._fixed is not None or sent_at < self._settled:
            return  # fixed, or sent before the last event ended: that event answered it
        if self._event is not None:
            self._event.note(sent_at, False)
            self._settle(now)
            return
        pace = self.rate(now)
        quota = self.quota
        if (
            not self._starting
            and quota is not None
            and quota <= pace <= self._near * quota
            and self._base * self._hold < self._shortcut_requests
        ):
            # A probe refused close to the known quota at a low rate, where every 429 is a
            # large share of the requests: back under the quota at once (one 429).
            self._cut(now, quota, pace)
            return
        if self._starting and self._start_factor == 2.0:
            pace = max(self._min_rate, pace * self._exit_cut)  # far above, maybe: halve
        self._event = _Event(now, pace, self._latency)

    def _event_end(self) -> float:
        assert self._event is not None
        return self._event.start + max(self._min_measure, self._measure_requests / self._event.pace)

    def _settle(self, now: float) -> None:
        """End the event being measured once it has said enough; cut the rate if it must."""
        event = self._event
        if event is None:
            return
        throttled = event.throttled
        counted = sum(1 for sent, _ in event.outcomes if sent >= event.first)
        # At a low pace every refusal is costly: stop early once many are refused. At a
        # high one they are cheap, and the full window measures better.
        heavy = (
            event.pace * self._min_measure < self._cheap_requests
            and throttled >= self._heavy_throttles
            and throttled >= self._heavy_share * counted
        )
        most = max(self._max_measure_throttles, 0.1 * event.pace)
        if throttled < most and (
            now < event.start + self._min_measure or (now < self._event_end() and not heavy)
        ):
            return
        sample = event.measure(stopped_at_refusal=now < self._event_end())
        self._event = None
        if sample is None:
            # A false alarm (a stray 429, one answer overtaking another): at this pace
            # nothing more was refused, so the quota is at least the pace. No cut.
            self._settled = now
            if self._starting:
                # Leaving the start the pace came down to half: the quota lies between
                # here and twice here. Climb again, in smaller steps.
                self._start_rate, self._start_step = event.pace, now
                self._start_factor = self._climb_factor
            else:
                self._cut_at += now - event.start  # resume where the event stopped it
                if event.pace <= self._base:
                    # Refused at the pace set under the quota, not on a probe above it: the
                    # quota learned was a little high. Such a pace draws a lone 429 now and
                    # then, too rare for one event to measure; each says the quota lies
                    # below the pace it came at, and takes the pace down a notch.
                    if self._pool_span > 0:
                        self._pool_passed = min(self._pool_passed, event.pace * self._pool_span)
                    self._base = max(self._min_rate, event.pace * self._margin)
            return
        self._cut(now, self._learn(*sample), event.pace)

    def _learn(self, passed: float, span: float) -> float:
        """Pool a measurement with the earlier ones while they agree (a quota of a few
        requests a second gives few samples per event; pooled, they give a precise quota),
        the older ones weighing less each time. One that disagrees means the quota changed:
        the pool starts afresh."""
        rate = passed / span
        quota = self.quota
        if quota is not None and abs(rate - quota) <= self._agree * quota:
            self._pool_passed = self._pool_passed * self._forget + passed
            self._pool_span = self._pool_span * self._forget + span
            return self._pool_passed / self._pool_span
        self._pool_passed, self._pool_span = passed, span
        return rate

    def _cut(self, now: float, quota: float, pace: float) -> None:
        """Pace just under ``quota`` from now on, hold there a while, then probe."""
        self._settled = now
        self._starting = False
        self._base = max(self._min_rate, min(quota, pace) * self._margin)
        self._cut_at = now
        self._hold = min(self._max_hold, max(self._min_hold, self._hold_requests / self._base))
        self._doubling = max(self._min_probe_doubling, self._probe_requests / self._base)
        # The event emptied the service's bucket: leave it one slot to refill.
        self._next = max(self._next, now + 1.0 / max(quota, self._min_rate))
        self.stats.cuts += 1
        get_logger().info(
            "pace set", rate=round(self._base, 3), quota=round(quota, 3), hold=round(self._hold, 1)
        )


class _Window:
    """Counts of events in 0.1 s bins over the last 60 s: cheap rates over any window."""

    __slots__ = ("_bins", "_last")

    BIN = 0.1
    SIZE = 600

    def __init__(self, now: float) -> None:
        self._bins = [0] * self.SIZE
        self._last = math.floor(now / self.BIN)  # index of the newest bin

    def _advance(self, now: float) -> int:
        index = math.floor(now / self.BIN)
        gap = index - self._last
        if gap > 0:
            for i in range(self._last + 1, self._last + 1 + min(gap, self.SIZE)):
                self._bins[i % self.SIZE] = 0
            self._last = index
        return index

    def add(self, now: float) -> None:
        """Count one event at ``now``."""
        index = self._advance(now)
        self._bins[index % self.SIZE] += 1

    def count(self, now: float, window: float) -> float:
        """Events in the last ``window`` seconds (the oldest bin counted in part)."""
        index = self._advance(now)
        span = min(window, self.BIN * (self.SIZE - 2)) / self.BIN
        # The newest bin covers only the part of its span that has passed.
        newest = now / self.BIN - index
        total = float(self._bins[index % self.SIZE])
        rest = span - newest
        i = 1
        while rest >= 1.0:
            total += self._bins[(index - i) % self.SIZE]
            rest -= 1.0
            i += 1
        if rest > 0:
            total += rest * self._bins[(index - i) % self.SIZE]
        return total
