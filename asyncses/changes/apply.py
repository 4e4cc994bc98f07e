"""Applying changes: re-read, then change only what still is as the plan saw it.

For each change, in its unit (account and region), paced like every other call (writes on
a pacer of their own), the item is read again first:

* the target state holds already: ``already`` (a resumed apply finds here the changes it
  made before it was killed);
* the item is no longer as the plan saw it (``expect``): ``drifted``, nothing changed;
* a dry run: ``would-apply``;
* else the call is made: ``applied``, or ``failed`` with the error. A write that may have
  happened (a timeout, a dropped connection, a 5xx) is not sent again blindly: the item is
  read again, and the write is sent again only if the target state does not hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any, Final, Literal, NotRequired, TypedDict

from ..engine.errors import NotFoundError, OperationError, ThrottledError
from ..reports.base import Caller, UnitJob
from ..reports.records import DEDICATED_IP_POOL, EMAIL_IDENTITY, ErrorInfo, error_info
from ..ses import operations as ops
from .actions import DEDICATED_IP, Change, flatten, holds

__all__ = ["FINAL", "OUTCOME", "ApplyReport", "OutcomeRecord"]

OUTCOME: Final = "outcome"
#: Outcomes after which a resumed apply leaves the change alone.
FINAL: Final = frozenset({"applied", "already", "drifted"})
Status = Literal["applied", "already", "drifted", "failed", "would-apply"]


class OutcomeRecord(TypedDict):
    """What became of one change."""

    type: Literal["outcome"]
    change: str
    action: str
    account: NotRequired[str]
    region: str
    target: dict[str, Any]
    status: Status
    error: ErrorInfo | None


class ApplyReport:
    """The changes of a plan, by (account, region), applied (or, ``dry_run``, checked).
    Changes whose id is in ``done`` are left out."""

    record_type = OUTCOME

    def __init__(
        self,
        changes: Mapping[tuple[str | None, str], Sequence[Change]],
        *,
        dry_run: bool = False,
        done: Collection[str] = (),
    ) -> None:
        self.changes = changes
        self.dry_run = dry_run
        self.done = done

    def job(self, unit: Caller) -> UnitJob[OutcomeRecord]:
        """The changes of one account in one region."""
        return _ApplyJob(unit, self)


class _ApplyJob(UnitJob[OutcomeRecord]):
    record_type = OUTCOME

    def __init__(self, unit: Caller, report: ApplyReport) -> None:
        self.unit = unit
        self.report = report

    async def items(self) -> AsyncIterator[Any]:
        for change in self.report.changes.get((self.unit.account, self.unit.region), ()):
            if change["id"] not in self.report.done:
                yield change

    def name(self, item: Any) -> str:
        return str(item["id"])

    def _outcome(
        self, change: Change, status: Status, error: OperationError | None = None
    ) -> OutcomeRecord:
        outcome: OutcomeRecord = {
            "type": OUTCOME,
            "change": change["id"],
            "action": change["action"],
            "region": self.unit.region,
            "target": dict(change["target"]),
            "status": status,
            "error": error_info(error) if error is not None else None,
        }
        if self.unit.account is not None:
            outcome["account"] = self.unit.account
        return outcome

    async def records(self, item: Any) -> Sequence[OutcomeRecord]:
        change: Change = item
        try:
            state = await self._read(change)
        except OperationError as exc:
            return [self._outcome(change, "failed", exc)]
        if holds(change["want"], state):
            return [self._outcome(change, "already")]
        if not holds(change["expect"], state):
            return [self._outcome(change, "drifted")]
        if self.report.dry_run:
            return [self._outcome(change, "would-apply")]
        return [await self._write(change)]

    async def _write(self, change: Change) -> OutcomeRecord:
        call = change["call"]
        key = change["target"]["name"]
        try:
            params = await self._params(call["params"])
        except OperationError as exc:
            return self._outcome(change, "failed", exc)

        async def landed() -> bool:
            """After a write that may have happened: does the target state hold now?"""
            return holds(change["want"], await self._read(change))

        try:
            await self.unit.write(call["operation"], params, key=key, landed=landed)
        except OperationError as exc:
            # aiohttp sends a PUT or DELETE once more by itself when its connection drops,
            # inside the one call: a delete whose first send landed then comes back 404.
            # What counts is the state: if the change holds now, it was made.
            try:
                if not isinstance(exc, ThrottledError) and await landed():
                    return self._outcome(change, "applied")
            except OperationError:
                pass
            return self._outcome(change, "failed", exc)
        return self._outcome(change, "applied")

    async def _params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The call's parameters, with the account filled in where the plan did not know it
        (an identity's ARN from a report of one account)."""
        filled = dict(params)
        arn = filled.get("ResourceArn")
        if isinstance(arn, str) and "{account}" in arn:
            filled["ResourceArn"] = arn.replace("{account}", await self.unit.account_id())
        return filled

    async def _read(self, change: Change) -> dict[str, Any]:
        """The item as it is now, flattened (``exists`` false if it is gone)."""
        target = change["target"]
        kind, name = target["kind"], target["name"]
        try:
            if kind == EMAIL_IDENTITY:
                found = await self.unit.call(
                    ops.GET_EMAIL_IDENTITY, {"EmailIdentity": name}, key=name
                )
                return flatten(found)
            if kind == DEDICATED_IP_POOL:
                found = await self.unit.call(
                    ops.GET_DEDICATED_IP_POOL, {"PoolName": name}, key=name
                )
                return flatten(found.get("DedicatedIpPool") or {})
            if kind == DEDICATED_IP:
                found = await self.unit.call(ops.GET_DEDICATED_IP, {"Ip": name}, key=name)
                return flatten(found.get("DedicatedIp") or {})
        except NotFoundError:
            return flatten(None)
        raise ValueError(f"unknown target kind {kind!r}")
