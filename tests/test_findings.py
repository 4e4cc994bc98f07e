"""Findings: the checks on identity records as pure functions, and the DKIM an email address
takes from its domain identity, end to end through asyncses.Client against the local endpoint."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

import asyncses
from asyncses import FINDINGS
from asyncses.local import DEFAULT_ACCOUNT, LocalSES
from asyncses.reports.findings import (
    LIST_FINDINGS,
    DomainDkim,
    dkim_findings,
    domain_dkim,
    identity_findings,
)
from asyncses.reports.records import EmailIdentityRecord

from .helpers import REGION, no_problems

#: A fixed pace far above what the local endpoint needs: no cautious start to wait through.
RATE = 1000.0
#: The identity checks, in the order FINDINGS explains them.
IDENTITY_CODES = [
    "NOT_VERIFIED",
    "DKIM_NOT_VERIFIED",
    "DKIM_SIGNING_DISABLED",
    "SENDING_DISABLED",
    "MAIL_FROM_NOT_VERIFIED",
    "PUBLIC_POLICY",
]
DKIM_OK = {"SigningEnabled": True, "Status": "SUCCESS"}


def domain(name: str = "example.com", **fields: Any) -> EmailIdentityRecord:
    """A clean domain identity record, with ``fields`` on top."""
    record: dict[str, Any] = {
        "type": "email_identity",
        "region": REGION,
        "IdentityType": "DOMAIN",
        "IdentityName": name,
        "SendingEnabled": True,
        "VerificationStatus": "SUCCESS",
        "DkimAttributes": dict(DKIM_OK),
        "MailFromAttributes": {
            "MailFromDomain": f"mail.{name}",
            "MailFromDomainStatus": "SUCCESS",
            "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
        },
        "Policies": {},
        "error": None,
    }
    record.update(fields)
    return cast(EmailIdentityRecord, record)


def address(name: str = "news@example.com", **fields: Any) -> EmailIdentityRecord:
    """A clean address identity record (its own DKIM as SES answers for addresses)."""
    return domain(
        name,
        IdentityType="EMAIL_ADDRESS",
        DkimAttributes={"SigningEnabled": False, "Status": "NOT_STARTED"},
        MailFromAttributes={},
        **fields,
    )


def public_policy() -> str:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "ses:SendEmail"}
    return json.dumps({"Statement": [statement]})


# -- identity_findings on domains ----------------------------------------------------------


def test_clean_domain_has_no_findings() -> None:
    """A verified, DKIM-signed, sending domain with a verified MAIL FROM has no findings."""
    assert identity_findings(domain()) == ([], {})


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"VerificationStatus": "PENDING"}, "NOT_VERIFIED"),
        ({"VerificationStatus": "TEMPORARY_FAILURE"}, "NOT_VERIFIED"),
        ({"DkimAttributes": {"SigningEnabled": True, "Status": "FAILED"}}, "DKIM_NOT_VERIFIED"),
        ({"DkimAttributes": {"SigningEnabled": True, "Status": "PENDING"}}, "DKIM_NOT_VERIFIED"),
        ({"DkimAttributes": {}}, "DKIM_NOT_VERIFIED"),
        (
            {"DkimAttributes": {"SigningEnabled": False, "Status": "SUCCESS"}},
            "DKIM_SIGNING_DISABLED",
        ),
        ({"SendingEnabled": False}, "SENDING_DISABLED"),
        (
            {"MailFromAttributes": {"MailFromDomain": "m.x", "MailFromDomainStatus": "PENDING"}},
            "MAIL_FROM_NOT_VERIFIED",
        ),
        ({"Policies": {"p": public_policy()}}, "PUBLIC_POLICY"),
    ],
    ids=[
        "pending",
        "temporary-failure",
        "dkim-failed",
        "dkim-pending",
        "dkim-empty",
        "signing-off",
        "sending-off",
        "mail-from",
        "public",
    ],
)
def test_each_code_alone(fields: dict[str, Any], code: str) -> None:
    """Each check fires on its own field, and nothing else fires."""
    found, _detail = identity_findings(domain(**fields))
    assert found == [code]


def test_domain_without_dkim_attributes() -> None:
    """A domain whose answer has no DkimAttributes at all is DKIM_NOT_VERIFIED."""
    record = domain()
    del record["DkimAttributes"]
    assert identity_findings(record) == (["DKIM_NOT_VERIFIED"], {})


def test_every_code_at_once_in_catalogue_order() -> None:
    """A domain wrong in every way gets every code, in the order FINDINGS lists them."""
    record = domain(
        VerificationStatus="FAILED",
        DkimAttributes={"SigningEnabled": False, "Status": "NOT_STARTED"},
        SendingEnabled=False,
        MailFromAttributes={"MailFromDomain": "m.x", "MailFromDomainStatus": "FAILED"},
        Policies={"bad": public_policy()},
    )
    found, detail = identity_findings(record)
    assert found == IDENTITY_CODES
    assert [code for code in FINDINGS if code in IDENTITY_CODES] == IDENTITY_CODES
    assert set(detail) == {"PUBLIC_POLICY"}  # a domain's DKIM needs no detail


def test_no_mail_from_domain_is_not_a_finding() -> None:
    """Without a custom MAIL FROM domain there is nothing to verify."""
    assert identity_findings(domain(MailFromAttributes={})) == ([], {})
    record = domain()
    del record["MailFromAttributes"]
    assert identity_findings(record) == ([], {})


def test_list_only_runs_only_the_list_checks() -> None:
    """With list_only, only the checks the ListEmailIdentities fields answer run."""
    record = domain(
        VerificationStatus="PENDING",
        SendingEnabled=False,
        DkimAttributes={"SigningEnabled": False, "Status": "FAILED"},
        MailFromAttributes={"MailFromDomain": "m.x", "MailFromDomainStatus": "FAILED"},
        Policies={"p": public_policy()},
    )
    assert identity_findings(record)[0] == IDENTITY_CODES
    assert identity_findings(record, list_only=True) == (["NOT_VERIFIED", "SENDING_DISABLED"], {})
    assert set(LIST_FINDINGS) == {"NOT_VERIFIED", "SENDING_DISABLED"}


def test_list_entry_without_status_fields() -> None:
    """A bare list entry (no status fields) yields no false alarms in list-only mode."""
    entry: EmailIdentityRecord = {
        "type": "email_identity",
        "region": REGION,
        "IdentityType": "DOMAIN",
        "IdentityName": "x.example",
    }
    assert identity_findings(entry, list_only=True) == ([], {})


def test_every_code_is_explained() -> None:
    """FINDINGS explains each identity code (and every other): trigger, why and fix spelled out."""
    assert set(IDENTITY_CODES) <= set(FINDINGS)
    for code, finding in FINDINGS.items():
        assert finding.code == code
        assert finding.trigger and finding.why and finding.fix
    assert set(IDENTITY_CODES) >= LIST_FINDINGS


# -- DKIM of addresses, as functions -------------------------------------------------------


def test_domain_dkim_of_a_clean_domain() -> None:
    """A verified domain with verified, signing DKIM passes nothing on to its addresses."""
    assert domain_dkim(domain("Example.COM")) == DomainDkim("example.com", ())


@pytest.mark.parametrize(
    ("fields", "inherited"),
    [
        ({"DkimAttributes": {"SigningEnabled": True, "Status": "PENDING"}}, ("DKIM_NOT_VERIFIED",)),
        (
            {"DkimAttributes": {"SigningEnabled": False, "Status": "SUCCESS"}},
            ("DKIM_SIGNING_DISABLED",),
        ),
        (
            {"DkimAttributes": {"SigningEnabled": False, "Status": "FAILED"}},
            ("DKIM_NOT_VERIFIED", "DKIM_SIGNING_DISABLED"),
        ),
        ({"DkimAttributes": {}}, ("DKIM_NOT_VERIFIED",)),
        ({"VerificationStatus": "PENDING"}, ("DKIM_NOT_VERIFIED",)),
        (
            {
                "VerificationStatus": "FAILED",
                "DkimAttributes": {"SigningEnabled": False, "Status": "SUCCESS"},
            },
            ("DKIM_NOT_VERIFIED", "DKIM_SIGNING_DISABLED"),
        ),
    ],
    ids=[
        "dkim-pending",
        "signing-off",
        "both",
        "no-dkim",
        "domain-unverified",
        "unverified-and-off",
    ],
)
def test_domain_dkim_findings(fields: dict[str, Any], inherited: tuple[str, ...]) -> None:
    """What an address inherits: the domain's DKIM problems (an unverified domain signs nothing)."""
    assert domain_dkim(domain(**fields)) == DomainDkim("example.com", inherited)


