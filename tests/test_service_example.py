"""scripts/service_example.py, run as a user would: a subprocess against the local endpoint."""

from __future__ import annotations

import contextlib
import json
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from asyncses.local import DEFAULT_ACCOUNT, LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT

SCRIPT = ROOT / "scripts" / "service_example.py"
#: Generous: the first audit needs the interpreter, botocore and a handful of requests.
DEADLINE = 30.0


def get(url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url``: the status and the JSON body, for error statuses too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def poll(url: str, done: Callable[[int, dict[str, Any]], bool]) -> dict[str, Any]:
    """GET ``url`` until ``done(status, body)`` holds; return that body."""
    deadline = time.monotonic() + DEADLINE
    while True:
        status, body = get(url)
        if done(status, body):
            return body
        assert time.monotonic() < deadline, f"still {status} {body} after {DEADLINE} s"
        time.sleep(0.1)


@contextlib.contextmanager
def running_service(endpoint_url: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The service on a free port, auditing ``endpoint_url`` every 0.5 s; SIGTERM at the end."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            "--endpoint-url",
            endpoint_url,
            "--region",
            REGION,
            "--interval",
            "0.5",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], DEADLINE)
        line = process.stdout.readline() if ready else ""
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match is not None, f"unexpected first line {line!r}"
        yield match[1], process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise


def test_service_serves_the_summary_of_each_scheduled_audit(ses: LocalSES) -> None:
    """/summary shows the counts of the seeded identities, then those of a later audit."""
    for i in range(5):
        ses.set_identity(REGION, f"ok-{i}.example.com", verification_status="SUCCESS")
    ses.set_identity(REGION, "pending.example.com", verification_status="PENDING")
    ses.set_identity(REGION, "sender@example.com", verification_status="FAILED")
    with running_service(ses.url) as (url, _):
        summary = poll(f"{url}/summary", lambda status, body: status == 200)
        # The schedule runs on: an identity added now shows up in a later audit.
        ses.set_identity(REGION, "late.example.com", verification_status="PENDING")
        later = poll(f"{url}/summary", lambda status, body: body.get("records") == 8)
        missing = get(f"{url}/nowhere")
        health = get(f"{url}/healthz")

    assert summary["records"] == 7
    assert summary["errors"] == 0 and summary["last_error"] is None
    assert summary["region"] == REGION
    assert summary["counts"]["VerificationStatus"] == {"SUCCESS": 5, "PENDING": 1, "FAILED": 1}
    assert summary["counts"]["IdentityType"] == {"DOMAIN": 6, "EMAIL_ADDRESS": 1}
    assert summary["counts"]["findings"]["NOT_VERIFIED"] == 2
    assert later["audits"] > summary["audits"]
    assert later["counts"]["VerificationStatus"]["PENDING"] == 2
    assert missing[0] == 404
    assert health[0] == 200 and health[1]["status"] == "ok"
    assert health[1]["audits"] >= later["audits"]


def test_service_answers_503_until_the_first_audit_and_stops_cleanly(ses: LocalSES) -> None:
    """/summary is 503 while the first audit runs; SIGTERM mid-audit exits 0 without a trace."""
    ses.seed_identities(REGION, 3)
    # Every request takes 1 s: the first audit is certainly still running at the first GET.
    with (
        FaultProxy(ses.url, Faults(latency=1.0)) as proxy,
        running_service(proxy.url) as (url, process),
    ):
        assert get(f"{url}/summary") == (
            503,
            {"status": "pending", "error": "the first audit has not finished yet"},
        )
        assert get(f"{url}/healthz") == (200, {"status": "ok", "audits": 0})
        summary = poll(f"{url}/summary", lambda status, body: status == 200)
        assert summary["records"] == 3
        requests = proxy.stats.requests
        # SIGTERM while the next audit is under way.
        assert proxy.stats.wait_for(lambda stats: stats.requests > requests)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "stopping" in stderr
    for trouble in ("Traceback", "ERROR", "Unclosed", "never awaited"):
        assert trouble not in stderr


def test_service_says_why_while_every_audit_fails(ses: LocalSES) -> None:
    """With SES unreachable /summary stays 503 but names the failure; the service goes on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening
        with running_service(closed) as (url, _):
            body = poll(f"{url}/summary", lambda status, body: body.get("failures", 0) >= 2)
            status, _ = get(f"{url}/summary")
            health = get(f"{url}/healthz")
    assert status == 503
    assert body["status"] == "pending"
    assert body["last_error"].startswith(f"cannot reach SES at {closed}")
    assert health[0] == 200 and health[1]["audits"] >= 2


def test_service_counts_a_region_refusing_credentials_as_an_error(ses: LocalSES) -> None:
    """A region that refuses the credentials yields no identity: 0 records, 1 error."""
    ses.set_identity(REGION, "ok.example.com", verification_status="SUCCESS")
    ses.disable_region(DEFAULT_ACCOUNT, REGION)
    with running_service(ses.url) as (url, _):
        summary = poll(f"{url}/summary", lambda status, body: status == 200)
    assert summary["records"] == 0
    assert summary["errors"] == 1
    assert summary["counts"]["IdentityType"] == {}
