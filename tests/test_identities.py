"""The identity audit end to end against the local endpoint: library and command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto.sesv2.models import sesv2_backends

import asyncses
from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, no_problems, parse_ndjson, read_lines, read_ndjson, run_cli

OTHER_REGION = "eu-west-1"
#: A fixed pace far above what the local endpoint serves: no cautious start to wait for
#: (tests of pacing leave it out).
FAST = 2000.0
#: Every ListEmailIdentities page after the first (they carry a NextToken).
NEXT_PAGES = r"^GET /v2/email/identities\?.*NextToken="


def backend_identities(region: str = REGION) -> dict[str, Any]:
    """moto's identity objects, by name."""
    identities: dict[str, Any] = sesv2_backends[DEFAULT_ACCOUNT][
        region
    ].core_backend.email_identities
    return identities


async def audit(ses: LocalSES, **settings: Any) -> list[dict[str, Any]]:
    """Every record of a library identity audit against ``ses``."""
    list_only = settings.pop("list_only", False)
    settings.setdefault("regions", [REGION])
    settings.setdefault("endpoint_url", ses.url)
    settings.setdefault("rate", FAST)
    async with asyncses.Client(**settings) as client:
        return [dict(r) async for r in client.email_identities(list_only=list_only)]


def write_profiles(path: Path, *names: str) -> Path:
    """An AWS config file with one static-key profile per name (moto maps any key to
    :data:`DEFAULT_ACCOUNT`)."""
    path.write_text(
        "".join(
            f"[profile {name}]\naws_access_key_id = AKIAPROFILE{i:09d}\n"
            f"aws_secret_access_key = secret-of-{name}\nregion = {REGION}\n"
            for i, name in enumerate(names)
        )
    )
    return path


async def test_audit_over_several_pages_is_complete_and_exact(ses: LocalSES) -> None:
    """400 identities over 3 pages: each once, every state as the backend holds it."""
    names = ses.seed_identities(REGION, 400, seed=7)
    records = await audit(ses, concurrency=32, page_size=150)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None and r["type"] == "email_identity" for r in records)
    backend = backend_identities()
    for record in records:
        identity = backend[record["IdentityName"]]
        assert record["region"] == REGION
        assert "account" not in record  # one account, not asked for: the run does not look it up
        assert record["VerificationStatus"] == identity.verification_status
        assert record["VerifiedForSendingStatus"] == identity.verified_for_sending_status
        assert record["DkimAttributes"]["Status"] == identity.dkim_attributes["Status"]
        assert (
            record["DkimAttributes"]["SigningEnabled"] == identity.dkim_attributes["SigningEnabled"]
        )
        assert "ResponseMetadata" not in record
    statuses = {r["VerificationStatus"] for r in records}
    assert {"SUCCESS", "PENDING", "FAILED"} <= statuses
    assert {r["IdentityType"] for r in records} == {"DOMAIN", "EMAIL_ADDRESS"}


async def test_pages_are_listed_with_the_page_size(ses: LocalSES) -> None:
    """A page size of 7 over 30 identities takes 5 list calls and 30 lookups."""
    ses.seed_identities(REGION, 30)
    with FaultProxy(ses.url) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, page_size=7)
        paths = [entry.path for entry in proxy.stats.log]
    assert len(records) == 30
    lists = [p for p in paths if p.startswith("/v2/email/identities?")]
    assert len(lists) == 5
    assert all("PageSize=7" in p for p in lists)
    assert len(paths) - len(lists) == 30


async def test_list_only_makes_no_lookups(ses: LocalSES) -> None:
    """list_only costs one call per page and carries the list fields only."""
    names = ses.seed_identities(REGION, 1200)
    with FaultProxy(ses.url) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, list_only=True)
        requests = proxy.stats.requests
    assert requests == 2
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    backend = backend_identities()
    for record in records:
        assert set(record) == {
            "type",
            "region",
            "IdentityType",
            "IdentityName",
            "SendingEnabled",
            "VerificationStatus",
            "findings",
            "error",
        }
        assert record["VerificationStatus"] == backend[record["IdentityName"]].verification_status


async def test_identity_deleted_between_list_and_get_is_an_error_record(ses: LocalSES) -> None:
    """A NotFound lookup yields the list fields and an error; the rest of the audit goes on."""
    names = ses.seed_identities(REGION, 20)
    gone = names[3]

    def delete_before_lookup(account: str, region: str, params: dict[str, Any]) -> None:
        if params["EmailIdentity"] == gone:  # listed a moment ago, deleted before its lookup
            ses.delete_identity(region, gone, account_id=account)

    ses.before("GetEmailIdentity", delete_before_lookup)
    records = await audit(ses)
    by_name = {r["IdentityName"]: r for r in records}
    assert sorted(by_name) == sorted(names)
    error = by_name[gone]["error"]
    assert error["code"] == "NotFoundException"
    assert error["operation"] == "GetEmailIdentity"
    assert error["attempts"] == 1  # a 404 is not retried
    assert by_name[gone]["VerificationStatus"]  # the list fields are kept
    assert "DkimAttributes" not in by_name[gone]
    assert sum(r["error"] is not None for r in records) == 1
    assert gone not in backend_identities()