def test_domain_dkim_of_a_failed_lookup() -> None:
    """A domain whose lookup failed says nothing of its DKIM."""
    error = {"code": "InternalFailure", "message": "x", "operation": "GetEmailIdentity"}
    standing = domain_dkim(domain(error=error))
    assert standing.failed and standing.findings == ()


def test_address_takes_its_domains_dkim() -> None:
    """An address's DKIM findings are its domain's, each naming the domain in the detail."""
    standing = DomainDkim("example.com", ("DKIM_NOT_VERIFIED", "DKIM_SIGNING_DISABLED"))
    found, detail = identity_findings(address(), domain=standing)
    assert found == ["DKIM_NOT_VERIFIED", "DKIM_SIGNING_DISABLED"]
    assert detail == {
        "DKIM_NOT_VERIFIED": {"domain": "example.com"},
        "DKIM_SIGNING_DISABLED": {"domain": "example.com"},
    }


def test_address_of_a_clean_domain_has_no_dkim_finding() -> None:
    """The address's own NOT_STARTED DKIM does not count when its domain signs."""
    assert identity_findings(address(), domain=DomainDkim("example.com", ())) == ([], {})


def test_address_without_a_domain_identity() -> None:
    """No domain identity: DKIM_NOT_VERIFIED, "no domain identity", naming the domain."""
    found, detail = identity_findings(address("News@Mail.Example.com"), domain=None)
    assert found == ["DKIM_NOT_VERIFIED"]
    assert detail == {
        "DKIM_NOT_VERIFIED": {"domain": "mail.example.com", "reason": "no domain identity"}
    }


