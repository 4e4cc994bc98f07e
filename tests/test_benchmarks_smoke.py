"""Smoke tests of the benchmark harness: the lean endpoint's quotas, one baseline, the measures.

``python -m benchmarks.run --quick`` takes about a minute; these take a few seconds and pin
down what the benchmark figures rest on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.lean_endpoint import (
    EndpointConfig,
    EndpointProcess,
    LeanSesV2,
    identity_name,
    parse_schedule,
)
from benchmarks.run import count_report, follow_time

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
