"""asyncses.local: the embedded SES v2 endpoint, through real botocore clients over HTTP.

Every answer of the SES v2 client is checked against botocore's model (members,
types, enums, required members, epoch-number timestamps) and every error answer
against SES's format (``{"message": ...}``, ``x-amzn-ErrorType``, status); a test
fails if any answer it caused does not conform.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra
import botocore.session
import pytest
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError

from asyncses.local import (
    DEFAULT_ACCOUNT,
    EVENT_TYPES,
    SUPPRESSION_REASONS,
    VERIFICATION_STATUSES,
    LocalSES,
)

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent
ERROR_STATUS = {
    "MessageRejected": 400,
    "NotFoundException": 404,
    "AlreadyExistsException": 400,
    "BadRequestException": 400,
    "InvalidNextTokenException": 400,
    "LimitExceededException": 400,
    "TooManyRequestsException": 429,
    "UnrecognizedClientException": 403,
    "NotImplemented": 501,
}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


# -- model conformance of every answer ------------------------------------------------------


def _shape_errors(shape: Any, value: Any, path: str) -> list[str]:
    """Where ``value`` (parsed JSON) departs from botocore output ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        errors = [f"{path}.{key}: not in the model" for key in value if key not in shape.members]
        errors += [
            f"{path}.{key}: required member missing"
            for key in shape.required_members
            if key not in value
        ]
        for key, item in value.items():
            if key in shape.members:
                errors += _shape_errors(shape.members[key], item, f"{path}.{key}")
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [
            e for i, v in enumerate(value) for e in _shape_errors(shape.member, v, f"{path}[{i}]")
        ]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {value!r}"]
        return [e for k, v in value.items() for e in _shape_errors(shape.value, v, f"{path}[{k}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        if shape.enum and value not in shape.enum:
            return [f"{path}: {value!r} is not one of {shape.enum}"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if kind in ("double", "float", "timestamp"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number ({kind}), got {value!r}"]
    return [f"{path}: unchecked shape type {kind}"]


class Conformance:
    """Checks every raw SES v2 answer of a client; collects what does not conform."""

    def __init__(self) -> None:
        """No violations yet."""
        self.violations: list[str] = []

    def __call__(self, operation_model: Any, response_dict: Any, **_: Any) -> None:
        """botocore ``before-parse`` hook: validate one raw answer."""
        name = operation_model.name
        status = response_dict["status_code"]
        headers = {key.lower(): value for key, value in response_dict["headers"].items()}
        try:
            body = json.loads(response_dict["body"] or b"{}")
        except ValueError:
            self.violations.append(f"{name}: body is not JSON: {response_dict['body']!r}")
            return
        if headers.get("content-type") != "application/json":
            self.violations.append(f"{name}: Content-Type {headers.get('content-type')!r}")
        if status >= 400:
            code = headers.get("x-amzn-errortype")
            if code not in ERROR_STATUS or ERROR_STATUS[code] != status:
                self.violations.append(f"{name}: error type {code!r} with status {status}")
            if not (isinstance(body, dict) and set(body) == {"message"}):
                self.violations.append(f"{name}: error body {body!r} is not {{'message': ...}}")
            return
        shape = operation_model.output_shape
        if shape is None:
            if body != {}:
                self.violations.append(f"{name}: expected an empty answer, got {body!r}")
            return
        self.violations += [f"{name}: {e}" for e in _shape_errors(shape, body, name)]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_ses() -> Iterator[LocalSES]:
    """One endpoint for the whole session (this file's own, not conftest's)."""
    with LocalSES() as server:
        yield server


@pytest.fixture(scope="session")
def conformance() -> Conformance:
    """The checker every SES v2 client of this file reports to."""
    return Conformance()


@pytest.fixture
def ses(local_ses: LocalSES, conformance: Conformance) -> Iterator[LocalSES]:
    """The endpoint, reset; fails the test if an SES answer it caused did not conform."""
    local_ses.reset()
    conformance.violations.clear()
    yield local_ses
    violations = list(conformance.violations)
    conformance.violations.clear()
    assert violations == []


def _client(
    server: LocalSES,
    conformance: Conformance | None,
    service: str = "sesv2",
    region: str = REGION,
    credentials: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """A real boto3 client of ``service`` pointed at the endpoint, retries off."""
    creds = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client(
        service,
        endpoint_url=server.url,
        region_name=region,
        config=Config(retries={"total_max_attempts": 1}),
        **creds,
        **kwargs,
    )
    if service == "sesv2" and conformance is not None:
        client.meta.events.register("before-parse.sesv2.*", conformance)
    return client


@pytest.fixture(scope="session")
def client(local_ses: LocalSES, conformance: Conformance) -> Any:
    """The management account's SES v2 client in us-east-1."""
    return _client(local_ses, conformance)


def _error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the ClientError that ``call(**kwargs)`` raises."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def _pages(call: Callable[..., Any], key: str, **kwargs: Any) -> list[list[Any]]:
    """Follow NextToken; every page's ``key`` list."""
    pages: list[list[Any]] = []
    token = None
    while True:
        answer = call(**kwargs, **({"NextToken": token} if token else {}))
        pages.append(answer[key])
        token = answer.get("NextToken")
        if not token:
            return pages
        assert len(pages) < 1000, "NextToken never ends"


def _sizes(pages: list[list[Any]]) -> list[int]:
    """The length of every page."""
    return [len(page) for page in pages]


# -- pagination, PageSize and NextToken of every list operation ------------------------------


def _seed_ips(ses: LocalSES) -> list[str]:
    """Nine pools, six of them STANDARD with two IPs each: 10.0.0.1 to 10.0.0.12."""
    ses.seed_pools(REGION, 9)
    return [f"10.0.0.{n}" for n in range(1, 13)]


def _seed_contacts(ses: LocalSES) -> list[str]:
    """One contact list, contacts-0, with eleven contacts."""
    ses.seed_contact_lists(REGION, 1, 11)
    return [f"contact-{j:06d}@example.com" for j in range(11)]


#: operation -> (answer key, item -> identity, seed(ses) -> expected identities, max PageSize)
LISTS: dict[str, tuple[str, Callable[[Any], Any], Callable[[LocalSES], list[Any]], int]] = {
    "list_email_identities": (
        "EmailIdentities",
        lambda item: item["IdentityName"],
        lambda s: s.seed_identities(REGION, 11),
        1000,
    ),
    "list_dedicated_ip_pools": (
        "DedicatedIpPools",
        lambda item: item,
        lambda s: s.seed_pools(REGION, 11),
        1000,
    ),
    "get_dedicated_ips": (
        "DedicatedIps",
        lambda item: item["Ip"],
        _seed_ips,
        1000,
    ),
    "list_configuration_sets": (
        "ConfigurationSets",
        lambda item: item,
        lambda s: s.seed_configuration_sets(REGION, 11),
        1000,
    ),
    "list_suppressed_destinations": (
        "SuppressedDestinationSummaries",
        lambda item: item["EmailAddress"],
        lambda s: s.seed_suppressions(REGION, 11),
        1000,
    ),
    "list_contact_lists": (
        "ContactLists",
        lambda item: item["ContactListName"],
        lambda s: s.seed_contact_lists(REGION, 11, 0),
        1000,
    ),
    "list_contacts": (
        "Contacts",
        lambda item: item["EmailAddress"],
        _seed_contacts,
        1000,
    ),
    "list_email_templates": (
        "TemplatesMetadata",
        lambda item: item["TemplateName"],
        lambda s: s.seed_templates(REGION, 11),
        100,
    ),
    "list_custom_verification_email_templates": (
        "CustomVerificationEmailTemplates",
        lambda item: item["TemplateName"],
        lambda s: s.seed_custom_verification_templates(REGION, 11),
        50,
    ),
    "list_import_jobs": (
        "ImportJobs",
        lambda item: item["JobId"],
        lambda s: s.seed_import_jobs(REGION, 11),
        1000,
    ),
}


def _list_kwargs(operation: str) -> dict[str, Any]:
    """Arguments a list operation needs besides paging."""
    return {"ContactListName": "contacts-0"} if operation == "list_contacts" else {}


@pytest.mark.parametrize("operation", sorted(LISTS))
def test_every_list_operation_paginates(ses: LocalSES, client: Any, operation: str) -> None:
    """PageSize 4 over 11-12 items: several pages chained by NextToken, every item once."""
    key, identify, seed, _maximum = LISTS[operation]
    expected = seed(ses)
    pages = _pages(getattr(client, operation), key, PageSize=4, **_list_kwargs(operation))
    assert len(pages) == 3
    assert all(len(page) == 4 for page in pages[:-1])
    found = [identify(item) for page in pages for item in page]
    assert sorted(found) == sorted(expected)
    assert len(set(found)) == len(found)


@pytest.mark.parametrize("operation", sorted(LISTS))
def test_every_list_operation_validates_page_size(
    ses: LocalSES, client: Any, operation: str
) -> None:
    """PageSize 0 and one above the model's maximum are BadRequestException; the maximum works."""
    _key, _identify, seed, maximum = LISTS[operation]
    seed(ses)
    call = getattr(client, operation)
    kwargs = _list_kwargs(operation)
    for size in (0, maximum + 1):
        code, status, message = _error(call, PageSize=size, **kwargs)
        assert (code, status) == ("BadRequestException", 400)
        assert "PageSize" in message
    assert call(PageSize=maximum, **kwargs).get("NextToken") is None


@pytest.mark.parametrize("operation", sorted(LISTS))
def test_every_list_operation_rejects_a_foreign_next_token(
    ses: LocalSES, client: Any, operation: str
) -> None:
    """A garbage NextToken, or one of another operation, is refused (400)."""
    _key, _identify, seed, _maximum = LISTS[operation]
    seed(ses)
    call = getattr(client, operation)
    kwargs = _list_kwargs(operation)
    ses.seed_identities(REGION, 3, prefix="token")
    ses.seed_templates(REGION, 3)
    other = (
        "list_email_templates" if operation == "list_email_identities" else "list_email_identities"
    )
    foreign = getattr(client, other)(PageSize=1)["NextToken"]
    wanted = (
        "InvalidNextTokenException"
        if operation == "list_suppressed_destinations"
        else "BadRequestException"
    )
    for token in ("garbage!", "bm90LWEtdG9rZW4=", foreign):
        code, status, _message = _error(call, NextToken=token, **kwargs)
        assert (code, status) == (wanted, 400)


# -- identities ----------------------------------------------------------------------------------


def test_seeded_identities_list_and_get_agree(ses: LocalSES, client: Any) -> None:
    """Seeded identities: varied types and states; GetEmailIdentity matches the listing."""
    names = ses.seed_identities(REGION, 400, seed=7)
    entries = [e for page in _pages(client.list_email_identities, "EmailIdentities") for e in page]
    assert [e["IdentityName"] for e in entries] == names
    assert {e["IdentityType"] for e in entries} == {"DOMAIN", "EMAIL_ADDRESS"}
    assert {e["VerificationStatus"] for e in entries} == set(VERIFICATION_STATUSES)
    for entry in entries[:40]:
        identity = client.get_email_identity(EmailIdentity=entry["IdentityName"])
        assert identity["VerificationStatus"] == entry["VerificationStatus"]
        assert identity["VerifiedForSendingStatus"] is (entry["VerificationStatus"] == "SUCCESS")
        if (
            entry["IdentityType"] == "DOMAIN"
            and identity["DkimAttributes"]["Status"] != "NOT_STARTED"
        ):
            assert len(identity["DkimAttributes"]["Tokens"]) == 3


def test_seeding_is_deterministic(ses: LocalSES, client: Any) -> None:
    """The same seed gives the same states; another seed different ones."""

    def states(seed: int) -> list[tuple[str, bool]]:
        ses.reset()
        ses.seed_identities(REGION, 200, seed=seed)
        entries = client.list_email_identities(PageSize=200)["EmailIdentities"]
        return [(e["VerificationStatus"], e["SendingEnabled"]) for e in entries]

    assert states(1) == states(1)
    assert states(1) != states(2)


def test_create_email_identity_starts_verification(ses: LocalSES, client: Any) -> None:
    """A new domain is PENDING with Easy DKIM tokens; tags go on the identity ARN; no duplicate."""
    answer = client.create_email_identity(
        EmailIdentity="new.example", Tags=[{"Key": "team", "Value": "mail"}]
    )
    assert answer["IdentityType"] == "DOMAIN"
    assert answer["VerifiedForSendingStatus"] is False
    assert answer["DkimAttributes"]["Status"] == "PENDING"
    assert answer["DkimAttributes"]["SigningAttributesOrigin"] == "AWS_SES"
    assert len(answer["DkimAttributes"]["Tokens"]) == 3
    identity = client.get_email_identity(EmailIdentity="new.example")
    assert identity["VerificationStatus"] == "PENDING"
    assert identity["Tags"] == [{"Key": "team", "Value": "mail"}]
    arn = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/new.example"
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == identity["Tags"]
    email = client.create_email_identity(EmailIdentity="ops@new.example")
    assert email["IdentityType"] == "EMAIL_ADDRESS"
    assert email["DkimAttributes"]["Status"] == "NOT_STARTED"
    assert _error(client.create_email_identity, EmailIdentity="new.example")[:2] == (
        "AlreadyExistsException",
        400,
    )
    assert _error(
        client.create_email_identity, EmailIdentity="x.example", ConfigurationSetName="nope"
    )[:2] == ("NotFoundException", 404)


def test_delete_email_identity_removes_it_and_its_state(ses: LocalSES, client: Any) -> None:
    """DeleteEmailIdentity removes the identity, its MAIL FROM and tags; unknown is NotFound."""
    ses.set_identity(REGION, "gone.example", mail_from_domain="mail.gone.example", tags={"a": "b"})
    client.delete_email_identity(EmailIdentity="gone.example")
    assert client.list_email_identities()["EmailIdentities"] == []
    assert _error(client.get_email_identity, EmailIdentity="gone.example")[:2] == (
        "NotFoundException",
        404,
    )
    ses.set_identity(REGION, "gone.example")
    identity = client.get_email_identity(EmailIdentity="gone.example")
    assert "MailFromAttributes" not in identity
    assert identity["Tags"] == []
    assert _error(client.delete_email_identity, EmailIdentity="never.example")[:2] == (
        "NotFoundException",
        404,
    )


def test_set_identity_fields_are_visible(ses: LocalSES, client: Any) -> None:
    """set_identity states, configuration set, feedback and tags show in GetEmailIdentity."""
    ses.set_identity(
        REGION,
        "example.org",
        verification_status="TEMPORARY_FAILURE",
        dkim_status="FAILED",
        dkim_signing_enabled=False,
        sending_enabled=False,
        mail_from_domain="bounce.example.org",
        mail_from_status="PENDING",
        policies={"p1": POLICY},
        configuration_set_name="transactional",
        feedback_forwarding=False,
        tags={"env": "prod"},
    )
    identity = client.get_email_identity(EmailIdentity="example.org")
    assert identity["VerificationStatus"] == "TEMPORARY_FAILURE"
    assert identity["VerifiedForSendingStatus"] is False
    assert identity["DkimAttributes"]["Status"] == "FAILED"
    assert identity["DkimAttributes"]["SigningEnabled"] is False
    assert identity["MailFromAttributes"] == {
        "MailFromDomain": "bounce.example.org",
        "MailFromDomainStatus": "PENDING",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    assert identity["Policies"] == {"p1": POLICY}
    assert identity["ConfigurationSetName"] == "transactional"
    assert identity["FeedbackForwardingStatus"] is False
    assert identity["Tags"] == [{"Key": "env", "Value": "prod"}]
    [entry] = client.list_email_identities()["EmailIdentities"]
    assert entry["SendingEnabled"] is False
    ses.set_identity(REGION, "example.org", verification_status="SUCCESS", mail_from_domain="")
    identity = client.get_email_identity(EmailIdentity="example.org")
    assert identity["VerifiedForSendingStatus"] is True
    assert "MailFromAttributes" not in identity
    with pytest.raises(ValueError, match="verification_status"):
        ses.set_identity(REGION, "example.org", verification_status="VERIFIED")


def test_identity_attribute_writes(ses: LocalSES, client: Any) -> None:
    """DKIM, configuration set, feedback and MAIL FROM writes, read back; NotFound if unknown."""
    ses.set_identity(REGION, "bulk.example", dkim_status="SUCCESS", dkim_signing_enabled=True)
    client.create_configuration_set(ConfigurationSetName="marketing")
    client.put_email_identity_dkim_attributes(EmailIdentity="bulk.example", SigningEnabled=False)
    client.put_email_identity_configuration_set_attributes(
        EmailIdentity="bulk.example", ConfigurationSetName="marketing"
    )
    client.put_email_identity_feedback_attributes(
        EmailIdentity="bulk.example", EmailForwardingEnabled=False
    )
    client.put_email_identity_mail_from_attributes(
        EmailIdentity="bulk.example",
        MailFromDomain="mail.bulk.example",
        BehaviorOnMxFailure="REJECT_MESSAGE",
    )
    identity = client.get_email_identity(EmailIdentity="bulk.example")
    assert identity["DkimAttributes"]["SigningEnabled"] is False
    assert identity["ConfigurationSetName"] == "marketing"
    assert identity["FeedbackForwardingStatus"] is False
    assert identity["MailFromAttributes"] == {
        "MailFromDomain": "mail.bulk.example",
        "MailFromDomainStatus": "PENDING",
        "BehaviorOnMxFailure": "REJECT_MESSAGE",
    }
    client.put_email_identity_configuration_set_attributes(EmailIdentity="bulk.example")
    client.put_email_identity_feedback_attributes(
        EmailIdentity="bulk.example", EmailForwardingEnabled=True
    )
    client.put_email_identity_mail_from_attributes(EmailIdentity="bulk.example")
    identity = client.get_email_identity(EmailIdentity="bulk.example")
    assert "ConfigurationSetName" not in identity
    assert identity["FeedbackForwardingStatus"] is True
    assert "MailFromAttributes" not in identity
    unknown = {"EmailIdentity": "unknown.example"}
    for call, kwargs in (
        (client.put_email_identity_dkim_attributes, {"SigningEnabled": True}),
        (client.put_email_identity_configuration_set_attributes, {}),
        (client.put_email_identity_feedback_attributes, {"EmailForwardingEnabled": True}),
        (client.put_email_identity_mail_from_attributes, {"MailFromDomain": "m.unknown.example"}),
    ):
        assert _error(call, **unknown, **kwargs)[:2] == ("NotFoundException", 404)
    assert _error(
        client.put_email_identity_configuration_set_attributes,
        EmailIdentity="bulk.example",
        ConfigurationSetName="nope",
    )[:2] == ("NotFoundException", 404)
    assert _error(
        client.put_email_identity_mail_from_attributes,
        EmailIdentity="bulk.example",
        MailFromDomain="mail.other.example",
    )[:2] == ("BadRequestException", 400)


def test_put_email_identity_dkim_signing_attributes(ses: LocalSES, client: Any) -> None:
    """Easy DKIM kept as is, BYODKIM and back; the v1 path is routed; addresses are refused."""
    ses.set_identity(REGION, "dkim.example", dkim_status="SUCCESS", dkim_signing_enabled=True)
    tokens = client.get_email_identity(EmailIdentity="dkim.example")["DkimAttributes"]["Tokens"]
    same = client.put_email_identity_dkim_signing_attributes(
        EmailIdentity="dkim.example",
        SigningAttributesOrigin="AWS_SES",
        SigningAttributes={"NextSigningKeyLength": "RSA_1024_BIT"},
    )
    assert same["DkimStatus"] == "SUCCESS"
    assert same["DkimTokens"] == tokens
    external = client.put_email_identity_dkim_signing_attributes(
        EmailIdentity="dkim.example",
        SigningAttributesOrigin="EXTERNAL",
        SigningAttributes={"DomainSigningSelector": "sel1", "DomainSigningPrivateKey": "a2V5"},
    )
    assert external == {**external, "DkimStatus": "PENDING", "DkimTokens": ["sel1"]}
    dkim = client.get_email_identity(EmailIdentity="dkim.example")["DkimAttributes"]
    assert dkim["SigningAttributesOrigin"] == "EXTERNAL"
    assert dkim["Tokens"] == ["sel1"]
    assert isinstance(dkim["LastKeyGenerationTimestamp"], dt.datetime)
    back = client.put_email_identity_dkim_signing_attributes(
        EmailIdentity="dkim.example", SigningAttributesOrigin="AWS_SES"
    )
    assert back["DkimStatus"] == "PENDING"
    assert len(back["DkimTokens"]) == 3
    assert _error(
        client.put_email_identity_dkim_signing_attributes,
        EmailIdentity="dkim.example",
        SigningAttributesOrigin="EXTERNAL",
    )[:2] == ("BadRequestException", 400)
    ses.set_identity(REGION, "me@dkim.example")
    assert _error(
        client.put_email_identity_dkim_signing_attributes,
        EmailIdentity="me@dkim.example",
        SigningAttributesOrigin="AWS_SES",
    )[:2] == ("BadRequestException", 400)
    assert _error(
        client.put_email_identity_dkim_signing_attributes,
        EmailIdentity="none.example",
        SigningAttributesOrigin="AWS_SES",
    )[:2] == ("NotFoundException", 404)


def test_email_identity_policies(ses: LocalSES, client: Any) -> None:
    """Create, duplicate, update, get and delete sending-authorization policies."""
    ses.set_identity(REGION, "policy.example")
    client.create_email_identity_policy(
        EmailIdentity="policy.example", PolicyName="partner", Policy=POLICY
    )
    assert _error(
        client.create_email_identity_policy,
        EmailIdentity="policy.example",
        PolicyName="partner",
        Policy=POLICY,
    )[:2] == ("AlreadyExistsException", 400)
    assert _error(
        client.create_email_identity_policy,
        EmailIdentity="policy.example",
        PolicyName="broken",
        Policy="{not json",
    )[:2] == ("BadRequestException", 400)
    updated = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "x"}]})
    client.update_email_identity_policy(
        EmailIdentity="policy.example", PolicyName="partner", Policy=updated
    )
    policies = client.get_email_identity_policies(EmailIdentity="policy.example")["Policies"]
    assert policies == {"partner": updated}
    client.delete_email_identity_policy(EmailIdentity="policy.example", PolicyName="partner")
    client.delete_email_identity_policy(EmailIdentity="policy.example", PolicyName="partner")
    assert client.get_email_identity_policies(EmailIdentity="policy.example")["Policies"] == {}
    assert _error(client.get_email_identity_policies, EmailIdentity="none.example")[:2] == (
        "NotFoundException",
        404,
    )
    for n in range(20):
        client.create_email_identity_policy(
            EmailIdentity="policy.example", PolicyName=f"p{n}", Policy=POLICY
        )
    assert _error(
        client.create_email_identity_policy,
        EmailIdentity="policy.example",
        PolicyName="p20",
        Policy=POLICY,
    )[:2] == ("LimitExceededException", 400)


def test_tags_on_identity_arns(ses: LocalSES, client: Any) -> None:
    """TagResource/UntagResource/ListTagsForResource on identity ARNs, seen by GetEmailIdentity."""
    ses.set_identity(REGION, "tags.example")
    arn = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/tags.example"
    client.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "3"}])
    tags = {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"a": "3", "b": "2"}
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.get_email_identity(EmailIdentity="tags.example")["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
    missing = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/none.example"
    other_region = f"arn:aws:ses:eu-west-1:{DEFAULT_ACCOUNT}:identity/tags.example"
    for bad in (missing, other_region):
        assert _error(client.list_tags_for_resource, ResourceArn=bad)[:2] == (
            "NotFoundException",
            404,
        )
    assert _error(client.list_tags_for_resource, ResourceArn="not-an-arn")[:2] == (
        "BadRequestException",
        400,
    )
    client.create_configuration_set(ConfigurationSetName="tagged")
    cs_arn = f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:configuration-set/tagged"
    client.tag_resource(ResourceArn=cs_arn, Tags=[{"Key": "k", "Value": "v"}])
    assert client.get_configuration_set(ConfigurationSetName="tagged")["Tags"] == [
        {"Key": "k", "Value": "v"}
    ]


# -- account ---------------------------------------------------------------------------------


def test_get_account_default_and_sandbox(ses: LocalSES, client: Any) -> None:
    """A never-set account is healthy production 50000/14; set_account makes a sandbox 200/1."""
    account = client.get_account()
    assert account["ProductionAccessEnabled"] is True
    assert account["SendingEnabled"] is True
    assert account["EnforcementStatus"] == "HEALTHY"
    assert account["SendQuota"] == {
        "Max24HourSend": 50000.0,
        "MaxSendRate": 14.0,
        "SentLast24Hours": 0.0,
    }
    assert account["SuppressionAttributes"] == {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    assert account["VdmAttributes"] == {"VdmEnabled": "DISABLED"}
    ses.set_account(
        REGION,
        production_access=False,
        sending_enabled=False,
        enforcement_status="PROBATION",
        sent_last_24_hours=12.0,
        suppressed_reasons=("BOUNCE",),
        vdm_enabled=True,
        details={"MailType": "MARKETING", "WebsiteURL": "https://example.com"},
    )
    sandbox = client.get_account()
    assert sandbox["ProductionAccessEnabled"] is False
    assert sandbox["SendingEnabled"] is False
    assert sandbox["EnforcementStatus"] == "PROBATION"
    assert sandbox["SendQuota"] == {
        "Max24HourSend": 200.0,
        "MaxSendRate": 1.0,
        "SentLast24Hours": 12.0,
    }
    assert sandbox["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE"]
    assert sandbox["VdmAttributes"]["VdmEnabled"] == "ENABLED"
    assert sandbox["Details"]["MailType"] == "MARKETING"
    assert _client(ses, None, region="eu-west-1").get_account()["ProductionAccessEnabled"]
    with pytest.raises(ValueError, match="enforcement_status"):
        ses.set_account(REGION, enforcement_status="FINE")


# -- configuration sets ----------------------------------------------------------------------


def test_seeded_configuration_sets_follow_the_documented_rule(ses: LocalSES, client: Any) -> None:
    """TLS, reputation, sending and event destinations follow the index rule of the docstring."""
    names = ses.seed_configuration_sets(REGION, 8)
    assert client.list_configuration_sets()["ConfigurationSets"] == names
    for i, name in enumerate(names):
        config = client.get_configuration_set(ConfigurationSetName=name)
        assert config["ConfigurationSetName"] == name
        assert config["DeliveryOptions"]["TlsPolicy"] == ("REQUIRE" if i % 2 == 0 else "OPTIONAL")
        assert config["ReputationOptions"]["ReputationMetricsEnabled"] is (i % 3 != 2)
        assert config["SendingOptions"]["SendingEnabled"] is (i % 5 != 4)
        destinations = client.get_configuration_set_event_destinations(ConfigurationSetName=name)[
            "EventDestinations"
        ]
        feedback = [
            d
            for d in destinations
            if {"BOUNCE", "COMPLAINT"} <= set(d["MatchingEventTypes"]) and d["Enabled"]
        ]
        if i % 4 == 0:
            assert len(feedback) == 1
        elif i % 4 == 1:
            assert [set(d["MatchingEventTypes"]) for d in destinations] == [{"SEND", "DELIVERY"}]
            assert destinations[0]["Enabled"] is True
        elif i % 4 == 2:
            assert [d["Enabled"] for d in destinations] == [False]
            assert feedback == []
        else:
            assert destinations == []


def test_configuration_set_crud(ses: LocalSES, client: Any) -> None:
    """Create with options, read back with defaults, duplicate, delete, NotFound, validation."""
    client.create_dedicated_ip_pool(PoolName="sending")
    client.create_configuration_set(
        ConfigurationSetName="full",
        TrackingOptions={"CustomRedirectDomain": "t.example.com", "HttpsPolicy": "REQUIRE"},
        DeliveryOptions={"TlsPolicy": "REQUIRE", "SendingPoolName": "sending"},
        ReputationOptions={"ReputationMetricsEnabled": True},
        SendingOptions={"SendingEnabled": False},
        SuppressionOptions={"SuppressedReasons": ["COMPLAINT"]},
        Tags=[{"Key": "team", "Value": "ops"}],
    )
    client.create_configuration_set(ConfigurationSetName="plain")
    full = client.get_configuration_set(ConfigurationSetName="full")
    assert full["TrackingOptions"] == {
        "CustomRedirectDomain": "t.example.com",
        "HttpsPolicy": "REQUIRE",
    }
    assert full["DeliveryOptions"] == {"TlsPolicy": "REQUIRE", "SendingPoolName": "sending"}
    assert full["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    assert full["SendingOptions"] == {"SendingEnabled": False}
    assert full["SuppressionOptions"] == {"SuppressedReasons": ["COMPLAINT"]}
    assert full["Tags"] == [{"Key": "team", "Value": "ops"}]
    plain = client.get_configuration_set(ConfigurationSetName="plain")
    assert plain["DeliveryOptions"] == {"TlsPolicy": "OPTIONAL"}
    assert plain["ReputationOptions"] == {"ReputationMetricsEnabled": False}
    assert plain["SendingOptions"] == {"SendingEnabled": True}
    assert "TrackingOptions" not in plain
    assert "SuppressionOptions" not in plain
    assert _error(client.create_configuration_set, ConfigurationSetName="plain")[:2] == (
        "AlreadyExistsException",
        400,
    )
    assert _error(
        client.create_configuration_set,
        ConfigurationSetName="x",
        DeliveryOptions={"SendingPoolName": "missing"},
    )[:2] == ("NotFoundException", 404)
    assert _error(
        client.create_configuration_set,
        ConfigurationSetName="x",
        DeliveryOptions={"TlsPolicy": "SOMETIMES"},
    )[:2] == ("BadRequestException", 400)
    client.delete_configuration_set(ConfigurationSetName="plain")
    assert client.list_configuration_sets()["ConfigurationSets"] == ["full"]
    for call in (client.delete_configuration_set, client.get_configuration_set):
        assert _error(call, ConfigurationSetName="plain")[:2] == ("NotFoundException", 404)


def test_configuration_set_event_destinations(ses: LocalSES, client: Any) -> None:
    """Create, list, update, delete event destinations; duplicates, limits and unknowns."""
    client.create_configuration_set(ConfigurationSetName="events")
    definition = {
        "Enabled": True,
        "MatchingEventTypes": ["BOUNCE", "COMPLAINT"],
        "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:bounces"},
    }
    client.create_configuration_set_event_destination(
        ConfigurationSetName="events", EventDestinationName="sns", EventDestination=definition
    )
    [found] = client.get_configuration_set_event_destinations(ConfigurationSetName="events")[
        "EventDestinations"
    ]
    assert found == {"Name": "sns", **definition}
    assert _error(
        client.create_configuration_set_event_destination,
        ConfigurationSetName="events",
        EventDestinationName="sns",
        EventDestination=definition,
    )[:2] == ("AlreadyExistsException", 400)
    assert _error(
        client.create_configuration_set_event_destination,
        ConfigurationSetName="events",
        EventDestinationName="none",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND"]},
    )[:2] == ("BadRequestException", 400)
    client.update_configuration_set_event_destination(
        ConfigurationSetName="events",
        EventDestinationName="sns",
        EventDestination={**definition, "Enabled": False},
    )
    [found] = client.get_configuration_set_event_destinations(ConfigurationSetName="events")[
        "EventDestinations"
    ]
    assert found["Enabled"] is False
    for n in range(9):
        client.create_configuration_set_event_destination(
            ConfigurationSetName="events",
            EventDestinationName=f"d{n}",
            EventDestination={**definition, "MatchingEventTypes": list(EVENT_TYPES[:2])},
        )
    assert _error(
        client.create_configuration_set_event_destination,
        ConfigurationSetName="events",
        EventDestinationName="d9",
        EventDestination=definition,
    )[:2] == ("LimitExceededException", 400)
    client.delete_configuration_set_event_destination(
        ConfigurationSetName="events", EventDestinationName="sns"
    )
    names = [
        d["Name"]
        for d in client.get_configuration_set_event_destinations(ConfigurationSetName="events")[
            "EventDestinations"
        ]
    ]
    assert names == [f"d{n}" for n in range(9)]
    assert _error(
        client.delete_configuration_set_event_destination,
        ConfigurationSetName="events",
        EventDestinationName="sns",
    )[:2] == ("NotFoundException", 404)
    assert _error(client.get_configuration_set_event_destinations, ConfigurationSetName="nope")[
        :2
    ] == ("NotFoundException", 404)
    assert _error(
        client.create_configuration_set_event_destination,
        ConfigurationSetName="nope",
        EventDestinationName="x",
        EventDestination=definition,
    )[:2] == ("NotFoundException", 404)


# -- suppression list ------------------------------------------------------------------------


def test_seeded_suppressions_are_mixed_and_spread(ses: LocalSES, client: Any) -> None:
    """Reasons mixed, LastUpdateTime spread over ~400 days, newest first, every address once."""
    addresses = ses.seed_suppressions(REGION, 3000, seed=3)
    assert addresses[0] == "suppressed-0000000@example.com"
    pages = _pages(
        client.list_suppressed_destinations, "SuppressedDestinationSummaries", PageSize=1000
    )
    assert _sizes(pages) == [1000, 1000, 1000]
    items = [item for page in pages for item in page]
    assert sorted(item["EmailAddress"] for item in items) == sorted(addresses)
    times = [item["LastUpdateTime"] for item in items]
    assert times == sorted(times, reverse=True)
    assert (times[0] - times[-1]) > dt.timedelta(days=390)
    assert times[-1] > dt.datetime.now(dt.UTC) - dt.timedelta(days=401)
    reasons = [item["Reason"] for item in items]
    assert 0.6 < reasons.count("BOUNCE") / len(reasons) < 0.8


def test_list_suppressed_destinations_filters(ses: LocalSES, client: Any) -> None:
    """Reason and StartDate/EndDate filters, alone and combined, across pages."""
    ses.seed_suppressions(REGION, 500, seed=1)
    everything = [
        item
        for page in _pages(client.list_suppressed_destinations, "SuppressedDestinationSummaries")
        for item in page
    ]
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(days=200), now - dt.timedelta(days=100)
    expected = {
        item["EmailAddress"]
        for item in everything
        if item["Reason"] == "COMPLAINT" and start <= item["LastUpdateTime"] <= end
    }
    assert expected
    pages = _pages(
        client.list_suppressed_destinations,
        "SuppressedDestinationSummaries",
        Reasons=["COMPLAINT"],
        StartDate=start,
        EndDate=end,
        PageSize=7,
    )
    found = [item["EmailAddress"] for page in pages for item in page]
    assert len(pages) > 1
    assert sorted(found) == sorted(expected)
    both = client.list_suppressed_destinations(Reasons=list(SUPPRESSION_REASONS), PageSize=1000)
    assert len(both["SuppressedDestinationSummaries"]) == 500
    bounces = client.list_suppressed_destinations(Reasons=["BOUNCE"], PageSize=1000)
    assert {i["Reason"] for i in bounces["SuppressedDestinationSummaries"]} == {"BOUNCE"}


def test_suppressed_destination_put_get_delete(ses: LocalSES, client: Any) -> None:
    """Put (newest first), get with attributes, delete, NotFound afterwards and for unknowns."""
    ses.seed_suppressions(REGION, 20)
    before = time.time()
    client.put_suppressed_destination(EmailAddress="new@example.com", Reason="COMPLAINT")
    first = client.list_suppressed_destinations(PageSize=1)["SuppressedDestinationSummaries"][0]
    assert first["EmailAddress"] == "new@example.com"
    found = client.get_suppressed_destination(EmailAddress="new@example.com")[
        "SuppressedDestination"
    ]
    assert found["Reason"] == "COMPLAINT"
    assert found["LastUpdateTime"].timestamp() >= before - 1
    assert set(found["Attributes"]) == {"MessageId", "FeedbackId"}
    client.delete_suppressed_destination(EmailAddress="new@example.com")
    for call in (client.get_suppressed_destination, client.delete_suppressed_destination):
        assert _error(call, EmailAddress="new@example.com")[:2] == ("NotFoundException", 404)
    assert _error(client.put_suppressed_destination, EmailAddress="x@example.com", Reason="SPAM")[
        :2
    ] == ("BadRequestException", 400)


def test_seeding_is_fast(ses: LocalSES, client: Any) -> None:
    """100,000 suppressions and 10,000 identities are seeded in a few seconds."""
    started = time.perf_counter()
    ses.seed_suppressions(REGION, 100_000)
    ses.seed_identities(REGION, 10_000)
    assert time.perf_counter() - started < 5
    page = client.list_suppressed_destinations(PageSize=1000)
    assert len(page["SuppressedDestinationSummaries"]) == 1000
    assert client.get_suppressed_destination(EmailAddress="suppressed-0099999@example.com")


# -- contact lists ---------------------------------------------------------------------------


def test_seeded_contact_lists(ses: LocalSES, client: Any) -> None:
    """Lists with 2-3 topics; contacts with per-topic preferences and some UnsubscribeAll."""
    names = ses.seed_contact_lists(REGION, 2, 300, seed=5)
    assert names == ["contacts-0", "contacts-1"]
    listed = client.list_contact_lists()["ContactLists"]
    assert [item["ContactListName"] for item in listed] == names
    topics = [
        [t["TopicName"] for t in client.get_contact_list(ContactListName=name)["Topics"]]
        for name in names
    ]
    assert [len(t) for t in topics] == [2, 3]
    contacts = [
        c
        for page in _pages(
            client.list_contacts, "Contacts", ContactListName="contacts-1", PageSize=1000
        )
        for c in page
    ]
    assert len(contacts) == 300
    assert any(c["UnsubscribeAll"] for c in contacts)
    assert not all(c["UnsubscribeAll"] for c in contacts)
    statuses = {p["SubscriptionStatus"] for c in contacts for p in c["TopicPreferences"]}
    assert statuses == {"OPT_IN", "OPT_OUT"}
    assert any(not c["TopicPreferences"] for c in contacts)
    assert {len(c["TopicDefaultPreferences"]) for c in contacts} == {3}


def test_list_contacts_filters(ses: LocalSES, client: Any) -> None:
    """FilteredStatus with TopicFilter, with and without defaults, and UnsubscribeAll."""
    client.create_contact_list(
        ContactListName="news",
        Topics=[
            {"TopicName": "weekly", "DisplayName": "Weekly", "DefaultSubscriptionStatus": "OPT_IN"}
        ],
        Tags=[{"Key": "k", "Value": "v"}],
    )
    client.create_contact(
        ContactListName="news",
        EmailAddress="in@example.com",
        TopicPreferences=[{"TopicName": "weekly", "SubscriptionStatus": "OPT_IN"}],
    )
    client.create_contact(
        ContactListName="news",
        EmailAddress="out@example.com",
        TopicPreferences=[{"TopicName": "weekly", "SubscriptionStatus": "OPT_OUT"}],
    )
    client.create_contact(ContactListName="news", EmailAddress="default@example.com")
    client.create_contact(
        ContactListName="news", EmailAddress="gone@example.com", UnsubscribeAll=True
    )

    def emails(**filters: Any) -> list[str]:
        answer = client.list_contacts(ContactListName="news", **filters)
        return sorted(c["EmailAddress"] for c in answer["Contacts"])

    assert len(emails()) == 4
    weekly = {"TopicName": "weekly"}
    assert emails(Filter={"FilteredStatus": "OPT_IN", "TopicFilter": weekly}) == ["in@example.com"]
    with_defaults = {**weekly, "UseDefaultIfPreferenceUnavailable": True}
    assert emails(Filter={"FilteredStatus": "OPT_IN", "TopicFilter": with_defaults}) == [
        "default@example.com",
        "in@example.com",
    ]
    assert emails(Filter={"FilteredStatus": "OPT_OUT", "TopicFilter": with_defaults}) == [
        "gone@example.com",
        "out@example.com",
    ]
    assert emails(Filter={"FilteredStatus": "OPT_OUT"}) == ["gone@example.com"]
    contact_list = client.get_contact_list(ContactListName="news")
    assert contact_list["Tags"] == [{"Key": "k", "Value": "v"}]
    assert isinstance(contact_list["CreatedTimestamp"], dt.datetime)
    contact = client.get_contact(ContactListName="news", EmailAddress="default@example.com")
    assert contact["TopicPreferences"] == []
    assert contact["TopicDefaultPreferences"] == [
        {"TopicName": "weekly", "SubscriptionStatus": "OPT_IN"}
    ]
    client.update_contact(
        ContactListName="news", EmailAddress="default@example.com", UnsubscribeAll=True
    )
    client.delete_contact(ContactListName="news", EmailAddress="in@example.com")
    assert emails(Filter={"FilteredStatus": "OPT_OUT"}) == [
        "default@example.com",
        "gone@example.com",
    ]
    assert _error(client.create_contact, ContactListName="news", EmailAddress="out@example.com")[
        :2
    ] == ("AlreadyExistsException", 400)
    assert _error(client.list_contacts, ContactListName="nope")[:2] == ("NotFoundException", 404)
    assert _error(client.get_contact_list, ContactListName="nope")[:2] == ("NotFoundException", 404)


def test_contact_list_update_and_delete(ses: LocalSES, client: Any) -> None:
    """UpdateContactList replaces topics and description; DeleteContactList removes the list."""
    ses.seed_contact_lists(REGION, 2, 3)
    before = client.get_contact_list(ContactListName="contacts-0")["LastUpdatedTimestamp"]
    time.sleep(0.01)
    topic = {"TopicName": "alerts", "DisplayName": "Alerts", "DefaultSubscriptionStatus": "OPT_OUT"}
    client.update_contact_list(ContactListName="contacts-0", Topics=[topic], Description="new")
    updated = client.get_contact_list(ContactListName="contacts-0")
    assert updated["Topics"] == [topic]
    assert updated["Description"] == "new"
    assert updated["LastUpdatedTimestamp"] > before
    assert _error(client.create_contact_list, ContactListName="contacts-0", Topics=[topic])[:2] == (
        "AlreadyExistsException",
        400,
    )
    client.delete_contact_list(ContactListName="contacts-0")
    listed = client.list_contact_lists()["ContactLists"]
    assert [item["ContactListName"] for item in listed] == ["contacts-1"]
    assert _error(client.delete_contact_list, ContactListName="contacts-0")[:2] == (
        "NotFoundException",
        404,
    )


def test_send_email_is_moto_s_own(ses: LocalSES, client: Any) -> None:
    """SendEmail (moto's handler, routed here) sends from a verified domain, rejects others."""
    ses.set_identity(REGION, "sender.example")
    content = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}
    sent = client.send_email(
        FromEmailAddress="me@sender.example",
        Destination={"ToAddresses": ["you@example.com"]},
        Content=content,
    )
    assert sent["MessageId"]
    code, status, _message = _error(
        client.send_email,
        FromEmailAddress="me@unknown.example",
        Destination={"ToAddresses": ["you@example.com"]},
        Content=content,
    )
    assert (code, status) == ("MessageRejected", 400)


# -- templates -------------------------------------------------------------------------------


def test_email_templates(ses: LocalSES, client: Any) -> None:
    """Create, get, update, list, delete email templates; duplicates and unknowns."""
    ses.seed_templates(REGION, 2)
    client.create_email_template(
        TemplateName="welcome",
        TemplateContent={"Subject": "Hi {{name}}", "Text": "Hello", "Html": "<p>Hello</p>"},
    )
    assert client.get_email_template(TemplateName="welcome")["TemplateContent"] == {
        "Subject": "Hi {{name}}",
        "Text": "Hello",
        "Html": "<p>Hello</p>",
    }
    client.update_email_template(TemplateName="welcome", TemplateContent={"Subject": "Hey"})
    assert client.get_email_template(TemplateName="welcome")["TemplateContent"] == {
        "Subject": "Hey"
    }
    listed = client.list_email_templates()["TemplatesMetadata"]
    assert [t["TemplateName"] for t in listed] == ["template-000", "template-001", "welcome"]
    assert all(isinstance(t["CreatedTimestamp"], dt.datetime) for t in listed)
    assert _error(
        client.create_email_template, TemplateName="welcome", TemplateContent={"Subject": "x"}
    )[:2] == ("AlreadyExistsException", 400)
    client.delete_email_template(TemplateName="welcome")
    for call in (client.get_email_template, client.delete_email_template):
        assert _error(call, TemplateName="welcome")[:2] == ("NotFoundException", 404)


def test_custom_verification_email_templates(ses: LocalSES, client: Any) -> None:
    """Create, get, list; duplicates, NotFound and the 50-template limit."""
    fields = {
        "FromEmailAddress": "verify@example.com",
        "TemplateSubject": "Confirm",
        "TemplateContent": "<p>Click</p>",
        "SuccessRedirectionURL": "https://example.com/ok",
        "FailureRedirectionURL": "https://example.com/ko",
    }
    client.create_custom_verification_email_template(TemplateName="confirm", **fields)
    found = client.get_custom_verification_email_template(TemplateName="confirm")
    assert found["TemplateName"] == "confirm"
    assert {key: found[key] for key in fields} == fields
    [listed] = client.list_custom_verification_email_templates()["CustomVerificationEmailTemplates"]
    assert "TemplateContent" not in listed
    assert listed["FromEmailAddress"] == "verify@example.com"
    assert _error(
        client.create_custom_verification_email_template, TemplateName="confirm", **fields
    )[:2] == ("AlreadyExistsException", 400)
    assert _error(client.get_custom_verification_email_template, TemplateName="nope")[:2] == (
        "NotFoundException",
        404,
    )
    client.update_custom_verification_email_template(
        TemplateName="confirm", **{**fields, "TemplateSubject": "Please confirm"}
    )
    found = client.get_custom_verification_email_template(TemplateName="confirm")
    assert found["TemplateSubject"] == "Please confirm"
    ses.seed_custom_verification_templates(REGION, 49)
    assert _error(
        client.create_custom_verification_email_template, TemplateName="one-more", **fields
    )[:2] == ("LimitExceededException", 400)
    client.delete_custom_verification_email_template(TemplateName="confirm")
    client.create_custom_verification_email_template(TemplateName="one-more", **fields)
    for call in (
        client.delete_custom_verification_email_template,
        client.update_custom_verification_email_template,
    ):
        extra = fields if call == client.update_custom_verification_email_template else {}
        assert _error(call, TemplateName="confirm", **extra)[:2] == ("NotFoundException", 404)


# -- dedicated IPs, pools and import jobs ----------------------------------------------------


def test_dedicated_ip_pools(ses: LocalSES, client: Any) -> None:
    """Create (no duplicate), get, scaling STANDARD->MANAGED only, delete (unknown NotFound)."""
    client.create_dedicated_ip_pool(PoolName="marketing")
    assert _error(client.create_dedicated_ip_pool, PoolName="marketing", ScalingMode="MANAGED")[
        :2
    ] == ("AlreadyExistsException", 400)
    assert client.get_dedicated_ip_pool(PoolName="marketing")["DedicatedIpPool"] == {
        "PoolName": "marketing",
        "ScalingMode": "STANDARD",
    }
    client.put_dedicated_ip_pool_scaling_attributes(PoolName="marketing", ScalingMode="MANAGED")
    assert client.get_dedicated_ip_pool(PoolName="marketing")["DedicatedIpPool"]["ScalingMode"] == (
        "MANAGED"
    )
    assert _error(
        client.put_dedicated_ip_pool_scaling_attributes,
        PoolName="marketing",
        ScalingMode="STANDARD",
    )[:2] == ("BadRequestException", 400)
    assert _error(
        client.put_dedicated_ip_pool_scaling_attributes, PoolName="nope", ScalingMode="MANAGED"
    )[:2] == ("NotFoundException", 404)
    client.delete_dedicated_ip_pool(PoolName="marketing")
    for call in (client.delete_dedicated_ip_pool, client.get_dedicated_ip_pool):
        assert _error(call, PoolName="marketing")[:2] == ("NotFoundException", 404)


def test_dedicated_ips(ses: LocalSES, client: Any) -> None:
    """Get IPs (by pool), move one between pools, set warm-up; unknown IP or pool is NotFound."""
    ses.seed_pools(REGION, 3, ips_per_pool=2)  # pool-000, pool-001 STANDARD; pool-002 MANAGED
    ips = client.get_dedicated_ips(PoolName="pool-000")["DedicatedIps"]
    assert [ip["PoolName"] for ip in ips] == ["pool-000", "pool-000"]
    address = ips[0]["Ip"]
    assert client.get_dedicated_ip(Ip=address)["DedicatedIp"] == ips[0]
    client.put_dedicated_ip_in_pool(Ip=address, DestinationPoolName="pool-001")
    assert len(client.get_dedicated_ips(PoolName="pool-001")["DedicatedIps"]) == 3
    assert client.get_dedicated_ip(Ip=address)["DedicatedIp"]["PoolName"] == "pool-001"
    client.put_dedicated_ip_warmup_attributes(Ip=address, WarmupPercentage=40)
    warming = client.get_dedicated_ip(Ip=address)["DedicatedIp"]
    assert (warming["WarmupStatus"], warming["WarmupPercentage"]) == ("IN_PROGRESS", 40)
    client.put_dedicated_ip_warmup_attributes(Ip=address, WarmupPercentage=100)
    assert client.get_dedicated_ip(Ip=address)["DedicatedIp"]["WarmupStatus"] == "DONE"
    assert _error(client.put_dedicated_ip_warmup_attributes, Ip=address, WarmupPercentage=101)[
        :2
    ] == ("BadRequestException", 400)
    for call, kwargs in (
        (client.put_dedicated_ip_in_pool, {"Ip": "192.0.2.1", "DestinationPoolName": "pool-000"}),
        (client.put_dedicated_ip_in_pool, {"Ip": address, "DestinationPoolName": "missing"}),
        (client.put_dedicated_ip_warmup_attributes, {"Ip": "192.0.2.1", "WarmupPercentage": 5}),
        (client.get_dedicated_ip, {"Ip": "192.0.2.1"}),
        (client.get_dedicated_ips, {"PoolName": "missing"}),
    ):
        assert _error(call, **kwargs)[:2] == ("NotFoundException", 404)
    assert _error(client.put_dedicated_ip_in_pool, Ip=address, DestinationPoolName="pool-002")[
        :2
    ] == ("BadRequestException", 400)
    client.delete_dedicated_ip_pool(PoolName="pool-001")
    assert _error(client.get_dedicated_ip, Ip=address)[:2] == ("NotFoundException", 404)


def test_import_jobs(ses: LocalSES, client: Any) -> None:
    """CreateImportJob, ListImportJobs with its filter, GetImportJob and NotFound."""
    job_ids = ses.seed_import_jobs(REGION, 10)
    new_id = client.create_import_job(
        ImportDestination={
            "ContactListDestination": {"ContactListName": "news", "ContactListImportAction": "PUT"}
        },
        ImportDataSource={"S3Url": "s3://bucket/contacts.csv", "DataFormat": "CSV"},
    )["JobId"]
    contact_jobs = client.list_import_jobs(ImportDestinationType="CONTACT_LIST")["ImportJobs"]
    assert [job["JobId"] for job in contact_jobs] == [*job_ids[1::2], new_id]
    job = client.get_import_job(JobId=new_id)
    assert job["JobStatus"] == "CREATED"
    assert "CompletedTimestamp" not in job
    failed = next(j for j in client.list_import_jobs()["ImportJobs"] if j["JobStatus"] == "FAILED")
    detail = client.get_import_job(JobId=failed["JobId"])
    assert set(detail["FailureInfo"]) == {"FailedRecordsS3Url", "ErrorMessage"}
    assert detail["CompletedTimestamp"] >= detail["CreatedTimestamp"]
    assert _error(client.get_import_job, JobId="00000000-0000-4000-8000-000000000000")[:2] == (
        "NotFoundException",
        404,
    )


UNKNOWN_TARGETS: list[tuple[str, dict[str, Any], str]] = [
    ("delete_contact", {"ContactListName": "list", "EmailAddress": "no@example.com"}, "NF"),
    ("get_contact", {"ContactListName": "list", "EmailAddress": "no@example.com"}, "NF"),
    ("update_contact", {"ContactListName": "list", "EmailAddress": "no@example.com"}, "NF"),
    ("update_contact_list", {"ContactListName": "nope"}, "NF"),
    ("delete_email_identity_policy", {"EmailIdentity": "no.example", "PolicyName": "p"}, "NF"),
    (
        "update_email_identity_policy",
        {"EmailIdentity": "known.example", "PolicyName": "p", "Policy": POLICY},
        "NF",
    ),
    ("update_email_template", {"TemplateName": "nope", "TemplateContent": {"Subject": "s"}}, "NF"),
    (
        "update_configuration_set_event_destination",
        {
            "ConfigurationSetName": "known",
            "EventDestinationName": "nope",
            "EventDestination": {"MatchingEventTypes": ["SEND"], "PinpointDestination": {}},
        },
        "NF",
    ),
    (
        "tag_resource",
        {
            "ResourceArn": f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:identity/no.example",
            "Tags": [{"Key": "k", "Value": "v"}],
        },
        "NF",
    ),
    (
        "untag_resource",
        {
            "ResourceArn": f"arn:aws:ses:{REGION}:{DEFAULT_ACCOUNT}:contact-list/nope",
            "TagKeys": ["k"],
        },
        "NF",
    ),
    (
        "create_import_job",
        {
            "ImportDestination": {
                "SuppressionListDestination": {"SuppressionListImportAction": "PUT"}
            },
            "ImportDataSource": {"S3Url": "s3://bucket/x.xml", "DataFormat": "XML"},
        },
        "BR",
    ),
]


@pytest.mark.parametrize(("operation", "kwargs", "expected"), UNKNOWN_TARGETS)
def test_writes_to_unknown_resources_fail(
    ses: LocalSES, client: Any, operation: str, kwargs: dict[str, Any], expected: str
) -> None:
    """Writes naming something that does not exist are NotFound; malformed ones BadRequest."""
    ses.set_identity(REGION, "known.example")
    client.create_configuration_set(ConfigurationSetName="known")
    client.create_contact_list(ContactListName="list")
    code, status, _message = _error(getattr(client, operation), **kwargs)
    wanted = ("NotFoundException", 404) if expected == "NF" else ("BadRequestException", 400)
    assert (code, status) == wanted


# -- protocol details --------------------------------------------------------------------------


def test_answers_have_one_server_header_and_epoch_timestamps(ses: LocalSES) -> None:
    """Raw HTTP: one Server header, JSON content type, timestamps as epoch numbers."""
    ses.seed_import_jobs(REGION, 1)
    host, port = ses.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    auth = (
        "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ses/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    connection.request(
        "POST", "/v2/email/import-jobs/list", body=b"{}", headers={"Authorization": auth}
    )
    answer = connection.getresponse()
    body = json.loads(answer.read())
    connection.close()
    assert answer.status == 200
    assert answer.headers.get_all("Server") == ["amazon.com"]
    assert answer.headers["Content-Type"] == "application/json"
    assert isinstance(body["ImportJobs"][0]["CreatedTimestamp"], float)


def test_unimplemented_and_unknown_operations_answer_json(ses: LocalSES, client: Any) -> None:
    """An operation the endpoint lacks is 501 NotImplemented, an unknown path 404; both JSON."""
    code, status, message = _error(client.get_deliverability_dashboard_options)
    assert (code, status) == ("NotImplemented", 501)
    assert "GetDeliverabilityDashboardOptions" in message
    host, port = ses.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    auth = (
        "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ses/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    connection.request("GET", "/v2/email/no-such-thing", headers={"Authorization": auth})
    answer = connection.getresponse()
    body = json.loads(answer.read())
    connection.close()
    assert answer.status == 404
    assert answer.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert set(body) == {"message"}


def test_regions_without_ses_are_refused(ses: LocalSES) -> None:
    """Where botocore knows no SES endpoint: seeding is a ValueError, calls BadRequestException."""
    with pytest.raises(ValueError, match="not available in region 'ap-east-1'"):
        ses.seed_identities("ap-east-1", 1)
    code, status, message = _error(_client(ses, None, region="ap-east-1").list_email_identities)
    assert (code, status) == ("BadRequestException", 400)
    assert "ap-east-1" in message


def test_conformance_checker_catches_departures() -> None:
    """The model checker used on every answer flags extra keys, bad enums and ISO timestamps."""
    model = botocore.session.get_session().get_service_model("sesv2")
    shape = model.operation_model("GetImportJob").output_shape
    good = {"JobId": "j", "JobStatus": "FAILED", "CreatedTimestamp": 1.5}
    assert _shape_errors(shape, good, "GetImportJob") == []
    bad = {"JobId": "j", "JobStatus": "DONE", "CreatedTimestamp": "2024-01-01T00:00:00Z", "X": 1}
    assert len(_shape_errors(shape, bad, "GetImportJob")) == 3
    listing = model.operation_model("ListEmailIdentities").output_shape
    assert _shape_errors(listing, {"EmailIdentities": [{"IdentityName": 3}]}, "L") != []


def test_every_operation_has_an_explicit_route(local_ses: LocalSES) -> None:
    """Each implemented operation's model path matches a spelled-out rule, not the catch-all."""
    from asyncses.local._call import OPERATIONS
    from asyncses.local._responses import ses_response_class
    from asyncses.local._server import SESV2_PATHS, make_app_factory
    from asyncses.local._state import ServerState

    model = botocore.session.get_session().get_service_model("sesv2")
    app = make_app_factory(ServerState())("sesv2")
    adapter = app.url_map.bind("localhost")
    implemented = ses_response_class().implemented_operations
    assert set(OPERATIONS) <= implemented
    assert len(OPERATIONS) >= 60
    for name in implemented:
        http = model.operation_model(name).http
        path = http["requestUri"].split("?")[0]
        for label in ("EmailIdentity", "ConfigurationSetName", "EventDestinationName"):
            path = path.replace("{" + label + "}", "sample")
        path = path.replace("{EmailAddress}", "a%40b.example").replace("{IP}", "10.0.0.1")
        for label in ("ContactListName", "TemplateName", "PoolName", "PolicyName", "JobId"):
            path = path.replace("{" + label + "}", "name-1")
        endpoint, _args = adapter.match(path, method=http["method"])
        index = int(endpoint.split(".")[1])
        assert index < len(SESV2_PATHS), f"{name} ({path}) falls through to the catch-all"


# -- organizations, STS and regions ----------------------------------------------------------


def _assume(ses: LocalSES, role_arn: str, session_name: str = "audit") -> dict[str, str]:
    """Credentials (boto3 keyword arguments) from AssumeRole against the endpoint."""
    sts = _client(ses, None, "sts")
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def test_organization_accounts_and_roles(ses: LocalSES, conformance: Conformance) -> None:
    """Members with the role, suspended ones, ones without the role; keys act as their account."""
    org = ses.create_organization(2, suspended=1, without_role=1)
    assert org.management_account == DEFAULT_ACCOUNT
    assert len(org.member_accounts) == 2
    accounts = _client(ses, None, "organizations").list_accounts()["Accounts"]
    status = {account["Id"]: account["Status"] for account in accounts}
    assert status[org.suspended_accounts[0]] == "SUSPENDED"
    assert {status[a] for a in [*org.member_accounts, *org.accounts_without_role]} == {"ACTIVE"}
    assert set(status) == {DEFAULT_ACCOUNT, *org.all_member_accounts}

    for index, account in enumerate([DEFAULT_ACCOUNT, *org.member_accounts]):
        ses.seed_identities(REGION, index + 1, prefix=f"acct{index}", account_id=account)
    for index, account in enumerate(org.member_accounts, start=1):
        member = _client(ses, conformance, credentials=_assume(ses, org.role_arn(account)))
        names = [e["IdentityName"] for e in member.list_email_identities()["EmailIdentities"]]
        assert len(names) == index + 1
        assert all(name.startswith(f"acct{index}-") for name in names)
    management = _client(ses, conformance).list_email_identities()["EmailIdentities"]
    assert [e["IdentityName"] for e in management] == ["acct0-00000.example.com"]

    sts = _client(ses, None, "sts")
    denied = org.role_arn(org.accounts_without_role[0])
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=denied, RoleSessionName="audit")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    own = org.role_arn(DEFAULT_ACCOUNT)
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=own, RoleSessionName="audit")
    _client(ses, None, "iam").create_role(RoleName=org.role_name, AssumeRolePolicyDocument=POLICY)
    assert sts.assume_role(RoleArn=own, RoleSessionName="audit")["Credentials"]["AccessKeyId"]
    assert ses.assume_role_calls[denied] == 1
    assert ses.assume_role_calls[own] == 2
    assert ses.assume_role_calls[org.role_arn(org.member_accounts[0])] == 1
    ses.reset()
    assert ses.assume_role_calls == {}
    assert ses.create_organization(1).member_accounts


