"""Smoke tests of the benchmark harness: the lean endpoint's quotas, one baseline, the measures.

``python -m benchmarks.run --quick`` takes about a minute; these take a few seconds each and
pin down what the benchmark figures rest on (the org, apply and suppressions benchmarks run
in their ``--quick`` versions, ~30 s together).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from benchmarks.lean_endpoint import (
    MANAGEMENT_ACCOUNT,
    EndpointConfig,
    EndpointProcess,
    LeanSesV2,
    account_id,
    assumed_key,
    identity_name,
    parse_schedule,
    suppressed_index,
)
from benchmarks.run import count_report, follow_time
from benchmarks.run import main as run_benchmarks

ROOT = Path(__file__).resolve().parent.parent
GET = "/v2/email/identities/" + identity_name(0)


def _credential(key: str, region: str) -> bytes:
    return f"{key}/20250101/{region}/ses/aws4_request".encode()


def _status(app: LeanSesV2, now: float, key: str = "A", region: str = "us-east-1") -> int:
    answer, _ = app.respond(b"GET", GET, now, _credential(key, region))
    return int(answer.split(b" ", 2)[1])


def test_schedule_parses_and_refuses_bad_steps() -> None:
    """A schedule is FROM:RATE steps from second 0, in order, with positive rates."""
    assert parse_schedule("0:5,40:50") == ((0.0, 5.0), (40.0, 50.0))
    for bad in ("5:5", "0:5,0:6", "0:0", "0-5"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_bucket_refills_at_the_scheduled_rate() -> None:
    """The bucket starts full (burst), refills at the rate in force, and the rate changes at
    the scheduled second, counted from the first request."""
    app = LeanSesV2(EndpointConfig(identities=1, latency=0, schedule=parse_schedule("0:2,1:20")))
    t0 = 1000.0
    assert [_status(app, t0) for _ in range(6)] == [200] * 5 + [429]
    # Half a second at 2/s: one token.
    assert [_status(app, t0 + 0.5) for _ in range(2)] == [200, 429]
    # 0.5 s at 2/s then 0.2 s at 20/s: 1 + 4 tokens.
    assert [_status(app, t0 + 1.2) for _ in range(6)] == [200] * 5 + [429]
    stats = app.stats()
    assert stats["timeline"] == [[6, 2], [5, 1]]
    assert (stats["ok"], stats["throttled"], stats["requests"]) == (11, 3, 14)


def test_buckets_are_per_access_key_and_region() -> None:
    """Each (access key, region) of the SigV4 credential has a bucket of its own."""
    app = LeanSesV2(EndpointConfig(identities=1, latency=0, rate=1.0, burst=2))
    for key, region in (("A", "us-east-1"), ("B", "us-east-1"), ("A", "eu-west-1")):
        assert [_status(app, 5.0, key, region) for _ in range(3)] == [200, 200, 429]
    buckets = app.stats()["buckets"]
    assert set(buckets) == {"A/us-east-1", "B/us-east-1", "A/eu-west-1"}
    assert all(b["ok"] == 2 and b["throttled"] == 1 for b in buckets.values())


@pytest.fixture
def endpoint() -> Iterator[EndpointProcess]:
    """A lean endpoint process: 20 identities, a request every 2 s, burst 3."""
    config = EndpointConfig(identities=20, latency=0.001, rate=0.5, burst=3)
    with EndpointProcess(config) as process:
        yield process


def _http(url: str, key: str, region: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url + GET)
    request.add_header(
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={key}/20250101/{region}/ses/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.timeout(30)
def test_endpoint_keys_buckets_by_the_authorization_header(endpoint: EndpointProcess) -> None:
    """Over HTTP, the bucket is picked from the Authorization header; a throttled request
    gets SES's 429 TooManyRequestsException with no Retry-After."""
    endpoint.reset()
    statuses = [_http(endpoint.url, "KEY1", "us-east-1")[0] for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    status, headers, body = _http(endpoint.url, "KEY1", "us-east-1")
    assert status == 429 and "Retry-After" not in headers
    assert json.loads(body)["__type"] == "TooManyRequestsException"
    assert _http(endpoint.url, "KEY2", "us-east-1")[0] == 200
    assert _http(endpoint.url, "KEY1", "eu-west-1")[0] == 200
    stats = endpoint.reset()
    assert set(stats["buckets"]) == {"KEY1/us-east-1", "KEY2/us-east-1", "KEY1/eu-west-1"}
    assert stats["throttled"] >= 2 and endpoint.stats()["requests"] == 0


@pytest.mark.timeout(30)
def test_naive_baseline_writes_a_report_like_asyncses(tmp_path: Path) -> None:
    """A baseline lists and looks up every identity and writes run, records and run_end
    lines that the harness counts the same way as asyncses's report."""
    output = tmp_path / "report.ndjson"
    with EndpointProcess(EndpointConfig(identities=25, latency=0.001)) as endpoint:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.baselines",
                "naive",
                "--endpoint-url",
                endpoint.url,
                "-o",
                str(output),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=25,
            check=False,
        )
        stats = endpoint.stats()
    assert done.returncode == 0, done.stderr
    records, errors, delivered, end = count_report(output)
    assert (records, errors, delivered) == (25, 0, 25)
    assert end == {"type": "run_end", "records": 25, "errors": 0}
    assert json.loads(output.read_text().splitlines()[0])["type"] == "run"
    assert stats["gets_ok"] == 25 and stats["list_pages"] == 1
    assert set(stats["buckets"]) == {"bench/us-east-1"}


