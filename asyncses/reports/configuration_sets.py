"""The configuration set report: ListConfigurationSets, then GetConfigurationSet and
GetConfigurationSetEventDestinations per set, with findings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..engine.errors import OperationError
from ..ses import operations as ops
from .base import Caller, UnitJob
from .findings import (
    NO_BOUNCE_COMPLAINT_DESTINATION,
    REPUTATION_METRICS_OFF,
    SENDING_DISABLED,
    TLS_OPTIONAL,
)
from .records import (
    CONFIGURATION_SET,
    ConfigurationSetAnswer,
    ConfigurationSetRecord,
    answer,
    error_info,
)

__all__ = ["ConfigurationSetReport", "configuration_set_findings"]

#: The event types a configuration set should send somewhere.
FEEDBACK: tuple[str, ...] = ("BOUNCE", "COMPLAINT")


def configuration_set_findings(
    record: ConfigurationSetRecord,
) -> tuple[list[str], dict[str, Any]]:
    """The findings of a configuration set, and their detail."""
    found: list[str] = []
    detail: dict[str, Any] = {}
    received: set[str] = set()
    for destination in record.get("EventDestinations") or ():
        if destination.get("Enabled"):
            received.update(str(t).upper() for t in destination.get("MatchingEventTypes") or ())
    missing = [event for event in FEEDBACK if event not in received]
    if missing:
        found.append(NO_BOUNCE_COMPLAINT_DESTINATION)
        detail[NO_BOUNCE_COMPLAINT_DESTINATION] = {"missing": missing}
    if (record.get("DeliveryOptions") or {}).get("TlsPolicy", "OPTIONAL") != "REQUIRE":
        found.append(TLS_OPTIONAL)
    if (record.get("ReputationOptions") or {}).get("ReputationMetricsEnabled") is not True:
        found.append(REPUTATION_METRICS_OFF)
    if (record.get("SendingOptions") or {}).get("SendingEnabled") is False:
        found.append(SENDING_DISABLED)
    return found, detail


class ConfigurationSetReport:
    """Every configuration set, its event destinations and findings."""

    record_type = CONFIGURATION_SET

    def job(self, unit: Caller) -> UnitJob[ConfigurationSetRecord]:
        """The configuration sets of one account in one region."""
        return _ConfigurationSets(unit)


class _ConfigurationSets(UnitJob[ConfigurationSetRecord]):
    record_type = CONFIGURATION_SET

    def __init__(self, unit: Caller) -> None:
        self.unit = unit

    def items(self) -> AsyncIterator[Any]:
        return self.unit.pages(ops.LIST_CONFIGURATION_SETS, "ConfigurationSets", counted=True)

    def name(self, item: Any) -> str:
        return str(item)

    async def records(self, item: Any) -> Sequence[ConfigurationSetRecord]:
        name = str(item)
        record: ConfigurationSetRecord = {
            "type": CONFIGURATION_SET,
            "region": self.unit.region,
            "ConfigurationSetName": name,
        }
        if self.unit.account is not None:
            record["account"] = self.unit.account
        params = {"ConfigurationSetName": name}
        try:
            found = await self.unit.call(ops.GET_CONFIGURATION_SET, params, key=name)
            destinations = await self.unit.call(
                ops.GET_CONFIGURATION_SET_EVENT_DESTINATIONS, params, key=name
            )
        except OperationError as exc:
            record["error"] = error_info(exc)
            return [record]
        record = {**record, **answer(ConfigurationSetAnswer, found)}
        record["EventDestinations"] = list(destinations.get("EventDestinations") or [])
        record["findings"], detail = configuration_set_findings(record)
        if detail:
            record["findings_detail"] = detail
        record["error"] = None
        return [record]
