"""The bulk-change actions: what each one applies to, the one SES v2 call it makes, what
it expects of the item (the precondition) and what it wants (the target state).

A change is plain JSON (one line of a plan)::

    {"type": "change", "id": "9f2c...", "action": "enable-dkim-signing",
     "account": "111122223333", "region": "eu-west-1",
     "target": {"kind": "email_identity", "name": "example.com"},
     "call": {"operation": "PutEmailIdentityDkimAttributes",
              "params": {"EmailIdentity": "example.com", "SigningEnabled": true}},
     "expect": {"equal": {"DkimAttributes.SigningEnabled": false}, "absent": []},
     "want": {"equal": {"DkimAttributes.SigningEnabled": true}, "absent": []},
     "destructive": false}

``expect`` and ``want`` name fields of the item by dotted path (``Tags.team`` is the value
of tag ``team``; ``exists`` is whether the item exists at all) as its re-read shows it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypedDict, cast

import orjson

from ..engine.errors import UsageError
from ..reports.policies import public_statements
from ..reports.pools import MAX_POOL_NAME, parse_tags, validate_tags
from ..reports.records import DEDICATED_IP_POOL, EMAIL_IDENTITY
from ..ses import operations as ops

__all__ = [
    "ACTIONS",
    "DEDICATED_IP",
    "Action",
    "Change",
    "Condition",
    "change_id",
    "flatten",
    "holds",
    "validate_change",
]

#: The kind of a target that is one dedicated IP address.
DEDICATED_IP: Final = "dedicated_ip"
_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
BEHAVIORS_ON_MX_FAILURE: Final = ("USE_DEFAULT_VALUE", "REJECT_MESSAGE")


class Condition(TypedDict):
    """Fields (dotted paths) that must have these values, and fields that must be absent."""

    equal: dict[str, Any]
    absent: list[str]


class Target(TypedDict):
    """What a change changes: an email identity, a dedicated IP pool or a dedicated IP."""

    kind: str
    name: str


class Call(TypedDict):
    """The SES v2 call of a change."""

    operation: str
    params: dict[str, Any]


class Change(TypedDict, total=False):
    """One line of a plan."""

    type: Literal["change"]
    id: str
    action: str
    account: str
    region: str
    target: Target
    call: Call
    expect: Condition
    want: Condition
    destructive: bool


def _condition(equal: Mapping[str, Any] | None = None, absent: Iterable[str] = ()) -> Condition:
    return {"equal": dict(equal or {}), "absent": list(absent)}


def flatten(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """An item's fields by dotted path (tags by key under ``Tags.``); ``exists`` says
    whether there is an item at all."""
    if item is None:
        return {"exists": False}
    flat: dict[str, Any] = {"exists": True}

    def walk(value: Mapping[str, Any], prefix: str) -> None:
        for name, member in value.items():
            path = f"{prefix}{name}"
            if name == "Tags" and not prefix and isinstance(member, list):
                for tag in member:
                    if isinstance(tag, Mapping) and "Key" in tag:
                        flat[f"Tags.{tag['Key']}"] = tag.get("Value")
            elif isinstance(member, Mapping):
                walk(member, path + ".")
            else:
                flat[path] = member

    walk(item, "")
    return flat


def holds(condition: Condition, flat: Mapping[str, Any]) -> bool:
    """Whether an item (flattened) meets a condition."""
    for path, value in condition["equal"].items():
        if path not in flat or flat[path] != value:
            return False
    return all(path not in flat for path in condition["absent"])


def change_id(change: Mapping[str, Any]) -> str:
    """A stable id: the same action on the same item with the same call is the same id."""
    material = [
        change.get("action"),
        change.get("account"),
        change.get("region"),
        change.get("target"),
        change.get("call"),
    ]
    return hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@dataclass(frozen=True)
class Action:
    """One action: its name, the records it plans from, and how it builds changes."""

    name: str
    record_type: str
    destructive: bool
    usage: str
    summary: str
    #: (record, parsed arguments) -> (target, call, expect, want) for each change.
    build: Callable[[Mapping[str, Any], Any], list[tuple[Target, Call, Condition, Condition]]]
    #: Parses and validates the action's arguments (UsageError if SES would refuse them).
    parse: Callable[[Sequence[str]], Any]
    #: Checks one change's call parameters as SES would (UsageError).
    check: Callable[[Mapping[str, Any]], None]


def _no_args(args: Sequence[str]) -> None:
    if args:
        raise UsageError(f"this action takes no arguments, not {' '.join(args)!r}")


def _one(args: Sequence[str], what: str) -> str:
    if len(args) != 1:
        raise UsageError(f"give one {what}")
    return args[0]


def _identity(record: Mapping[str, Any]) -> Target:
    return {"kind": EMAIL_IDENTITY, "name": str(record["IdentityName"])}


def _domain_of(name: str) -> str:
    return name.rpartition("@")[2].lower()


# -- identities ----------------------------------------------------------------------------


def _enable_dkim(record: Mapping[str, Any], _args: Any) -> list[Any]:
    if record.get("IdentityType") != "DOMAIN":
        return []  # an address signs with its domain's DKIM
    if (record.get("DkimAttributes") or {}).get("SigningEnabled") is not False:
        return []
    name = str(record["IdentityName"])
    return [
        (
            _identity(record),
            {
                "operation": ops.PUT_EMAIL_IDENTITY_DKIM_ATTRIBUTES,
                "params": {"EmailIdentity": name, "SigningEnabled": True},
            },
            _condition({"DkimAttributes.SigningEnabled": False}),
            _condition({"DkimAttributes.SigningEnabled": True}),
        )
    ]


def _check_identity(params: Mapping[str, Any]) -> None:
    name = params.get("EmailIdentity")
    if not isinstance(name, str) or not name:
        raise UsageError("EmailIdentity must be a non-empty string")


def _check_dkim(params: Mapping[str, Any]) -> None:
    _check_identity(params)
    if params.get("SigningEnabled") is not True:
        raise UsageError("SigningEnabled must be true")


def _remove_public_policy(record: Mapping[str, Any], _args: Any) -> list[Any]:
    policies = record.get("Policies") or {}
    name = str(record["IdentityName"])
    changes = []
    for policy in sorted({statement.policy for statement in public_statements(policies)}):
        changes.append(
            (
                _identity(record),
                {
                    "operation": ops.DELETE_EMAIL_IDENTITY_POLICY,
                    "params": {"EmailIdentity": name, "PolicyName": policy},
                },
                _condition({f"Policies.{policy}": policies[policy]}),
                _condition(absent=[f"Policies.{policy}"]),
            )
        )
    return changes


def _check_policy(params: Mapping[str, Any]) -> None:
    _check_identity(params)
    policy = params.get("PolicyName")
    if not isinstance(policy, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", policy):
        raise UsageError(f"invalid policy name {policy!r}")


def _parse_configuration_set(args: Sequence[str]) -> str:
    name = _one(args, "configuration set name")
    if not _NAME.match(name):
        raise UsageError(f"invalid configuration set name {name!r}: 1-64 letters, digits, _ -")
    return name


def _set_configuration_set(record: Mapping[str, Any], name: str) -> list[Any]:
    current = record.get("ConfigurationSetName")
    if current == name:
        return []
    identity = str(record["IdentityName"])
    expect = (
        _condition({"ConfigurationSetName": current})
        if current
        else _condition(absent=["ConfigurationSetName"])
    )
    return [
        (
            _identity(record),
            {
                "operation": ops.PUT_EMAIL_IDENTITY_CONFIGURATION_SET_ATTRIBUTES,
                "params": {"EmailIdentity": identity, "ConfigurationSetName": name},
            },
            expect,
            _condition({"ConfigurationSetName": name}),
        )
    ]


def _check_configuration_set(params: Mapping[str, Any]) -> None:
    _check_identity(params)
    _parse_configuration_set([str(params.get("ConfigurationSetName"))])


def _parse_on_off(args: Sequence[str]) -> bool:
    value = _one(args, "of on or off").lower()
    if value not in ("on", "off"):
        raise UsageError(f"give on or off, not {value!r}")
    return value == "on"


def _set_feedback(record: Mapping[str, Any], enabled: bool) -> list[Any]:
    current = record.get("FeedbackForwardingStatus")
    if current is enabled:
        return []
    name = str(record["IdentityName"])
    return [
        (
            _identity(record),
            {
                "operation": ops.PUT_EMAIL_IDENTITY_FEEDBACK_ATTRIBUTES,
                "params": {"EmailIdentity": name, "EmailForwardingEnabled": enabled},
            },
            _condition({"FeedbackForwardingStatus": current}),
            _condition({"FeedbackForwardingStatus": enabled}),
        )
    ]


def _check_feedback(params: Mapping[str, Any]) -> None:
    _check_identity(params)
    if not isinstance(params.get("EmailForwardingEnabled"), bool):
        raise UsageError("EmailForwardingEnabled must be true or false")


@dataclass(frozen=True)
class MailFrom:
    """``set-mail-from``'s arguments: the pattern (with ``{domain}``) and the behavior."""

    pattern: str
    behavior: str


