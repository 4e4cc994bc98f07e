"""The email identity report: ListEmailIdentities, then GetEmailIdentity per identity.

An email address takes its DKIM findings from its domain identity (see
:mod:`asyncses.reports.findings`), so an address's record waits until the domain's lookup
is done, or until the listing shows there is no such domain; it never waits longer than its
unit's audit. Only addresses wait, only in memory, and only their records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ..engine.errors import OperationError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .findings import DomainDkim, domain_dkim, identity_findings
from .records import (
    EMAIL_IDENTITY,
    EmailIdentityAnswer,
    EmailIdentityRecord,
    IdentityInfo,
    answer,
    error_info,
    identity_head,
)

__all__ = ["IdentityReport"]


class IdentityReport:
    """Every email identity; looked up with GetEmailIdentity unless ``list_only``.

    ``known`` gives the DKIM standing of domain identities that the run leaves out (a
    resumed run keeps their records), by (account, region) and domain.
    """

    record_type = EMAIL_IDENTITY

    def __init__(
        self,
        *,
        list_only: bool = False,
        known: Mapping[tuple[str | None, str], Mapping[str, DomainDkim]] | None = None,
    ) -> None:
        self.list_only = list_only
        self.known = known or {}

    def job(self, unit: Caller) -> UnitJob[EmailIdentityRecord]:
        """The identity audit of one account in one region."""
        job = _IdentityJob(unit, list_only=self.list_only)
        job.done.update(self.known.get((unit.account, unit.region), {}))
        return job


class _IdentityJob(UnitJob[EmailIdentityRecord]):
    record_type = EMAIL_IDENTITY

    def __init__(self, unit: Caller, *, list_only: bool) -> None:
        self.unit = unit
        self.list_only = list_only
        self.domains: set[str] = set()  # domain identities listed so far
        self.listed_all = False
        self.done: dict[str, DomainDkim] = {}  # domain identities looked up
        self.waiting: dict[str, list[EmailIdentityRecord]] = {}  # address records, by domain

    async def items(self) -> AsyncIterator[Any]:
        async for entry in self.unit.pages(
            ops.LIST_EMAIL_IDENTITIES, "EmailIdentities", counted=True
        ):
            if entry.get("IdentityType") == "DOMAIN":
                self.domains.add(str(entry.get("IdentityName", "")).lower())
            yield entry
        self.listed_all = True

    def name(self, item: Any) -> str:
        return str(item.get("IdentityName"))

    def _head(self, entry: IdentityInfo) -> EmailIdentityRecord:
        return {**identity_head(self.unit.account, self.unit.region), **entry, "error": None}

    async def records(self, item: Any) -> Sequence[EmailIdentityRecord]:
        entry = answer(IdentityInfo, item)
        record = self._head(entry)
        if self.list_only:
            record["findings"], _ = identity_findings(record, list_only=True)
            return [record]
        name = self.name(item)
        try:
            looked_up = await self.unit.call(
                ops.GET_EMAIL_IDENTITY, {"EmailIdentity": name}, key=name
            )
        except OperationError as exc:
            record["findings"], _ = identity_findings(record, list_only=True)
            record["error"] = error_info(exc)
        else:
            record = {**record, **answer(EmailIdentityAnswer, looked_up), "error": None}
        if record.get("IdentityType") == "EMAIL_ADDRESS" and record["error"] is None:
            return self._address(record)
        if record.get("IdentityType") == "DOMAIN":
            return self._domain(record)
        self._finish(record, None)
        return [record]

    def _domain(self, record: EmailIdentityRecord) -> list[EmailIdentityRecord]:
        standing = domain_dkim(record)
        self.done[standing.domain] = standing
        self._finish(record, None)
        released = [record]
        for domain in list(self.waiting):
            if self._best(domain) == standing.domain:
                released += self._release(domain)
        return released

    def _address(self, record: EmailIdentityRecord) -> list[EmailIdentityRecord]:
        domain = str(record.get("IdentityName", "")).rpartition("@")[2].lower()
        best = self._best(domain)
        if best is not None and best in self.done:
            self._finish(record, self.done[best])
            return [record]
        if best is None and self.listed_all:  # no domain identity covers it
            self._finish(record, None)
            return [record]
        self.waiting.setdefault(domain, []).append(record)
        return []

    def _best(self, domain: str) -> str | None:
        """The most specific domain identity covering ``domain``, as far as is known: an
        exact match, or (once the listing is complete) the nearest parent domain."""
        if domain in self.domains:
            return domain
        if not self.listed_all:
            return None
        parts = domain.split(".")
        for i in range(1, len(parts) - 1):
            parent = ".".join(parts[i:])
            if parent in self.domains:
                return parent
        return None

    def _release(self, domain: str) -> list[EmailIdentityRecord]:
        records = self.waiting.pop(domain, [])
        best = self._best(domain)
        for record in records:
            self._finish(record, self.done.get(best) if best is not None else None)
        return records

    def _finish(self, record: EmailIdentityRecord, domain: DomainDkim | None) -> None:
        if record["error"] is not None:
            record["findings"], _ = identity_findings(record, list_only=True)
            return
        found, detail = identity_findings(record, domain=domain)
        record["findings"] = found
        if detail:
            record["findings_detail"] = detail

    def leftovers(self) -> Sequence[EmailIdentityRecord]:
        released: list[EmailIdentityRecord] = []
        for domain, records in self.waiting.items():
            best = self._best(domain)
            standing: DomainDkim | None
            if best is not None and best in self.done:
                standing = self.done[best]
            elif best is None and self.listed_all:
                standing = None  # no domain identity covers it
            else:
                # The covering domain was not looked up (a listing that stopped part-way,
                # a resumed run that kept its record): nothing can be said of its DKIM.
                standing = DomainDkim(best or domain, (), failed=True)
            for record in records:
                self._finish(record, standing)
            released += records
        self.waiting.clear()
        return released
