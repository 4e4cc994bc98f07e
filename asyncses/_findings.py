"""Findings: what is wrong with an email identity, as stable codes.

Each code names one check on the fields of an ``email_identity`` record. A record carries
``"findings": [codes]``, empty when all is well. With only the list fields (``--list-only``)
only the checks those fields can answer run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["FINDINGS", "LIST_FINDINGS", "identity_findings"]

NOT_VERIFIED: Final = "NOT_VERIFIED"
DKIM_NOT_VERIFIED: Final = "DKIM_NOT_VERIFIED"
DKIM_SIGNING_DISABLED: Final = "DKIM_SIGNING_DISABLED"
SENDING_DISABLED: Final = "SENDING_DISABLED"
MAIL_FROM_NOT_VERIFIED: Final = "MAIL_FROM_NOT_VERIFIED"
PUBLIC_POLICY: Final = "PUBLIC_POLICY"

#: Every finding code with what it means.
FINDINGS: Final[Mapping[str, str]] = {
    NOT_VERIFIED: "VerificationStatus is not SUCCESS",
    DKIM_NOT_VERIFIED: "DkimAttributes.Status is not SUCCESS",
    DKIM_SIGNING_DISABLED: "DKIM signing is disabled",
    SENDING_DISABLED: "sending is disabled for the identity",
    MAIL_FROM_NOT_VERIFIED: "the custom MAIL FROM domain is not verified",
    PUBLIC_POLICY: "a sending-authorization policy allows anyone, without a condition",
}

#: The findings that the ListEmailIdentities fields alone can show.
LIST_FINDINGS: Final = frozenset({NOT_VERIFIED, SENDING_DISABLED})


def identity_findings(record: Mapping[str, Any], *, list_only: bool = False) -> list[str]:
    """The finding codes for one email identity record, in a stable order."""
    found: list[str] = []
    status = record.get("VerificationStatus")
    if status is not None and status != "SUCCESS":
        found.append(NOT_VERIFIED)
    if not list_only:
        dkim = record.get("DkimAttributes") or {}
        if dkim and dkim.get("Status") != "SUCCESS":
            found.append(DKIM_NOT_VERIFIED)
        if dkim and dkim.get("SigningEnabled") is False:
            found.append(DKIM_SIGNING_DISABLED)
    if record.get("SendingEnabled") is False:
        found.append(SENDING_DISABLED)
    if not list_only:
        mail_from = record.get("MailFromAttributes") or {}
        if mail_from.get("MailFromDomain") and mail_from.get("MailFromDomainStatus") != "SUCCESS":
            found.append(MAIL_FROM_NOT_VERIFIED)
        if any(_is_public(policy) for policy in (record.get("Policies") or {}).values()):
            found.append(PUBLIC_POLICY)
    return found


def _is_public(policy: Any) -> bool:
    """True if a policy document has an Allow statement for anyone with no Condition."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return False
    if not isinstance(policy, Mapping):
        return False
    statements = policy.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if statement.get("Condition"):
            continue
        if _anyone(statement.get("Principal")):
            return True
    return False


def _anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        if aws == "*" or (isinstance(aws, list) and "*" in aws):
            return True
    return False