def _parse_mail_from(args: Sequence[str]) -> MailFrom:
    behavior = "USE_DEFAULT_VALUE"
    rest = list(args)
    if "--behavior-on-mx-failure" in rest:
        at = rest.index("--behavior-on-mx-failure")
        if at + 1 >= len(rest):
            raise UsageError("--behavior-on-mx-failure needs a value")
        behavior = rest[at + 1].upper()
        del rest[at : at + 2]
    if behavior not in BEHAVIORS_ON_MX_FAILURE:
        raise UsageError(
            f"invalid behavior {behavior!r}: use {' or '.join(BEHAVIORS_ON_MX_FAILURE)}"
        )
    pattern = _one(rest, "MAIL FROM pattern, such as mail.{domain}")
    if "{domain}" not in pattern:
        raise UsageError(f"the pattern {pattern!r} must contain {{domain}} (mail.{{domain}})")
    return MailFrom(pattern, behavior)


def _mail_from_domain(pattern: str, identity: str) -> str:
    domain = _domain_of(identity)
    value = pattern.replace("{domain}", domain).lower()
    _check_mail_from_domain(value, domain)
    return value


def _check_mail_from_domain(value: str, domain: str) -> None:
    if not value.endswith("." + domain) or len(value) > 253:
        raise UsageError(f"MAIL FROM domain {value!r} must be a subdomain of {domain!r}")
    if not all(_LABEL.match(label) for label in value.split(".")):
        raise UsageError(f"MAIL FROM domain {value!r} is not a valid domain name")


