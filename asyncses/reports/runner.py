"""Running a report over units (accounts in regions): the path of every record.

For each unit, at most ``units_at_once`` at a time: open it, list its items while ``concurrency``
workers take them in turn and turn each into records, and send the records to one output
stream. A unit that cannot be opened, or that refuses its first call, gives one ``account``
error record; a listing that stops part-way gives a ``listing`` error record after the
records of the items it did list. Neither stops the other units. An unreachable endpoint
(:class:`~asyncses.ses.unit.UnreachableError`, a configuration error) stops the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from anyio.streams.memory import MemoryObjectSendStream

from ..engine.errors import (
    AccessError,
    AsyncsesError,
    OperationError,
    PaginationError,
    UsageError,
)
from ..engine.pool import run_each, run_pool
from .base import Report, UnitSource
from .findings import DomainDkim
from .records import (
    ACCOUNT,
    LISTING,
    ItemKey,
    ListingErrorRecord,
    UnitErrorRecord,
    error_info,
    head,
)

__all__ = ["Resume", "run_report"]


@dataclass
class Resume:
    """What a resumed run leaves out, and what it learns about the items it left out.

    ``skip`` holds the keys of items already in the report; the run fills ``seen`` with
    the skipped keys that are still listed, and ``listed`` with the (account, region) of
    every unit whose listing went to its end (items of those units that were not seen are
    gone).
    """

    skip: Collection[ItemKey] = ()
    seen: set[ItemKey] = field(default_factory=set)
    listed: set[tuple[str | None, str]] = field(default_factory=set)
    #: For the identity report: the DKIM standing of the domain identities left out, by
    #: (account, region) and domain, which their addresses inherit.
    dkim: dict[tuple[str | None, str], dict[str, DomainDkim]] = field(default_factory=dict)


async def run_report(
    report: Report[Any],
    units: Sequence[UnitSource],
    output: MemoryObjectSendStream[Any],
    *,
    concurrency: int,
    units_at_once: int,
    resume: Resume | None = None,
    preamble: Sequence[Any] = (),
) -> None:
    """Send the records of ``report`` in every unit to ``output``, then close it.

    ``preamble`` holds records to send first (accounts that could not be opened at all).
    """
    async with output:
        for record in preamble:
            await output.send(record)

        async def one(source: UnitSource) -> None:
            with structlog.contextvars.bound_contextvars(
                account=source.account, region=source.region
            ):
                await _run_unit(report, source, output, concurrency, resume)

        await run_each(units, one, limit=units_at_once)


async def _run_unit(
    report: Report[Any],
    source: UnitSource,
    output: MemoryObjectSendStream[Any],
    concurrency: int,
    resume: Resume | None,
) -> None:
    listing_error: AsyncsesError | None = None
    listed = 0
    try:
        async with source.open() as unit:
            job = report.job(unit)
            skip = resume.skip if resume is not None else ()

            async def items() -> AsyncIterator[Any]:
                nonlocal listing_error, listed
                try:
                    async for item in job.items():
                        listed += 1
                        if skip:
                            key = (job.key_type(item), unit.account, unit.region, job.name(item))
                            if key in skip:
                                assert resume is not None
                                resume.seen.add(key)
                                continue
                        yield item
                except (OperationError, PaginationError) as exc:
                    listing_error = exc

            await run_pool(items(), job.records, concurrency, output.clone())
            async with output.clone() as out:
                for record in job.leftovers():
                    await out.send(record)
                if listing_error is None:
                    if resume is not None:
                        resume.listed.add((unit.account, unit.region))
                    return
                if listed == 0 and isinstance(listing_error, AccessError):
                    await out.send(_unit_error(source, listing_error))
                else:
                    await out.send(_listing_error(source, listing_error))
    except UsageError:
        raise  # a configuration error: the endpoint, the region, the credentials
    except OperationError as exc:  # the unit could not be opened (a role, a region)
        async with output.clone() as out:
            await out.send(_unit_error(source, exc))


def _unit_error(source: UnitSource, exc: AsyncsesError) -> UnitErrorRecord:
    return {"type": ACCOUNT, **head(source.account, source.region), "error": error_info(exc)}


def _listing_error(source: UnitSource, exc: AsyncsesError) -> ListingErrorRecord:
    operation = exc.operation if isinstance(exc, OperationError) else ""
    return {
        "type": LISTING,
        **head(source.account, source.region),
        "operation": operation,
        "error": error_info(exc),
    }
