"""Throttling, errors, dropped connections, interruption and resume, over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson
import pytest

import asyncses
from asyncses.local import LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT, read_ndjson, run_cli

HEAVY_FAULTS = Faults(throttle=0.25, error=0.05, drop=0.02)


async def test_every_identity_arrives_under_throttles_errors_and_drops(ses: LocalSES) -> None:
    """25% 429s, 5% 500s and 2% dropped connections: every identity once, none as error."""
    names = ses.seed_identities(REGION, 300)
    with FaultProxy(ses.url, HEAVY_FAULTS, seed=11) as proxy:
        async with asyncses.Client(
            regions=[REGION],
            endpoint_url=proxy.url,
            concurrency=16,
            rate=400,  # fixed: random 429s are only retried
            max_attempts=12,
            page_size=100,
        ) as client:
            records = [r async for r in client.email_identities()]
        stats = proxy.stats.snapshot()
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert [r for r in records if r["error"] is not None] == []
    assert stats.throttled > 30 and stats.errors > 5 and stats.dropped > 0
    # aiohttp re-sends an idempotent request once on its own when a reused connection drops.
    assert client.stats.retries >= stats.throttled + stats.errors
    assert client.stats.throttles == stats.throttled


def test_cli_completes_under_faults_with_default_adaptive_rate(
    ses: LocalSES, tmp_path: Path
) -> None:
    """The command with default flags finishes a faulty run complete and exits 0."""
    names = ses.seed_identities(REGION, 120)
    out = tmp_path / "r.ndjson"
    faults = Faults(throttle=0.10, error=0.05, drop=0.02)
    with FaultProxy(ses.url, faults, seed=5) as proxy:
        result = run_cli(
            "identities", "--endpoint-url", proxy.url, "--max-attempts", "12", "-o", str(out)
        )
        throttled = proxy.stats.throttled
    assert result.returncode == 0, result.stderr
    records = read_ndjson(out)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None for r in records)
    assert throttled > 0
    assert f"{throttled} throttles" in result.stderr


def test_retry_after_is_honoured(ses: LocalSES) -> None:
    """A 429 with Retry-After: 1 makes the retry wait about a second, not milliseconds."""
    ses.seed_identities(REGION, 1)
    faults = Faults(throttle=1.0, retry_after=1.0, match="GET /v2/email/identities/")
    with FaultProxy(ses.url, faults) as proxy:
        started = time.monotonic()
        result = run_cli(
            "identities", "--endpoint-url", proxy.url, "--max-attempts", "2", "--rate", "100"
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed >= 1.0
    record = orjson.loads(result.stdout)
    assert record["error"]["code"] == "TooManyRequestsException"
    assert record["error"]["attempts"] == 2


# -- interruption and resume -------------------------------------------------------------------


def start_cli(*args: str) -> subprocess.Popen[bytes]:
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


def whole_records(path: Path) -> list[dict[str, Any]]:
    """Every line of a report, which must all be whole JSON records."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n")
    return [orjson.loads(line) for line in data.splitlines()]


def audit_then_stop(
    proxy: FaultProxy, out: Path, lines: int, stop: signal.Signals
) -> tuple[subprocess.Popen[bytes], bytes, float]:
    """Start a slow audit, send ``stop`` once ``lines`` records are on disk; wait for the end."""
    proc = start_cli(
        "identities", "--endpoint-url", proxy.url, "--concurrency", "4", "-o", str(out)
    )
    wait_for_lines(out, lines, proc)
    proc.send_signal(stop)
    started = time.monotonic()
    _, stderr = proc.communicate(timeout=10)
    return proc, stderr, time.monotonic() - started


def resume(proxy: FaultProxy, out: Path) -> subprocess.CompletedProcess[str]:
    """Finish the report with --resume."""
    return run_cli(
        "identities", "--endpoint-url", proxy.url, "--concurrency", "16", "--resume", "-o", str(out)
    )


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_flushes_and_the_report_resumes(
    ses: LocalSES, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """SIGINT/SIGTERM mid-run: prompt exit 130/143, whole lines only, then --resume finishes."""
    names = ses.seed_identities(REGION, 400)
    out = tmp_path / "r.ndjson"
    with FaultProxy(ses.url, Faults(latency=0.05)) as proxy:
        proc, stderr, stopped_in = audit_then_stop(proxy, out, 20, sig)
        assert proc.returncode == code, stderr.decode()
        assert stopped_in < 5
        partial = whole_records(out)
        assert 20 <= len(partial) < 400
        assert b"Traceback" not in stderr
        result = resume(proxy, out)
    assert result.returncode == 0, result.stderr
    records = whole_records(out)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert f"{len(partial)} kept" in result.stderr


def test_kill_9_mid_run_then_resume_leaves_one_record_per_identity(
    ses: LocalSES, tmp_path: Path
) -> None:
    """A run killed with SIGKILL is finished by --resume: every identity exactly once."""
    names = ses.seed_identities(REGION, 400)
    out = tmp_path / "r.ndjson"
    with FaultProxy(ses.url, Faults(latency=0.05)) as proxy:
        proc, _, _ = audit_then_stop(proxy, out, 30, signal.SIGKILL)
        assert proc.returncode == -signal.SIGKILL
        assert out.read_bytes().count(b"\n") < 400
        result = resume(proxy, out)
    assert result.returncode == 0, result.stderr
    records = whole_records(out)
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None for r in records)


def report_line(name: str, error: dict[str, Any] | None = None) -> bytes:
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
    """Records kept as they were; former errors and missing items fetched; torn tail dropped."""
    names = ses.seed_identities(REGION, 6)
    out = tmp_path / "r.ndjson"
    error = {
        "code": "InternalFailure",
        "message": "x",
        "operation": "GetEmailIdentity",
        "attempts": 8,
    }
    kept = report_line(names[0]) + report_line(names[1])
    out.write_bytes(kept + report_line(names[2], error) + report_line(names[3])[:25])
    with FaultProxy(ses.url) as proxy:
        result = run_cli("identities", "--endpoint-url", proxy.url, "--resume", "-o", str(out))
        looked_up = sorted(
            unquote(entry.path.rsplit("/", 1)[1])
            for entry in proxy.stats.log
            if "?" not in entry.path
        )
    assert result.returncode == 0, result.stderr
    records = whole_records(out)
    assert out.read_bytes().startswith(kept)  # kept records stay byte for byte
    assert sorted(r["IdentityName"] for r in records) == sorted(names)
    assert all(r["error"] is None for r in records)
    assert looked_up == sorted(names[2:])  # only the error and the missing ones
    assert not list(tmp_path.glob(".r.ndjson.*"))  # no temporary file left behind


def test_resume_refuses_a_corrupt_report_and_changes_nothing(ses: LocalSES, tmp_path: Path) -> None:
    """A corrupt line that is not the last one: exit 2 naming the line, report untouched."""
    names = ses.seed_identities(REGION, 3)
    out = tmp_path / "r.ndjson"
    content = report_line(names[0]) + b"{not json\n" + report_line(names[1])
    out.write_bytes(content)
    with FaultProxy(ses.url) as proxy:
        result = run_cli("identities", "--endpoint-url", proxy.url, "--resume", "-o", str(out))
        requests = proxy.stats.requests
    assert result.returncode == 2
    assert f"{out}:2: not a JSON record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == content
    assert requests == 0
    assert sorted(os.listdir(tmp_path)) == ["r.ndjson"]