def test_short_sts_credentials_are_refreshed(ses: LocalSES, conformance: Conformance) -> None:
    """sts_credential_lifetime sets Expiration; refreshable credentials then refresh per use."""
    org = ses.create_organization(1)
    role = org.role_arn(org.member_accounts[0])
    sts = _client(ses, None, "sts")
    default = sts.assume_role(RoleArn=role, RoleSessionName="audit")["Credentials"]["Expiration"]
    assert default - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=50)
    ses.sts_credential_lifetime = 60
    try:

        def fetch() -> dict[str, str]:
            found = sts.assume_role(RoleArn=role, RoleSessionName="audit")["Credentials"]
            return {
                "access_key": found["AccessKeyId"],
                "secret_key": found["SecretAccessKey"],
                "token": found["SessionToken"],
                "expiry_time": found["Expiration"].isoformat(),
            }

        first = fetch()
        lifetime = dt.datetime.fromisoformat(first["expiry_time"]) - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=50) < lifetime <= dt.timedelta(seconds=61)
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=first, refresh_using=fetch, method="sts-assume-role"
        )
        core = botocore.session.get_session()
        vars(core)["_credentials"] = credentials  # botocore has no public setter for these
        member = boto3.Session(botocore_session=core).client(
            "sesv2",
            endpoint_url=ses.url,
            region_name=REGION,
            config=Config(retries={"total_max_attempts": 1}),
        )
        member.meta.events.register("before-parse.sesv2.*", conformance)
        calls_before = ses.assume_role_calls[role]
        for _ in range(3):
            member.list_email_identities()
        assert ses.assume_role_calls[role] >= calls_before + 3
    finally:
        ses.sts_credential_lifetime = None


