"""Tests for the embedded local SES v2 endpoint (asyncses._endpoint), over real HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]  # no boto3 stubs in the test extra
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from asyncses._endpoint import DEFAULT_ACCOUNT, LocalSES, install_moto_fixes

REGION = "us-east-1"


@pytest.fixture(scope="module")
def _server() -> Iterator[LocalSES]:
    """One embedded endpoint for the whole module."""
    with LocalSES() as ses:
        yield ses


@pytest.fixture
def ses(_server: LocalSES, monkeypatch: pytest.MonkeyPatch) -> LocalSES:
    """The module's endpoint, reset to empty, with fake credentials in the environment."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/asyncses-test-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/asyncses-test-creds")
    _server.reset()
    return _server


@pytest.fixture
def client(ses: LocalSES) -> Any:
    """A boto3 sesv2 client pointed at the endpoint, with retries off."""
    return boto3.client(
        "sesv2",
        endpoint_url=ses.url,
        region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _pages(call: Any, key: str, **kwargs: Any) -> list[list[Any]]:
    """Follow NextToken and return every page's ``key`` list."""
    pages: list[list[Any]] = []
    token = None
    while True:
        answer = call(**kwargs, **({"NextToken": token} if token else {}))
        pages.append(answer[key])
        token = answer.get("NextToken")
        if not token:
            return pages


def test_list_email_identities_paginates_with_page_size(ses: LocalSES, client: Any) -> None:
    """ListEmailIdentities honours PageSize: 2,500 identities -> 3 pages, each once, in order."""
    names = ses.seed_identities(REGION, 2500)
    pages = _pages(client.list_email_identities, "EmailIdentities", PageSize=1000)
    assert [len(page) for page in pages] == [1000, 1000, 500]
    assert [entry["IdentityName"] for page in pages for entry in page] == names


def test_list_email_identities_without_page_size(ses: LocalSES, client: Any) -> None:
    """ListEmailIdentities without PageSize still works (moto's default page of 100)."""
    ses.seed_identities(REGION, 150)
    pages = _pages(client.list_email_identities, "EmailIdentities")
    assert [len(page) for page in pages] == [100, 50]


def test_list_dedicated_ip_pools_paginates_with_page_size(ses: LocalSES, client: Any) -> None:
    """ListDedicatedIpPools honours PageSize and NextToken."""
    names = ses.seed_pools(REGION, 7)
    pages = _pages(client.list_dedicated_ip_pools, "DedicatedIpPools", PageSize=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [name for page in pages for name in page] == names


def test_seeded_pools_have_both_scaling_modes(ses: LocalSES, client: Any) -> None:
    """seed_pools makes every 3rd pool MANAGED, the rest STANDARD."""
    names = ses.seed_pools(REGION, 6)
    modes = [
        client.get_dedicated_ip_pool(PoolName=name)["DedicatedIpPool"]["ScalingMode"]
        for name in names
    ]
    assert modes == ["STANDARD", "STANDARD", "MANAGED"] * 2


def test_duplicate_dedicated_ip_pool_is_rejected(ses: LocalSES, client: Any) -> None:
    """A second CreateDedicatedIpPool with the same name raises AlreadyExistsException (400)."""
    client.create_dedicated_ip_pool(PoolName="marketing")
    with pytest.raises(ClientError) as caught:
        client.create_dedicated_ip_pool(PoolName="marketing", ScalingMode="MANAGED")
    assert caught.value.response["Error"]["Code"] == "AlreadyExistsException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    pool = client.get_dedicated_ip_pool(PoolName="marketing")["DedicatedIpPool"]
    assert pool["ScalingMode"] == "STANDARD"


def test_get_dedicated_ips_paginates_and_filters_by_pool(ses: LocalSES, client: Any) -> None:
    """GetDedicatedIps pages with PageSize/NextToken and filters by PoolName."""
    ses.seed_pools(REGION, 6, ips_per_pool=3)  # 4 STANDARD pools x 3 IPs; MANAGED pools none
    pages = _pages(client.get_dedicated_ips, "DedicatedIps", PageSize=5)
    assert [len(page) for page in pages] == [5, 5, 2]
    ips = [ip for page in pages for ip in page]
    assert len({ip["Ip"] for ip in ips}) == 12
    assert {ip["WarmupStatus"] for ip in ips} == {"DONE", "IN_PROGRESS", "NOT_APPLICABLE"}
    for ip in ips:
        assert set(ip) == {"Ip", "WarmupStatus", "WarmupPercentage", "PoolName"}
        if ip["WarmupStatus"] == "DONE":
            assert ip["WarmupPercentage"] == 100
    pool_ips = client.get_dedicated_ips(PoolName="pool-001")["DedicatedIps"]
    assert [ip["PoolName"] for ip in pool_ips] == ["pool-001"] * 3
    assert client.get_dedicated_ips(PoolName="pool-002")["DedicatedIps"] == []
    single = client.get_dedicated_ip(Ip=pool_ips[0]["Ip"])["DedicatedIp"]
    assert single == pool_ips[0]


def test_get_dedicated_ips_unknown_pool_is_not_found(ses: LocalSES, client: Any) -> None:
    """GetDedicatedIps for a pool that does not exist raises NotFoundException (404)."""
    with pytest.raises(ClientError) as caught:
        client.get_dedicated_ips(PoolName="nope")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_import_jobs_filters_and_paginates(ses: LocalSES, client: Any) -> None:
    """ListImportJobs filters by ImportDestinationType and pages with PageSize/NextToken."""
    job_ids = ses.seed_import_jobs(REGION, 25)
    everything = _pages(client.list_import_jobs, "ImportJobs", PageSize=10)
    assert [len(page) for page in everything] == [10, 10, 5]
    assert [job["JobId"] for page in everything for job in page] == job_ids
    suppression = _pages(
        client.list_import_jobs, "ImportJobs", ImportDestinationType="SUPPRESSION_LIST", PageSize=4
    )
    assert [len(page) for page in suppression] == [4, 4, 4, 1]
    jobs = [job for page in suppression for job in page]
    assert [job["JobId"] for job in jobs] == job_ids[0::2]
    assert all("SuppressionListDestination" in job["ImportDestination"] for job in jobs)
    assert {job["JobStatus"] for job in jobs} == {
        "CREATED",
        "PROCESSING",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
    }
    for job in jobs:
        assert set(job) == {
            "JobId",
            "ImportDestination",
            "JobStatus",
            "CreatedTimestamp",
            "ProcessedRecordsCount",
            "FailedRecordsCount",
        }
    contact = client.list_import_jobs(ImportDestinationType="CONTACT_LIST")["ImportJobs"]
    assert [job["JobId"] for job in contact] == job_ids[1::2]
    assert all("ContactListDestination" in job["ImportDestination"] for job in contact)


def test_get_import_job_of_failed_job(ses: LocalSES, client: Any) -> None:
    """GetImportJob of a FAILED job returns FailureInfo, ImportDataSource and both timestamps."""
    job_ids = ses.seed_import_jobs(REGION, 10)
    listed = client.list_import_jobs()["ImportJobs"]
    failed_id = next(job["JobId"] for job in listed if job["JobStatus"] == "FAILED")
    assert failed_id in job_ids
    job = client.get_import_job(JobId=failed_id)
    assert job["JobStatus"] == "FAILED"
    assert set(job["FailureInfo"]) == {"FailedRecordsS3Url", "ErrorMessage"}
    assert job["ImportDataSource"]["S3Url"].startswith("s3://")
    assert job["ImportDataSource"]["DataFormat"] in ("CSV", "JSON")
    assert job["CompletedTimestamp"] >= job["CreatedTimestamp"]
    assert job["FailedRecordsCount"] > 0
    created = next(job["JobId"] for job in listed if job["JobStatus"] == "CREATED")
    unfinished = client.get_import_job(JobId=created)
    assert "CompletedTimestamp" not in unfinished
    assert "FailureInfo" not in unfinished


def test_get_import_job_unknown_is_not_found(ses: LocalSES, client: Any) -> None:
    """GetImportJob of an unknown JobId raises NotFoundException (404)."""
    with pytest.raises(ClientError) as caught:
        client.get_import_job(JobId="00000000-0000-4000-8000-000000000000")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_create_import_job_round_trip(ses: LocalSES, client: Any) -> None:
    """CreateImportJob stores a CREATED job that GetImportJob and ListImportJobs return."""
    job_id = client.create_import_job(
        ImportDestination={
            "ContactListDestination": {
                "ContactListName": "newsletter",
                "ContactListImportAction": "PUT",
            }
        },
        ImportDataSource={"S3Url": "s3://bucket/contacts.csv", "DataFormat": "CSV"},
    )["JobId"]
    job = client.get_import_job(JobId=job_id)
    assert job["JobStatus"] == "CREATED"
    assert job["ImportDestination"]["ContactListDestination"]["ContactListName"] == "newsletter"
    assert job["ImportDataSource"] == {"S3Url": "s3://bucket/contacts.csv", "DataFormat": "CSV"}
    listed = client.list_import_jobs(ImportDestinationType="CONTACT_LIST")["ImportJobs"]
    assert [j["JobId"] for j in listed] == [job_id]


def test_set_identity_is_visible_in_get_email_identity(ses: LocalSES, client: Any) -> None:
    """set_identity states show up in GetEmailIdentity (verification, DKIM, MAIL FROM, policies)."""
    ses.set_identity(
        REGION,
        "example.org",
        verification_status="TEMPORARY_FAILURE",
        dkim_status="FAILED",
        dkim_signing_enabled=False,
        sending_enabled=False,
        mail_from_domain="bounce.example.org",
        mail_from_status="PENDING",
        policies={"p1": '{"Version": "2012-10-17", "Statement": []}'},
    )
    identity = client.get_email_identity(EmailIdentity="example.org")
    assert identity["IdentityType"] == "DOMAIN"
    assert identity["VerificationStatus"] == "TEMPORARY_FAILURE"
    assert identity["VerifiedForSendingStatus"] is False
    dkim = identity["DkimAttributes"]
    assert dkim["Status"] == "FAILED"
    assert dkim["SigningEnabled"] is False
    assert len(dkim["Tokens"]) == 3
    assert dkim["SigningAttributesOrigin"] == "AWS_SES"
    assert identity["MailFromAttributes"] == {
        "MailFromDomain": "bounce.example.org",
        "MailFromDomainStatus": "PENDING",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    assert identity["Policies"] == {"p1": '{"Version": "2012-10-17", "Statement": []}'}
    assert identity["Tags"] == []
    [entry] = client.list_email_identities()["EmailIdentities"]
    assert entry == {
        "IdentityType": "DOMAIN",
        "IdentityName": "example.org",
        "SendingEnabled": False,
        "VerificationStatus": "TEMPORARY_FAILURE",
    }

    ses.set_identity(REGION, "example.org", verification_status="SUCCESS", mail_from_domain="")
    identity = client.get_email_identity(EmailIdentity="example.org")
    assert identity["VerifiedForSendingStatus"] is True
    assert "MailFromAttributes" not in identity


def test_email_address_identity_and_delete(ses: LocalSES, client: Any) -> None:
    """An address identity (URL-encoded '@') is readable, and delete_identity removes it."""
    ses.set_identity(REGION, "ops@example.org", verification_status="PENDING")
    identity = client.get_email_identity(EmailIdentity="ops@example.org")
    assert identity["IdentityType"] == "EMAIL_ADDRESS"
    assert identity["VerificationStatus"] == "PENDING"
    ses.delete_identity(REGION, "ops@example.org")
    with pytest.raises(ClientError) as caught:
        client.get_email_identity(EmailIdentity="ops@example.org")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_seeded_identity_states_are_varied_and_consistent(ses: LocalSES, client: Any) -> None:
    """seed_identities mixes types and states; list and get agree with the seeded state."""
    names = ses.seed_identities(REGION, 400, seed=7)
    entries = [e for page in _pages(client.list_email_identities, "EmailIdentities") for e in page]
    assert [e["IdentityName"] for e in entries] == names
    assert {e["IdentityType"] for e in entries} == {"DOMAIN", "EMAIL_ADDRESS"}
    statuses = [e["VerificationStatus"] for e in entries]
    assert set(statuses) == {"SUCCESS", "PENDING", "FAILED", "TEMPORARY_FAILURE", "NOT_STARTED"}
    assert statuses.count("SUCCESS") > len(statuses) // 2
    assert {e["SendingEnabled"] for e in entries} == {True, False}

    dkim_statuses: set[str] = set()
    signing: set[bool] = set()
    mail_from_statuses: set[str] = set()
    for entry in entries[:120]:
        identity = client.get_email_identity(EmailIdentity=entry["IdentityName"])
        assert identity["VerificationStatus"] == entry["VerificationStatus"]
        assert identity["VerifiedForSendingStatus"] is (entry["VerificationStatus"] == "SUCCESS")
        dkim_statuses.add(identity["DkimAttributes"]["Status"])
        signing.add(identity["DkimAttributes"]["SigningEnabled"])
        if "MailFromAttributes" in identity:
            attrs = identity["MailFromAttributes"]
            assert attrs["MailFromDomain"] == f"mail.{entry['IdentityName']}"
            mail_from_statuses.add(attrs["MailFromDomainStatus"])
    assert len(dkim_statuses) >= 3
    assert signing == {True, False}
    assert len(mail_from_statuses) >= 2


def test_seeding_is_deterministic(ses: LocalSES, client: Any) -> None:
    """The same seed gives the same states; a different seed gives different ones."""

    def states(seed: int) -> list[tuple[str, bool]]:
        ses.reset()
        ses.seed_identities(REGION, 200, seed=seed)
        entries = client.list_email_identities(PageSize=200)["EmailIdentities"]
        return [(e["VerificationStatus"], e["SendingEnabled"]) for e in entries]

    assert states(1) == states(1)
    assert states(1) != states(2)


def test_put_email_identity_mail_from_attributes(ses: LocalSES, client: Any) -> None:
    """PutEmailIdentityMailFromAttributes is routed and reflected by GetEmailIdentity."""
    client.create_email_identity(EmailIdentity="example.net")
    client.put_email_identity_mail_from_attributes(
        EmailIdentity="example.net",
        MailFromDomain="mail.example.net",
        BehaviorOnMxFailure="REJECT_MESSAGE",
    )
    attrs = client.get_email_identity(EmailIdentity="example.net")["MailFromAttributes"]
    assert attrs["MailFromDomain"] == "mail.example.net"
    assert attrs["BehaviorOnMxFailure"] == "REJECT_MESSAGE"
    with pytest.raises(ClientError) as caught:
        client.put_email_identity_mail_from_attributes(
            EmailIdentity="unknown.example", MailFromDomain="mail.unknown.example"
        )
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_reset_clears_all_state(ses: LocalSES, client: Any) -> None:
    """reset() clears identities, pools, dedicated IPs and import jobs; seeding works after it."""
    ses.seed_identities(REGION, 10)
    ses.seed_pools(REGION, 3)
    job_id = ses.seed_import_jobs(REGION, 5)[0]
    ses.reset()
    assert client.list_email_identities()["EmailIdentities"] == []
    assert client.list_dedicated_ip_pools()["DedicatedIpPools"] == []
    assert client.get_dedicated_ips()["DedicatedIps"] == []
    assert client.list_import_jobs()["ImportJobs"] == []
    with pytest.raises(ClientError):
        client.get_import_job(JobId=job_id)
    assert ses.seed_identities(REGION, 3, account_id=DEFAULT_ACCOUNT)
    assert len(client.list_email_identities()["EmailIdentities"]) == 3


def test_answers_have_one_server_header_and_json_type(ses: LocalSES, client: Any) -> None:
    """Answers carry a single Server header and Content-Type application/json."""
    headers = client.list_email_identities()["ResponseMetadata"]["HTTPHeaders"]
    assert headers["server"] == "amazon.com"
    assert headers["content-type"] == "application/json"


def test_moto_module_list_is_cached(ses: LocalSES) -> None:
    """install_moto_fixes is idempotent and caches moto.backends.list_of_moto_modules."""
    import moto.backends

    install_moto_fixes()
    first = moto.backends.list_of_moto_modules()
    assert first is moto.backends.list_of_moto_modules()
    assert "sesv2" in first


def test_missing_moto_raises_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without moto, install_moto_fixes and LocalSES.start raise the install hint."""
    monkeypatch.setitem(sys.modules, "moto", None)
    with pytest.raises(RuntimeError, match=r"pip install 'asyncses\[demo\]'"):
        install_moto_fixes()
    with pytest.raises(RuntimeError, match="needs moto"):
        LocalSES().start()


def test_start_on_busy_port_raises(_server: LocalSES) -> None:
    """LocalSES.start on a port already in use raises RuntimeError instead of hanging."""
    with pytest.raises(RuntimeError, match="cannot bind"):
        LocalSES(port=_server.port).start()
