"""Which sending-authorization policies make an identity public, and why.

A policy is public when one of its ``Allow`` statements lets an unknown caller send as the
identity:

* the principal is anyone: ``"*"``, ``{"AWS": "*"}``, a list holding ``"*"``, an ARN whose
  account is a wildcard, or ``NotPrincipal`` (everyone but a few);
* the actions include sending: ``*``, ``ses:*``, ``ses:Send*`` or any SES send action, or a
  ``NotAction`` that leaves one allowed (patterns and names are case-insensitive);
* no condition pins the caller. Only these keys can: ``aws:SourceAccount``,
  ``aws:SourceOwner``, ``aws:SourceArn`` / ``aws:PrincipalArn`` with a concrete ARN (its
  account spelled out), ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``,
  ``aws:PrincipalOrgPaths``, ``aws:SourceOrgID``, ``aws:SourceVpc``, ``aws:SourceVpce``,
  and ``aws:SourceIp`` limited to private ranges; each with a positive operator
  (``StringEquals``, ``StringLike``, ``ArnEquals``, ``ArnLike``, ``IpAddress``, with or
  without ``IgnoreCase``, ``IfExists`` or a ``ForAnyValue:`` / ``ForAllValues:`` prefix),
  and every value of the key restricting (a ``"*"``, or a pattern that matches everyone,
  restricts nobody). Any other key (``ses:FromAddress``, ``ses:Recipients``,
  ``aws:SecureTransport``, a public ``aws:SourceIp`` range, ...) restricts nobody.

A ``Deny`` statement does not hide a public ``Allow``: the finding names the statement that
is public, whatever else the policy says. This follows the logic of the checks in Prowler
(``ses_identity_not_publicly_accessible``) and ScoutSuite.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["PublicStatement", "public_statements"]

#: The actions that send as an identity, which a sending-authorization policy grants.
SEND_ACTIONS: Final = (
    "ses:sendemail",
    "ses:sendrawemail",
    "ses:sendtemplatedemail",
    "ses:sendbulktemplatedemail",
    "ses:sendbulkemail",
)

_POSITIVE_OPERATORS: Final = frozenset(
    {"stringequals", "stringlike", "arnequals", "arnlike", "ipaddress"}
)
_ACCOUNT_KEYS: Final = frozenset({"aws:sourceaccount", "aws:sourceowner", "aws:principalaccount"})
_ARN_KEYS: Final = frozenset({"aws:sourcearn", "aws:principalarn"})
_LITERAL_KEYS: Final = frozenset(
    {"aws:principalorgid", "aws:sourceorgid", "aws:sourcevpc", "aws:sourcevpce"}
)
_ORG_PATH: Final = re.compile(r"^o-[a-z0-9]+/")
_ACCOUNT: Final = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class PublicStatement:
    """A statement that makes a policy public: the policy's name, the statement's index
    (0 when ``Statement`` is a single object) and its ``Sid`` if it has one."""

    policy: str
    statement: int
    sid: str | None

    def to_json(self) -> dict[str, Any]:
        """The statement as it appears in ``findings_detail``."""
        detail: dict[str, Any] = {"policy": self.policy, "statement": self.statement}
        if self.sid is not None:
            detail["sid"] = self.sid
        return detail


def public_statements(policies: Mapping[str, Any]) -> list[PublicStatement]:
    """Every public statement of the named ``policies`` (JSON text or parsed documents)."""
    found: list[PublicStatement] = []
    for name in sorted(policies):
        for index, statement in _statements(policies[name]):
            if _is_public(statement):
                sid = statement.get("Sid")
                found.append(PublicStatement(name, index, str(sid) if sid is not None else None))
    return found


def _statements(policy: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return
    if not isinstance(policy, Mapping):
        return
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return
    for index, statement in enumerate(statements):
        if isinstance(statement, Mapping):
            yield index, statement


def _is_public(statement: Mapping[str, Any]) -> bool:
    if str(statement.get("Effect", "")).lower() != "allow":
        return False
    if not _anyone(statement):
        return False
    if not _grants_sending(statement):
        return False
    return not _restricted(statement.get("Condition"))


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _anyone(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True  # everyone but the few it names
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        for kind, value in principal.items():
            for item in _values(value):
                if item == "*":
                    return True
                if str(kind).upper() == "AWS" and isinstance(item, str) and _any_account(item):
                    return True
    return False


def _any_account(arn: str) -> bool:
    """An ARN whose account field is a wildcard (``arn:aws:iam::*:root``)."""
    parts = arn.split(":")
    return len(parts) >= 5 and parts[0] == "arn" and ("*" in parts[4] or "?" in parts[4])


def _grants_sending(statement: Mapping[str, Any]) -> bool:
    if "Action" in statement:
        patterns = [str(p).lower() for p in _values(statement["Action"])]
        return any(fnmatch.fnmatchcase(a, p) for a in SEND_ACTIONS for p in patterns)
    if "NotAction" in statement:
        patterns = [str(p).lower() for p in _values(statement["NotAction"])]
        return any(not any(fnmatch.fnmatchcase(a, p) for p in patterns) for a in SEND_ACTIONS)
    return False


def _restricted(condition: Any) -> bool:
    """True when some clause of the condition pins the caller (clauses are ANDed)."""
    if not isinstance(condition, Mapping):
        return False
    for operator, clause in condition.items():
        base = _base_operator(str(operator))
        if base not in _POSITIVE_OPERATORS or not isinstance(clause, Mapping):
            continue
        for key, values in clause.items():
            if _key_restricts(str(key).lower(), base, _values(values)):
                return True
    return False


def _base_operator(operator: str) -> str:
    name = operator.split(":", 1)[1] if ":" in operator else operator
    name = name.lower()
    if name.endswith("ifexists"):
        name = name[: -len("ifexists")]
    if name.endswith("ignorecase"):
        name = name[: -len("ignorecase")]
    return name


def _key_restricts(key: str, operator: str, values: list[Any]) -> bool:
    """Whether every value of ``key`` names specific callers (values are ORed)."""
    if not values:
        return False
    if key == "aws:sourceip":
        return operator == "ipaddress" and all(_private(v) for v in values)
    if operator == "ipaddress":
        return False
    texts = [str(v) for v in values]
    if key in _ACCOUNT_KEYS:
        return all(_ACCOUNT.match(t) for t in texts)
    if key in _ARN_KEYS:
        return all(_concrete_arn(t) for t in texts)
    if key in _LITERAL_KEYS:
        return all(t and not _wild(t) for t in texts)
    if key == "aws:principalorgpaths":
        return all(_ORG_PATH.match(t) for t in texts)
    return False


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _concrete_arn(arn: str) -> bool:
    """An ARN that names an account (``arn:aws:sns:us-east-1:123456789012:topic``)."""
    parts = arn.split(":")
    return len(parts) >= 6 and parts[0] == "arn" and bool(_ACCOUNT.match(parts[4]))


def _private(value: Any) -> bool:
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return False
    return network.is_private and not network.is_global