def test_address_of_a_failed_domain_lookup_says_nothing() -> None:
    """When the domain's lookup failed nothing can be said of the address's DKIM."""
    standing = DomainDkim("example.com", (), failed=True)
    assert dkim_findings(address(), standing) == ([], {})


def test_address_findings_keep_catalogue_order() -> None:
    """An address's inherited DKIM codes sit in catalogue order among its own findings."""
    record = address(
        VerificationStatus="PENDING", SendingEnabled=False, Policies={"p": public_policy()}
    )
    found, detail = identity_findings(
        record, domain=DomainDkim("example.com", ("DKIM_SIGNING_DISABLED",))
    )
    assert found == ["NOT_VERIFIED", "DKIM_SIGNING_DISABLED", "SENDING_DISABLED", "PUBLIC_POLICY"]
    assert set(detail) == {"DKIM_SIGNING_DISABLED", "PUBLIC_POLICY"}


def test_domain_ignores_a_domain_argument() -> None:
    """A domain identity is judged on its own DKIM, whatever ``domain`` says."""
    bad = DomainDkim("example.com", ("DKIM_NOT_VERIFIED",))
    assert identity_findings(domain(), domain=bad) == ([], {})


# -- end to end through the Client ---------------------------------------------------------


async def audit(ses: LocalSES, *, list_only: bool = False, page_size: int = 1000) -> dict[str, Any]:
    """Every identity record of the local endpoint, by name."""
    async with asyncses.Client(
        regions=[REGION], endpoint_url=ses.url, page_size=page_size, rate=RATE
    ) as client:
        records = no_problems([r async for r in client.email_identities(list_only=list_only)])
    by_name = {str(r["IdentityName"]): dict(r) for r in records}
    assert len(by_name) == len(records)
    return by_name


