"""The shapes of report records, and the key that names the item a record is about.

Records are plain JSON-ready dicts, identical to the NDJSON lines: a head (``type``,
``region``, ``account`` when known), every field of the API's answers under the API's own
names, then what asyncses adds (``findings``, ``findings_detail``, ``error``).

The SES answers are declared here as TypedDicts after botocore's model (datetimes arrive as
ISO 8601 strings); :func:`answer` is the one place where a JSON answer is taken to have its
declared shape, and every record is then built, checked by mypy, from such answers. A field
that a newer SES adds and this model lacks still reaches the record: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NotRequired, TypeAlias, TypedDict, TypeVar, cast

from ..engine.errors import AsyncsesError, OperationError

__all__ = [
    "ACCOUNT",
    "DEDICATED_IP_POOL",
    "EMAIL_IDENTITY",
    "IMPORT_JOB",
    "LISTING",
    "DedicatedIpPoolRecord",
    "EmailIdentityRecord",
    "ErrorInfo",
    "ImportJobRecord",
    "ItemKey",
    "ListingErrorRecord",
    "ProblemRecord",
    "UnitErrorRecord",
    "answer",
    "error_info",
    "head",
    "identity_head",
    "import_job_head",
    "in_order",
    "item_key",
    "pool_head",
    "record_key",
]

EMAIL_IDENTITY: Literal["email_identity"] = "email_identity"
DEDICATED_IP_POOL: Literal["dedicated_ip_pool"] = "dedicated_ip_pool"
IMPORT_JOB: Literal["import_job"] = "import_job"
SES_ACCOUNT: Literal["ses_account"] = "ses_account"
CONFIGURATION_SET: Literal["configuration_set"] = "configuration_set"
SUPPRESSED_DESTINATION: Literal["suppressed_destination"] = "suppressed_destination"
CONTACT_LIST: Literal["contact_list"] = "contact_list"
CONTACT: Literal["contact"] = "contact"
EMAIL_TEMPLATE: Literal["email_template"] = "email_template"
CUSTOM_VERIFICATION_EMAIL_TEMPLATE: Literal["custom_verification_email_template"] = (
    "custom_verification_email_template"
)
#: An account (in a region) that could not be audited at all: a role that cannot be
#: assumed, a region the account has not enabled, credentials refused there.
ACCOUNT: Literal["account"] = "account"
#: A listing that stopped part-way: the items it listed were audited, the rest were not.
LISTING: Literal["listing"] = "listing"

#: (record type, account or None, region, item name or id)
ItemKey = tuple[str, str | None, str, str]

S = TypeVar("S", bound=Mapping[str, Any])


def answer(shape: type[S], value: Mapping[str, Any]) -> S:
    """``value`` (a JSON answer of SES) taken to have the declared ``shape``.

    The one trusted boundary between untyped JSON and the typed records: the engine hands
    back what SES answered; the shape is botocore's model of that answer.
    """
    del shape  # only the static type is needed
    return cast(S, value)


class ErrorInfo(TypedDict):
    """Why a record's lookup failed for good."""

    code: str
    message: str
    operation: str
    attempts: int


def error_info(exc: AsyncsesError) -> ErrorInfo:
    """The ``error`` member of a record for the error that ended its lookup."""
    if isinstance(exc, OperationError):
        return {
            "code": exc.code,
            "message": exc.message,
            "operation": exc.operation,
            "attempts": exc.attempts,
        }
    return {"code": type(exc).__name__, "message": str(exc), "operation": "", "attempts": 1}


# -- SES answers ---------------------------------------------------------------------------


class IdentityInfo(TypedDict, total=False):
    """An entry of ListEmailIdentities."""

    IdentityType: str
    IdentityName: str
    SendingEnabled: bool
    VerificationStatus: str


class DkimAttributes(TypedDict, total=False):
    """An identity's DKIM state."""

    SigningEnabled: bool
    Status: str
    Tokens: list[str]
    SigningAttributesOrigin: str
    NextSigningKeyLength: str
    CurrentSigningKeyLength: str
    LastKeyGenerationTimestamp: str


class MailFromAttributes(TypedDict, total=False):
    """An identity's custom MAIL FROM domain."""

    MailFromDomain: str
    MailFromDomainStatus: str
    BehaviorOnMxFailure: str


class EmailIdentityAnswer(TypedDict, total=False):
    """The answer of GetEmailIdentity."""

    IdentityType: str
    FeedbackForwardingStatus: bool
    VerifiedForSendingStatus: bool
    DkimAttributes: DkimAttributes
    MailFromAttributes: MailFromAttributes
    Policies: dict[str, str]
    Tags: list[dict[str, str]]
    ConfigurationSetName: str
    VerificationStatus: str
    VerificationInfo: dict[str, Any]


