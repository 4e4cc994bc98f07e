"""Pagination over any ``NextToken``-style list operation, one page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from .errors import PaginationError

__all__ = ["paginate"]

FetchPage = Callable[[str | None], Awaitable[Mapping[str, Any]]]


async def paginate(
    fetch: FetchPage, items_key: str, *, token_key: str = "NextToken"
) -> AsyncIterator[Any]:
    """Yield the items of every page as each page arrives.

    ``fetch(token)`` returns one page (``token`` is ``None`` for the first); retries belong
    inside ``fetch``. Only the current page is held in memory.
    """
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = await fetch(token)
        for item in page.get(items_key) or ():
            yield item
        token = page.get(token_key) or None
        if token is None:
            return
        if token in seen:
            raise PaginationError(f"the service repeated the page token {token[:16]!r}...")
        seen.add(token)