def clear_dkim_attributes(name: str) -> None:
    """Leave the identity with no DkimAttributes at all (in moto's backend, same process)."""
    from moto.sesv2.models import sesv2_backends

    core = sesv2_backends[DEFAULT_ACCOUNT][REGION].core_backend
    core.email_identities[name].dkim_attributes.clear()


def seed_dkim_cases(ses: LocalSES, *, addresses_first: bool) -> None:
    """Domains in every DKIM state and an address under each (creation = listing order)."""
    domains: list[tuple[str, dict[str, Any]]] = [
        ("good.example", {"dkim_status": "SUCCESS", "dkim_signing_enabled": True}),
        ("pending.example", {"dkim_status": "PENDING", "dkim_signing_enabled": True}),
        ("unsigned.example", {"dkim_status": "SUCCESS", "dkim_signing_enabled": False}),
        ("parent.example", {"dkim_status": "SUCCESS", "dkim_signing_enabled": False}),
        ("bare.example", {}),
    ]
    addresses = [
        "a@good.example",
        "b@pending.example",
        "c@unsigned.example",
        "d@mail.sub.parent.example",
        "e@nodomain.example",
        "f@bare.example",
    ]
    if addresses_first:
        for name in addresses:
            ses.set_identity(REGION, name)
    for name, fields in domains:
        ses.set_identity(REGION, name, **fields)
    if not addresses_first:
        for name in addresses:
            ses.set_identity(REGION, name)
    clear_dkim_attributes("bare.example")


@pytest.mark.parametrize("page_size", [1000, 1], ids=["one-page", "page-per-identity"])
@pytest.mark.parametrize("addresses_first", [True, False], ids=["address-first", "domain-first"])
async def test_addresses_take_dkim_from_their_domain(
    ses: LocalSES, addresses_first: bool, page_size: int
) -> None:
    """Each address carries its domain's DKIM findings, whichever is listed first."""
    seed_dkim_cases(ses, addresses_first=addresses_first)
    records = await audit(ses, page_size=page_size)

    def dkim(name: str) -> tuple[list[str], dict[str, Any]]:
        record = records[name]
        assert record["error"] is None
        codes = [c for c in record["findings"] if c.startswith("DKIM")]
        return codes, record.get("findings_detail", {})

    assert dkim("a@good.example") == ([], {})
    assert dkim("b@pending.example") == (
        ["DKIM_NOT_VERIFIED"],
        {"DKIM_NOT_VERIFIED": {"domain": "pending.example"}},
    )
    assert dkim("c@unsigned.example") == (
        ["DKIM_SIGNING_DISABLED"],
        {"DKIM_SIGNING_DISABLED": {"domain": "unsigned.example"}},
    )
    assert dkim("d@mail.sub.parent.example") == (
        ["DKIM_SIGNING_DISABLED"],
        {"DKIM_SIGNING_DISABLED": {"domain": "parent.example"}},
    )
    assert dkim("e@nodomain.example") == (
        ["DKIM_NOT_VERIFIED"],
        {"DKIM_NOT_VERIFIED": {"domain": "nodomain.example", "reason": "no domain identity"}},
    )
    assert dkim("f@bare.example") == (
        ["DKIM_NOT_VERIFIED"],
        {"DKIM_NOT_VERIFIED": {"domain": "bare.example"}},
    )
    # The domains themselves are judged on their own DKIM.
    assert records["good.example"]["findings"] == []
    assert records["pending.example"]["findings"] == ["DKIM_NOT_VERIFIED"]
    assert records["unsigned.example"]["findings"] == ["DKIM_SIGNING_DISABLED"]
    assert not records["bare.example"].get("DkimAttributes")
    assert records["bare.example"]["findings"] == ["DKIM_NOT_VERIFIED"]


