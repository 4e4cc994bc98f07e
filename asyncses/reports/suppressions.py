"""The suppression list report: ListSuppressedDestinations (with its filters), one record
per address; ``details`` adds GetSuppressedDestination (the message and feedback ids).

An account's suppression list can hold millions of addresses: they stream from the pages
to the report, one page in memory at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..engine.errors import OperationError, UsageError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .records import (
    SUPPRESSED_DESTINATION,
    SuppressedDestinationAnswer,
    SuppressedDestinationRecord,
    answer,
    error_info,
)

__all__ = ["SuppressionReport"]


class SuppressionReport:
    """Every suppressed address, optionally of some reasons, last updated in a time span."""

    record_type = SUPPRESSED_DESTINATION

    def __init__(
        self,
        *,
        reasons: Sequence[str] = (),
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        details: bool = False,
    ) -> None:
        for reason in reasons:
            if reason not in ops.SUPPRESSION_REASONS:
                raise UsageError(
                    f"invalid reason {reason!r}: use {' or '.join(ops.SUPPRESSION_REASONS)}"
                )
        if since is not None and until is not None and since > until:
            raise UsageError("--since must not be after --until")
        self.reasons = tuple(dict.fromkeys(reasons))
        self.since = since
        self.until = until
        self.details = details

    def job(self, unit: Caller) -> UnitJob[SuppressedDestinationRecord]:
        """The suppression list of one account in one region."""
        return _Suppressions(unit, self)


class _Suppressions(UnitJob[SuppressedDestinationRecord]):
    record_type = SUPPRESSED_DESTINATION

    def __init__(self, unit: Caller, report: SuppressionReport) -> None:
        self.unit = unit
        self.report = report

    def items(self) -> AsyncIterator[Any]:
        params: dict[str, Any] = {}
        if self.report.reasons:
            params["Reasons"] = list(self.report.reasons)
        if self.report.since is not None:
            params["StartDate"] = self.report.since
        if self.report.until is not None:
            params["EndDate"] = self.report.until
        return self.unit.pages(
            ops.LIST_SUPPRESSED_DESTINATIONS, "SuppressedDestinationSummaries", params, counted=True
        )

    def name(self, item: Any) -> str:
        return str(item.get("EmailAddress"))

    async def records(self, item: Any) -> Sequence[SuppressedDestinationRecord]:
        record: SuppressedDestinationRecord = {
            "type": SUPPRESSED_DESTINATION,
            "region": self.unit.region,
        }
        if self.unit.account is not None:
            record["account"] = self.unit.account
        record = {**record, **answer(SuppressedDestinationAnswer, item), "error": None}
        if not self.report.details:
            return [record]
        address = self.name(item)
        try:
            found = await self.unit.call(
                ops.GET_SUPPRESSED_DESTINATION, {"EmailAddress": address}, key=address
            )
        except OperationError as exc:
            record["error"] = error_info(exc)
        else:
            detail = answer(SuppressedDestinationAnswer, found.get("SuppressedDestination") or {})
            record = {**record, **detail, "error": None}
        return [record]
