"""The import job report: ListImportJobs, and GetImportJob per job with ``details``."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from anyio.streams.memory import MemoryObjectSendStream

from . import _ses
from ._exceptions import OperationError
from ._pool import Workers, run_pool
from ._records import IMPORT_JOB, ImportJobRecord, ItemKey, new_record

if TYPE_CHECKING:
    from ._client import Client


async def run(
    client: Client,
    output: MemoryObjectSendStream[ImportJobRecord],
    *,
    destination_type: str | None,
    details: bool,
    skip: Collection[ItemKey],
) -> None:
    """Send one record per import job of every region to ``output``, then close it."""
    account = client.account
    params = {"ImportDestinationType": destination_type} if destination_type else {}

    def base(region: str, entry: dict[str, Any]) -> dict[str, Any]:
        return new_record(IMPORT_JOB, region, account, entry)

    async def listed(item: tuple[str, dict[str, Any]]) -> ImportJobRecord:
        record = base(*item)
        record["error"] = None
        return record  # type: ignore[return-value]  # built to the TypedDict's shape

    async def looked_up(item: tuple[str, dict[str, Any]]) -> ImportJobRecord:
        region, entry = item
        record = base(region, entry)
        job_id = str(entry.get("JobId"))
        try:
            answer = await client.call(region, _ses.GET_IMPORT_JOB, {"JobId": job_id}, key=job_id)
        except OperationError as exc:
            record["error"] = exc.to_record()
        else:
            record.update(answer)
            record["error"] = None
        return record  # type: ignore[return-value]  # built to the TypedDict's shape

    await run_pool(
        client.listed_items(
            IMPORT_JOB,
            _ses.LIST_IMPORT_JOBS,
            "ImportJobs",
            name=lambda entry: str(entry.get("JobId")),
            params=params,
            skip=skip,
        ),
        [Workers(looked_up if details else listed, client.concurrency)],
        output,
    )
