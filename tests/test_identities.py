"""The identity audit end to end against the moto endpoint: library and command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto.sesv2.models import sesv2_backends

import asyncses
from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, parse_ndjson, read_ndjson, run_cli


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
    async with asyncses.Client(**settings) as client:
        return [dict(r) async for r in client.email_identities(list_only=list_only)]


async def test_audit_of_thousands_over_several_pages_is_complete_and_exact(ses: LocalSES) -> None:
    """2,500 identities over 3 pages: each once, every state as the backend holds it."""
    names = ses.seed_identities(REGION, 2500, seed=7)
    records = await audit(ses, concurrency=32)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None and r["type"] == "email_identity" for r in records)
    backend = backend_identities()
    for record in records:
        identity = backend[record["IdentityName"]]
        assert record["region"] == REGION
        assert record["VerificationStatus"] == identity.verification_status
        assert record["VerifiedForSendingStatus"] == identity.verified_for_sending_status
        assert record["DkimAttributes"]["Status"] == identity.dkim_attributes["Status"]
        assert (
            record["DkimAttributes"]["SigningEnabled"]
            == (identity.dkim_attributes["SigningEnabled"])
        )
        assert "ResponseMetadata" not in record
    statuses = {r["VerificationStatus"] for r in records}
    assert {"SUCCESS", "PENDING", "FAILED"} <= statuses


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
    """--list-only costs one call per page and carries the list fields only."""
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


async def test_identity_deleted_between_list_and_get_is_an_error_record(
    ses: LocalSES, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NotFound lookup yields the list fields and an error; the rest of the audit goes on."""
    names = ses.seed_identities(REGION, 20)
    gone = names[3]
    backend = sesv2_backends[DEFAULT_ACCOUNT][REGION]
    real_get = backend.get_email_identity

    def get_after_delete(email_identity: str) -> Any:
        if email_identity == gone:  # listed a moment ago, deleted before its lookup
            ses.delete_identity(REGION, email_identity)
        return real_get(email_identity)

    monkeypatch.setattr(backend, "get_email_identity", get_after_delete)
    records = await audit(ses)
    by_name = {r["IdentityName"]: r for r in records}
    assert sorted(by_name) == sorted(names)
    error = by_name[gone]["error"]
    assert error["code"] == "NotFoundException"
    assert error["operation"] == "GetEmailIdentity"
    assert error["attempts"] == 1  # a 404 is not retried
    assert by_name[gone]["VerificationStatus"]  # the list fields are kept
    assert sum(r["error"] is not None for r in records) == 1


async def test_lookup_failing_for_good_records_the_attempts(ses: LocalSES) -> None:
    """A lookup answered 500 every time becomes an error record after max_attempts tries."""
    names = ses.seed_identities(REGION, 10)
    bad = names[0]
    faults = Faults(error=1.0, match=f"GET /v2/email/identities/{bad}")
    with FaultProxy(ses.url, faults) as proxy:
        records = await audit(ses, endpoint_url=proxy.url, max_attempts=3)
    by_name = {r["IdentityName"]: r for r in records}
    assert by_name[bad]["error"] == {
        "code": "InternalFailure",
        "message": "injected",
        "operation": "GetEmailIdentity",
        "attempts": 3,
    }
    assert all(by_name[n]["error"] is None for n in names[1:])


async def test_datetimes_are_iso_8601_utc(ses: LocalSES) -> None:
    """Timestamps in answers come out as ISO 8601 strings in UTC."""
    ses.seed_import_jobs(REGION, 3)
    async with asyncses.Client(regions=[REGION], endpoint_url=ses.url) as client:
        jobs = [r async for r in client.import_jobs()]
    stamps = [str(job["CreatedTimestamp"]) for job in jobs]
    assert len(stamps) == 3
    assert all(s.endswith("Z") and "T" in s for s in stamps)


def test_cli_writes_file_and_exits_0(ses: LocalSES, tmp_path: Path) -> None:
    """The command writes one record per identity to -o and exits 0, stdout left empty."""
    names = ses.seed_identities(REGION, 150)
    out = tmp_path / "identities.ndjson"
    result = run_cli("identities", "--endpoint-url", ses.url, "--region", REGION, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    records = read_ndjson(out)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert "150 records, 0 errors" in result.stderr


def test_cli_stdout_mode(ses: LocalSES) -> None:
    """Without -o the records go to stdout, one JSON object per line; logs stay on stderr."""
    names = ses.seed_identities(REGION, 40)
    result = run_cli("identities", "--endpoint-url", ses.url, "--list-only")
    assert result.returncode == 0, result.stderr
    records = parse_ndjson(result.stdout)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert "records" not in result.stdout.splitlines()[-1] or result.stdout.endswith("}\n")


def test_cli_exit_1_when_the_report_holds_errors(ses: LocalSES, tmp_path: Path) -> None:
    """Error records still make a full report, and the exit code says 1."""
    names = ses.seed_identities(REGION, 5)
    out = tmp_path / "r.ndjson"
    faults = Faults(error=1.0, match=f"GET /v2/email/identities/{names[2]}")
    with FaultProxy(ses.url, faults) as proxy:
        result = run_cli(
            "identities", "--endpoint-url", proxy.url, "--max-attempts", "2", "-o", str(out)
        )
    assert result.returncode == 1, result.stderr
    records = read_ndjson(out)
    assert len(records) == 5
    assert [r["IdentityName"] for r in records if r["error"]] == [names[2]]


def test_cli_honours_aws_endpoint_url_sesv2(ses: LocalSES, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_ENDPOINT_URL_SESV2 and AWS_REGION from the environment are used."""
    names = ses.seed_identities("eu-west-1", 3)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.url)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    result = run_cli("identities", "--list-only")
    assert result.returncode == 0, result.stderr
    records = parse_ndjson(result.stdout)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert {r["region"] for r in records} == {"eu-west-1"}


def test_demo_runs_the_audits_and_prints_a_summary() -> None:
    """`asyncses demo` starts its own endpoint, audits it and prints readable counts."""
    result = run_cli("demo", "--identities", "120")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "120 identities" in out
    assert "identities.ndjson: 120 records, 0 errors" in out
    assert "VerificationStatus" in out and "ScalingMode" in out and "JobStatus" in out
    assert "MANAGED" in out and "STANDARD" in out


def test_python_m_and_console_script_agree() -> None:
    """`python -m asyncses --version` answers like the installed console script would."""
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"asyncses {asyncses.__version__}"
