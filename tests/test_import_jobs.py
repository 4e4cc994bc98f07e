"""The import job report against the moto endpoint: library and command line."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from moto.sesv2.models import sesv2_backends

import asyncses
from asyncses.local import DEFAULT_ACCOUNT, LocalSES
from asyncses.local._state import extras_of

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, parse_ndjson, run_cli

LIST_FIELDS = {
    "type",
    "region",
    "JobId",
    "ImportDestination",
    "JobStatus",
    "CreatedTimestamp",
    "ProcessedRecordsCount",
    "FailedRecordsCount",
    "error",
}
#: A fixed pace far above what the local endpoint serves: no cautious start to wait for.
FAST = 2000.0
#: GetImportJob (ListImportJobs is ``POST /v2/email/import-jobs/list``).
GET_JOB = r"^GET /v2/email/import-jobs/"


def backend_jobs(region: str = REGION) -> dict[str, Any]:
    """The import jobs the backend holds, by JobId."""
    jobs: dict[str, Any] = extras_of(sesv2_backends[DEFAULT_ACCOUNT][region]).import_jobs
    return jobs


def epoch(timestamp: str) -> float:
    """An ISO 8601 ``...Z`` record timestamp as seconds since the epoch."""
    assert timestamp.endswith("Z")
    return dt.datetime.fromisoformat(timestamp).timestamp()


def assert_matches_summary(record: dict[str, Any], job: Any) -> None:
    """The ListImportJobs fields of ``record`` are those of the backend's ``job``."""
    assert record["type"] == "import_job"
    assert record["region"] == REGION
    assert record["ImportDestination"] == job.destination
    assert record["JobStatus"] == job.status
    assert record["ProcessedRecordsCount"] == job.processed
    assert record["FailedRecordsCount"] == job.failed
    assert epoch(record["CreatedTimestamp"]) == pytest.approx(job.created, abs=1e-3)
    assert record["error"] is None


async def report(ses: LocalSES, **options: Any) -> list[dict[str, Any]]:
    """Every record of a library import job report against ``ses``."""
    settings = {
        "regions": [REGION],
        "endpoint_url": options.pop("endpoint_url", ses.url),
        "page_size": options.pop("page_size", 1000),
        "max_attempts": options.pop("max_attempts", 8),
        "concurrency": options.pop("concurrency", 32),
        "rate": FAST,
    }
    async with asyncses.Client(**settings) as client:
        return [dict(r) async for r in client.import_jobs(**options)]


async def test_jobs_over_several_pages_carry_the_list_fields(ses: LocalSES) -> None:
    """13 jobs over 3 pages of 5: each job once, with exactly the ListImportJobs fields."""
    job_ids = ses.seed_import_jobs(REGION, 13)
    with FaultProxy(ses.url) as proxy:
        records = await report(ses, endpoint_url=proxy.url, page_size=5)
        log = list(proxy.stats.log)
    assert sorted(r["JobId"] for r in records) == sorted(job_ids)
    jobs = backend_jobs()
    for record in records:
        assert set(record) == LIST_FIELDS
        assert_matches_summary(record, jobs[record["JobId"]])
    assert {(e.method, e.path) for e in log} == {("POST", "/v2/email/import-jobs/list")}
    assert len(log) == 3


@pytest.mark.parametrize("destination_type", ["SUPPRESSION_LIST", "CONTACT_LIST"])
async def test_destination_filter_keeps_only_that_destination(
    ses: LocalSES, destination_type: str
) -> None:
    """The destination filter returns exactly the backend's jobs of that destination type."""
    ses.seed_import_jobs(REGION, 11)
    records = await report(ses, destination_type=destination_type, page_size=2)
    expected = {i for i, job in backend_jobs().items() if job.destination_type == destination_type}
    assert 0 < len(expected) < 11
    assert {r["JobId"] for r in records} == expected
    assert len(records) == len(expected)
    wanted = {
        "SUPPRESSION_LIST": "SuppressionListDestination",
        "CONTACT_LIST": "ContactListDestination",
    }[destination_type]
    assert all(list(r["ImportDestination"]) == [wanted] for r in records)


async def test_an_unknown_destination_type_is_a_usage_error(ses: LocalSES) -> None:
    """The library refuses a destination type SES does not have, before any call."""
    with FaultProxy(ses.url) as proxy:
        async with asyncses.Client(regions=[REGION], endpoint_url=proxy.url) as client:
            with pytest.raises(asyncses.UsageError, match="'BOUNCES'"):
                client.import_jobs(destination_type="BOUNCES")
        assert proxy.stats.requests == 0


