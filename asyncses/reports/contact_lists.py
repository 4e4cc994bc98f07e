"""The contact list report: ListContactLists, then GetContactList per list (its topics);
with ``contacts``, every contact of each list (ListContacts, paginated), one record each
after its list's."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from ..engine.errors import OperationError, PaginationError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .records import (
    CONTACT,
    CONTACT_LIST,
    ContactAnswer,
    ContactListAnswer,
    ContactListRecord,
    ContactRecord,
    answer,
    error_info,
)

__all__ = ["ContactListReport"]

Record = ContactListRecord | ContactRecord


class ContactListReport:
    """Every contact list with its topics, and every contact with ``contacts``."""

    record_type = CONTACT_LIST

    def __init__(self, *, contacts: bool = False) -> None:
        self.contacts = contacts

    def job(self, unit: Caller) -> UnitJob[Record]:
        """The contact lists of one account in one region."""
        return _ContactLists(unit, contacts=self.contacts)


class _ContactLists(UnitJob[Record]):
    record_type = CONTACT_LIST

    def __init__(self, unit: Caller, *, contacts: bool) -> None:
        self.unit = unit
        self.contacts = contacts

    def items(self) -> AsyncIterator[Any]:
        return self.unit.pages(ops.LIST_CONTACT_LISTS, "ContactLists", counted=True)

    def name(self, item: Any) -> str:
        return str(item.get("ContactListName"))

    def records(self, item: Any) -> AsyncGenerator[Record, None]:
        """The list's contacts as they are listed (a list may hold millions), then the
        list's own record, which carries the error if its contacts stopped part-way."""
        return self._records(item)

    async def _records(self, item: Any) -> AsyncGenerator[Record, None]:
        name = self.name(item)
        record: ContactListRecord = {"type": CONTACT_LIST, "region": self.unit.region}
        if self.unit.account is not None:
            record["account"] = self.unit.account
        record = {**record, **answer(ContactListAnswer, item)}
        try:
            found = await self.unit.call(ops.GET_CONTACT_LIST, {"ContactListName": name}, key=name)
        except OperationError as exc:
            record["error"] = error_info(exc)
            yield record
            return
        record = {**record, **answer(ContactListAnswer, found), "error": None}
        if self.contacts:
            try:
                async for contact in self.unit.pages(
                    ops.LIST_CONTACTS, "Contacts", {"ContactListName": name}
                ):
                    entry: ContactRecord = {
                        "type": CONTACT,
                        "region": self.unit.region,
                        "ContactListName": name,
                    }
                    if self.unit.account is not None:
                        entry["account"] = self.unit.account
                    yield {**entry, **answer(ContactAnswer, contact), "error": None}
            except (OperationError, PaginationError) as exc:
                record["error"] = error_info(exc)  # the list's contacts are incomplete
        yield record