def _set_mail_from(record: Mapping[str, Any], args: MailFrom) -> list[Any]:
    name = str(record["IdentityName"])
    target = _mail_from_domain(args.pattern, name)
    current = record.get("MailFromAttributes") or {}
    if (
        current.get("MailFromDomain") == target
        and current.get("BehaviorOnMxFailure") == args.behavior
    ):
        return []
    expect = (
        _condition({"MailFromAttributes.MailFromDomain": current["MailFromDomain"]})
        if current.get("MailFromDomain")
        else _condition(absent=["MailFromAttributes.MailFromDomain"])
    )
    return [
        (
            _identity(record),
            {
                "operation": ops.PUT_EMAIL_IDENTITY_MAIL_FROM_ATTRIBUTES,
                "params": {
                    "EmailIdentity": name,
                    "MailFromDomain": target,
                    "BehaviorOnMxFailure": args.behavior,
                },
            },
            expect,
            _condition(
                {
                    "MailFromAttributes.MailFromDomain": target,
                    "MailFromAttributes.BehaviorOnMxFailure": args.behavior,
                }
            ),
        )
    ]


def _check_mail_from(params: Mapping[str, Any]) -> None:
    _check_identity(params)
    _check_mail_from_domain(
        str(params.get("MailFromDomain")), _domain_of(str(params["EmailIdentity"]))
    )
    if params.get("BehaviorOnMxFailure") not in BEHAVIORS_ON_MX_FAILURE:
        raise UsageError(f"invalid BehaviorOnMxFailure {params.get('BehaviorOnMxFailure')!r}")


def _arn(record: Mapping[str, Any]) -> str:
    """The identity's ARN; ``{account}`` when the report does not say the account (the
    apply fills it in from the credentials')."""
    region = str(record["region"])
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    if region.startswith("cn-"):
        partition = "aws-cn"
    account = record.get("account") or "{account}"
    return f"arn:{partition}:ses:{region}:{account}:identity/{record['IdentityName']}"