async def test_lookup_failing_for_good_records_the_attempts(ses: LocalSES) -> None:
    """A lookup answered 500 every time becomes an error record after max_attempts tries."""
    names = ses.seed_identities(REGION, 10)
    bad = names[0]
    faults = Faults(error=1.0, match=f"GET /v2/email/identities/{bad}")
    with FaultProxy(ses.url, faults) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, max_attempts=3)
        errors = proxy.stats.errors
    by_name = {r["IdentityName"]: r for r in records}
    assert by_name[bad]["error"] == {
        "code": "InternalFailure",
        "message": "injected",
        "operation": "GetEmailIdentity",
        "attempts": 3,
    }
    assert errors == 3
    assert all(by_name[n]["error"] is None for n in names[1:])


async def test_listing_that_stops_part_way_ends_with_a_listing_record(ses: LocalSES) -> None:
    """A second page failing for good: the first page's records, then one ``listing`` record."""
    names = ses.seed_identities(REGION, 12)
    with FaultProxy(ses.url, Faults(error=1.0, match=NEXT_PAGES)) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, page_size=5, max_attempts=2)
    *items, last = records
    assert sorted(r["IdentityName"] for r in items) == sorted(names[:5])
    assert all(r["type"] == "email_identity" and r["error"] is None for r in items)
    assert last == {
        "type": "listing",
        "region": REGION,
        "operation": "ListEmailIdentities",
        "error": {
            "code": "InternalFailure",
            "message": "injected",
            "operation": "ListEmailIdentities",
            "attempts": 2,
        },
    }


async def test_region_refusing_the_credentials_is_one_account_record(ses: LocalSES) -> None:
    """A region that refuses the credentials gives one ``account`` record; the others go on."""
    names = ses.seed_identities(REGION, 4)
    ses.seed_identities(OTHER_REGION, 3)
    ses.disable_region(DEFAULT_ACCOUNT, OTHER_REGION)
    records = await audit(ses, regions=[REGION, OTHER_REGION])
    refused = [r for r in records if r["type"] == "account"]
    assert refused == [
        {
            "type": "account",
            "region": OTHER_REGION,
            "error": {
                "code": "UnrecognizedClientException",
                "message": "The security token included in the request is invalid.",
                "operation": "ListEmailIdentities",
                "attempts": 1,
            },
        }
    ]
    audited = [r for r in records if r["type"] == "email_identity"]
    assert sorted(r["IdentityName"] for r in audited) == sorted(names)
    assert {r["region"] for r in audited} == {REGION}


async def test_datetimes_are_iso_8601_utc(ses: LocalSES) -> None:
    """Timestamps in answers come out as ISO 8601 strings in UTC."""
    ses.seed_import_jobs(REGION, 3)
    async with asyncses.Client(regions=[REGION], endpoint_url=ses.url) as client:
        jobs = no_problems([r async for r in client.import_jobs()])
    stamps = [str(job["CreatedTimestamp"]) for job in jobs]
    assert len(stamps) == 3
    assert all(s.endswith("Z") and "T" in s for s in stamps)


