"""Findings: what is wrong with an email identity, as stable codes, and why.

Each code names one check on the fields of an ``email_identity`` record; a record carries
``"findings": [codes]`` (empty when all is well) and ``"findings_detail"`` where a code needs
saying more: which policy statements are public, which domain's DKIM an address takes.

DKIM fits the identity type. A domain is checked on its own ``DkimAttributes`` (none at all
is a finding). An email address takes its DKIM from its domain: when the same account and
region hold a domain identity for the address's domain (or a parent domain), the address
carries that domain's DKIM problems, named as for the domain; with no such domain, it
carries ``DKIM_NOT_VERIFIED``. With the list fields only (``--list-only``), only the checks
those fields can answer run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .policies import public_statements
from .records import EmailIdentityRecord

__all__ = [
    "FINDINGS",
    "LIST_FINDINGS",
    "DomainDkim",
    "Finding",
    "dkim_findings",
    "domain_dkim",
    "identity_findings",
]

NOT_VERIFIED: Final = "NOT_VERIFIED"
DKIM_NOT_VERIFIED: Final = "DKIM_NOT_VERIFIED"
DKIM_SIGNING_DISABLED: Final = "DKIM_SIGNING_DISABLED"
SENDING_DISABLED: Final = "SENDING_DISABLED"
MAIL_FROM_NOT_VERIFIED: Final = "MAIL_FROM_NOT_VERIFIED"
PUBLIC_POLICY: Final = "PUBLIC_POLICY"
# The account (GetAccount)
SANDBOX: Final = "SANDBOX"
SENDING_PAUSED: Final = "SENDING_PAUSED"
ENFORCEMENT_PROBATION: Final = "ENFORCEMENT_PROBATION"
ENFORCEMENT_SHUTDOWN: Final = "ENFORCEMENT_SHUTDOWN"
QUOTA_NEARLY_USED: Final = "QUOTA_NEARLY_USED"
# Configuration sets
NO_BOUNCE_COMPLAINT_DESTINATION: Final = "NO_BOUNCE_COMPLAINT_DESTINATION"
TLS_OPTIONAL: Final = "TLS_OPTIONAL"
REPUTATION_METRICS_OFF: Final = "REPUTATION_METRICS_OFF"


@dataclass(frozen=True)
class Finding:
    """One finding code explained: what triggers it, why it matters, how to fix it, and the
    Prowler check and ScoutSuite rule that correspond (where one does)."""

    code: str
    trigger: str
    why: str
    fix: str
    prowler: str = ""
    scoutsuite: str = ""
    #: The record types that carry it.
    types: tuple[str, ...] = ("email_identity",)


#: Every finding code, explained (the README's table is this table).
FINDINGS: Final[Mapping[str, Finding]] = {
    f.code: f
    for f in (
        Finding(
            NOT_VERIFIED,
            "VerificationStatus is not SUCCESS",
            "SES refuses to send from an identity that is not verified",
            "publish the DNS records (domain) or click the link (address); "
            "CreateEmailIdentity again if verification failed for good",
        ),
        Finding(
            DKIM_NOT_VERIFIED,
            "DKIM is not verified: a domain's DkimAttributes.Status is not SUCCESS (or it has "
            "no DkimAttributes); an address whose domain identity lacks verified DKIM, or "
            "has no domain identity in the account and region",
            "unsigned mail fails DMARC alignment and lands in spam or is rejected",
            "publish the three DKIM CNAME records; PutEmailIdentityDkimSigningAttributes "
            "for BYODKIM; verify the address's domain as an identity",
            prowler="ses_identity_dkim_enabled",
            scoutsuite="ses-identity-dkim-not-verified",
        ),
        Finding(
            DKIM_SIGNING_DISABLED,
            "DkimAttributes.SigningEnabled is false (an address: its domain's)",
            "SES sends the identity's mail unsigned even though DKIM is set up",
            "PutEmailIdentityDkimAttributes SigningEnabled=true "
            "(asyncses plan enable-dkim-signing)",
            prowler="ses_identity_dkim_enabled",
            scoutsuite="ses-identity-dkim-not-enabled",
        ),
        Finding(
            SENDING_DISABLED,
            "an identity's SendingEnabled, or a configuration set's "
            "SendingOptions.SendingEnabled, is false",
            "mail from the identity (or sent through the configuration set) is refused; "
            "usually a pause nobody lifted",
            "re-enable sending for the identity in the console; for a configuration set, "
            "PutConfigurationSetSendingOptions SendingEnabled=true",
            types=("email_identity", "configuration_set"),
        ),
        Finding(
            MAIL_FROM_NOT_VERIFIED,
            "a custom MAIL FROM domain whose MailFromDomainStatus is not SUCCESS",
            "SES falls back to amazonses.com (or rejects, by BehaviorOnMxFailure): "
            "SPF alignment for DMARC breaks",
            "publish the MX and SPF records of the MAIL FROM domain; "
            "PutEmailIdentityMailFromAttributes",
        ),
        Finding(
            PUBLIC_POLICY,
            "a sending-authorization policy with an Allow statement that lets anyone send "
            "(see findings_detail for the policy and statement)",
            "any AWS account can send mail as the identity",
            "DeleteEmailIdentityPolicy, or pin the caller with aws:SourceAccount / "
            "aws:PrincipalOrgID (asyncses plan remove-public-policy)",
            prowler="ses_identity_not_publicly_accessible",
            scoutsuite="ses-identity-world-policy",
        ),
        Finding(
            SANDBOX,
            "ProductionAccessEnabled is false: the account is in the SES sandbox",
            "it can only send to verified addresses, at most 200 messages a day, 1 a second",
            "request production access (PutAccountDetails, or the console)",
            types=("ses_account",),
        ),
        Finding(
            SENDING_PAUSED,
            "the account's SendingEnabled is false",
            "no mail leaves the account in this region: SES paused it, or someone did",
            "PutAccountSendingAttributes SendingEnabled=true once the cause is fixed",
            types=("ses_account",),
        ),
        Finding(
            ENFORCEMENT_PROBATION,
            "EnforcementStatus is PROBATION",
            "bounce or complaint rates are too high: sending stops unless they improve",
            "clean the lists, honour the suppression list, fix what drives complaints",
            types=("ses_account",),
        ),
        Finding(
            ENFORCEMENT_SHUTDOWN,
            "EnforcementStatus is SHUTDOWN",
            "SES stopped the account's sending",
            "answer the AWS Trust & Safety case; fix the cause before appealing",
            types=("ses_account",),
        ),
        Finding(
            QUOTA_NEARLY_USED,
            "SentLast24Hours is at least the threshold (80% by default) of Max24HourSend",
            "mail is refused once the daily quota is used up",
            "request a higher sending quota before it runs out",
            types=("ses_account",),
        ),
        Finding(
            NO_BOUNCE_COMPLAINT_DESTINATION,
            "no enabled event destination of the configuration set receives BOUNCE, or none "
            "receives COMPLAINT",
            "bounces and complaints go unseen: the rates that lead to probation grow unnoticed",
            "CreateConfigurationSetEventDestination with MatchingEventTypes BOUNCE and "
            "COMPLAINT (SNS, EventBridge, Firehose or CloudWatch)",
            types=("configuration_set",),
        ),
        Finding(
            TLS_OPTIONAL,
            "DeliveryOptions.TlsPolicy is not REQUIRE",
            "mail may travel to receiving servers unencrypted",
            "PutConfigurationSetDeliveryOptions TlsPolicy=REQUIRE",
            types=("configuration_set",),
        ),
        Finding(
            REPUTATION_METRICS_OFF,
            "ReputationOptions.ReputationMetricsEnabled is not true",
            "no bounce and complaint metrics per configuration set in CloudWatch",
            "PutConfigurationSetReputationOptions ReputationMetricsEnabled=true",
            types=("configuration_set",),
        ),
    )
}

#: The findings that the ListEmailIdentities fields alone can show.
LIST_FINDINGS: Final = frozenset({NOT_VERIFIED, SENDING_DISABLED})


@dataclass(frozen=True)
class DomainDkim:
    """What an address needs of its domain identity: its name and DKIM findings, or that
    its lookup failed (then nothing can be said)."""

    domain: str
    findings: tuple[str, ...]
    failed: bool = False


def domain_dkim(record: EmailIdentityRecord) -> DomainDkim:
    """The DKIM standing of a domain identity's record, as its addresses inherit it."""
    name = record.get("IdentityName", "").lower()
    if record.get("error") is not None:
        return DomainDkim(name, (), failed=True)
    found = list(_own_dkim(record))
    if record.get("VerificationStatus") != "SUCCESS" and DKIM_NOT_VERIFIED not in found:
        found.insert(0, DKIM_NOT_VERIFIED)  # an unverified domain signs nothing
    return DomainDkim(name, tuple(found))


