"""The email identity audit: ListEmailIdentities, then GetEmailIdentity per identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from anyio.streams.memory import MemoryObjectSendStream

from . import _ses
from ._exceptions import OperationError
from ._findings import identity_findings
from ._pool import Workers, run_pool
from ._records import EMAIL_IDENTITY, EmailIdentityRecord, ItemKey, new_record
from ._shard import ShardSet

if TYPE_CHECKING:
    from ._client import Client

Item = tuple[str, dict[str, Any]]  # (region, ListEmailIdentities entry)
Lookup = Callable[[Item], Awaitable[EmailIdentityRecord]]


def make_lookup(client: Client, *, list_only: bool = False) -> Lookup:
    """The function that turns one listed identity into its record."""
    account = client.account

    def base(region: str, entry: dict[str, Any]) -> dict[str, Any]:
        return new_record(EMAIL_IDENTITY, region, account, entry)

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
            record.update(answer)
            record["findings"] = identity_findings(record)
            record["error"] = None
        return record  # type: ignore[return-value]  # built to the TypedDict's shape

    return listed if list_only else looked_up


async def run(
    client: Client,
    output: MemoryObjectSendStream[EmailIdentityRecord],
    *,
    list_only: bool,
    skip: Collection[ItemKey],
) -> None:
    """Send one record per identity of every region to ``output``, then close it."""
    lookup = make_lookup(client, list_only=list_only)
    sources = client.listed_items(
        EMAIL_IDENTITY,
        _ses.LIST_EMAIL_IDENTITIES,
        "EmailIdentities",
        name=lambda entry: str(entry.get("IdentityName")),
        skip=skip,
    )
    children = client.shard_children() if not list_only else 0
    if not children:
        await run_pool(sources, [Workers(lookup, client.concurrency)], output)
        return
    # Past SHARD_THRESHOLD listed identities, child processes take shares of the lookups;
    # until then (and in small runs) stand-in workers keep the full concurrency here.
    per_process = max(1, client.concurrency // (children + 1))
    # ``output`` stays open until the children are closed and their counters are in.
    async with (
        output,
        ShardSet(client, EMAIL_IDENTITY, {}, children=children, per_child=per_process) as shards,
    ):
        own = client.concurrency - per_process * children
        groups: list[Workers[Item, EmailIdentityRecord]] = [
            Workers(lookup, own),
            Workers(lookup, client.concurrency - own, retire=lambda: shards.running),
            *shards.workers(lookup),
        ]
        await run_pool(sources, groups, output.clone())
