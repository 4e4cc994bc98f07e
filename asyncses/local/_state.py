"""State the local endpoint keeps beside moto's: per (account, region) and per server.

:class:`Extras` hangs off moto's sesv2 backend object of one account and region
(in its ``__dict__``), so moto's reset drops it with the rest of the state.
:class:`ServerState` belongs to one :class:`~asyncses.local.LocalSES`.
Nothing here imports moto.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._constants import SUPPRESSION_REASONS

_EXTRAS_ATTR = "_asyncses_local_extras"
_extras_lock = threading.Lock()


@dataclass
class ImportJob:
    """One SES v2 import job."""

    job_id: str
    destination: dict[str, Any]
    data_source: dict[str, str]
    status: str
    created: float
    completed: float | None = None
    processed: int = 0
    failed: int = 0
    failure_info: dict[str, str] | None = None

    @property
    def destination_type(self) -> str:
        """``SUPPRESSION_LIST`` or ``CONTACT_LIST``, as ListImportJobs filters."""
        if "SuppressionListDestination" in self.destination:
            return "SUPPRESSION_LIST"
        return "CONTACT_LIST"

    def summary(self) -> dict[str, Any]:
        """The ``ImportJobSummary`` shape of ListImportJobs."""
        return {
            "JobId": self.job_id,
            "ImportDestination": self.destination,
            "JobStatus": self.status,
            "CreatedTimestamp": self.created,
            "ProcessedRecordsCount": self.processed,
            "FailedRecordsCount": self.failed,
        }

    def detail(self) -> dict[str, Any]:
        """The GetImportJob answer."""
        body = self.summary()
        body["ImportDataSource"] = self.data_source
        if self.completed is not None:
            body["CompletedTimestamp"] = self.completed
        if self.failure_info is not None:
            body["FailureInfo"] = self.failure_info
        return body


@dataclass
class DedicatedIp:
    """One dedicated IP address and the pool it belongs to."""

    ip: str
    warmup_status: str
    warmup_percentage: int
    pool_name: str

    def to_dict(self) -> dict[str, Any]:
        """The ``DedicatedIp`` shape."""
        return {
            "Ip": self.ip,
            "WarmupStatus": self.warmup_status,
            "WarmupPercentage": self.warmup_percentage,
            "PoolName": self.pool_name,
        }


@dataclass
class AccountSettings:
    """What GetAccount answers for one account and region."""

    production_access: bool = True
    sending_enabled: bool = True
    enforcement_status: str = "HEALTHY"
    max_24_hour_send: float = 50000.0
    max_send_rate: float = 14.0
    sent_last_24_hours: float = 0.0
    suppressed_reasons: tuple[str, ...] = SUPPRESSION_REASONS
    vdm_enabled: bool = False
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The GetAccount answer."""
        body: dict[str, Any] = {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": self.enforcement_status,
            "ProductionAccessEnabled": self.production_access,
            "SendQuota": {
                "Max24HourSend": self.max_24_hour_send,
                "MaxSendRate": self.max_send_rate,
                "SentLast24Hours": self.sent_last_24_hours,
            },
            "SendingEnabled": self.sending_enabled,
            "SuppressionAttributes": {"SuppressedReasons": list(self.suppressed_reasons)},
            "VdmAttributes": {"VdmEnabled": "ENABLED" if self.vdm_enabled else "DISABLED"},
        }
        if self.details is not None:
            body["Details"] = self.details
        return body


@dataclass
class CustomVerificationTemplate:
    """One custom verification email template."""

    name: str
    from_address: str
    subject: str
    content: str
    success_url: str
    failure_url: str

    def metadata(self) -> dict[str, Any]:
        """The ``CustomVerificationEmailTemplateMetadata`` shape."""
        return {
            "TemplateName": self.name,
            "FromEmailAddress": self.from_address,
            "TemplateSubject": self.subject,
            "SuccessRedirectionURL": self.success_url,
            "FailureRedirectionURL": self.failure_url,
        }

    def detail(self) -> dict[str, Any]:
        """The GetCustomVerificationEmailTemplate answer."""
        body = self.metadata()
        body["TemplateContent"] = self.content
        return body


