"""Bulk changes from a reviewed plan: ``asyncses plan`` and ``asyncses apply`` end to end.

Each action is planned from a real report of the local endpoint, applied, and the item read
back through a boto3 client. Then what makes a plan safe to apply: ``--where``, stable ids,
drift, ``already``, ``--dry-run``, ``--resume`` after ``kill -9``, throttles, 5xx and lost
answers from the fault proxy, and every refusal of a bad plan before any request is sent.

Runs are in-process (``asyncses.cli.main``) except the one that is killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra
import orjson
import pytest
from botocore.config import Config

import asyncses
from asyncses.changes.actions import change_id
from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT, Cli, Result, no_problems, read_lines, read_ndjson

AUDIT = ("--rate", "1000", "--no-progress")  # no cautious start against the local endpoint
FAST = ("--rate", "1000")
PUBLIC = json.dumps(
    {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ses:SendEmail"}]}
)
PUBLIC_TOO = json.dumps(
    {"Statement": {"Effect": "Allow", "Principal": "*", "Action": ["ses:SendRawEmail"]}}
)
RESTRICTED = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "ses:SendEmail",
                "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
            }
        ]
    }
)


@pytest.fixture(autouse=True)
def sts_at_the_endpoint(
    aws_env: None, ses_server: LocalSES, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply looks the account up through STS: the local endpoint answers it (never a proxy)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", ses_server.url)


# -- helpers -------------------------------------------------------------------------------


def audit(cli: Cli, ses: LocalSES, report: Path, command: str = "identities", *extra: str) -> Path:
    """Audit the local endpoint into ``report``; it must succeed."""
    result = cli(command, "--endpoint-url", ses.url, "-o", str(report), *AUDIT, *extra)
    assert result.code == 0, result.err
    return report


def make_plan(
    cli: Cli, path: Path, action: str, *arguments: str, report: Path, where: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """``asyncses plan ACTION ARGS --from REPORT --where ...`` into ``path``; its changes."""
    conditions = [arg for condition in where for arg in ("--where", condition)]
    result = cli("plan", action, *arguments, "--from", str(report), *conditions, "-o", str(path))
    assert result.code == 0, result.err
    lines = read_lines(path)
    assert lines[0]["type"] == "plan"
    assert lines[0]["changes"] == len(lines) - 1
    return lines[1:]


def apply(cli: Cli, plan: Path, url: str, out: Path, *extra: str) -> tuple[Result, list[Any]]:
    """``asyncses apply PLAN --endpoint-url URL -o OUT ...``; the result and the outcomes."""
    result = cli("apply", str(plan), "--endpoint-url", url, "-o", str(out), *FAST, *extra)
    outcomes = read_ndjson(out) if out.exists() else []
    return result, outcomes


def writes(ses: LocalSES) -> dict[str, int]:
    """The SES v2 write requests the endpoint has served, by operation."""
    return {op: n for op, n in ses.operation_calls.items() if not op.startswith(("Get", "List"))}


def targets(changes: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(str(change["target"]["name"]) for change in changes)


def statuses(outcomes: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Target name -> outcome status (each target once)."""
    found: dict[str, str] = {}
    for outcome in outcomes:
        name = str(outcome["target"]["name"])
        assert name not in found, f"two outcomes for {name}"
        found[name] = str(outcome["status"])
    return found