def test_cli_writes_file_between_run_lines_and_exits_0(ses: LocalSES, tmp_path: Path) -> None:
    """-o gets a run header, one record per identity and an end line; stdout stays empty."""
    names = ses.seed_identities(REGION, 30)
    out = tmp_path / "identities.ndjson"
    # At the default, adaptive pace.
    result = run_cli("identities", "--endpoint-url", ses.url, "--region", REGION, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = read_lines(out)
    header, end = lines[0], lines[-1]
    assert header["type"] == "run"
    assert header["record_type"] == "email_identity"
    assert header["options"] == {"list_only": False}
    assert header["regions"] == [REGION]
    assert header["endpoint"] == ses.url
    assert end["type"] == "run_end"
    assert (end["records"], end["errors"]) == (30, 0)
    records = read_ndjson(out)
    assert len(records) == len(lines) - 2
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert "30 records, 0 errors" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["identities.ndjson"]  # no partial


def test_cli_stdout_mode(ses: LocalSES) -> None:
    """Without -o the report goes to stdout, header and end line included; logs stay off it."""
    names = ses.seed_identities(REGION, 40)
    result = run_cli("identities", "--endpoint-url", ses.url, "--list-only")
    assert result.returncode == 0, result.stderr
    records = parse_ndjson(result.stdout)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    lines = result.stdout.splitlines()
    assert len(lines) == 42
    assert '"type":"run"' in lines[0] and '"list_only":true' in lines[0]
    assert lines[-1].startswith('{"type":"run_end","records":40,"errors":0')
    assert "40 records" in result.stderr


def test_cli_exit_1_when_the_report_holds_errors(ses: LocalSES, tmp_path: Path) -> None:
    """Error records still make a full report, and the exit code says 1."""
    names = ses.seed_identities(REGION, 5)
    out = tmp_path / "r.ndjson"
    faults = Faults(error=1.0, match=f"GET /v2/email/identities/{names[2]}")
    with FaultProxy(ses.url, faults) as proxy:
        result = run_cli(
            "identities",
            "--endpoint-url",
            proxy.url,
            "--max-attempts",
            "2",
            "--rate",
            str(FAST),
            "-o",
            str(out),
        )
    assert result.returncode == 1, result.stderr
    records = read_ndjson(out)
    assert len(records) == 5
    assert [r["IdentityName"] for r in records if r["error"]] == [names[2]]
    assert read_lines(out)[-1]["errors"] == 1


def test_cli_region_refusing_credentials_exits_1(ses: LocalSES, tmp_path: Path) -> None:
    """One region refusing the credentials beside one audited: a full report, exit 1."""
    names = ses.seed_identities(REGION, 3)
    ses.disable_region(DEFAULT_ACCOUNT, OTHER_REGION)
    out = tmp_path / "r.ndjson"
    region = f"{REGION},{OTHER_REGION}"
    result = run_cli("identities", "--endpoint-url", ses.url, "--region", region, "-o", str(out))
    assert result.returncode == 1, result.stderr
    records = read_ndjson(out)
    assert [r["region"] for r in records if r["type"] == "account"] == [OTHER_REGION]
    assert sorted(r["IdentityName"] for r in records if r["type"] == "email_identity") == sorted(
        names
    )


def test_cli_credentials_refused_everywhere_exits_2(ses: LocalSES, tmp_path: Path) -> None:
    """Nothing audited and every unit refused the credentials: exit 2, one line, no report."""
    ses.disable_region(DEFAULT_ACCOUNT, OTHER_REGION)
    out = tmp_path / "r.ndjson"
    result = run_cli(
        "identities", "--endpoint-url", ses.url, "--region", OTHER_REGION, "-o", str(out)
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert lines == [
        "asyncses: error: ListEmailIdentities: UnrecognizedClientException: "
        "The security token included in the request is invalid."
    ]
    assert list(tmp_path.iterdir()) == []  # neither a report nor a partial file


def test_cli_profiles_of_one_account_are_audited_once(
    ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--profile a --profile b`` of the same account: one audit, a warning naming both."""
    names = ses.seed_identities(REGION, 5)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(write_profiles(tmp_path / "config", "a", "b")))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", ses.url)
    result = run_cli(
        "identities", "--endpoint-url", ses.url, "--profile", "a", "--profile", "b", "--list-only"
    )
    assert result.returncode == 0, result.stderr
    assert (
        "asyncses: warning: profiles 'a' and 'b' are the same account; audited once"
        in result.stderr.splitlines()
    )
    records = parse_ndjson(result.stdout)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)  # each once
    assert {r["account"] for r in records} == {DEFAULT_ACCOUNT}
    assert ses.operation_calls["ListEmailIdentities"] == 1


async def test_library_profiles_of_one_account_are_audited_once(
    ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client names the duplicate pair, audits the account once and says so in the log."""
    names = ses.seed_identities(REGION, 3)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(write_profiles(tmp_path / "config", "a", "b")))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", ses.url)
    async with asyncses.Client(
        profiles=["a", "b"], regions=[REGION], endpoint_url=ses.url
    ) as client:
        records = no_problems([r async for r in client.email_identities(list_only=True)])
        assert client.duplicates == [("a", "b")]
        assert client.accounts == [DEFAULT_ACCOUNT]
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r.get("account") == DEFAULT_ACCOUNT for r in records)


def test_cli_honours_aws_endpoint_url_sesv2(ses: LocalSES, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_ENDPOINT_URL_SESV2 and AWS_REGION from the environment are used."""
    names = ses.seed_identities(OTHER_REGION, 3)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
    monkeypatch.setenv("AWS_REGION", OTHER_REGION)
    result = run_cli("identities", "--list-only")
    assert result.returncode == 0, result.stderr
    records = parse_ndjson(result.stdout)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert {r["region"] for r in records} == {OTHER_REGION}


def test_demo_runs_the_audits_and_prints_a_summary() -> None:
    """`asyncses demo` starts its own endpoint, audits it and prints readable counts."""
    result = run_cli("demo", "--identities", "40")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "40 identities" in out
    assert "identities.ndjson: 40 records, 0 errors" in out
    assert "(40 records written)" in out
    assert "VerificationStatus" in out and "ScalingMode" in out and "JobStatus" in out
    assert "MANAGED" in out and "STANDARD" in out


def test_python_m_and_console_script_agree() -> None:
    """`python -m asyncses --version` answers like the installed console script would."""
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"asyncses {asyncses.__version__}"