def _own_dkim(record: EmailIdentityRecord) -> list[str]:
    dkim = record.get("DkimAttributes")
    if not dkim:
        return [DKIM_NOT_VERIFIED]
    found: list[str] = []
    if dkim.get("Status") != "SUCCESS":
        found.append(DKIM_NOT_VERIFIED)
    if dkim.get("SigningEnabled") is False:
        found.append(DKIM_SIGNING_DISABLED)
    return found


def dkim_findings(
    record: EmailIdentityRecord, domain: DomainDkim | None
) -> tuple[list[str], dict[str, Any]]:
    """The DKIM findings of an identity and their detail; an address's come from
    ``domain`` (its domain identity's standing, ``None`` if it has none)."""
    if record.get("IdentityType") != "EMAIL_ADDRESS":
        return _own_dkim(record), {}
    if domain is None:
        name = str(record.get("IdentityName", "")).rpartition("@")[2].lower()
        return [DKIM_NOT_VERIFIED], {
            DKIM_NOT_VERIFIED: {"domain": name, "reason": "no domain identity"}
        }
    if domain.failed:
        return [], {}
    detail = {code: {"domain": domain.domain} for code in domain.findings}
    return list(domain.findings), detail


def identity_findings(
    record: EmailIdentityRecord,
    *,
    list_only: bool = False,
    domain: DomainDkim | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """The finding codes of one identity record, in a stable order, and their detail.

    ``domain`` is the standing of an address identity's domain identity (``None``: none in
    this account and region); it is ignored for domains.
    """
    found: list[str] = []
    detail: dict[str, Any] = {}
    status = record.get("VerificationStatus")
    if status is not None and status != "SUCCESS":
        found.append(NOT_VERIFIED)
    if not list_only:
        codes, why = dkim_findings(record, domain)
        found += codes
        detail.update(why)
    if record.get("SendingEnabled") is False:
        found.append(SENDING_DISABLED)
    if not list_only:
        mail_from = record.get("MailFromAttributes") or {}
        if mail_from.get("MailFromDomain") and mail_from.get("MailFromDomainStatus") != "SUCCESS":
            found.append(MAIL_FROM_NOT_VERIFIED)
        public = public_statements(record.get("Policies") or {})
        if public:
            found.append(PUBLIC_POLICY)
            detail[PUBLIC_POLICY] = [statement.to_json() for statement in public]
    return found, detail
