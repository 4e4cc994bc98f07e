"""Unit tests of the finding checks (asyncses._findings.identity_findings), no endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asyncses import FINDINGS
from asyncses._findings import LIST_FINDINGS, identity_findings

CLEAN: dict[str, Any] = {
    "type": "email_identity",
    "region": "us-east-1",
    "IdentityType": "DOMAIN",
    "IdentityName": "example.com",
    "SendingEnabled": True,
    "VerificationStatus": "SUCCESS",
    "DkimAttributes": {"SigningEnabled": True, "Status": "SUCCESS"},
    "MailFromAttributes": {
        "MailFromDomain": "mail.example.com",
        "MailFromDomainStatus": "SUCCESS",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    },
    "Policies": {},
}


def _with(**fields: Any) -> dict[str, Any]:
    return {**CLEAN, **fields}


def _policy(*statements: Any, single: bool = False) -> str:
    body = statements[0] if single else list(statements)
    return json.dumps({"Version": "2012-10-17", "Statement": body})


def _allow(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "ses:SendEmail", **extra}


def test_clean_identity_has_no_findings() -> None:
    """A verified, DKIM-signed, sending identity with a verified MAIL FROM has no findings."""
    assert identity_findings(CLEAN) == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"VerificationStatus": "PENDING"}, "NOT_VERIFIED"),
        ({"VerificationStatus": "FAILED"}, "NOT_VERIFIED"),
        ({"DkimAttributes": {"SigningEnabled": True, "Status": "FAILED"}}, "DKIM_NOT_VERIFIED"),
        (
            {"DkimAttributes": {"SigningEnabled": False, "Status": "SUCCESS"}},
            "DKIM_SIGNING_DISABLED",
        ),
        ({"SendingEnabled": False}, "SENDING_DISABLED"),
        (
            {"MailFromAttributes": {"MailFromDomain": "m.x", "MailFromDomainStatus": "PENDING"}},
            "MAIL_FROM_NOT_VERIFIED",
        ),
        ({"Policies": {"p": _policy(_allow("*"))}}, "PUBLIC_POLICY"),
    ],
)
def test_each_code_alone(fields: dict[str, Any], code: str) -> None:
    """Each check fires on its own field and nothing else fires."""
    assert identity_findings(_with(**fields)) == [code]


def test_every_code_at_once_in_catalogue_order() -> None:
    """An identity wrong in every way gets every code, in the order FINDINGS lists them."""
    record = _with(
        VerificationStatus="TEMPORARY_FAILURE",
        DkimAttributes={"SigningEnabled": False, "Status": "NOT_STARTED"},
        SendingEnabled=False,
        MailFromAttributes={"MailFromDomain": "m.x", "MailFromDomainStatus": "FAILED"},
        Policies={
            "ok": _policy(_allow({"AWS": "arn:aws:iam::1:root"})),
            "bad": _policy(_allow("*")),
        },
    )
    assert identity_findings(record) == list(FINDINGS)


def test_no_mail_from_domain_is_not_a_finding() -> None:
    """Without a custom MAIL FROM domain there is nothing to verify."""
    assert identity_findings(_with(MailFromAttributes={})) == []
    record = dict(CLEAN)
    del record["MailFromAttributes"]
    assert identity_findings(record) == []


@pytest.mark.parametrize(
    "policy",
    [
        _policy(_allow("*")),
        _policy(_allow({"AWS": "*"})),
        _policy(_allow({"AWS": ["*"]})),
        _policy(_allow({"AWS": ["arn:aws:iam::210987654321:root", "*"]})),
        _policy(_allow({"AWS": "*"}), single=True),
        _policy(_allow({"AWS": "*"}, Condition={})),
        _policy({"Effect": "Deny", "Principal": "*", "Action": "*"}, _allow("*")),
    ],
    ids=[
        "string-star",
        "aws-star",
        "aws-list-star",
        "aws-list-with-star",
        "statement-object",
        "empty-condition",
        "deny-then-allow",
    ],
)
def test_public_policy_shapes(policy: str) -> None:
    """An Allow statement for anyone, with no (or an empty) Condition, is a public policy."""
    assert identity_findings(_with(Policies={"p": policy})) == ["PUBLIC_POLICY"]


@pytest.mark.parametrize(
    "policy",
    [
        _policy(_allow("*", Condition={"StringEquals": {"aws:SourceAccount": "210987654321"}})),
        _policy(_allow({"AWS": "*"}, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        _policy({"Effect": "Deny", "Principal": "*", "Action": "ses:SendEmail"}),
        _policy({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*"}, single=True),
        _policy(_allow({"AWS": "arn:aws:iam::210987654321:root"})),
        _policy(_allow({"AWS": ["arn:aws:iam::210987654321:root"]})),
        _policy(_allow({"Service": "ses.amazonaws.com"})),
        json.dumps({"Version": "2012-10-17"}),
        "not json at all",
        json.dumps(["a", "list"]),
    ],
    ids=[
        "star-with-condition",
        "aws-star-with-condition",
        "deny-star",
        "deny-statement-object",
        "one-account",
        "account-list",
        "service",
        "no-statement",
        "not-json",
        "not-an-object",
    ],
)
def test_not_public_policy_shapes(policy: str) -> None:
    """Conditioned, Deny, named-principal and unreadable policies are not public."""
    assert identity_findings(_with(Policies={"p": policy})) == []


def test_policy_given_as_object() -> None:
    """A policy already parsed into an object is checked the same as its JSON text."""
    document = {"Statement": [_allow({"AWS": "*"})]}
    assert identity_findings(_with(Policies={"p": document})) == ["PUBLIC_POLICY"]


def test_list_only_runs_only_list_checks() -> None:
    """With list_only, only the checks the ListEmailIdentities fields answer run."""
    record = _with(
        VerificationStatus="PENDING",
        SendingEnabled=False,
        DkimAttributes={"SigningEnabled": False, "Status": "FAILED"},
        MailFromAttributes={"MailFromDomain": "m.x", "MailFromDomainStatus": "FAILED"},
        Policies={"p": _policy(_allow("*"))},
    )
    assert len(identity_findings(record)) == len(FINDINGS)
    assert identity_findings(record, list_only=True) == ["NOT_VERIFIED", "SENDING_DISABLED"]
    assert set(identity_findings(record, list_only=True)) == LIST_FINDINGS


def test_list_entry_without_status_has_no_findings() -> None:
    """A bare list entry (no status fields) yields no findings rather than false alarms."""
    entry = {"type": "email_identity", "region": "us-east-1", "IdentityName": "x.example"}
    assert identity_findings(entry) == []
    assert identity_findings(entry, list_only=True) == []


def test_every_code_is_documented() -> None:
    """FINDINGS maps each code to a description, and the list checks are among the codes."""
    assert set(FINDINGS) == {
        "NOT_VERIFIED",
        "DKIM_NOT_VERIFIED",
        "DKIM_SIGNING_DISABLED",
        "SENDING_DISABLED",
        "MAIL_FROM_NOT_VERIFIED",
        "PUBLIC_POLICY",
    }
    assert all(FINDINGS.values())
    assert set(FINDINGS) >= LIST_FINDINGS