def test_disabled_region_refuses_ses_calls(ses: LocalSES, conformance: Conformance) -> None:
    """A disabled (account, region) answers 403 UnrecognizedClientException; others still work."""
    org = ses.create_organization(1)
    ses.disable_region(DEFAULT_ACCOUNT, "af-south-1")
    disabled = _client(ses, conformance, region="af-south-1")
    code, status, message = _error(disabled.list_email_identities)
    assert (code, status) == ("UnrecognizedClientException", 403)
    assert message == "The security token included in the request is invalid."
    assert _client(ses, conformance).list_email_identities()["EmailIdentities"] == []
    member = _client(
        ses,
        conformance,
        region="af-south-1",
        credentials=_assume(ses, org.role_arn(org.member_accounts[0])),
    )
    assert member.list_email_identities()["EmailIdentities"] == []
    ses.enable_region(DEFAULT_ACCOUNT, "af-south-1")
    assert disabled.list_email_identities()["EmailIdentities"] == []


# -- lifecycle -------------------------------------------------------------------------------


def test_reset_clears_moto_and_extra_state(ses: LocalSES, client: Any) -> None:
    """reset() empties identities, pools, IPs, jobs, suppressions, account settings, templates."""
    ses.seed_identities(REGION, 5)
    ses.seed_pools(REGION, 3)
    ses.seed_import_jobs(REGION, 3)
    ses.seed_suppressions(REGION, 10)
    ses.seed_configuration_sets(REGION, 2)
    ses.seed_custom_verification_templates(REGION, 2)
    ses.set_account(REGION, production_access=False)
    ses.reset()
    assert client.list_email_identities()["EmailIdentities"] == []
    assert client.get_dedicated_ips()["DedicatedIps"] == []
    assert client.list_import_jobs()["ImportJobs"] == []
    assert client.list_suppressed_destinations()["SuppressedDestinationSummaries"] == []
    assert client.list_configuration_sets()["ConfigurationSets"] == []
    assert (
        client.list_custom_verification_email_templates()["CustomVerificationEmailTemplates"] == []
    )
    assert client.get_account()["ProductionAccessEnabled"] is True