def _tags_of(record: Mapping[str, Any]) -> dict[str, Any]:
    tags = record.get("Tags") or []
    return {str(t.get("Key")): t.get("Value") for t in tags if isinstance(t, Mapping)}


def _tag(record: Mapping[str, Any], tags: dict[str, str]) -> list[Any]:
    current = _tags_of(record)
    if all(current.get(key) == value for key, value in tags.items()):
        return []
    equal = {f"Tags.{k}": current[k] for k in tags if k in current}
    absent = [f"Tags.{k}" for k in tags if k not in current]
    return [
        (
            _identity(record),
            {
                "operation": ops.TAG_RESOURCE,
                "params": {
                    "ResourceArn": _arn(record),
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                },
            },
            _condition(equal, absent),
            _condition({f"Tags.{k}": v for k, v in tags.items()}),
        )
    ]


def _check_tag(params: Mapping[str, Any]) -> None:
    tags = params.get("Tags")
    if not isinstance(tags, list) or not tags:
        raise UsageError("Tags must be a non-empty list")
    validate_tags({str(t.get("Key")): str(t.get("Value")) for t in tags})
    _check_arn(params)


def _check_arn(params: Mapping[str, Any]) -> None:
    arn = params.get("ResourceArn")
    if not isinstance(arn, str) or not re.fullmatch(
        r"arn:[a-z-]+:ses:[a-z0-9-]+:(\d{12}|\{account\}):identity/.+", arn
    ):
        raise UsageError(f"invalid identity ARN {arn!r}")


def _parse_keys(args: Sequence[str]) -> list[str]:
    if not args:
        raise UsageError("give the tag keys to remove")
    validate_tags(dict.fromkeys(args, ""))
    return list(dict.fromkeys(args))


def _untag(record: Mapping[str, Any], keys: list[str]) -> list[Any]:
    current = _tags_of(record)
    present = [k for k in keys if k in current]
    if not present:
        return []
    return [
        (
            _identity(record),
            {
                "operation": ops.UNTAG_RESOURCE,
                "params": {"ResourceArn": _arn(record), "TagKeys": present},
            },
            _condition({f"Tags.{k}": current[k] for k in present}),
            _condition(absent=[f"Tags.{k}" for k in present]),
        )
    ]


def _check_untag(params: Mapping[str, Any]) -> None:
    keys = params.get("TagKeys")
    if not isinstance(keys, list) or not keys:
        raise UsageError("TagKeys must be a non-empty list")
    validate_tags(dict.fromkeys(map(str, keys), ""))
    _check_arn(params)


def _delete_identity(record: Mapping[str, Any], _args: Any) -> list[Any]:
    name = str(record["IdentityName"])
    seen = {k: record[k] for k in ("IdentityType", "VerificationStatus") if k in record}
    return [
        (
            _identity(record),
            {"operation": ops.DELETE_EMAIL_IDENTITY, "params": {"EmailIdentity": name}},
            _condition({"exists": True, **seen}),
            _condition({"exists": False}),
        )
    ]


# -- dedicated IPs and pools ---------------------------------------------------------------


def _parse_pool(args: Sequence[str]) -> str:
    name = _one(args, "pool name")
    if len(name) > MAX_POOL_NAME or not _NAME.match(name):
        raise UsageError(f"invalid pool name {name!r}: 1-64 letters, digits, _ and -")
    return name


def _ips(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [ip for ip in record.get("DedicatedIps") or () if isinstance(ip, Mapping)]


def _move_ip(record: Mapping[str, Any], pool: str) -> list[Any]:
    changes = []
    for ip in _ips(record):
        current = ip.get("PoolName", record.get("PoolName"))
        if current == pool:
            continue
        address = str(ip["Ip"])
        changes.append(
            (
                {"kind": DEDICATED_IP, "name": address},
                {
                    "operation": ops.PUT_DEDICATED_IP_IN_POOL,
                    "params": {"Ip": address, "DestinationPoolName": pool},
                },
                _condition({"PoolName": current}),
                _condition({"PoolName": pool}),
            )
        )
    return changes


def _check_ip(params: Mapping[str, Any]) -> None:
    address = params.get("Ip")
    if not isinstance(address, str) or not address:
        raise UsageError("Ip must be a non-empty string")


def _check_move(params: Mapping[str, Any]) -> None:
    _check_ip(params)
    _parse_pool([str(params.get("DestinationPoolName"))])


def _parse_percent(args: Sequence[str]) -> int:
    text = _one(args, "warm-up percentage (0-100)")
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"the warm-up percentage must be a whole number, not {text!r}") from None
    if not 0 <= value <= 100:
        raise UsageError(f"the warm-up percentage must be from 0 to 100, not {value}")
    return value


