"""What a report needs of the layers below: the :class:`Caller` and :class:`UnitSource`
interfaces, and the :class:`UnitJob` a report writes for each account and region.

A report module depends on these small protocols, not on :class:`asyncses.Client` or on the
SES adapter's classes: anything that can call an operation and list its pages serves.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Protocol, TypeVar

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

__all__ = ["Caller", "Report", "UnitJob", "UnitSource"]


class Caller(Protocol):
    """Calls to one account in one region, paced and retried."""

    @property
    def account(self) -> str | None:
        """The account id, when the run knows it."""

    @property
    def region(self) -> str:
        """The region."""

    async def account_id(self) -> str:
        """The account id: ``account`` when the run knows it, else looked up (once)."""

    async def call(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        write: bool = False,
    ) -> dict[str, Any]:
        """One operation; a JSON-ready answer, or an ``OperationError`` if it fails for good.
        A ``write`` is paced on its own and tried once, throttles aside."""

    async def write(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        key: str | None = None,
        landed: Callable[[], Awaitable[bool]],
    ) -> dict[str, Any] | None:
        """A change made at most once: sent again after an ambiguous failure only if
        ``landed()`` (a re-read) says it did not happen; ``None`` if it had."""

    def pages(
        self,
        operation: str,
        items_key: str,
        params: Mapping[str, Any] | None = None,
        *,
        counted: bool = False,
    ) -> AsyncIterator[Any]:
        """The items of every page of a ``NextToken``/``PageSize`` list operation."""


class UnitSource(Protocol):
    """An account in a region, known before it is opened (so a failure to open it can
    still be reported as that account and region)."""

    @property
    def account(self) -> str | None:
        """The account id, when known."""

    @property
    def region(self) -> str:
        """The region."""

    def open(self) -> AbstractAsyncContextManager[Caller]:
        """Open the unit (assume a role, create a client): an async context manager."""


class UnitJob(Generic[R]):
    """A report's work in one unit: list the items, turn each into records.

    :meth:`records` returns the records an item makes now (usually one; none when a record
    must wait for another item, as an address identity waits for its domain);
    :meth:`leftovers` returns what still waits once every item is done.
    """

    #: The record type this job writes.
    record_type: str = ""

    def items(self) -> AsyncIterator[Any]:
        """The listing (counted, for progress)."""
        raise NotImplementedError

    def name(self, item: Any) -> str:
        """The item's name or id (the last part of its key)."""
        raise NotImplementedError

    def key_type(self, item: Any) -> str:
        """The record type of the item's key (a job that lists several kinds says which)."""
        return self.record_type

    def records(self, item: Any) -> Awaitable[Sequence[R]] | AsyncGenerator[R, None]:
        """The records ``item`` makes now. Never raises for a failed lookup: the record
        carries the error. (A job whose items make very many records, such as a contact
        list's contacts, returns an async iterator of them instead.)"""
        raise NotImplementedError

    def leftovers(self) -> Sequence[R]:
        """Records still waiting when every item is done."""
        return ()


class Report(Protocol[R_co]):
    """A resource's report: the record type, and the job it runs in each unit."""

    @property
    def record_type(self) -> str:
        """The type of the records (``email_identity``, ...)."""

    def job(self, unit: Caller) -> UnitJob[Any]:
        """The work in one unit."""