def test_start_errors(local_ses: LocalSES, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy port and a missing moto are RuntimeErrors from start(), not hangs."""
    with pytest.raises(RuntimeError, match="cannot bind"):
        LocalSES(port=local_ses.port).start()
    monkeypatch.setitem(sys.modules, "moto.server", None)
    with pytest.raises(RuntimeError, match=r"pip install 'asyncses\[demo\]'"):
        LocalSES().start()


_GLOBALS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import boto3

    import asyncses.local
    leaked = sorted(m for m in sys.modules if m == "moto" or m.startswith("moto."))

    import moto.backends, moto.backend_index
    import moto.sesv2.urls, moto.sesv2.responses, moto.sts.responses
    from moto.moto_server import werkzeug_app

    def snapshot():
        def ids(mapping):
            return {str(k): id(v) for k, v in mapping.items()}
        return {
            "SESV2Response": ids(vars(moto.sesv2.responses.SESV2Response)),
            "url_paths": ids(moto.sesv2.urls.url_paths),
            "list_of_moto_modules": id(moto.backends.list_of_moto_modules),
            "backends": ids(vars(moto.backends)),
            "TokenResponse": ids(vars(moto.sts.responses.TokenResponse)),
            "DomainDispatcherApplication": ids(vars(werkzeug_app.DomainDispatcherApplication)),
            "MotoRequestHandler": ids(vars(werkzeug_app.MotoRequestHandler)),
            "backend_url_patterns": len(moto.backend_index.backend_url_patterns),
        }

    before = snapshot()
    with asyncses.local.LocalSES() as ses:
        ses.seed_identities("us-east-1", 5)
        org = ses.create_organization(1)
        kw = dict(region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        client = boto3.client("sesv2", endpoint_url=ses.url, **kw)
        client.list_email_identities(PageSize=2)
        client.put_email_identity_dkim_signing_attributes(
            EmailIdentity="identity-00000.example.com", SigningAttributesOrigin="AWS_SES"
        )
        client.get_account()
        sts = boto3.client("sts", endpoint_url=ses.url, **kw)
        sts.assume_role(RoleArn=org.role_arn(org.member_accounts[0]), RoleSessionName="check")
        ses.reset()
    after = snapshot()
    changed = sorted(key for key in before if before[key] != after[key])
    print(json.dumps({"leaked": leaked, "changed": changed}))
    """
)