def _set_warmup(record: Mapping[str, Any], percent: int) -> list[Any]:
    changes = []
    for ip in _ips(record):
        if ip.get("WarmupPercentage") == percent:
            continue
        address = str(ip["Ip"])
        changes.append(
            (
                {"kind": DEDICATED_IP, "name": address},
                {
                    "operation": ops.PUT_DEDICATED_IP_WARMUP_ATTRIBUTES,
                    "params": {"Ip": address, "WarmupPercentage": percent},
                },
                _condition({"WarmupPercentage": ip.get("WarmupPercentage")}),
                _condition({"WarmupPercentage": percent}),
            )
        )
    return changes


def _check_warmup(params: Mapping[str, Any]) -> None:
    _check_ip(params)
    _parse_percent([str(params.get("WarmupPercentage"))])


def _parse_mode(args: Sequence[str]) -> str:
    mode = _one(args, "scaling mode (STANDARD or MANAGED)").upper()
    if mode not in ops.SCALING_MODES:
        raise UsageError(f"invalid scaling mode {mode!r}: use STANDARD or MANAGED")
    return mode


def _set_scaling_mode(record: Mapping[str, Any], mode: str) -> list[Any]:
    current = record.get("ScalingMode")
    if current == mode:
        return []
    if current == "MANAGED" and mode == "STANDARD":
        return []  # SES refuses to turn a managed pool back into a standard one
    name = str(record["PoolName"])
    return [
        (
            {"kind": DEDICATED_IP_POOL, "name": name},
            {
                "operation": ops.PUT_DEDICATED_IP_POOL_SCALING_ATTRIBUTES,
                "params": {"PoolName": name, "ScalingMode": mode},
            },
            _condition({"ScalingMode": current}),
            _condition({"ScalingMode": mode}),
        )
    ]


def _check_scaling(params: Mapping[str, Any]) -> None:
    _parse_pool([str(params.get("PoolName"))])
    _parse_mode([str(params.get("ScalingMode"))])


ACTIONS: Final[Mapping[str, Action]] = {
    action.name: action
    for action in (
        Action(
            "enable-dkim-signing",
            EMAIL_IDENTITY,
            False,
            "enable-dkim-signing",
            "turn DKIM signing on (domain identities; addresses sign with their domain's)",
            _enable_dkim,
            _no_args,
            _check_dkim,
        ),
        Action(
            "remove-public-policy",
            EMAIL_IDENTITY,
            True,
            "remove-public-policy",
            "delete each sending-authorization policy that makes an identity public",
            _remove_public_policy,
            _no_args,
            _check_policy,
        ),
        Action(
            "set-configuration-set",
            EMAIL_IDENTITY,
            False,
            "set-configuration-set NAME",
            "make NAME the identity's default configuration set",
            _set_configuration_set,
            _parse_configuration_set,
            _check_configuration_set,
        ),
        Action(
            "set-feedback-forwarding",
            EMAIL_IDENTITY,
            False,
            "set-feedback-forwarding on|off",
            "turn bounce and complaint forwarding by email on or off",
            _set_feedback,
            _parse_on_off,
            _check_feedback,
        ),
        Action(
            "set-mail-from",
            EMAIL_IDENTITY,
            False,
            "set-mail-from PATTERN [--behavior-on-mx-failure USE_DEFAULT_VALUE|REJECT_MESSAGE]",
            "set a custom MAIL FROM domain, PATTERN with {domain} (mail.{domain})",
            _set_mail_from,
            _parse_mail_from,
            _check_mail_from,
        ),
        Action(
            "tag",
            EMAIL_IDENTITY,
            False,
            "tag KEY=VALUE...",
            "set tags on the identity",
            _tag,
            lambda args: parse_tags(args) if args else _fail("give KEY=VALUE tags"),
            _check_tag,
        ),
        Action(
            "untag",
            EMAIL_IDENTITY,
            False,
            "untag KEY...",
            "remove tags from the identity",
            _untag,
            _parse_keys,
            _check_untag,
        ),
        Action(
            "delete-identity",
            EMAIL_IDENTITY,
            True,
            "delete-identity",
            "delete the identity",
            _delete_identity,
            _no_args,
            _check_identity,
        ),
        Action(
            "move-ip",
            DEDICATED_IP_POOL,
            False,
            "move-ip POOL",
            "move each dedicated IP of the selected pools to POOL (reports of pools --with-ips)",
            _move_ip,
            _parse_pool,
            _check_move,
        ),
        Action(
            "set-warmup",
            DEDICATED_IP_POOL,
            False,
            "set-warmup PERCENT",
            "set the warm-up percentage of each dedicated IP (reports of pools --with-ips)",
            _set_warmup,
            _parse_percent,
            _check_warmup,
        ),
        Action(
            "set-scaling-mode",
            DEDICATED_IP_POOL,
            False,
            "set-scaling-mode STANDARD|MANAGED",
            "set the pool's scaling mode (SES turns STANDARD into MANAGED, not back)",
            _set_scaling_mode,
            _parse_mode,
            _check_scaling,
        ),
    )
}


