"""The account report: GetAccount in each account and region, with its findings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..engine.errors import AccessError, OperationError, UsageError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .findings import (
    ENFORCEMENT_PROBATION,
    ENFORCEMENT_SHUTDOWN,
    QUOTA_NEARLY_USED,
    SANDBOX,
    SENDING_PAUSED,
)
from .records import SES_ACCOUNT, AccountAnswer, SesAccountRecord, answer, error_info

__all__ = ["AccountReport", "account_findings"]

#: QUOTA_NEARLY_USED fires from this share of the daily quota on, by default.
DEFAULT_QUOTA_THRESHOLD = 0.8


def account_findings(
    record: SesAccountRecord, *, threshold: float = DEFAULT_QUOTA_THRESHOLD
) -> tuple[list[str], dict[str, Any]]:
    """The findings of an account's standing, and their detail."""
    found: list[str] = []
    detail: dict[str, Any] = {}
    if record.get("ProductionAccessEnabled") is False:
        found.append(SANDBOX)
    if record.get("SendingEnabled") is False:
        found.append(SENDING_PAUSED)
    status = str(record.get("EnforcementStatus", "")).upper()
    if status == "PROBATION":
        found.append(ENFORCEMENT_PROBATION)
    elif status == "SHUTDOWN":
        found.append(ENFORCEMENT_SHUTDOWN)
    quota = record.get("SendQuota") or {}
    most, sent = quota.get("Max24HourSend"), quota.get("SentLast24Hours")
    if (
        isinstance(most, int | float)
        and isinstance(sent, int | float)
        and most > 0
        and sent >= threshold * most
    ):
        found.append(QUOTA_NEARLY_USED)
        detail[QUOTA_NEARLY_USED] = {"used": round(sent / most, 4), "threshold": threshold}
    return found, detail


class AccountReport:
    """The account's SES standing (production access, sending, enforcement, quota) in every
    account and region; ``quota_threshold`` sets when QUOTA_NEARLY_USED fires."""

    record_type = SES_ACCOUNT

    def __init__(self, *, quota_threshold: float = DEFAULT_QUOTA_THRESHOLD) -> None:
        if not 0 < quota_threshold <= 1:
            raise UsageError(
                f"quota threshold must be above 0 and at most 1, not {quota_threshold}"
            )
        self.quota_threshold = quota_threshold

    def job(self, unit: Caller) -> UnitJob[SesAccountRecord]:
        """GetAccount in one account and region."""
        return _AccountJob(unit, self.quota_threshold)


class _AccountJob(UnitJob[SesAccountRecord]):
    record_type = SES_ACCOUNT

    def __init__(self, unit: Caller, threshold: float) -> None:
        self.unit = unit
        self.threshold = threshold

    async def items(self) -> AsyncIterator[Any]:
        """The one item: GetAccount's answer, or the error it failed with. Refused
        credentials (or a region the account has not enabled) are raised instead, like a
        refused listing: the runner makes them the unit's ``account`` record."""
        try:
            yield await self.unit.call(ops.GET_ACCOUNT)
        except AccessError:
            raise
        except OperationError as exc:
            yield exc

    def name(self, item: Any) -> str:
        return ""

    async def records(self, item: Any) -> Sequence[SesAccountRecord]:
        record: SesAccountRecord = {"type": SES_ACCOUNT, "region": self.unit.region}
        if self.unit.account is not None:
            record["account"] = self.unit.account
        if isinstance(item, OperationError):
            record["error"] = error_info(item)
            return [record]
        record = {**record, **answer(AccountAnswer, item), "error": None}
        record["findings"], detail = account_findings(record, threshold=self.threshold)
        if detail:
            record["findings_detail"] = detail
        return [record]
