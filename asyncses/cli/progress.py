"""The command line's live progress bar on stderr (only on a terminal)."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ..engine.retry import CallStats

__all__ = ["Progress"]

_LABELS = {"email_identity": "identities", "dedicated_ip_pool": "pools", "import_job": "jobs"}


class Progress:
    """Shows done/total, req/s, throttles, retries and errors while an audit runs."""

    def __init__(self, stats: CallStats, label: str, bar: Any | None) -> None:
        self._stats = stats
        self._label = label
        self._bar = bar
        self._task: Any = None
        self._done = 0
        self._errors = 0
        self._started = time.monotonic()
        self._last_refresh = 0.0

    @classmethod
    def create(cls, *, enabled: bool, stats: CallStats, label: str) -> Progress:
        """A live bar when ``enabled`` and stderr is a terminal, else one that shows nothing."""
        if not enabled or not sys.stderr.isatty():
            return cls(stats, label, None)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=12),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        return cls(stats, label, bar)

    @property
    def shown(self) -> bool:
        """True when a bar is on screen."""
        return self._bar is not None

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            label = _LABELS.get(self._label, self._label)
            self._task = self._bar.add_task(label, total=None, detail="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def advance(self, record: Mapping[str, Any]) -> None:
        """Count one record written."""
        self._done += 1
        if record.get("error") is not None:
            self._errors += 1
        if self._bar is None:
            return
        now = time.monotonic()
        if now - self._last_refresh < 0.1:
            return
        self._last_refresh = now
        stats = self._stats
        total = stats.listed if stats.listing_done else None
        rate = stats.calls / max(now - self._started, 1e-6)
        detail = (
            f"{rate:,.0f} req/s, {stats.throttles} throttles, "
            f"{stats.retries} retries, {self._errors} errors"
        )
        self._bar.update(self._task, completed=self._done, total=total, detail=detail)

    def stop(self) -> None:
        """Take the bar off the screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
