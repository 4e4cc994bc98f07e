"""An asyncio event loop on virtual time, for tests and simulations of pacing.

The loop's clock starts at 0 and jumps straight to the next timer whenever nothing is ready
to run, so ``anyio.sleep(30)`` returns at once and a minute of paced traffic simulates in
milliseconds, deterministically. There is no I/O: only timers and callbacks. Use it with
``anyio.run(fn, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})``.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Mapping
from typing import Any

__all__ = ["VirtualTimeLoop"]


class _Selector(selectors.BaseSelector):
    """A selector with no I/O: waiting for ``timeout`` moves the loop's clock instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._loop = loop
        self._keys: dict[Any, selectors.SelectorKey] = {}

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = selectors.SelectorKey(fileobj, _fd(fileobj), events, data)
        self._keys[key.fd] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._keys.pop(_fd(fileobj))

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise RuntimeError("virtual time: every task waits and no timer is due (deadlock)")
        self._loop.advance(timeout)
        return []

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._keys

    def close(self) -> None:
        self._keys.clear()


def _fd(fileobj: Any) -> int:
    return fileobj if isinstance(fileobj, int) else int(fileobj.fileno())


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """``asyncio.SelectorEventLoop`` whose ``time()`` is virtual (see the module docstring)."""

    def __init__(self) -> None:
        self._virtual_now = 0.0
        super().__init__(selector=_Selector(self))

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (the selector does this when the loop would wait)."""
        self._virtual_now += max(0.0, seconds)