class DedicatedIpPool(TypedDict, total=False):
    """A dedicated IP pool (GetDedicatedIpPool's ``DedicatedIpPool``)."""

    PoolName: str
    ScalingMode: str


class DedicatedIp(TypedDict, total=False):
    """A dedicated IP address (GetDedicatedIps's entries)."""

    Ip: str
    WarmupStatus: str
    WarmupPercentage: int
    PoolName: str


class ImportJobSummary(TypedDict, total=False):
    """An entry of ListImportJobs."""

    JobId: str
    ImportDestination: dict[str, Any]
    JobStatus: str
    CreatedTimestamp: str
    ProcessedRecordsCount: int
    FailedRecordsCount: int


class ImportJobAnswer(ImportJobSummary, total=False):
    """The answer of GetImportJob."""

    ImportDataSource: dict[str, Any]
    FailureInfo: dict[str, Any]
    CompletedTimestamp: str


class AccountAnswer(TypedDict, total=False):
    """The answer of GetAccount: the account's standing in one region."""

    DedicatedIpAutoWarmupEnabled: bool
    EnforcementStatus: str
    ProductionAccessEnabled: bool
    SendQuota: dict[str, float]
    SendingEnabled: bool
    SuppressionAttributes: dict[str, Any]
    Details: dict[str, Any]
    VdmAttributes: dict[str, Any]


class ConfigurationSetAnswer(TypedDict, total=False):
    """The answer of GetConfigurationSet."""

    ConfigurationSetName: str
    TrackingOptions: dict[str, Any]
    DeliveryOptions: dict[str, Any]
    ReputationOptions: dict[str, Any]
    SendingOptions: dict[str, Any]
    Tags: list[dict[str, str]]
    SuppressionOptions: dict[str, Any]
    VdmOptions: dict[str, Any]
    ArchivingOptions: dict[str, Any]


class SuppressedDestinationAnswer(TypedDict, total=False):
    """A ListSuppressedDestinations summary, or GetSuppressedDestination's destination."""

    EmailAddress: str
    Reason: str
    LastUpdateTime: str
    Attributes: dict[str, Any]


class ContactListAnswer(TypedDict, total=False):
    """A ListContactLists entry, or the answer of GetContactList."""

    ContactListName: str
    Topics: list[dict[str, Any]]
    Description: str
    CreatedTimestamp: str
    LastUpdatedTimestamp: str
    Tags: list[dict[str, str]]


class ContactAnswer(TypedDict, total=False):
    """An entry of ListContacts."""

    EmailAddress: str
    TopicPreferences: list[dict[str, Any]]
    TopicDefaultPreferences: list[dict[str, Any]]
    UnsubscribeAll: bool
    LastUpdatedTimestamp: str


class EmailTemplateAnswer(TypedDict, total=False):
    """A ListEmailTemplates entry, or the answer of GetEmailTemplate."""

    TemplateName: str
    CreatedTimestamp: str
    TemplateContent: dict[str, Any]


class CustomVerificationTemplateAnswer(TypedDict, total=False):
    """A ListCustomVerificationEmailTemplates entry, or its Get answer."""

    TemplateName: str
    FromEmailAddress: str
    TemplateSubject: str
    TemplateContent: str
    SuccessRedirectionURL: str
    FailureRedirectionURL: str


# -- records -------------------------------------------------------------------------------


class RecordHead(TypedDict):
    """Where a record's item lives: its region, and its account when the run knows it."""

    region: str
    account: NotRequired[str]


def head(account: str | None, region: str) -> RecordHead:
    """The head of a record of an item in ``region`` (and ``account``)."""
    if account is None:
        return {"region": region}
    return {"region": region, "account": account}


def identity_head(account: str | None, region: str) -> EmailIdentityRecord:
    """The start of an email identity record."""
    record: EmailIdentityRecord = {"type": EMAIL_IDENTITY, "region": region}
    if account is not None:
        record["account"] = account
    return record


def pool_head(account: str | None, region: str) -> DedicatedIpPoolRecord:
    """The start of a dedicated IP pool record."""
    record: DedicatedIpPoolRecord = {"type": DEDICATED_IP_POOL, "region": region}
    if account is not None:
        record["account"] = account
    return record


def import_job_head(account: str | None, region: str) -> ImportJobRecord:
    """The start of an import job record."""
    record: ImportJobRecord = {"type": IMPORT_JOB, "region": region}
    if account is not None:
        record["account"] = account
    return record


class _Head(RecordHead):
    error: NotRequired[ErrorInfo | None]


class EmailIdentityRecord(_Head, IdentityInfo, EmailIdentityAnswer, total=False):
    """One email identity: its ListEmailIdentities entry and GetEmailIdentity answer.

    ``findings`` lists finding codes; ``findings_detail`` says, per code where it helps,
    what made it (which policy and statement is public, which domain's DKIM an address
    takes).
    """

    type: Literal["email_identity"]
    findings: list[str]
    findings_detail: dict[str, Any]