def test_no_global_moto_changes_and_lazy_import() -> None:
    """In a fresh process: importing imports no moto; start+use+stop changes no moto global."""
    result = subprocess.run(
        [sys.executable, "-c", _GLOBALS_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"leaked": [], "changed": []}


# -- standalone mode -------------------------------------------------------------------------


def _standalone(*args: str) -> subprocess.Popen[str]:
    """``python -m asyncses.local ARGS`` with pipes."""
    return subprocess.Popen(
        [sys.executable, "-m", "asyncses.local", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_standalone_serves_until_sigterm() -> None:
    """Seeds, prints exactly the URL line, serves real calls, exits 0 on SIGTERM."""
    process = _standalone(
        "--port", "0", "--identities", "30", "--pools", "2", "--import-jobs", "3",
        "--organization", "1",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "no URL line within 30 s"
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = boto3.client(
            "sesv2",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert len(client.list_email_identities(PageSize=1000)["EmailIdentities"]) == 30
        assert len(client.list_dedicated_ip_pools()["DedicatedIpPools"]) == 2
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout == ""


def test_standalone_port_in_use_and_help() -> None:
    """A busy port: one stderr line, nothing on stdout, exit 2; --help exits 0."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        process = _standalone("--port", str(busy.getsockname()[1]), "--identities", "1")
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert "cannot bind" in stderr
    helped = _standalone("--help")
    out, _err = helped.communicate(timeout=30)
    assert helped.returncode == 0
    assert "--organization" in out
