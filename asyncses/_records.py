"""The shapes of report records, and the key that names the item a record is about.

Records are plain JSON-ready dicts, identical to the NDJSON lines. Beyond the members typed
here, a record carries every field of the API's own answer under the API's names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "DedicatedIpPoolRecord",
    "EmailIdentityRecord",
    "ErrorInfo",
    "ImportJobRecord",
    "ItemKey",
    "new_record",
    "record_key",
]

EMAIL_IDENTITY: Literal["email_identity"] = "email_identity"
DEDICATED_IP_POOL: Literal["dedicated_ip_pool"] = "dedicated_ip_pool"
IMPORT_JOB: Literal["import_job"] = "import_job"

#: (record type, account or None, region, item name or id)
ItemKey = tuple[str, str | None, str, str]

#: The member naming the item, per record type.
NAME_FIELDS: Mapping[str, str] = {
    EMAIL_IDENTITY: "IdentityName",
    DEDICATED_IP_POOL: "PoolName",
    IMPORT_JOB: "JobId",
}


class ErrorInfo(TypedDict):
    """Why a record's lookup failed for good."""

    code: str
    message: str
    operation: str
    attempts: int


class EmailIdentityRecord(TypedDict, total=False):
    """One email identity (ListEmailIdentities entry + GetEmailIdentity answer)."""

    type: Literal["email_identity"]
    region: str
    account: NotRequired[str]
    IdentityType: str
    IdentityName: str
    SendingEnabled: bool
    VerificationStatus: str
    VerifiedForSendingStatus: bool
    FeedbackForwardingStatus: bool
    DkimAttributes: dict[str, Any]
    MailFromAttributes: dict[str, Any]
    Policies: dict[str, str]
    Tags: list[dict[str, str]]
    ConfigurationSetName: str
    findings: list[str]
    error: ErrorInfo | None


class DedicatedIpPoolRecord(TypedDict, total=False):
    """One dedicated IP pool (GetDedicatedIpPool answer, with GetDedicatedIps if asked)."""

    type: Literal["dedicated_ip_pool"]
    region: str
    account: NotRequired[str]
    PoolName: str
    ScalingMode: str
    DedicatedIps: list[dict[str, Any]]
    error: ErrorInfo | None


class ImportJobRecord(TypedDict, total=False):
    """One import job (ListImportJobs entry, with GetImportJob fields if asked)."""

    type: Literal["import_job"]
    region: str
    account: NotRequired[str]
    JobId: str
    ImportDestination: dict[str, Any]
    JobStatus: str
    CreatedTimestamp: str
    CompletedTimestamp: str
    ProcessedRecordsCount: int
    FailedRecordsCount: int
    ImportDataSource: dict[str, Any]
    FailureInfo: dict[str, Any]
    error: ErrorInfo | None


def new_record(
    kind: str, region: str, account: str | None, fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The head every record starts with: type, region, account (when known), then ``fields``."""
    record: dict[str, Any] = {"type": kind, "region": region}
    if account is not None:
        record["account"] = account
    if fields:
        record.update(fields)
    return record


def record_key(record: Mapping[str, Any]) -> ItemKey:
    """The key of the item a record is about: (type, account, region, name or id)."""
    kind = str(record.get("type", ""))
    name_field = NAME_FIELDS.get(kind)
    if name_field is None:
        raise ValueError(f"unknown record type {kind!r}")
    return (kind, record.get("account"), str(record.get("region", "")), str(record[name_field]))
