"""PUBLIC_POLICY as pure functions: which sending-authorization policies let anyone send.

The rules are those of the docstring of :mod:`asyncses.reports.policies`; every case here is a
policy document handed to :func:`public_statements` (or to :func:`identity_findings`), no endpoint.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from asyncses.reports.findings import identity_findings
from asyncses.reports.policies import PublicStatement, public_statements
from asyncses.reports.records import EmailIdentityRecord

ACCOUNT = "123456789012"
SEND = "ses:SendEmail"


def allow(principal: Any = "*", action: Any = SEND, **extra: Any) -> dict[str, Any]:
    """An Allow statement for ``principal`` and ``action`` (``extra`` added as is)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    statement.update(extra)
    return statement


def conditioned(condition: dict[str, Any], principal: Any = "*") -> dict[str, Any]:
    """An Allow statement for ``principal`` that sends, under ``condition``."""
    return allow(principal, Condition=condition)


def document(*statements: Any, single: bool = False) -> str:
    """A policy's JSON text; ``single`` gives ``Statement`` as one object, not a list."""
    body: Any = statements[0] if single else list(statements)
    return json.dumps({"Version": "2012-10-17", "Statement": body})


def is_public(statement: dict[str, Any]) -> bool:
    """Whether a policy holding only ``statement`` is public."""
    return bool(public_statements({"policy": document(statement)}))


# -- who: the principal --------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ["*"]},
        {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]},
        {"AWS": "arn:aws:iam::*:root"},
        {"AWS": ["arn:aws:iam::*:user/mailer"]},
        {"AWS": "arn:aws:iam::12345678901?:root"},
    ],
    ids=[
        "star",
        "aws-star",
        "aws-list-star",
        "list-with-star",
        "arn-any-account",
        "arn-any-account-in-list",
        "arn-account-pattern",
    ],
)
def test_anyone_as_principal_is_public(principal: Any) -> None:
    """ "*", {"AWS": "*"}, a list holding "*" and an ARN with a wildcard account mean anyone."""
    assert is_public(allow(principal))


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "arn:aws:iam::210987654321:role/x"]},
        {"AWS": ACCOUNT},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:*"},
        {"Service": "ses.amazonaws.com"},
    ],
    ids=["one-account", "two-accounts", "bare-account", "any-user-of-one-account", "service"],
)
def test_named_principals_are_not_public(principal: Any) -> None:
    """Principals that name their accounts (or a service) are not anyone."""
    assert not is_public(allow(principal))


def test_not_principal_with_allow_is_public() -> None:
    """NotPrincipal with Allow grants everyone but the few it names."""
    statement = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": SEND,
    }
    assert is_public(statement)


def test_not_principal_with_deny_is_not_public() -> None:
    """A Deny statement is never the public one, NotPrincipal or not."""
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Action": SEND}
    assert not is_public(statement)


# -- what: the actions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "ses:SendEmail",
        "ses:SendRawEmail",
        "ses:SendTemplatedEmail",
        "ses:SendBulkTemplatedEmail",
        "ses:*",
        "*",
        "ses:Send*",
        "SES:SENDEMAIL",
        "ses:sendrawemail",
        "Ses:Send*",
        ["ses:GetEmailIdentity", "ses:SendEmail"],
    ],
)
def test_send_actions_make_it_public(action: Any) -> None:
    """Any action pattern that covers a send action counts, in any letter case."""
    assert is_public(allow(action=action))


@pytest.mark.parametrize(
    "action",
    ["ses:GetEmailIdentity", "ses:Get*", "ses:List*", "sns:*", ["ses:Get*", "ses:Delete*"]],
)
def test_actions_that_do_not_send_are_not_public(action: Any) -> None:
    """A statement that grants no send action lets nobody send."""
    assert not is_public(allow(action=action))


@pytest.mark.parametrize(
    ("not_action", "public"),
    [
        ("ses:SendEmail", True),
        (["ses:SendEmail", "ses:SendRawEmail"], True),
        ("ses:Get*", True),
        ("ses:Send*", False),
        ("SES:SEND*", False),
        ("ses:*", False),
        ("*", False),
    ],
    ids=[
        "leaves-raw",
        "leaves-templated",
        "leaves-all-sends",
        "excludes-sends",
        "excludes-sends-upper",
        "excludes-ses",
        "excludes-all",
    ],
)
def test_not_action(not_action: Any, public: bool) -> None:
    """NotAction is public exactly when it leaves some send action allowed."""
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": not_action}
    assert is_public(statement) is public