def listing_order(ses: LocalSES) -> list[str]:
    """The identity names in the order ListEmailIdentities gives them."""
    import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra

    client = boto3.client("sesv2", endpoint_url=ses.url, region_name=REGION)
    entries = client.list_email_identities(PageSize=1000)["EmailIdentities"]
    return [str(entry["IdentityName"]) for entry in entries]


def test_listing_order_really_differs(ses: LocalSES) -> None:
    """The seeding above does change the listing order (else the order cases prove nothing)."""
    seed_dkim_cases(ses, addresses_first=True)
    first = listing_order(ses)
    ses.reset()
    seed_dkim_cases(ses, addresses_first=False)
    second = listing_order(ses)
    for name in ("a@good.example", "d@mail.sub.parent.example"):
        assert first.index(name) < first.index("good.example")
        assert second.index(name) > second.index("parent.example")


async def test_most_specific_domain_wins(ses: LocalSES) -> None:
    """An address under both a domain and its parent takes the nearer domain's DKIM."""
    ses.set_identity(REGION, "x@mail.corp.example")
    ses.set_identity(REGION, "corp.example", dkim_status="SUCCESS", dkim_signing_enabled=False)
    ses.set_identity(REGION, "mail.corp.example", dkim_status="SUCCESS", dkim_signing_enabled=True)
    ses.set_identity(REGION, "y@other.corp.example")
    records = await audit(ses, page_size=1)
    assert records["x@mail.corp.example"]["findings"] == []
    assert records["y@other.corp.example"]["findings_detail"] == {
        "DKIM_SIGNING_DISABLED": {"domain": "corp.example"}
    }


async def test_domain_lookup_failure_leaves_address_without_dkim_verdict(ses: LocalSES) -> None:
    """When the domain's lookup fails for good, its address gets no DKIM finding either way."""
    ses.set_identity(REGION, "a@flaky.example")
    ses.set_identity(REGION, "flaky.example", dkim_status="PENDING")

    def fail_domain(_account: str, _region: str, params: dict[str, Any]) -> None:
        if str(params.get("EmailIdentity")) == "flaky.example":
            raise RuntimeError("injected")

    ses.before("GetEmailIdentity", fail_domain)
    async with asyncses.Client(
        regions=[REGION], endpoint_url=ses.url, max_attempts=1, rate=RATE
    ) as client:
        listed = no_problems([r async for r in client.email_identities()])
    records = {r["IdentityName"]: r for r in listed}
    assert records["flaky.example"]["error"] is not None
    assert records["a@flaky.example"]["error"] is None
    assert not [c for c in records["a@flaky.example"]["findings"] if c.startswith("DKIM")]


async def test_list_only_records_carry_only_list_findings(ses: LocalSES) -> None:
    """--list-only records hold only NOT_VERIFIED and SENDING_DISABLED, never DKIM or policy."""
    seed_dkim_cases(ses, addresses_first=True)
    ses.set_identity(REGION, "public.example", policies={"p": public_policy()})
    ses.set_identity(REGION, "off@good.example", sending_enabled=False)
    ses.set_identity(REGION, "late@good.example", verification_status="PENDING")
    records = await audit(ses, list_only=True)
    assert len(records) == 14
    seen = {code for record in records.values() for code in record["findings"]}
    assert seen == {"NOT_VERIFIED", "SENDING_DISABLED"}
    assert records["off@good.example"]["findings"] == ["SENDING_DISABLED"]
    assert records["late@good.example"]["findings"] == ["NOT_VERIFIED"]
    assert all("findings_detail" not in record for record in records.values())
    assert all("DkimAttributes" not in record for record in records.values())