def test_follow_time_reads_the_timeline() -> None:
    """The follow time is from the change to the first 5 s window at 90% of a higher quota,
    or with at most 3% of its requests throttled after a lower one."""
    up = [[5, 0]] * 10 + [[20, 1]] * 3 + [[48, 2]] * 10
    assert follow_time(up, 10, 5, 50) == 3
    down = [[50, 0]] * 10 + [[5, 30]] * 4 + [[5, 0]] * 10
    assert follow_time(down, 10, 50, 5) == 4
    assert follow_time([[5, 0]] * 20, 10, 5, 50) is None


# -- STS, Organizations, writes and the suppression list on the lean endpoint -----------------


def _answer(
    app: LeanSesV2, method: bytes, target: str, key: str, region: str, body: bytes = b""
) -> tuple[int, bytes]:
    answer, _ = app.respond(method, target, 5.0, _credential(key, region), body)
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def test_a_write_changes_what_its_account_and_region_read_and_has_its_own_bucket() -> None:
    """PutEmailIdentityFeedbackAttributes draws on a write bucket of its own and changes
    GetEmailIdentity for that account and region only; a reset forgets the writes."""
    app = LeanSesV2(EndpointConfig(identities=3, latency=0, rate=100.0, write_rate=1.0, burst=2))
    member = assumed_key(account_id(3))
    feedback = GET + "/feedback"
    off = b'{"EmailForwardingEnabled":false}'
    assert [_answer(app, b"PUT", feedback, member, "eu-west-1", off)[0] for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert _answer(app, b"GET", GET, member, "eu-west-1")[0] == 200  # reads are not throttled

    def forwarding(key: str, region: str) -> bool:
        status, payload = _answer(app, b"GET", GET, key, region)
        assert status == 200
        return bool(json.loads(payload)["FeedbackForwardingStatus"])

    assert forwarding(member, "eu-west-1") is False
    assert forwarding(member, "us-east-1") is True
    assert forwarding("bench", "eu-west-1") is True
    assert _answer(app, b"PUT", feedback, "bench", "us-east-1", b"{}")[0] == 400
    stats = app.stats()
    assert (stats["writes"], stats["writes_ok"], stats["writes_throttled"]) == (4, 2, 1)
    assert set(stats["write_buckets"]) == {f"{member}/eu-west-1", "bench/us-east-1"}
    assert stats["write_timeline"] == [[2, 1]] and stats["changed"] == 1
    app.reset()
    assert forwarding(member, "eu-west-1") is True


def test_suppression_pages_are_generated_from_the_index_and_filtered() -> None:
    """ListSuppressedDestinations pages through every address once, 1,000 a page, and
    its Reason and StartDate/EndDate filters select by the index's reason and time."""
    app = LeanSesV2(EndpointConfig(identities=0, latency=0, suppressed=2500))
    path = "/v2/email/suppression/addresses?PageSize=1000"
    seen: list[str] = []
    token = ""
    while True:
        status, payload = _answer(app, b"GET", path + token, "bench", "us-east-1")
        assert status == 200
        page = json.loads(payload)
        seen += [entry["EmailAddress"] for entry in page["SuppressedDestinationSummaries"]]
        if "NextToken" not in page:
            break
        token = "&NextToken=" + page["NextToken"]
    assert [suppressed_index(address) for address in seen] == list(range(2500))
    start, end = "2023-11-14T23:53:20Z", "2023-11-15T01:33:20Z"  # addresses 100 to 200
    status, payload = _answer(
        app, b"GET", f"{path}&Reason=COMPLAINT&StartDate={start}&EndDate={end}", "b", "r"
    )
    entries = json.loads(payload)["SuppressedDestinationSummaries"]
    assert [suppressed_index(e["EmailAddress"]) for e in entries] == list(range(100, 201, 4))
    assert {e["Reason"] for e in entries} == {"COMPLAINT"}
    assert app.stats()["suppression_pages"] == 4


@pytest.mark.timeout(30)
def test_sts_and_organizations_answer_as_botocore_expects() -> None:
    """botocore parses the endpoint's ListAccounts pages, AssumeRole (an ASIA key per
    account) and GetCallerIdentity (the management account, or the assumed role's)."""
    import botocore.session

    session = botocore.session.get_session()
    with EndpointProcess(EndpointConfig(identities=1, latency=0.001, accounts=23)) as endpoint:

        def client(service: str, key: str = "bench", token: str | None = None) -> Any:
            return session.create_client(
                service,
                region_name="us-east-1",
                endpoint_url=endpoint.url,
                aws_access_key_id=key,
                aws_secret_access_key="bench",
                aws_session_token=token,
            )

        pages = list(client("organizations").get_paginator("list_accounts").paginate())
        accounts = [account for page in pages for account in page["Accounts"]]
        assert len(pages) == 3
        assert [a["Id"] for a in accounts] == [account_id(i) for i in range(23)]
        assert {a["Status"] for a in accounts} == {"ACTIVE"}
        sts = client("sts")
        assert sts.get_caller_identity()["Account"] == MANAGEMENT_ACCOUNT
        arn = f"arn:aws:iam::{account_id(7)}:role/Audit"
        credentials = sts.assume_role(RoleArn=arn, RoleSessionName="asyncses")["Credentials"]
        assert credentials["AccessKeyId"] == assumed_key(account_id(7))
        assumed = client("sts", credentials["AccessKeyId"], credentials["SessionToken"])
        assert assumed.get_caller_identity()["Account"] == account_id(7)
        outside = f"arn:aws:iam::{account_id(23)}:role/Audit"
        with pytest.raises(ClientError, match="AccessDenied"):
            sts.assume_role(RoleArn=outside, RoleSessionName="asyncses")
        stats = endpoint.stats()
    assert stats["control"] == {"ListAccounts": 3, "GetCallerIdentity": 2, "AssumeRole": 2}
    assert stats["assumed_accounts"] == [account_id(7)] and stats["requests"] == 0


# -- the org, apply and suppressions benchmarks, --quick --------------------------------------


def _quick(bench: str, tmp_path: Path) -> list[dict[str, Any]]:
    """Run ``python -m benchmarks.run BENCH --quick`` in-process; return its runs."""
    results = tmp_path / "results.json"
    assert run_benchmarks([bench, "--quick", "--timeout", "60", "--json", str(results)]) == 0
    runs: list[dict[str, Any]] = json.loads(results.read_text())["runs"]
    return runs


@pytest.mark.timeout(90)
def test_org_quick_audits_every_unit_through_assumed_roles(tmp_path: Path) -> None:
    """The org benchmark runs the CLI with --org-role: every identity of every account x
    region arrives, member accounts through AssumeRole, each unit in a bucket of its own."""
    runs = {run["label"]: run for run in _quick("org", tmp_path)}
    alone, every, jobs = (
        runs["asyncses, 1 unit alone"],
        runs["asyncses, 3 x 2"],
        runs["asyncses, 3 x 2, --jobs 2"],
    )
    assert alone["complete"] and alone["delivered"] == 20
    assert alone["endpoint"]["assumed_accounts"] == [account_id(1)]
    for run in (every, jobs):
        assert run["complete"] and run["delivered"] == 3 * 2 * 20, run["note"]
        assert run["endpoint"]["assumed_accounts"] == [account_id(1), account_id(2)]
        keys = {"bench", assumed_key(account_id(1)), assumed_key(account_id(2))}
        regions = {"us-east-1", "eu-west-1"}
        assert set(run["endpoint"]["buckets"]) == {f"{k}/{r}" for k in keys for r in regions}
    assert every["endpoint"]["control"]["AssumeRole"] == 2


@pytest.mark.timeout(90)
def test_apply_quick_applies_every_change_of_a_plan(tmp_path: Path) -> None:
    """The apply benchmark builds a plan from a report and applies it: every change is
    applied once (a re-read, then a write on the write bucket), by asyncses and by the
    aioboto3 baseline alike."""
    runs = {run["client"]: run for run in _quick("apply", tmp_path)}
    for client in ("asyncses", "adaptive"):
        run = runs[client]
        count = run["identities"]
        assert run["extra"]["statuses"] == {"applied": count} and run["complete"], run["note"]
        endpoint = run["endpoint"]
        assert endpoint["writes_ok"] == endpoint["changed"] == count
        assert endpoint["gets_ok"] >= count
        assert set(endpoint["write_buckets"]) == {"bench/us-east-1"}
    assert runs["asyncses"]["endpoint"]["control"] == {"GetCallerIdentity": 1}


@pytest.mark.timeout(60)
def test_suppressions_quick_delivers_every_address(tmp_path: Path) -> None:
    """The suppressions benchmark delivers every address of the list once, a page per
    1,000, and measures the process tree's peak."""
    runs = _quick("suppressions", tmp_path)
    assert [run["identities"] for run in runs] == [1000, 5000]
    for run in runs:
        assert run["complete"] and run["delivered"] == run["identities"], run["note"]
        assert run["endpoint"]["suppression_pages"] == run["identities"] // 1000
        assert run["tree_rss_mib"] > 10 and run["processes"] == 1