def test_statement_without_action_grants_nothing() -> None:
    """A statement with neither Action nor NotAction sends nothing."""
    assert not is_public({"Effect": "Allow", "Principal": "*"})


# -- the document's shape ------------------------------------------------------------------


def test_statement_as_a_single_object() -> None:
    """``Statement`` given as one object is checked as statement 0."""
    found = public_statements({"p": document(allow(Sid="Open"), single=True)})
    assert found == [PublicStatement("p", 0, "Open")]


def test_policy_already_parsed() -> None:
    """A policy given as a parsed document is checked like its JSON text."""
    assert public_statements({"p": {"Statement": [allow()]}}) == [PublicStatement("p", 0, None)]


@pytest.mark.parametrize(
    "text",
    ["not json", json.dumps(["a", "list"]), json.dumps({"Version": "2012-10-17"}), "null"],
    ids=["not-json", "not-an-object", "no-statement", "null"],
)
def test_unreadable_policies_are_not_public(text: str) -> None:
    """A policy that is not a JSON object with statements finds nothing, and does not raise."""
    assert public_statements({"p": text}) == []


def test_several_statements_name_each_public_one() -> None:
    """Each public statement is named by its index, with its Sid when it has one."""
    policy = document(
        allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Sid="Partner"),
        allow(Sid="Open"),
        {"Effect": "Deny", "Principal": "*", "Action": "*"},
        allow({"AWS": "*"}, action="ses:Send*"),
    )
    assert public_statements({"main": policy}) == [
        PublicStatement("main", 1, "Open"),
        PublicStatement("main", 3, None),
    ]