class SuppressionList:
    """The account-level suppression list, stored compactly.

    Addresses map to slots of two parallel arrays (reason code, LastUpdateTime);
    the newest-first order is computed when listed and cached until the next change.
    """

    def __init__(self) -> None:
        """An empty list."""
        self._lock = threading.RLock()
        self._slots: dict[str, int] = {}
        self._addresses: list[str | None] = []
        self._reasons = bytearray()
        self._times = array("d")
        self._free: list[int] = []
        self._order: list[int] | None = None

    def __len__(self) -> int:
        """How many addresses are suppressed."""
        return len(self._slots)

    def put(self, address: str, reason: str, when: float) -> None:
        """Add or update one address."""
        self.put_many([address], bytes([SUPPRESSION_REASONS.index(reason)]), [when])

    def put_many(self, addresses: Sequence[str], reasons: bytes, times: Sequence[float]) -> None:
        """Add or update many addresses; ``reasons`` holds indexes into SUPPRESSION_REASONS."""
        with self._lock:
            self._order = None
            slots, names, codes, stamps, free = (
                self._slots,
                self._addresses,
                self._reasons,
                self._times,
                self._free,
            )
            for address, code, when in zip(addresses, reasons, times, strict=True):
                slot = slots.get(address)
                if slot is None:
                    if free:
                        slot = free.pop()
                        names[slot] = address
                    else:
                        slot = len(names)
                        names.append(address)
                        codes.append(0)
                        stamps.append(0.0)
                    slots[address] = slot
                codes[slot] = code
                stamps[slot] = when

    def get(self, address: str) -> tuple[str, float] | None:
        """(reason, LastUpdateTime) of an address, or None."""
        with self._lock:
            slot = self._slots.get(address)
            if slot is None:
                return None
            return SUPPRESSION_REASONS[self._reasons[slot]], self._times[slot]

    def delete(self, address: str) -> bool:
        """Remove an address; False if it was not listed."""
        with self._lock:
            slot = self._slots.pop(address, None)
            if slot is None:
                return False
            self._addresses[slot] = None
            self._free.append(slot)
            self._order = None
            return True

    def _sorted(self) -> list[int]:
        """Slots newest first (ties by address); cached until the next change."""
        if self._order is None:
            names, times = self._addresses, self._times
            self._order = sorted(self._slots.values(), key=lambda s: (-times[s], names[s] or ""))
        return self._order

    def page(
        self,
        reasons: Iterable[str] | None,
        start: float | None,
        end: float | None,
        after: tuple[float, str] | None,
        size: int,
    ) -> tuple[list[tuple[str, str, float]], tuple[float, str] | None]:
        """One page of (address, reason, time), newest first, after the cursor ``after``.

        Returns the page and the cursor of its last item if more items follow.
        """
        codes = None if reasons is None else {SUPPRESSION_REASONS.index(r) for r in reasons}
        with self._lock:
            order = self._sorted()
            names, kinds, times = self._addresses, self._reasons, self._times
            position = 0
            if after is not None:
                position = bisect.bisect_right(
                    order, (-after[0], after[1]), key=lambda s: (-times[s], names[s] or "")
                )
            page: list[tuple[str, str, float]] = []
            last: tuple[float, str] | None = None
            for index in range(position, len(order)):
                slot = order[index]
                when = times[slot]
                if end is not None and when > end:
                    continue
                if start is not None and when < start:
                    break  # newest first: everything after is older still
                if codes is not None and kinds[slot] not in codes:
                    continue
                if len(page) == size:
                    return page, last
                address = names[slot]
                assert address is not None
                page.append((address, SUPPRESSION_REASONS[kinds[slot]], when))
                last = (when, address)
            return page, None


@dataclass
class Extras:
    """Per-(account, region) SES state moto has no place for."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    import_jobs: dict[str, ImportJob] = field(default_factory=dict)
    dedicated_ips: dict[str, DedicatedIp] = field(default_factory=dict)
    ip_counter: int = 0
    account: AccountSettings = field(default_factory=AccountSettings)
    suppressions: SuppressionList = field(default_factory=SuppressionList)
    #: configuration set name -> event destination name -> EventDestination shape
    event_destinations: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    custom_verification_templates: dict[str, CustomVerificationTemplate] = field(
        default_factory=dict
    )


def extras_of(backend: Any) -> Extras:
    """The extra state attached to one moto sesv2 backend, created on first use."""
    found = backend.__dict__.get(_EXTRAS_ATTR)
    if isinstance(found, Extras):
        return found
    with _extras_lock:
        created = backend.__dict__.setdefault(_EXTRAS_ATTR, Extras())
    assert isinstance(created, Extras)
    return created


class ServerState:
    """Settings and counters of one LocalSES, shared with its request handlers."""

    def __init__(self, sts_credential_lifetime: float | None = None) -> None:
        """Nothing disabled, no AssumeRole calls yet."""
        self.lock = threading.Lock()
        self.disabled_regions: set[tuple[str, str]] = set()
        self.sts_credential_lifetime = sts_credential_lifetime
        self.assume_role_calls: dict[str, int] = {}
        self.operation_calls: dict[str, int] = {}
        self.hooks: dict[str, Callable[[str, str, dict[str, Any]], None]] = {}

    def count_operation(self, operation: str) -> None:
        """Count one SES v2 request for ``operation``."""
        with self.lock:
            self.operation_calls[operation] = self.operation_calls.get(operation, 0) + 1

    def count_assume_role(self, role_arn: str) -> None:
        """Count one AssumeRole call for ``role_arn``."""
        with self.lock:
            self.assume_role_calls[role_arn] = self.assume_role_calls.get(role_arn, 0) + 1

    def region_disabled(self, account_id: str, region: str) -> bool:
        """Whether SES calls for this account and region are refused."""
        return (account_id, region) in self.disabled_regions

    def clear(self) -> None:
        """Forget disabled regions and AssumeRole counts (the lifetime setting stays)."""
        with self.lock:
            self.disabled_regions.clear()
            self.assume_role_calls.clear()
            self.operation_calls.clear()
            self.hooks.clear()
