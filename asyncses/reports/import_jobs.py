"""The import job report: ListImportJobs, and GetImportJob per job with ``details``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..engine.errors import OperationError, UsageError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .records import (
    IMPORT_JOB,
    ImportJobAnswer,
    ImportJobRecord,
    ImportJobSummary,
    answer,
    error_info,
    import_job_head,
)

__all__ = ["ImportJobReport"]


class ImportJobReport:
    """Every import job (of one destination type), with GetImportJob fields if ``details``."""

    record_type = IMPORT_JOB

    def __init__(self, *, destination_type: str | None = None, details: bool = False) -> None:
        if destination_type is not None and destination_type not in ops.IMPORT_DESTINATION_TYPES:
            raise UsageError(
                f"invalid destination type {destination_type!r}: "
                f"use one of {', '.join(ops.IMPORT_DESTINATION_TYPES)}"
            )
        self.destination_type = destination_type
        self.details = details

    def job(self, unit: Caller) -> UnitJob[ImportJobRecord]:
        """The import job report of one account in one region."""
        return _ImportJobs(unit, self)


class _ImportJobs(UnitJob[ImportJobRecord]):
    record_type = IMPORT_JOB

    def __init__(self, unit: Caller, report: ImportJobReport) -> None:
        self.unit = unit
        self.report = report

    def items(self) -> AsyncIterator[Any]:
        wanted = self.report.destination_type
        params = {"ImportDestinationType": wanted} if wanted else {}
        return self.unit.pages(ops.LIST_IMPORT_JOBS, "ImportJobs", params, counted=True)

    def name(self, item: Any) -> str:
        return str(item.get("JobId"))

    async def records(self, item: Any) -> Sequence[ImportJobRecord]:
        record: ImportJobRecord = {
            **import_job_head(self.unit.account, self.unit.region),
            **answer(ImportJobSummary, item),
            "error": None,
        }
        if not self.report.details:
            return [record]
        job_id = self.name(item)
        try:
            found = await self.unit.call(ops.GET_IMPORT_JOB, {"JobId": job_id}, key=job_id)
        except OperationError as exc:
            record["error"] = error_info(exc)
        else:
            record = {**record, **answer(ImportJobAnswer, found), "error": None}
        return [record]