def write_plan(path: Path, lines: Iterable[dict[str, Any] | bytes]) -> Path:
    """A plan file of these lines (objects as JSON; bytes as they are)."""
    path.write_bytes(
        b"".join(
            (line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines
        )
    )
    return path


def header(changes: Sequence[dict[str, Any]], action: str = "tag") -> dict[str, Any]:
    """A plan header line for hand-made plans."""
    destructive = sum(1 for change in changes if change.get("destructive"))
    return {
        "type": "plan",
        "action": action,
        "changes": len(changes),
        "destructive": destructive,
    }


def identity_record(name: str, **fields: Any) -> dict[str, Any]:
    """A clean domain identity record as a report holds it."""
    record: dict[str, Any] = {
        "type": "email_identity",
        "region": REGION,
        "IdentityType": "DOMAIN",
        "IdentityName": name,
        "VerificationStatus": "SUCCESS",
        "FeedbackForwardingStatus": True,
        "DkimAttributes": {"SigningEnabled": False, "Status": "SUCCESS"},
        "Policies": {},
        "Tags": [],
        "findings": [],
        "error": None,
    }
    record.update(fields)
    return record


def unsigned(ses: LocalSES, *names: str) -> None:
    """Domain identities with verified DKIM and signing off."""
    for name in names:
        ses.set_identity(REGION, name, dkim_status="SUCCESS", dkim_signing_enabled=False)


# -- each action ---------------------------------------------------------------------------


def test_enable_dkim_signing(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """enable-dkim-signing plans the unsigned domains (not their addresses) and signs them."""
    unsigned(ses, "a.example.com", "c.example.com")
    ses.set_identity(REGION, "b.example.com", dkim_status="SUCCESS", dkim_signing_enabled=True)
    ses.set_identity(REGION, "ann@a.example.com")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    by_name = {r["IdentityName"]: r for r in read_ndjson(report)}
    assert "DKIM_SIGNING_DISABLED" in by_name["ann@a.example.com"]["findings"]
    changes = make_plan(
        cli,
        tmp_path / "p.plan",
        "enable-dkim-signing",
        report=report,
        where=["DKIM_SIGNING_DISABLED"],
    )
    assert targets(changes) == ["a.example.com", "c.example.com"]
    assert {c["call"]["operation"] for c in changes} == {"PutEmailIdentityDkimAttributes"}
    result, outcomes = apply(cli, tmp_path / "p.plan", ses.url, tmp_path / "out.ndjson")
    assert result.code == 0, result.err
    assert statuses(outcomes) == {"a.example.com": "applied", "c.example.com": "applied"}
    for name in ("a.example.com", "b.example.com", "c.example.com"):
        assert sesv2.get_email_identity(EmailIdentity=name)["DkimAttributes"]["SigningEnabled"]
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 2}


def test_remove_public_policy_keeps_restricted_ones(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """remove-public-policy deletes only the public policies; a pinned one stays."""
    ses.set_identity(REGION, "mixed.example.com", policies={"open": PUBLIC, "pinned": RESTRICTED})
    ses.set_identity(REGION, "two.example.com", policies={"a": PUBLIC, "b": PUBLIC_TOO})
    ses.set_identity(REGION, "safe.example.com", policies={"pinned": RESTRICTED})
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    changes = make_plan(cli, plan, "remove-public-policy", report=report, where=["PUBLIC_POLICY"])
    policies = sorted((c["target"]["name"], c["call"]["params"]["PolicyName"]) for c in changes)
    assert policies == [
        ("mixed.example.com", "open"),
        ("two.example.com", "a"),
        ("two.example.com", "b"),
    ]
    assert all(c["destructive"] for c in changes)
    assert read_lines(plan)[0]["destructive"] == 3
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson", "--confirm", "3")
    assert result.code == 0, result.err
    assert [o["status"] for o in outcomes] == ["applied"] * 3
    left = {
        name: sorted(sesv2.get_email_identity_policies(EmailIdentity=name)["Policies"])
        for name in ("mixed.example.com", "two.example.com", "safe.example.com")
    }
    assert left == {
        "mixed.example.com": ["pinned"],
        "two.example.com": [],
        "safe.example.com": ["pinned"],
    }


def test_set_configuration_set(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """set-configuration-set plans the identities not on the set yet and puts them on it."""
    ses.seed_configuration_sets(REGION, 2)
    ses.set_identity(REGION, "none.example.com")
    ses.set_identity(REGION, "other.example.com", configuration_set_name="configset-001")
    ses.set_identity(REGION, "there.example.com", configuration_set_name="configset-000")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    changes = make_plan(cli, plan, "set-configuration-set", "configset-000", report=report)
    assert targets(changes) == ["none.example.com", "other.example.com"]
    expect = {c["target"]["name"]: c["expect"] for c in changes}
    assert expect["none.example.com"] == {"equal": {}, "absent": ["ConfigurationSetName"]}
    assert expect["other.example.com"]["equal"] == {"ConfigurationSetName": "configset-001"}
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    for name in ("none.example.com", "other.example.com", "there.example.com"):
        found = sesv2.get_email_identity(EmailIdentity=name)
        assert found["ConfigurationSetName"] == "configset-000"


def test_set_feedback_forwarding_off_and_on(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """set-feedback-forwarding off, then on: each plans only the identities not there yet."""
    ses.set_identity(REGION, "on.example.com", feedback_forwarding=True)
    ses.set_identity(REGION, "off.example.com", feedback_forwarding=False)
    names = ("on.example.com", "off.example.com")

    def forwarding() -> list[bool]:
        return [
            sesv2.get_email_identity(EmailIdentity=n)["FeedbackForwardingStatus"] for n in names
        ]

    first = audit(cli, ses, tmp_path / "first.ndjson")
    changes = make_plan(cli, tmp_path / "off.plan", "set-feedback-forwarding", "off", report=first)
    assert targets(changes) == ["on.example.com"]
    result, outcomes = apply(cli, tmp_path / "off.plan", ses.url, tmp_path / "off.ndjson")
    assert result.code == 0, result.err
    assert statuses(outcomes) == {"on.example.com": "applied"}
    assert forwarding() == [False, False]

    second = audit(cli, ses, tmp_path / "second.ndjson")
    changes = make_plan(cli, tmp_path / "on.plan", "set-feedback-forwarding", "on", report=second)
    assert targets(changes) == sorted(names)
    result, outcomes = apply(cli, tmp_path / "on.plan", ses.url, tmp_path / "on.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    assert forwarding() == [True, True]


def test_set_mail_from_with_reject_message(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """set-mail-from 'mail.{domain}' --behavior-on-mx-failure REJECT_MESSAGE, per identity's
    own domain (an address's domain for an address)."""
    ses.set_identity(REGION, "bare.example.com")
    ses.set_identity(REGION, "ann@people.example.org")
    ses.set_identity(REGION, "has.example.com", mail_from_domain="mail.has.example.com")
    ses.set_identity(REGION, "odd.example.com", mail_from_domain="bounce.odd.example.com")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    result = cli(
        "plan",
        "set-mail-from",
        "mail.{domain}",
        "--behavior-on-mx-failure",
        "REJECT_MESSAGE",
        "--from",
        str(report),
        "-o",
        str(plan),
    )
    assert result.code == 0, result.err
    changes = read_lines(plan)[1:]
    wanted = {
        "bare.example.com": "mail.bare.example.com",
        "ann@people.example.org": "mail.people.example.org",
        "has.example.com": "mail.has.example.com",
        "odd.example.com": "mail.odd.example.com",
    }
    assert {c["target"]["name"]: c["call"]["params"]["MailFromDomain"] for c in changes} == wanted
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    for name, domain in wanted.items():
        found = sesv2.get_email_identity(EmailIdentity=name)["MailFromAttributes"]
        assert (found["MailFromDomain"], found["BehaviorOnMxFailure"]) == (
            domain,
            "REJECT_MESSAGE",
        )


def test_tag_and_untag_fill_in_the_account(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """tag and untag from a report without account ids: apply fills the ARN's account."""
    ses.set_identity(REGION, "a.example.com", tags={"keep": "yes"})
    ses.set_identity(REGION, "b.example.com", tags={"team": "mail"})
    ses.set_identity(REGION, "c@example.com")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    assert all("account" not in record for record in read_ndjson(report))
    changes = make_plan(cli, tmp_path / "tag.plan", "tag", "team=mail", "env=prod", report=report)
    assert targets(changes) == ["a.example.com", "b.example.com", "c@example.com"]
    assert all("account" not in change for change in changes)
    arns = {c["call"]["params"]["ResourceArn"] for c in changes}
    assert "arn:aws:ses:us-east-1:{account}:identity/a.example.com" in arns
    result, outcomes = apply(cli, tmp_path / "tag.plan", ses.url, tmp_path / "tag.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    assert {o["account"] for o in outcomes} == {DEFAULT_ACCOUNT}

    def tags(name: str) -> dict[str, str]:
        arn = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/{name}"
        listed = sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"]
        return {t["Key"]: t["Value"] for t in listed}

    assert tags("a.example.com") == {"keep": "yes", "team": "mail", "env": "prod"}
    assert tags("c@example.com") == {"team": "mail", "env": "prod"}

    again = audit(cli, ses, tmp_path / "again.ndjson")
    changes = make_plan(cli, tmp_path / "untag.plan", "untag", "env", "keep", report=again)
    assert {c["target"]["name"]: c["call"]["params"]["TagKeys"] for c in changes} == {
        "a.example.com": ["env", "keep"],
        "b.example.com": ["env"],
        "c@example.com": ["env"],
    }
    result, outcomes = apply(cli, tmp_path / "untag.plan", ses.url, tmp_path / "untag.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    assert [tags(n) for n in ("a.example.com", "b.example.com", "c@example.com")] == [
        {"team": "mail"}
    ] * 3


def test_delete_identity_with_confirm(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """delete-identity --where NOT_VERIFIED deletes those identities, with --confirm N only."""
    ses.set_identity(REGION, "good.example.com")
    ses.set_identity(REGION, "failed.example.com", verification_status="FAILED")
    ses.set_identity(REGION, "gone@example.net", verification_status="PENDING")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    changes = make_plan(cli, plan, "delete-identity", report=report, where=["NOT_VERIFIED"])
    assert targets(changes) == ["failed.example.com", "gone@example.net"]
    refused, _ = apply(cli, plan, ses.url, tmp_path / "out.ndjson")
    assert refused.code == 2
    assert "--confirm 2" in refused.err
    assert writes(ses) == {}
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson", "--confirm", "2")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    listed = sesv2.list_email_identities()["EmailIdentities"]
    assert [e["IdentityName"] for e in listed] == ["good.example.com"]


def pool_ips(sesv2: Any, pool: str) -> dict[str, int]:
    """Address -> WarmupPercentage of the dedicated IPs of ``pool``."""
    found = sesv2.get_dedicated_ips(PoolName=pool)["DedicatedIps"]
    return {ip["Ip"]: ip["WarmupPercentage"] for ip in found}


def test_move_ip_and_set_warmup(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """move-ip and set-warmup plan one change per dedicated IP of a ``pools --with-ips``
    report, and apply them."""
    ses.seed_pools(REGION, 3, ips_per_pool=2)  # pool-000, pool-001 STANDARD; pool-002 MANAGED
    before = {pool: pool_ips(sesv2, pool) for pool in ("pool-000", "pool-001")}
    assert all(len(ips) == 2 for ips in before.values())
    report = audit(cli, ses, tmp_path / "pools.ndjson", "pools", "--with-ips")
    plan = tmp_path / "move.plan"
    changes = make_plan(
        cli, plan, "move-ip", "pool-001", report=report, where=["PoolName=pool-000"]
    )
    assert targets(changes) == sorted(before["pool-000"])
    assert {c["target"]["kind"] for c in changes} == {"dedicated_ip"}
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "move.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    assert pool_ips(sesv2, "pool-000") == {}
    assert pool_ips(sesv2, "pool-001") == before["pool-000"] | before["pool-001"]

    again = audit(cli, ses, tmp_path / "again.ndjson", "pools", "--with-ips")
    plan = tmp_path / "warm.plan"
    changes = make_plan(cli, plan, "set-warmup", "50", report=again)
    moved = pool_ips(sesv2, "pool-001")
    assert targets(changes) == sorted(ip for ip, percent in moved.items() if percent != 50)
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "warm.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    for ip in moved:
        assert sesv2.get_dedicated_ip(Ip=ip)["DedicatedIp"]["WarmupPercentage"] == 50


def test_set_scaling_mode_standard_to_managed_only(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """set-scaling-mode MANAGED turns the STANDARD pools; STANDARD is never planned for a
    MANAGED pool, and a hand-written such change is refused with exit 2, nothing sent."""
    ses.seed_pools(REGION, 3)
    report = audit(cli, ses, tmp_path / "pools.ndjson", "pools")
    plan = tmp_path / "managed.plan"
    changes = make_plan(cli, plan, "set-scaling-mode", "MANAGED", report=report)
    assert targets(changes) == ["pool-000", "pool-001"]
    assert {c["expect"]["equal"]["ScalingMode"] for c in changes} == {"STANDARD"}
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "managed.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    for pool in ("pool-000", "pool-001", "pool-002"):
        assert sesv2.get_dedicated_ip_pool(PoolName=pool)["DedicatedIpPool"]["ScalingMode"] == (
            "MANAGED"
        )

    now = audit(cli, ses, tmp_path / "now.ndjson", "pools")
    assert make_plan(cli, tmp_path / "back.plan", "set-scaling-mode", "STANDARD", report=now) == []

    by_hand: dict[str, Any] = {
        "type": "change",
        "action": "set-scaling-mode",
        "region": REGION,
        "target": {"kind": "dedicated_ip_pool", "name": "pool-000"},
        "call": {
            "operation": "PutDedicatedIpPoolScalingAttributes",
            "params": {"PoolName": "pool-000", "ScalingMode": "STANDARD"},
        },
        "expect": {"equal": {"ScalingMode": "MANAGED"}, "absent": []},
        "want": {"equal": {"ScalingMode": "STANDARD"}, "absent": []},
        "destructive": False,
    }
    by_hand["id"] = change_id(by_hand)
    bad = write_plan(tmp_path / "bad.plan", [header([by_hand]), by_hand])
    with FaultProxy(ses.url) as proxy:
        refused, _ = apply(cli, bad, proxy.url, tmp_path / "bad.ndjson")
        assert proxy.stats.requests == 0
    assert refused.code == 2
    assert "MANAGED pool back into STANDARD" in refused.err
    assert sesv2.get_dedicated_ip_pool(PoolName="pool-000")["DedicatedIpPool"]["ScalingMode"] == (
        "MANAGED"
    )


# -- selecting and identifying changes -----------------------------------------------------


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


WHERE: list[tuple[list[str], Callable[[dict[str, Any]], bool]]] = [
    (["NOT_VERIFIED"], lambda r: "NOT_VERIFIED" in r["findings"]),
    (["IdentityType=EMAIL_ADDRESS"], lambda r: r["IdentityType"] == "EMAIL_ADDRESS"),
    (["DkimAttributes.Status!=SUCCESS"], lambda r: _field(r, "DkimAttributes.Status") != "SUCCESS"),
    (
        ["DkimAttributes.SigningEnabled=false"],
        lambda r: _field(r, "DkimAttributes.SigningEnabled") is False,
    ),
    (
        ["IdentityType=DOMAIN", "MAIL_FROM_NOT_VERIFIED"],
        lambda r: r["IdentityType"] == "DOMAIN" and "MAIL_FROM_NOT_VERIFIED" in r["findings"],
    ),
    (
        ["MailFromAttributes.MailFromDomainStatus!=SUCCESS", "IdentityType!=EMAIL_ADDRESS"],
        lambda r: (
            _field(r, "MailFromAttributes.MailFromDomainStatus") != "SUCCESS"
            and r["IdentityType"] != "EMAIL_ADDRESS"
        ),
    ),
]


def test_where_selects_by_finding_and_by_field(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """--where takes finding codes, FIELD=VALUE and FIELD!=VALUE (dotted paths); all must hold."""
    ses.seed_identities(REGION, 60)
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    records = read_ndjson(report)
    for number, (where, selects) in enumerate(WHERE):
        expected = sorted(r["IdentityName"] for r in records if selects(r))
        assert 0 < len(expected) < len(records), where  # the condition really filters
        plan = tmp_path / f"{number}.plan"
        changes = make_plan(cli, plan, "tag", "audit=2024", report=report, where=where)
        assert targets(changes) == expected, where
        assert read_lines(plan)[0]["where"] == where


def test_where_refuses_what_is_neither_a_finding_nor_a_field(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """A --where that is no finding code and no FIELD=VALUE is a usage error; no plan file."""
    ses.set_identity(REGION, "a.example.com")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    result = cli(
        "plan", "tag", "a=b", "--from", str(report), "--where", "NOT_A_CODE", "-o", str(plan)
    )
    assert result.code == 2
    assert "NOT_A_CODE" in result.err
    assert not plan.exists()


def test_plans_are_stable(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """The same report planned twice gives the same changes and ids; so does a second audit
    of the same account; other arguments give other ids."""
    ses.seed_identities(REGION, 30)
    first = audit(cli, ses, tmp_path / "first.ndjson")
    second = audit(cli, ses, tmp_path / "second.ndjson")
    one = make_plan(cli, tmp_path / "one.plan", "tag", "team=mail", report=first)
    two = make_plan(cli, tmp_path / "two.plan", "tag", "team=mail", report=first)
    three = make_plan(cli, tmp_path / "three.plan", "tag", "team=mail", report=second)
    assert len(one) == 30
    assert one == two
    assert sorted(c["id"] for c in one) == sorted(c["id"] for c in three)
    assert len({c["id"] for c in one}) == 30
    other = make_plan(cli, tmp_path / "other.plan", "tag", "team=ops", report=first)
    assert not {c["id"] for c in one} & {c["id"] for c in other}


# -- re-reading: drift, already, dry run ---------------------------------------------------


def test_drifted_items_are_left_alone(cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path) -> None:
    """An item changed between plan and apply is ``drifted``: nothing changed, exit 1."""
    for name in ("a.example.com", "b.example.com", "c.example.com"):
        ses.set_identity(REGION, name, policies={"open": PUBLIC})
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    assert len(make_plan(cli, plan, "remove-public-policy", report=report)) == 3
    ses.set_identity(REGION, "a.example.com", policies={"open": PUBLIC_TOO})
    sesv2.update_email_identity_policy(
        EmailIdentity="b.example.com", PolicyName="open", Policy=PUBLIC_TOO
    )
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson", "--confirm", "3")
    assert result.code == 1
    assert statuses(outcomes) == {
        "a.example.com": "drifted",
        "b.example.com": "drifted",
        "c.example.com": "applied",
    }
    assert writes(ses) == {"DeleteEmailIdentityPolicy": 1, "UpdateEmailIdentityPolicy": 1}
    for name in ("a.example.com", "b.example.com"):
        found = sesv2.get_email_identity_policies(EmailIdentity=name)["Policies"]
        assert found == {"open": PUBLIC_TOO}
    assert sesv2.get_email_identity_policies(EmailIdentity="c.example.com")["Policies"] == {}


def test_second_apply_finds_everything_already_done(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """Applying a plan again: every change is ``already``, nothing is written, exit 0."""
    unsigned(ses, "a.example.com", "b.example.com", "c.example.com")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    make_plan(cli, plan, "enable-dkim-signing", report=report)
    first, _ = apply(cli, plan, ses.url, tmp_path / "first.ndjson")
    assert first.code == 0, first.err
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 3}
    second, outcomes = apply(cli, plan, ses.url, tmp_path / "second.ndjson")
    assert second.code == 0, second.err
    assert set(statuses(outcomes).values()) == {"already"}
    assert len(outcomes) == 3
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 3}
    assert "3 already" in second.err
    # summary counts an outcomes file by status
    summary = cli("summary", str(tmp_path / "second.ndjson"), "--format", "json")
    assert summary.code == 0, summary.err
    assert json.loads(summary.out)["counts"]["status"] == {"already": 3}


def test_dry_run_reports_and_changes_nothing(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """--dry-run gives would-apply, already and drifted from re-reads, and writes nothing."""
    ses.seed_configuration_sets(REGION, 3)
    for name in ("todo.example.com", "done.example.com", "moved.example.com"):
        ses.set_identity(REGION, name)
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    assert len(make_plan(cli, plan, "set-configuration-set", "configset-000", report=report)) == 3
    ses.set_identity(REGION, "done.example.com", configuration_set_name="configset-000")
    ses.set_identity(REGION, "moved.example.com", configuration_set_name="configset-002")
    reads = ses.operation_calls.get("GetEmailIdentity", 0)
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson", "--dry-run")
    assert result.code == 1  # something drifted
    assert statuses(outcomes) == {
        "todo.example.com": "would-apply",
        "done.example.com": "already",
        "moved.example.com": "drifted",
    }
    assert writes(ses) == {}
    assert ses.operation_calls["GetEmailIdentity"] == reads + 3
    assert "ConfigurationSetName" not in sesv2.get_email_identity(EmailIdentity="todo.example.com")


def test_dry_run_of_a_destructive_plan_needs_no_confirm(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """A destructive plan can be dry-run without --confirm: it changes nothing anyway."""
    ses.set_identity(REGION, "old.example.com")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    make_plan(cli, plan, "delete-identity", report=report)
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson", "--dry-run")
    assert result.code == 0, result.err
    assert statuses(outcomes) == {"old.example.com": "would-apply"}
    assert writes(ses) == {}


# -- interrupted and faulty applies --------------------------------------------------------


def _write_requests(proxy: FaultProxy) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.status) for r in proxy.stats.snapshot().log if r.method != "GET"]


def _outcome_lines(path: Path) -> int:
    if not path.exists():
        return 0
    return path.read_bytes().count(b'"type":"outcome"')


def test_kill_9_then_resume_makes_every_change_once(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """apply killed with SIGKILL mid-way, then --resume -o SAME: each change written once, and
    the outcomes file holds one final outcome per change."""
    names = [f"d{i:02d}.example.com" for i in range(12)]
    unsigned(ses, *names)
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    ids = {c["id"] for c in make_plan(cli, plan, "enable-dkim-signing", report=report)}
    assert len(ids) == 12
    out = tmp_path / "out.ndjson"
    slow = Faults(latency=0.3, match=r"^GET /v2/email/identities/")  # the re-reads
    with FaultProxy(ses.url, slow) as proxy:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "asyncses",
                "apply",
                str(plan),
                "--endpoint-url",
                proxy.url,
                "-o",
                str(out),
                "--concurrency",
                "2",
                *FAST,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while _outcome_lines(out) < 3 and process.poll() is None:
                assert time.monotonic() < deadline, "no outcomes within 30 s"
                time.sleep(0.02)
        finally:
            process.kill()
            _, err = process.communicate(timeout=30)
        assert process.returncode == -9, err
        done_before = _outcome_lines(out)
        assert 3 <= done_before < 12
        proxy.faults = Faults()
        result = cli(
            "apply", str(plan), "--endpoint-url", proxy.url, "-o", str(out), "--resume", *FAST
        )
        assert result.code == 0, result.err
        sent = _write_requests(proxy)
    assert sorted(path for _, path, _ in sent) == sorted(
        f"/v2/email/identities/{name}/dkim" for name in names
    )
    assert {(method, status) for method, _, status in sent} == {("PUT", 200)}
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 12}
    lines = read_lines(out)
    outcomes = [line for line in lines if line["type"] == "outcome"]
    assert Counter(o["change"] for o in outcomes) == dict.fromkeys(ids, 1)
    assert {o["status"] for o in outcomes} <= {"applied", "already"}
    assert lines[-1]["type"] == "run_end"
    assert lines[-1]["records"] == 12 - done_before
    assert f"({done_before} done before)" in result.err
    assert all(
        sesv2.get_email_identity(EmailIdentity=n)["DkimAttributes"]["SigningEnabled"] for n in names
    )


def test_resume_retries_failed_changes_only(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """Across two regions: a change that failed is tried again by --resume; the applied one
    is not sent again."""
    for region in (REGION, "eu-west-1"):
        ses.set_identity(
            region, f"{region}.example.com", dkim_status="SUCCESS", dkim_signing_enabled=False
        )
    report = audit(
        cli, ses, tmp_path / "ids.ndjson", "identities", "--region", f"{REGION},eu-west-1"
    )
    plan = tmp_path / "p.plan"
    assert len(make_plan(cli, plan, "enable-dkim-signing", report=report)) == 2

    def refuse_in_ireland(_account: str, region: str, _params: dict[str, Any]) -> None:
        if region == "eu-west-1":
            raise RuntimeError("down")

    ses.before("PutEmailIdentityDkimAttributes", refuse_in_ireland)
    out = tmp_path / "out.ndjson"
    first, outcomes = apply(cli, plan, ses.url, out, "--max-attempts", "2")
    assert first.code == 1
    assert {o["region"]: o["status"] for o in outcomes} == {
        REGION: "applied",
        "eu-west-1": "failed",
    }
    failed = next(o for o in outcomes if o["status"] == "failed")
    assert failed["error"]["operation"] == "PutEmailIdentityDkimAttributes"
    ses.before("PutEmailIdentityDkimAttributes", None)
    sent = writes(ses)["PutEmailIdentityDkimAttributes"]
    second = cli("apply", str(plan), "--endpoint-url", ses.url, "-o", str(out), "--resume", *FAST)
    assert second.code == 0, second.err
    assert writes(ses)["PutEmailIdentityDkimAttributes"] == sent + 1
    assert "1 applied (1 done before)" in second.err
    latest = {o["region"]: o["status"] for o in read_ndjson(out)}  # the last outcome of each
    assert latest == {REGION: "applied", "eu-west-1": "applied"}
    ireland = boto3.client(
        "sesv2",
        endpoint_url=ses.url,
        region_name="eu-west-1",
        config=Config(retries={"total_max_attempts": 1}),
    )
    found = ireland.get_email_identity(EmailIdentity="eu-west-1.example.com")
    assert found["DkimAttributes"]["SigningEnabled"] is True


def _signing_plan(cli: Cli, ses: LocalSES, tmp_path: Path, count: int) -> tuple[Path, list[str]]:
    names = [f"s{i:02d}.example.com" for i in range(count)]
    unsigned(ses, *names)
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    assert len(make_plan(cli, plan, "enable-dkim-signing", report=report)) == count
    return plan, names


def _each_written_once(proxy: FaultProxy, names: Sequence[str]) -> None:
    forwarded = [path for method, path, status in _write_requests(proxy) if status == 200]
    assert sorted(forwarded) == sorted(f"/v2/email/identities/{n}/dkim" for n in names)


def test_throttled_apply_applies_everything_once(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """Against a token bucket that answers 429, apply waits and goes on: every change
    applied, each written once, none failed."""
    plan, names = _signing_plan(cli, ses, tmp_path, 10)
    with FaultProxy(ses.url, Faults(bucket_rate=10, bucket_burst=2)) as proxy:
        result = cli(
            "apply", str(plan), "--endpoint-url", proxy.url, "-o", str(tmp_path / "out.ndjson")
        )
        assert result.code == 0, result.err
        assert proxy.stats.throttled > 0
        _each_written_once(proxy, names)
    outcomes = read_ndjson(tmp_path / "out.ndjson")
    assert set(statuses(outcomes).values()) == {"applied"}
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 10}


def test_5xx_during_apply_applies_everything_once(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """500s on reads and writes: failed writes are re-read and sent again, every change is
    applied, each written once upstream, none failed."""
    plan, names = _signing_plan(cli, ses, tmp_path, 10)
    with FaultProxy(ses.url, Faults(error=0.3), seed=3) as proxy:
        result, outcomes = apply(
            cli, plan, proxy.url, tmp_path / "out.ndjson", "--concurrency", "1"
        )
        assert result.code == 0, result.err
        failed_writes = [r for r in _write_requests(proxy) if r[2] == 500]
        assert failed_writes  # the write path really failed, and was recovered
        _each_written_once(proxy, names)
    assert set(statuses(outcomes).values()) == {"applied"}
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 10}


def test_dropped_write_is_applied_once(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """A write whose connection drops unanswered is re-read and finished: the item is
    changed once and the outcome is ``applied``."""
    plan, names = _signing_plan(cli, ses, tmp_path, 6)
    faults = Faults(drop=0.5, match=r"^PUT /v2/email/identities/")
    with FaultProxy(ses.url, faults, seed=1) as proxy:
        result, outcomes = apply(
            cli, plan, proxy.url, tmp_path / "out.ndjson", "--concurrency", "1"
        )
        assert result.code == 0, result.err
        assert proxy.stats.dropped > 0
        _each_written_once(proxy, names)
    assert set(statuses(outcomes).values()) == {"applied"}
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 6}


def test_dropped_write_is_applied_and_written_at_most_twice(
    cli: Cli, ses: LocalSES, tmp_path: Path
) -> None:
    """A write whose connection drops is at most re-sent once by aiohttp itself (it sends an
    idempotent request again, inside the one call, and has no public switch for that);
    after that the call fails, and the item is read again before the write is sent again.
    Every change ends applied, and no write goes out more than twice in a row unread."""
    plan, names = _signing_plan(cli, ses, tmp_path, 6)
    faults = Faults(drop=0.5, match=r"^PUT /v2/email/identities/")
    with FaultProxy(ses.url, faults, seed=1) as proxy:
        result, outcomes = apply(
            cli, plan, proxy.url, tmp_path / "out.ndjson", "--concurrency", "1"
        )
        assert result.code == 0, result.err
        log = proxy.stats.snapshot().log
    assert any(r.status == "dropped" for r in log)
    assert set(statuses(outcomes).values()) == {"applied"}
    for name in names:
        mine = [r for r in log if r.path.startswith(f"/v2/email/identities/{name}")]
        unread = 0
        for record in mine:
            unread = unread + 1 if record.method == "PUT" else 0
            assert unread <= 2, f"{name}: a write sent a third time without a re-read"


def test_delete_that_landed_but_came_back_404_is_applied(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """A delete whose first send landed and whose resend got 404 (what aiohttp's own resend
    of a dropped DELETE gives): the re-read finds it gone, so the outcome is applied."""
    for name in ("a.example.com", "b.example.com"):
        ses.set_identity(REGION, name, verification_status="FAILED")
    report = audit(cli, ses, tmp_path / "ids.ndjson")
    plan = tmp_path / "p.plan"
    make_plan(cli, plan, "delete-identity", report=report, where=["NOT_VERIFIED"])

    def landed_before(_account: str, region: str, params: dict[str, Any]) -> None:
        ses.delete_identity(region, str(params["EmailIdentity"]))  # then moto answers 404

    ses.before("DeleteEmailIdentity", landed_before)
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson", "--confirm", "2")
    assert result.code == 0, result.err
    assert statuses(outcomes) == {"a.example.com": "applied", "b.example.com": "applied"}
    assert all(o["error"] is None for o in outcomes if o.get("type") == "outcome")
    assert sesv2.list_email_identities()["EmailIdentities"] == []


def test_write_that_happened_but_answered_500_is_not_sent_again(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """A write that took effect but whose answer was an error is re-read and found done: one
    write request, outcome ``applied``."""
    plan, names = _signing_plan(cli, ses, tmp_path, 3)

    def takes_effect_then_fails(_account: str, region: str, params: dict[str, Any]) -> None:
        ses.set_identity(region, str(params["EmailIdentity"]), dkim_signing_enabled=True)
        raise RuntimeError("the answer is lost")

    ses.before("PutEmailIdentityDkimAttributes", takes_effect_then_fails)
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson")
    assert result.code == 0, result.err
    assert set(statuses(outcomes).values()) == {"applied"}
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 3}
    for name in names:
        assert sesv2.get_email_identity(EmailIdentity=name)["DkimAttributes"]["SigningEnabled"]


def test_resume_after_a_torn_last_outcome(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """An outcomes file cut mid-line (a crash mid-write) can be resumed, and resumed again."""
    plan, _names = _signing_plan(cli, ses, tmp_path, 3)
    out = tmp_path / "out.ndjson"
    first, _ = apply(cli, plan, ses.url, out, "--dry-run")
    assert first.code == 0, first.err
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:2]) + lines[2][:40])  # header, one outcome, half a line
    second = cli("apply", str(plan), "--endpoint-url", ses.url, "-o", str(out), "--resume", *FAST)
    assert second.code == 0, second.err
    third = cli("apply", str(plan), "--endpoint-url", ses.url, "-o", str(out), "--resume", *FAST)
    assert third.code == 0, third.err
    assert "nothing to do" in third.err
    outcomes = read_ndjson(out)  # every line parses: the torn half line is gone
    # The dry run's one whole outcome, then the resume's three changes (none was final).
    assert [o["status"] for o in outcomes] == ["would-apply"] + ["applied"] * 3


# -- refusals: nothing is sent ---------------------------------------------------------------


def _tag_change(key: str = "team") -> dict[str, Any]:
    [change] = asyncses.plan("tag", [identity_record("a.example.com")], arguments=[f"{key}=x"])
    return dict(change)


def _change(action: str, record: dict[str, Any], *arguments: str) -> dict[str, Any]:
    [change] = asyncses.plan(action, [record], arguments=list(arguments))
    return dict(change)


def _pool_record() -> dict[str, Any]:
    return {
        "type": "dedicated_ip_pool",
        "region": REGION,
        "PoolName": "pool-000",
        "ScalingMode": "STANDARD",
        "DedicatedIps": [{"Ip": "10.0.0.1", "WarmupPercentage": 10, "PoolName": "pool-000"}],
        "error": None,
    }


def _with(change: dict[str, Any], **params: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(change))
    changed["call"]["params"].update(params)
    return dict(changed)


def _plan_of(*changes: dict[str, Any]) -> list[dict[str, Any] | bytes]:
    return [header(changes), *changes]


REFUSALS: dict[str, tuple[Callable[[], list[dict[str, Any] | bytes]], tuple[str, ...], str]] = {
    "unknown action": (
        lambda: _plan_of({**_tag_change(), "action": "make-it-so"}),
        (),
        "unknown action 'make-it-so'",
    ),
    "malformed JSON line": (
        lambda: [header([_tag_change()]), _tag_change(), b'{"type": "change", "id": '],
        (),
        ":3: not a JSON line",
    ),
    "no plan header": (lambda: [_tag_change()], (), "no plan header"),
    "tag key aws:": (
        lambda: _plan_of(_with(_tag_change(), Tags=[{"Key": "aws:x", "Value": "1"}])),
        (),
        "'aws:x'",
    ),
    "warm-up 101": (
        lambda: _plan_of(_with(_change("set-warmup", _pool_record(), "50"), WarmupPercentage=101)),
        (),
        "from 0 to 100, not 101",
    ),
    "MAIL FROM not under the identity": (
        lambda: _plan_of(
            _with(
                _change("set-mail-from", identity_record("a.example.com"), "mail.{domain}"),
                MailFromDomain="mail.example.org",
            )
        ),
        (),
        "must be a subdomain of 'a.example.com'",
    ),
    "bad pool name": (
        lambda: _plan_of(
            _with(_change("move-ip", _pool_record(), "pool-001"), DestinationPoolName="no pool!")
        ),
        (),
        "invalid pool name 'no pool!'",
    ),
    "duplicate change id": (
        lambda: _plan_of(_tag_change(), _tag_change()),
        (),
        "appears twice",
    ),
    "unreachable account": (
        lambda: _plan_of({**_tag_change(), "account": "999999999999"}),
        (),
        "999999999999",
    ),
    "destructive without --confirm": (
        lambda: _plan_of(_change("delete-identity", identity_record("a.example.com"))),
        (),
        "--confirm 1",
    ),
    "destructive with a wrong --confirm": (
        lambda: _plan_of(_change("delete-identity", identity_record("a.example.com"))),
        ("--confirm", "2"),
        "--confirm",
    ),
    "--confirm for a plan with nothing destructive": (
        lambda: _plan_of(_tag_change()),
        ("--confirm", "1"),
        "0 destructive",
    ),
    "--resume without -o": (lambda: _plan_of(_tag_change()), ("--resume",), "--resume needs -o"),
    "a plan cut short": (
        lambda: [header([_tag_change(), _tag_change("owner")]), _tag_change()],
        (),
        "the header says 2 changes, the file holds 1",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_plans_are_refused_before_any_request(
    cli: Cli, ses: LocalSES, tmp_path: Path, case: str
) -> None:
    """Each bad plan (or bad apply flag) exits 2 with one line on stderr; no request is sent."""
    lines, extra, says = REFUSALS[case]
    ses.set_identity(REGION, "a.example.com")
    plan = write_plan(tmp_path / "bad.plan", lines())
    out = tmp_path / "out.ndjson"
    output = () if case == "--resume without -o" else ("-o", str(out))
    with FaultProxy(ses.url) as proxy:
        result = cli("apply", str(plan), "--endpoint-url", proxy.url, *output, *FAST, *extra)
        assert proxy.stats.requests == 0
    assert result.code == 2
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("asyncses: error: ")
    assert says in result.err
    assert not out.exists()
    assert writes(ses) == {}


def test_resume_refuses_another_plans_outcomes(cli: Cli, ses: LocalSES, tmp_path: Path) -> None:
    """--resume -o OUTCOMES of another plan: exit 2, the outcomes file untouched, nothing
    sent (it would skip changes it never made and append to another plan's record)."""
    ses.set_identity(REGION, "a.example.com")
    first = write_plan(tmp_path / "team.plan", _plan_of(_tag_change("team")))
    out = tmp_path / "out.ndjson"
    result, outcomes = apply(cli, first, ses.url, out)
    assert result.code == 0, result.err
    assert [o["status"] for o in outcomes if o["type"] == "outcome"] == ["applied"]
    before = out.read_bytes()
    other = write_plan(tmp_path / "owner.plan", _plan_of(_tag_change("owner")))
    with FaultProxy(ses.url) as proxy:
        result = cli("apply", str(other), "--endpoint-url", proxy.url, "-o", str(out), "--resume")
        assert proxy.stats.requests == 0
    assert result.code == 2
    assert "not in" in result.err and result.err.count("\n") == 1, result.err
    assert out.read_bytes() == before
    # The same plan resumes fine: its change is done already.
    result, _ = apply(cli, first, ses.url, out, "--resume")
    assert result.code == 0, result.err
    assert "1 done before" in result.err


def test_apply_goes_to_the_regions_of_its_changes(
    cli: Cli, ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --region and no AWS_REGION: the plan's changes say where they go."""
    ses.set_identity(REGION, "a.example.com")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    plan = write_plan(tmp_path / "team.plan", _plan_of(_tag_change("team")))
    result, outcomes = apply(cli, plan, ses.url, tmp_path / "out.ndjson")
    assert result.code == 0, result.err
    assert [(o["region"], o["status"]) for o in outcomes if o["type"] == "outcome"] == [
        (REGION, "applied")
    ]


def test_the_refused_plans_base_change_is_accepted(
    cli: Cli, ses: LocalSES, sesv2: Any, tmp_path: Path
) -> None:
    """The hand-made change the refusals start from applies fine (they fail for their fault)."""
    ses.set_identity(REGION, "a.example.com")
    plan = write_plan(tmp_path / "good.plan", _plan_of(_tag_change()))
    with FaultProxy(ses.url) as proxy:
        result, outcomes = apply(cli, plan, proxy.url, tmp_path / "out.ndjson")
        assert proxy.stats.requests == 2  # the re-read and the write
    assert result.code == 0, result.err
    assert statuses(outcomes) == {"a.example.com": "applied"}
    arn = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/a.example.com"
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "x"}]


# -- the library -----------------------------------------------------------------------------


def _client(ses: LocalSES, **fields: Any) -> asyncses.Client:
    return asyncses.Client(endpoint_url=ses.url, regions=[REGION], rate=1000.0, **fields)


async def test_library_plan_and_dry_run_apply(ses: LocalSES, sesv2: Any) -> None:
    """asyncses.plan() from records, Client.apply(dry_run=True) and then for real: outcome
    dicts, one per change."""
    unsigned(ses, "a.example.com", "b.example.com")
    ses.set_identity(REGION, "signed.example.com", dkim_status="SUCCESS", dkim_signing_enabled=True)
    async with _client(ses) as client:
        records = [record async for record in client.email_identities()]
        changes = list(
            asyncses.plan("enable-dkim-signing", records, where=["DKIM_SIGNING_DISABLED"])
        )
        assert targets(changes) == ["a.example.com", "b.example.com"]
        dry = no_problems([outcome async for outcome in client.apply(changes, dry_run=True)])
        assert writes(ses) == {}
        real = no_problems([outcome async for outcome in client.apply(changes)])
    assert sorted((o["target"]["name"], o["status"], o["error"]) for o in dry) == [
        ("a.example.com", "would-apply", None),
        ("b.example.com", "would-apply", None),
    ]
    assert {o["change"] for o in dry} == {c["id"] for c in changes}
    assert {o["type"] for o in dry} == {"outcome"}
    assert sorted(o["status"] for o in real) == ["applied", "applied"]
    assert writes(ses) == {"PutEmailIdentityDkimAttributes": 2}
    assert sesv2.get_email_identity(EmailIdentity="a.example.com")["DkimAttributes"][
        "SigningEnabled"
    ]


async def test_library_refuses_a_change_for_another_account(ses: LocalSES) -> None:
    """Client.apply raises UsageError, before any call, for an account it does not reach."""
    change = {**_tag_change(), "account": "999999999999"}
    async with _client(ses, include_account=True) as client:
        with pytest.raises(asyncses.UsageError, match="999999999999"):
            client.apply([cast(asyncses.Change, change)])
    assert ses.operation_calls == {}


async def test_library_apply_of_a_tag_plan_fills_in_the_account(ses: LocalSES, sesv2: Any) -> None:
    """A tag plan from a report without accounts, applied through a default Client, tags."""
    ses.set_identity(REGION, "a.example.com")
    async with _client(ses) as client:
        records = [record async for record in client.email_identities()]
        changes = list(asyncses.plan("tag", records, arguments=["team=mail"]))
        outcomes = no_problems([outcome async for outcome in client.apply(changes)])
    assert [(o["status"], o["error"]) for o in outcomes] == [("applied", None)]
    arn = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/a.example.com"
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "mail"}
    ]
