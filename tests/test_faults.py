"""Throttling, errors, dropped connections, stalls, interruption and resume, over real HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import orjson
import pytest

import asyncses
from asyncses.local import LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT, no_problems, read_lines, read_ndjson, run_cli

HEAVY_FAULTS = Faults(throttle=0.25, error=0.05, drop=0.02)
#: GetEmailIdentity (one identity), not ListEmailIdentities (``identities?PageSize=``).
LOOKUPS = r"^GET /v2/email/identities/[^/?]+$"
#: A fixed pace far above what the local endpoint serves: no cautious start to wait for.
FAST = "2000"
#: What a report file holds before an interrupted run: it must come out byte for byte.
PREVIOUS = b'{"type":"email_identity","region":"us-east-1","IdentityName":"older"}\n'


def identity_names(records: list[dict[str, Any]]) -> list[str]:
    """The sorted names of the identity records."""
    return sorted(str(r["IdentityName"]) for r in records if r["type"] == "email_identity")


async def test_every_identity_arrives_under_throttles_errors_and_drops(ses: LocalSES) -> None:
    """25% 429s, 5% 500s and 2% dropped connections: every identity once, none as error."""
    names = ses.seed_identities(REGION, 200)
    with FaultProxy(ses.url, HEAVY_FAULTS, seed=11) as proxy:
        async with asyncses.Client(
            regions=[REGION],
            endpoint_url=proxy.url,
            concurrency=16,
            rate=400,  # fixed: random 429s are only retried
            max_attempts=12,
            page_size=100,
        ) as client:
            records = no_problems([r async for r in client.email_identities()])
        stats = proxy.stats.snapshot()
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert [r for r in records if r["error"] is not None] == []
    assert stats.throttled > 20 and stats.errors > 3 and stats.dropped > 0
    # aiohttp re-sends an idempotent request once on its own when a reused connection drops.
    assert client.stats.retries >= stats.throttled + stats.errors
    assert client.stats.throttles == stats.throttled


def test_cli_completes_under_a_quota_and_faults_at_the_default_pace(
    ses: LocalSES, tmp_path: Path
) -> None:
    """Default pacing under a 20/s quota, 5% 500s and 2% drops: complete, exit 0, 429s counted."""
    names = ses.seed_identities(REGION, 50)
    out = tmp_path / "r.ndjson"
    faults = Faults(error=0.05, drop=0.02, bucket_rate=20, bucket_burst=5)
    with FaultProxy(ses.url, faults, seed=5) as proxy:
        result = run_cli(
            "identities", "--endpoint-url", proxy.url, "--max-attempts", "12", "-o", str(out)
        )
        stats = proxy.stats.snapshot()
    assert result.returncode == 0, result.stderr
    records = read_ndjson(out)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None for r in records)
    assert stats.throttled > 0 and stats.errors > 0
    assert f"{stats.throttled} throttles" in result.stderr
    assert read_lines(out)[-1]["throttles"] == stats.throttled


async def test_throttle_storm_does_not_use_up_max_attempts(ses: LocalSES) -> None:
    """A pace 4x a 5/s quota with max_attempts=1: calls refused again and again, none fails."""
    names = ses.seed_identities(REGION, 15)
    with FaultProxy(ses.url, Faults(bucket_rate=5, bucket_burst=2)) as proxy:
        async with asyncses.Client(
            regions=[REGION], endpoint_url=proxy.url, rate=20, max_attempts=1
        ) as client:
            records = no_problems([r async for r in client.email_identities()])
        log = list(proxy.stats.log)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert [r["error"] for r in records if r["error"] is not None] == []
    throttled: dict[str, int] = {}
    for entry in log:
        if entry.status == 429:
            throttled[entry.path] = throttled.get(entry.path, 0) + 1
    assert sum(throttled.values()) > len(names)  # a storm: more 429s than identities
    assert max(throttled.values()) >= 3  # one call refused three times, max_attempts=1
    assert client.stats.throttles == sum(throttled.values())
    assert client.stats.failures == 0


async def test_retry_after_is_honoured(ses: LocalSES) -> None:
    """A 429 with Retry-After: 1 holds the retry about a second, not milliseconds."""
    [name] = ses.seed_identities(REGION, 1)
    faults = Faults(throttle=1.0, retry_after=1.0, match=LOOKUPS)
    with FaultProxy(ses.url, faults) as proxy:

        async def lift_after_first_throttle() -> None:
            seen = await anyio.to_thread.run_sync(
                lambda: proxy.stats.wait_for(lambda s: s.throttled >= 1)
            )
            assert seen
            proxy.faults = Faults()

        async with (
            anyio.create_task_group() as tg,
            asyncses.Client(regions=[REGION], endpoint_url=proxy.url, rate=100) as client,
        ):
            tg.start_soon(lift_after_first_throttle)
            started = time.monotonic()
            records = no_problems([r async for r in client.email_identities()])
            elapsed = time.monotonic() - started
        statuses = proxy.stats.statuses()
    assert [(r["IdentityName"], r["error"]) for r in records] == [(name, None)]
    assert statuses == [200, 429, 200]
    assert elapsed >= 1.0  # at 100 requests/s the retry would otherwise go in 10 ms


async def test_stalled_quota_gives_up_with_a_clear_error_record(ses: LocalSES) -> None:
    """A lookup throttled for ever: retried while others get through, then a 'stalled' error."""
    names = ses.seed_identities(REGION, 5)
    stuck = names[0]
    faults = Faults(throttle=1.0, match=f"^GET /v2/email/identities/{stuck}$")
    with FaultProxy(ses.url, faults) as proxy:
        started = time.monotonic()
        async with asyncses.Client(
            regions=[REGION], endpoint_url=proxy.url, stall_timeout=1.0, max_attempts=1
        ) as client:
            records: list[dict[str, Any]] = [dict(r) async for r in client.email_identities()]
        elapsed = time.monotonic() - started
        throttled = proxy.stats.throttled
    by_name = {r["IdentityName"]: r for r in records}
    assert sorted(by_name) == sorted(names)
    error = by_name[stuck]["error"]
    assert error["code"] == "TooManyRequestsException"
    assert error["operation"] == "GetEmailIdentity"
    assert error["message"].startswith("throttled for 1 s with no request on this quota getting")
    assert error["attempts"] == throttled >= 2  # 429s do not count against max_attempts=1
    assert all(by_name[n]["error"] is None for n in names[1:])
    assert elapsed < 10


async def test_every_call_of_a_stalled_quota_gives_up_near_stall_timeout(ses: LocalSES) -> None:
    """Six lookups throttled for ever, stall_timeout=1: the audit ends within seconds."""
    names = ses.seed_identities(REGION, 6)
    records: list[dict[str, Any]] = []
    with FaultProxy(ses.url, Faults(throttle=1.0, match=LOOKUPS)) as proxy:
        with anyio.move_on_after(4.0) as deadline:
            async with asyncses.Client(
                regions=[REGION], endpoint_url=proxy.url, stall_timeout=1.0
            ) as client:
                records = [dict(r) async for r in client.email_identities()]
        throttled = proxy.stats.throttled
    assert not deadline.cancelled_caught, f"{len(records)} records, {throttled} 429s in 4 s"
    assert identity_names(records) == sorted(names)
    assert all(r["error"]["code"] == "TooManyRequestsException" for r in records)


async def test_first_call_of_a_unit_counts_5xx_against_max_attempts(ses: LocalSES) -> None:
    """Every request answered 500, max_attempts=2: the listing is sent twice, and says so."""
    ses.seed_identities(REGION, 3)
    with FaultProxy(ses.url, Faults(error=1.0)) as proxy:
        async with asyncses.Client(
            regions=[REGION], endpoint_url=proxy.url, max_attempts=2, rate=float(FAST)
        ) as client:
            # Typed as identity records, the stream also yields ``listing`` error records.
            records: list[dict[str, Any]] = [dict(r) async for r in client.email_identities()]
        sent = proxy.stats.requests
    [listing] = records
    assert listing["type"] == "listing"
    assert listing["error"]["attempts"] == 2
    assert sent == 2


# -- interruption and resume -------------------------------------------------------------------


def partial_of(report: Path) -> Path:
    """Where a run writes ``report`` until it finishes."""
    return report.with_name(f".{report.name}.partial")


def start_cli(*args: str) -> subprocess.Popen[bytes]:
    """The CLI in a child process, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "asyncses", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_lines(
    path: Path, count: int, proc: subprocess.Popen[bytes], limit: float = 60
) -> None:
    """Wait (polling the file the CLI flushes every second) until it holds ``count`` lines."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert proc.poll() is None, "the audit ended before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {count} lines")


def whole_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a file, which must all be whole JSON objects."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n")
    return [orjson.loads(line) for line in data.splitlines()]


def audit_then_stop(
    proxy: FaultProxy, out: Path, lines: int, stop: signal.Signals
) -> tuple[subprocess.Popen[bytes], bytes, float]:
    """Start a slow audit, send ``stop`` once ``lines`` lines are in its partial file; wait
    for the end. Returns the process, its stderr and how long it took to stop."""
    proc = start_cli(
        "identities",
        "--endpoint-url",
        proxy.url,
        "--concurrency",
        "4",
        "--rate",
        FAST,
        "-o",
        str(out),
    )
    wait_for_lines(partial_of(out), lines, proc)
    proc.send_signal(stop)
    started = time.monotonic()
    _, stderr = proc.communicate(timeout=10)
    return proc, stderr, time.monotonic() - started


def resume(proxy: FaultProxy, out: Path) -> subprocess.CompletedProcess[str]:
    """Finish the report with --resume (same endpoint: it is part of the run header)."""
    return run_cli(
        "identities",
        "--endpoint-url",
        proxy.url,
        "--concurrency",
        "16",
        "--rate",
        FAST,
        "--resume",
        "-o",
        str(out),
    )


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_keeps_the_report_and_a_resumable_partial_file(
    ses: LocalSES, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """SIGINT/SIGTERM: 130/143 at once, report untouched, partial file whole and resumable."""
    names = ses.seed_identities(REGION, 200)
    out = tmp_path / "r.ndjson"
    out.write_bytes(PREVIOUS)
    with FaultProxy(ses.url, Faults(latency=0.05)) as proxy:
        proc, stderr, stopped_in = audit_then_stop(proxy, out, 20, sig)
        assert proc.returncode == code, stderr.decode()
        assert stopped_in < 5
        assert b"Traceback" not in stderr
        assert f"{out} is unchanged".encode() in stderr
        assert out.read_bytes() == PREVIOUS
        partial = whole_lines(partial_of(out))
        assert partial[0]["type"] == "run"
        assert all(r["type"] == "email_identity" for r in partial[1:])  # no end line
        kept = len(partial) - 1
        assert 19 <= kept < 200
        result = resume(proxy, out)
    assert result.returncode == 0, result.stderr
    assert f"({kept} kept from the resumed report)" in result.stderr
    lines = whole_lines(out)
    assert lines[0]["type"] == "run" and lines[-1]["type"] == "run_end"
    records = lines[1:-1]
    assert [r["IdentityName"] for r in records] == [r["IdentityName"] for r in partial[1:]] + [
        r["IdentityName"] for r in records[kept:]
    ]
    assert identity_names(records) == sorted(names)  # each exactly once
    assert not partial_of(out).exists()


def test_kill_9_mid_run_then_resume_leaves_one_record_per_identity(
    ses: LocalSES, tmp_path: Path
) -> None:
    """A run killed with SIGKILL is finished by --resume: every identity exactly once."""
    names = ses.seed_identities(REGION, 200)
    out = tmp_path / "r.ndjson"
    out.write_bytes(PREVIOUS)
    with FaultProxy(ses.url, Faults(latency=0.05)) as proxy:
        proc, _, _ = audit_then_stop(proxy, out, 30, signal.SIGKILL)
        assert proc.returncode == -signal.SIGKILL
        assert out.read_bytes() == PREVIOUS
        assert partial_of(out).read_bytes().count(b"\n") < 201
        result = resume(proxy, out)
    assert result.returncode == 0, result.stderr
    records = read_ndjson(out)
    assert identity_names(records) == sorted(names)
    assert len(records) == len(names)
    assert all(r["error"] is None for r in records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]


def run_header(endpoint: str) -> bytes:
    """The header line of a plain identity audit of REGION at ``endpoint``."""
    header = {
        "type": "run",
        "record_type": "email_identity",
        "options": {"list_only": False},
        "accounts": None,
        "profiles": [],
        "regions": [REGION],
        "endpoint": endpoint,
        "shard": None,
    }
    return orjson.dumps(header) + b"\n"


def report_line(name: str, error: dict[str, Any] | None = None) -> bytes:
    """One identity record as a report line."""
    record: dict[str, Any] = {
        "type": "email_identity",
        "region": REGION,
        "IdentityName": name,
        "VerificationStatus": "SUCCESS",
        "findings": [],
        "error": error,
    }
    return orjson.dumps(record) + b"\n"


def test_resume_refetches_errors_and_drops_a_torn_last_line(ses: LocalSES, tmp_path: Path) -> None:
    """Records kept byte for byte; former errors and missing items fetched; torn tail dropped."""
    names = ses.seed_identities(REGION, 6)
    out = tmp_path / "r.ndjson"
    error = {
        "code": "InternalFailure",
        "message": "x",
        "operation": "GetEmailIdentity",
        "attempts": 8,
    }
    with FaultProxy(ses.url) as proxy:
        kept = [report_line(names[0]), report_line(names[1])]
        torn = report_line(names[3])[:25]
        out.write_bytes(
            run_header(proxy.url) + b"".join(kept) + report_line(names[2], error) + torn
        )
        result = run_cli("identities", "--endpoint-url", proxy.url, "--resume", "-o", str(out))
        looked_up = sorted(
            unquote(entry.path.rsplit("/", 1)[1])
            for entry in proxy.stats.log
            if "?" not in entry.path
        )
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes().splitlines(keepends=True)
    assert raw[1:3] == kept  # kept records stay byte for byte, first
    records = read_ndjson(out)
    assert identity_names(records) == sorted(names)
    assert all(r["error"] is None for r in records)
    assert looked_up == sorted(names[2:])  # only the error and the missing ones
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]  # nothing left behind


def test_resume_refuses_a_corrupt_report_and_changes_nothing(ses: LocalSES, tmp_path: Path) -> None:
    """A corrupt line that is not the last one: exit 2 naming the line, report untouched."""
    names = ses.seed_identities(REGION, 3)
    out = tmp_path / "r.ndjson"
    with FaultProxy(ses.url) as proxy:
        content = (
            run_header(proxy.url) + report_line(names[0]) + b"{not json\n" + report_line(names[1])
        )
        out.write_bytes(content)
        result = run_cli("identities", "--endpoint-url", proxy.url, "--resume", "-o", str(out))
        requests = proxy.stats.requests
    assert result.returncode == 2
    assert f"{out}:3: not a JSON record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == content
    assert requests == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]