def test_several_named_policies_in_name_order() -> None:
    """Every named policy is checked; the public ones come in the order of their names."""
    policies = {
        "zeta": document(allow()),
        "alpha": document(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
        "beta": document(allow(Sid="B")),
    }
    assert public_statements(policies) == [
        PublicStatement("beta", 0, "B"),
        PublicStatement("zeta", 0, None),
    ]


def test_a_deny_beside_a_public_allow_is_still_public() -> None:
    """A Deny statement does not hide a public Allow: the finding names the Allow."""
    policy = document({"Effect": "Deny", "Principal": "*", "Action": SEND}, allow(Sid="Open"))
    assert public_statements({"p": policy}) == [PublicStatement("p", 1, "Open")]


def test_effect_is_read_without_case() -> None:
    """``"allow"`` is an Allow statement too."""
    assert is_public({"Effect": "allow", "Principal": "*", "Action": SEND})


# -- conditions that pin the caller --------------------------------------------------------

RESTRICTING: list[tuple[str, str, Any]] = [
    ("StringEquals", "aws:SourceAccount", ACCOUNT),
    ("StringEquals", "aws:SourceAccount", [ACCOUNT, "210987654321"]),
    ("StringEquals", "aws:SourceOwner", ACCOUNT),
    ("ArnEquals", "aws:SourceArn", f"arn:aws:sns:us-east-1:{ACCOUNT}:bounces"),
    ("ArnLike", "aws:SourceArn", f"arn:aws:sns:*:{ACCOUNT}:*"),
    ("ArnEquals", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/mailer"),
    ("StringLike", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/*"),
    ("StringEquals", "aws:PrincipalAccount", ACCOUNT),
    ("StringEquals", "aws:PrincipalOrgID", "o-a1b2c3d4e5"),
    ("StringLike", "aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"),
    ("StringEquals", "aws:SourceOrgID", "o-a1b2c3d4e5"),
    ("StringEquals", "aws:SourceVpc", "vpc-111bbb22"),
    ("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"]),
    ("IpAddress", "aws:SourceIp", "10.1.2.3"),
    ("IpAddress", "aws:SourceIp", "fd00::/8"),
]
RESTRICTING_IDS = [
    "source-account",
    "source-accounts",
    "source-owner",
    "source-arn",
    "source-arn-pattern-with-account",
    "principal-arn",
    "principal-arn-pattern-with-account",
    "principal-account",
    "principal-org-id",
    "principal-org-paths",
    "source-org-id",
    "source-vpc",
    "source-vpce",
    "private-ip-range",
    "private-ip-ranges",
    "private-ip",
    "private-ipv6",
]


@pytest.mark.parametrize(("operator", "key", "value"), RESTRICTING, ids=RESTRICTING_IDS)
def test_restricting_conditions(operator: str, key: str, value: Any) -> None:
    """A positive operator on a key that names specific callers makes anyone somebody."""
    assert is_public(allow())  # the same statement without the condition is public
    assert not is_public(conditioned({operator: {key: value}}))


def _key_spellings(key: str) -> list[str]:
    return [key.lower(), key.upper(), key.swapcase()]


@pytest.mark.parametrize(("operator", "key", "value"), RESTRICTING, ids=RESTRICTING_IDS)
def test_restricting_keys_in_any_case(operator: str, key: str, value: Any) -> None:
    """Condition keys are case-insensitive, as IAM reads them."""
    for spelling in _key_spellings(key):
        assert not is_public(conditioned({operator: {spelling: value}})), spelling


@pytest.mark.parametrize(
    "operator",
    [
        "StringEqualsIfExists",
        "StringEqualsIgnoreCase",
        "StringLike",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringEquals",
        "ForAnyValue:StringLikeIfExists",
        "forallvalues:stringequalsignorecase",
        "STRINGEQUALS",
    ],
)
def test_operator_variants_still_restrict(operator: str) -> None:
    """IfExists, IgnoreCase and ForAnyValue:/ForAllValues: keep an operator positive, any case."""
    assert not is_public(conditioned({operator: {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}))


@pytest.mark.parametrize(
    "operator", ["IpAddressIfExists", "ForAnyValue:IpAddress", "ipaddress"], ids=str
)
def test_ip_operator_variants_still_restrict(operator: str) -> None:
    """IpAddress with IfExists or a set prefix restricts to private ranges as IpAddress does."""
    assert not is_public(conditioned({operator: {"aws:SourceIp": "10.0.0.0/8"}}))


def test_arn_operator_variants_still_restrict() -> None:
    """ArnLike/ArnEquals with IfExists and a set prefix restrict a concrete ARN."""
    arn = f"arn:aws:iam::{ACCOUNT}:role/mailer"
    for operator in ("ArnLikeIfExists", "ForAnyValue:ArnEquals", "arnequals"):
        assert not is_public(conditioned({operator: {"aws:PrincipalArn": arn}})), operator


def test_one_restricting_clause_among_others_restricts() -> None:
    """Clauses are ANDed: one that pins the caller is enough, whatever the others say."""
    condition = {
        "StringEquals": {"ses:FromAddress": "news@example.com", "aws:SourceAccount": ACCOUNT},
        "Bool": {"aws:SecureTransport": "true"},
    }
    assert not is_public(conditioned(condition))


def test_restricting_condition_on_not_principal() -> None:
    """A pinning condition restricts a NotPrincipal statement too."""
    statement = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": SEND,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    }
    assert not is_public(statement)


# -- conditions that restrict nobody -------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"StringEquals": {"aws:SourceAccount": "*"}},
        {"StringLike": {"aws:SourceAccount": "????????????"}},
        {"StringLike": {"aws:SourceAccount": "1234*"}},
        {"StringEquals": {"aws:SourceAccount": [ACCOUNT, "*"]}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}},
        {"ArnLike": {"aws:SourceArn": "*"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/mailer"}},
        {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::a-bucket"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"StringLike": {"aws:PrincipalOrgID": "*"}},
        {"StringLike": {"aws:PrincipalOrgPaths": "o-*/*"}},
        {"StringLike": {"aws:PrincipalOrgPaths": "*"}},
        {"StringLike": {"aws:SourceVpc": "vpc-*"}},
        {"StringEquals": {"aws:SourceVpce": "*"}},
        {"StringLike": {"aws:SourceOrgID": "o-?????"}},
        {"StringEquals": {"ses:FromAddress": "news@example.com"}},
        {"ForAllValues:StringLike": {"ses:Recipients": "*@example.com"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": "8.8.8.0/24"}},
        {"IpAddress": {"aws:SourceIp": "::/0"}},
        {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "8.8.8.0/24"]}},
        {"IpAddress": {"aws:SourceIp": "not-an-address"}},
        {"StringEquals": {"aws:SourceIp": "10.0.0.0/8"}},
        {"StringEquals": {"aws:SourceAccount": []}},
    ],
    ids=[
        "empty",
        "account-star",
        "account-any-digits",
        "account-prefix",
        "account-or-star",
        "arn-any-account",
        "arn-star",
        "principal-arn-any-account",
        "arn-without-account",
        "org-id-pattern",
        "org-id-star",
        "org-paths-pattern",
        "org-paths-star",
        "vpc-pattern",
        "vpce-star",
        "source-org-pattern",
        "from-address",
        "recipients",
        "secure-transport",
        "ip-everywhere",
        "ip-public",
        "ipv6-everywhere",
        "ip-private-and-public",
        "ip-garbage",
        "ip-key-with-string-operator",
        "no-values",
    ],
)
def test_conditions_that_restrict_nobody(condition: dict[str, Any]) -> None:
    """Wildcards, patterns that match everyone, non-caller keys and public ranges pin nobody."""
    assert is_public(conditioned(condition))
    assert is_public(conditioned(condition, principal={"AWS": "*"}))


@pytest.mark.parametrize(
    "operator",
    ["StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike", "StringNotEqualsIfExists"],
)
def test_negative_operators_restrict_nobody(operator: str) -> None:
    """ "Everyone but X" is still everyone: a negative operator pins no caller."""
    key = "aws:SourceArn" if operator.startswith("Arn") else "aws:SourceAccount"
    value = f"arn:aws:sns:us-east-1:{ACCOUNT}:t" if key == "aws:SourceArn" else ACCOUNT
    assert is_public(conditioned({operator: {key: value}}))


def test_not_ip_address_restricts_nobody() -> None:
    """NotIpAddress on a public range still lets the rest of the world in."""
    assert is_public(conditioned({"NotIpAddress": {"aws:SourceIp": "8.8.8.0/24"}}))


def test_null_operator_restricts_nobody() -> None:
    """``Null`` only asks that a key be present: it names no caller."""
    assert is_public(conditioned({"Null": {"aws:SourceAccount": "false"}}))


# -- through identity_findings -------------------------------------------------------------


def _identity(policies: dict[str, Any]) -> EmailIdentityRecord:
    return {
        "type": "email_identity",
        "region": "us-east-1",
        "IdentityType": "DOMAIN",
        "IdentityName": "example.com",
        "VerificationStatus": "SUCCESS",
        "SendingEnabled": True,
        "DkimAttributes": {"Status": "SUCCESS", "SigningEnabled": True},
        "Policies": policies,
        "error": None,
    }


def test_findings_detail_names_policy_statement_and_sid() -> None:
    """PUBLIC_POLICY's detail lists each public statement: policy name, index, Sid if any."""
    policies = {
        "partner": document(conditioned({"StringEquals": {"aws:SourceAccount": ACCOUNT}})),
        "open": document(
            {"Effect": "Deny", "Principal": "*", "Action": "ses:SendRawEmail"},
            allow(Sid="AnyoneMaySend"),
            allow({"AWS": "*"}, action="ses:*"),
        ),
    }
    found, detail = identity_findings(_identity(policies))
    assert found == ["PUBLIC_POLICY"]
    assert detail == {
        "PUBLIC_POLICY": [
            {"policy": "open", "statement": 1, "sid": "AnyoneMaySend"},
            {"policy": "open", "statement": 2},
        ]
    }


def test_no_public_statement_no_finding_no_detail() -> None:
    """Restricted policies give neither the code nor a detail entry."""
    policies = {"partner": document(conditioned({"StringEquals": {"aws:SourceOwner": ACCOUNT}}))}
    assert identity_findings(_identity(policies)) == ([], {})


def test_list_only_does_not_read_policies() -> None:
    """The list fields hold no policies: list_only never reports PUBLIC_POLICY."""
    assert identity_findings(_identity({"p": document(allow())}), list_only=True) == ([], {})