async def test_details_add_get_import_job_fields_and_failure_info(ses: LocalSES) -> None:
    """With details, each job also carries its data source, completion time and FailureInfo."""
    job_ids = ses.seed_import_jobs(REGION, 10)
    records = await report(ses, details=True, page_size=3)
    assert sorted(r["JobId"] for r in records) == sorted(job_ids)
    jobs = backend_jobs()
    for record in records:
        job = jobs[record["JobId"]]
        assert_matches_summary(record, job)
        assert record["ImportDataSource"] == job.data_source
        if job.completed is None:
            assert "CompletedTimestamp" not in record
        else:
            assert epoch(record["CompletedTimestamp"]) == pytest.approx(job.completed, abs=1e-3)
        if job.failure_info is None:
            assert "FailureInfo" not in record
        else:
            assert record["FailureInfo"] == job.failure_info
    failed = [r for r in records if r["JobStatus"] == "FAILED"]
    assert failed
    for record in failed:
        assert record["FailureInfo"]["ErrorMessage"]
        assert record["FailureInfo"]["FailedRecordsS3Url"].endswith(f"{record['JobId']}.csv")


async def test_detail_lookups_run_concurrently(ses: LocalSES) -> None:
    """12 GetImportJob calls slowed to 0.3 s each finish in well under 12 x 0.3 s."""
    job_ids = ses.seed_import_jobs(REGION, 12)
    with FaultProxy(ses.url, Faults(latency=0.3, match=GET_JOB)) as proxy:
        started = time.monotonic()
        records = await report(ses, endpoint_url=proxy.url, details=True, concurrency=12)
        elapsed = time.monotonic() - started
        gets = [e for e in proxy.stats.log if e.method == "GET"]
    assert sorted(r["JobId"] for r in records) == sorted(job_ids)
    assert len(gets) == len(job_ids)
    assert elapsed < len(job_ids) * 0.3 / 2  # sequential would take the whole 12 x 0.3 s


async def test_failed_detail_lookup_keeps_the_list_fields(ses: LocalSES) -> None:
    """A job whose GetImportJob fails for good keeps its list fields and carries the error."""
    job_ids = ses.seed_import_jobs(REGION, 4)
    broken = job_ids[2]
    faults = Faults(error=1.0, match=f"^GET /v2/email/import-jobs/{broken}$")
    with FaultProxy(ses.url, faults) as proxy:
        records = await report(ses, endpoint_url=proxy.url, details=True, max_attempts=2)
    by_id = {r["JobId"]: r for r in records}
    assert sorted(by_id) == sorted(job_ids)
    record = by_id[broken]
    assert record["error"] == {
        "code": "InternalFailure",
        "message": "injected",
        "operation": "GetImportJob",
        "attempts": 2,
    }
    assert set(record) == LIST_FIELDS
    assert record["JobStatus"] == backend_jobs()[broken].status
    assert all(by_id[i]["error"] is None and "ImportDataSource" in by_id[i] for i in job_ids[:2])
    assert proxy.stats.errors == 2


async def test_job_gone_before_its_details_is_an_error_record(ses: LocalSES) -> None:
    """A job that disappears between ListImportJobs and GetImportJob: NotFound, not retried."""
    job_ids = ses.seed_import_jobs(REGION, 5)
    gone = job_ids[1]

    def delete_before_lookup(account: str, region: str, params: dict[str, Any]) -> None:
        if params["JobId"] == gone:
            extras_of(sesv2_backends[account][region]).import_jobs.pop(gone)

    ses.before("GetImportJob", delete_before_lookup)
    records = await report(ses, details=True)
    by_id = {r["JobId"]: r for r in records}
    assert sorted(by_id) == sorted(job_ids)
    error = by_id[gone]["error"]
    assert (error["code"], error["operation"], error["attempts"]) == (
        "NotFoundException",
        "GetImportJob",
        1,
    )
    assert set(by_id[gone]) == LIST_FIELDS  # the list fields, nothing from the lookup
    assert all(by_id[i]["error"] is None for i in job_ids if i != gone)


def test_cli_filtered_details_over_small_pages(ses: LocalSES) -> None:
    """`import-jobs --destination-type contact_list --details --page-size 2` on stdout, exit 0."""
    ses.seed_import_jobs(REGION, 10)
    result = run_cli(
        "import-jobs",
        "--endpoint-url",
        ses.url,
        "--region",
        REGION,
        "--destination-type",
        "contact_list",
        "--details",
        "--page-size",
        "2",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    records = parse_ndjson(result.stdout)
    jobs = backend_jobs()
    expected = {i for i, job in jobs.items() if job.destination_type == "CONTACT_LIST"}
    assert {r["JobId"] for r in records} == expected
    assert len(records) == len(expected)
    for record in records:
        job = jobs[record["JobId"]]
        assert_matches_summary(record, job)
        assert record["ImportDataSource"] == job.data_source
        assert record.get("FailureInfo") == job.failure_info
    assert any(r["JobStatus"] == "FAILED" and r["FailureInfo"] for r in records)


def test_cli_rejects_an_unknown_destination_type(ses: LocalSES) -> None:
    """An unknown --destination-type exits 2 with one line naming it."""
    result = run_cli("import-jobs", "--endpoint-url", ses.url, "--destination-type", "bounces")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "BOUNCES" in lines[0]
