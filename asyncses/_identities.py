"""The email identity audit: ListEmailIdentities, then GetEmailIdentity per identity."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from anyio.streams.memory import MemoryObjectSendStream

from . import _ses
from ._exceptions import OperationError
from ._findings import identity_findings
from ._pool import run_pool
from ._records import EMAIL_IDENTITY, EmailIdentityRecord, ItemKey

if TYPE_CHECKING:
    from ._client import Client

Item = tuple[str, dict[str, Any]]  # (region, ListEmailIdentities entry)


async def run(
    client: Client,
    output: MemoryObjectSendStream[EmailIdentityRecord],
    *,
    list_only: bool,
    skip: Collection[ItemKey],
) -> None:
    """Send one record per identity of every region to ``output``, then close it."""
    account = client.account

    async def source(region: str) -> Any:
        async for entry in client.listing(
            region, _ses.LIST_EMAIL_IDENTITIES, "EmailIdentities", counted=True
        ):
            if skip and (EMAIL_IDENTITY, account, region, entry.get("IdentityName")) in skip:
                client.stats.listed -= 1  # not to be done: out of the total
                continue
            yield region, entry

    def base(region: str, entry: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {"type": EMAIL_IDENTITY, "region": region}
        if account is not None:
            record["account"] = account
        record.update(_ses.jsonable(entry))
        return record

    async def listed(item: Item) -> EmailIdentityRecord:
        record = base(*item)
        record["findings"] = identity_findings(record, list_only=True)
        record["error"] = None
        return record  # type: ignore[return-value]  # built to the TypedDict's shape

    async def looked_up(item: Item) -> EmailIdentityRecord:
        region, entry = item
        record = base(region, entry)
        name = str(entry.get("IdentityName"))
        try:
            answer = await client.call(
                region, _ses.GET_EMAIL_IDENTITY, {"EmailIdentity": name}, key=name
            )
        except OperationError as exc:
            record["findings"] = identity_findings(record, list_only=True)
            record["error"] = exc.to_record()
        else:
            record.update(_ses.jsonable(answer))
            record["findings"] = identity_findings(record)
            record["error"] = None
        return record  # type: ignore[return-value]  # built to the TypedDict's shape

    await run_pool(
        [source(region) for region in client.regions],
        listed if list_only else looked_up,
        output,
        concurrency=client.concurrency,
    )