def _fail(message: str) -> Any:
    raise UsageError(message)


def validate_change(change: Mapping[str, Any], line: int | str = "?") -> Change:
    """Check one change as SES would check its call; a :class:`UsageError` names the line."""
    where = f"change {line}"
    action = ACTIONS.get(str(change.get("action")))
    if action is None:
        raise UsageError(f"{where}: unknown action {change.get('action')!r}")
    for member in ("id", "region", "target", "call", "expect", "want"):
        if member not in change:
            raise UsageError(f"{where}: no {member!r}")
    call = change["call"]
    if not isinstance(call, Mapping) or not isinstance(call.get("params"), Mapping):
        raise UsageError(f"{where}: 'call' must have 'operation' and 'params'")
    built = [spec[1]["operation"] for spec in _samples(action)]
    if built and call.get("operation") not in built:
        raise UsageError(f"{where}: {action.name} calls {built[0]}, not {call.get('operation')!r}")
    for name in ("expect", "want"):
        condition = change[name]
        if (
            not isinstance(condition, Mapping)
            or not isinstance(condition.get("equal"), Mapping)
            or not isinstance(condition.get("absent"), list)
        ):
            raise UsageError(
                f"{where}: {name!r} must have 'equal' (an object) and 'absent' (a list)"
            )
    if (
        action.name == "set-scaling-mode"
        and change["expect"]["equal"].get("ScalingMode") == "MANAGED"
        and call["params"].get("ScalingMode") == "STANDARD"
    ):
        raise UsageError(f"{where}: SES does not turn a MANAGED pool back into STANDARD")
    try:
        action.check(call["params"])
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    if bool(change.get("destructive")) != action.destructive:
        raise UsageError(f"{where}: 'destructive' must be {str(action.destructive).lower()}")
    return cast(Change, dict(change))  # a parse boundary: checked member by member above


def _samples(action: Action) -> list[tuple[Target, Call, Condition, Condition]]:
    """A change the action builds from a sample record, to learn its operation."""
    samples: dict[str, Mapping[str, Any]] = {
        EMAIL_IDENTITY: {
            "IdentityName": "example.com",
            "IdentityType": "DOMAIN",
            "region": "us-east-1",
            "DkimAttributes": {"SigningEnabled": False},
            "Policies": {"p": '{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}'},
            "Tags": [{"Key": "k", "Value": "v"}],
            "FeedbackForwardingStatus": True,
        },
        DEDICATED_IP_POOL: {
            "PoolName": "a",
            "ScalingMode": "STANDARD",
            "DedicatedIps": [{"Ip": "10.0.0.1", "WarmupPercentage": 1, "PoolName": "a"}],
        },
    }
    arguments: dict[str, Any] = {
        "set-configuration-set": "other",
        "set-feedback-forwarding": False,
        "set-mail-from": MailFrom("mail.{domain}", "USE_DEFAULT_VALUE"),
        "tag": {"k": "w"},
        "untag": ["k"],
        "move-ip": "b",
        "set-warmup": 50,
        "set-scaling-mode": "MANAGED",
    }
    return action.build(samples[action.record_type], arguments.get(action.name))