class DedicatedIpPoolRecord(_Head, DedicatedIpPool, total=False):
    """One dedicated IP pool (GetDedicatedIpPool), with its IPs if asked."""

    type: Literal["dedicated_ip_pool"]
    DedicatedIps: list[DedicatedIp]


class ImportJobRecord(_Head, ImportJobAnswer, total=False):
    """One import job (ListImportJobs entry, with GetImportJob fields if asked)."""

    type: Literal["import_job"]


class SesAccountRecord(_Head, AccountAnswer, total=False):
    """The account's SES standing in one region (GetAccount), with its findings."""

    type: Literal["ses_account"]
    findings: list[str]
    findings_detail: dict[str, Any]


class ConfigurationSetRecord(_Head, ConfigurationSetAnswer, total=False):
    """One configuration set (GetConfigurationSet) and its event destinations."""

    type: Literal["configuration_set"]
    EventDestinations: list[dict[str, Any]]
    findings: list[str]
    findings_detail: dict[str, Any]


class SuppressedDestinationRecord(_Head, SuppressedDestinationAnswer, total=False):
    """One address on the account's suppression list."""

    type: Literal["suppressed_destination"]


class ContactListRecord(_Head, ContactListAnswer, total=False):
    """One contact list (GetContactList: topics, description)."""

    type: Literal["contact_list"]


class ContactRecord(_Head, ContactAnswer, total=False):
    """One contact of a contact list."""

    type: Literal["contact"]
    ContactListName: str


class EmailTemplateRecord(_Head, EmailTemplateAnswer, total=False):
    """One email template (GetEmailTemplate)."""

    type: Literal["email_template"]


class CustomVerificationTemplateRecord(_Head, CustomVerificationTemplateAnswer, total=False):
    """One custom verification email template."""

    type: Literal["custom_verification_email_template"]


class UnitErrorRecord(_Head):
    """An account in a region that could not be audited at all (see :data:`ACCOUNT`)."""

    type: Literal["account"]


class ListingErrorRecord(_Head):
    """A listing that stopped part-way (see :data:`LISTING`)."""

    type: Literal["listing"]
    operation: str


#: A record about a unit rather than an item: an account and region that could not be
#: audited, or a listing that stopped part-way. Every record stream may yield these.
ProblemRecord: TypeAlias = UnitErrorRecord | ListingErrorRecord

#: The member naming the item, per record type.
NAME_FIELDS: Mapping[str, str] = {
    EMAIL_IDENTITY: "IdentityName",
    DEDICATED_IP_POOL: "PoolName",
    IMPORT_JOB: "JobId",
    CONFIGURATION_SET: "ConfigurationSetName",
    SUPPRESSED_DESTINATION: "EmailAddress",
    CONTACT_LIST: "ContactListName",
    EMAIL_TEMPLATE: "TemplateName",
    CUSTOM_VERIFICATION_EMAIL_TEMPLATE: "TemplateName",
    LISTING: "operation",
    "outcome": "change",
}


def record_key(record: Mapping[str, Any]) -> ItemKey:
    """The key of the item a record is about: (type, account, region, name or id).

    Raises ``ValueError`` for a record of no known type, ``KeyError`` for one without its
    name.
    """
    kind = str(record.get("type", ""))
    account = record.get("account")
    region = str(record.get("region", ""))
    if kind in (ACCOUNT, SES_ACCOUNT):
        return (kind, account, region, "")
    if kind == CONTACT:
        return (kind, account, region, f"{record['ContactListName']}/{record['EmailAddress']}")
    name_field = NAME_FIELDS.get(kind)
    if name_field is None:
        raise ValueError(f"unknown record type {kind!r}")
    return (kind, account, region, str(record[name_field]))


def item_key(record: Mapping[str, Any]) -> ItemKey:
    """The key of the listed item a record came from: its own key, but for a contact, its
    contact list's (contacts are listed with their list)."""
    if record.get("type") == CONTACT:
        return (
            CONTACT_LIST,
            record.get("account"),
            str(record.get("region", "")),
            str(record.get("ContactListName")),
        )
    return record_key(record)


#: What asyncses adds to a record, in the order it comes, after the API's fields.
TAIL_FIELDS: Final = ("findings", "findings_detail", "error")


_T = TypeVar("_T")


def in_order(record: _T) -> _T:
    """``record`` (changed in place) with what asyncses adds at its end, in the documented
    order (:data:`TAIL_FIELDS`), wherever a report put it while building the record."""
    fields = cast(dict[str, Any], record)
    for name in TAIL_FIELDS:
        if name in fields:
            fields[name] = fields.pop(name)
    return record
