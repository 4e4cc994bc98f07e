"""Defects found in review, pinned so they stay fixed."""

from __future__ import annotations

import http.client
import http.server
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest

import asyncses
from asyncses.local import LocalSES
from asyncses.reports.pools import validate_pool

from .helpers import REGION, ROOT, read_ndjson, run_cli


class HtmlFront:
    """A real HTTP front to ``upstream`` (a thread on loopback) that answers the lookup of
    ``name`` with an HTML page of ``status`` the first ``times`` times, as a proxy or load
    balancer in the way might, and forwards everything else."""

    def __init__(self, upstream: LocalSES, name: str, status: int, times: int) -> None:
        self.lookups = 0
        front = self
        target = f"/v2/email/identities/{quote(name)}"

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == target:
                    front.lookups += 1
                    if front.lookups <= times:
                        self.reply(status, [("Content-Type", "text/html")], HTML)
                        return
                upstream_conn = http.client.HTTPConnection("127.0.0.1", upstream.port, timeout=10)
                try:
                    upstream_conn.request(self.command, self.path, body, dict(self.headers))
                    got = upstream_conn.getresponse()
                    headers = [
                        (key, value)
                        for key, value in got.getheaders()
                        if key.lower() not in ("content-length", "connection", "server", "date")
                    ]
                    self.reply(got.status, headers, got.read())
                finally:
                    upstream_conn.close()

            def reply(self, code: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(code)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HtmlFront:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


HTML = b"<html><body>Down for maintenance</body></html>"


async def audit_through(url: str) -> dict[str, dict[str, Any]]:
    """The records of an identity audit at ``url``, by name."""
    async with asyncses.Client(
        regions=[REGION], endpoint_url=url, concurrency=1, rate=2000.0, max_attempts=3
    ) as client:
        records: list[dict[str, Any]] = [dict(r) async for r in client.email_identities()]
    return {str(r["IdentityName"]): r for r in records}


async def test_an_html_200_is_an_error_record_and_the_audit_goes_on(ses: LocalSES) -> None:
    """A 200 with an HTML body (a proxy's page) is no answer of SES: that lookup becomes an
    error record saying so (not a record with no fields and no error); the audit goes on."""
    names = ses.seed_identities(REGION, 6)
    odd = names[3]
    with HtmlFront(ses, odd, 200, times=1) as front:
        by_name = await audit_through(front.url)
    assert sorted(by_name) == sorted(names)
    assert front.lookups == 1
    error = by_name[odd]["error"]
    assert (error["code"], error["operation"]) == ("200", "GetEmailIdentity")
    assert "text/html" in error["message"] and "not an answer of the service" in error["message"]
    assert "DkimAttributes" not in by_name[odd]
    assert all(by_name[n]["error"] is None for n in names if n != odd)
    assert all("DkimAttributes" in by_name[n] for n in names if n != odd)


async def test_an_html_404_after_the_first_call_is_an_error_record(ses: LocalSES) -> None:
    """Past the first call, a bare HTML 404 for one lookup is an error record; the rest go on."""
    names = ses.seed_identities(REGION, 4)
    odd = names[1]
    with HtmlFront(ses, odd, 404, times=5) as front:
        by_name = await audit_through(front.url)
    assert sorted(by_name) == sorted(names)
    error = by_name[odd]["error"]
    assert (error["code"], error["operation"], error["attempts"]) == ("404", "GetEmailIdentity", 1)
    assert "not an answer of the service" in error["message"]
    assert all(by_name[n]["error"] is None for n in names if n != odd)


async def test_an_html_503_from_a_load_balancer_is_retried(ses: LocalSES) -> None:
    """A lookup answered twice by a load balancer's HTML 503 is retried like any 5xx."""
    names = ses.seed_identities(REGION, 3)
    odd = names[0]
    with HtmlFront(ses, odd, 503, times=2) as front:
        by_name = await audit_through(front.url)
    assert by_name[odd]["error"] is None
    assert front.lookups == 3


def test_tls_to_a_plain_http_endpoint_is_a_one_line_error(
    ses_server: LocalSES, tmp_path: Path
) -> None:
    """TLS to a plain HTTP endpoint: exit 2 at once, one line naming it, report untouched."""
    out = tmp_path / "r.ndjson"
    out.write_bytes(b'{"type":"email_identity","region":"us-east-1","IdentityName":"x"}\n')
    before = out.read_bytes()
    https = ses_server.url.replace("http://", "https://")
    started = time.monotonic()
    result = run_cli("identities", "--endpoint-url", https, "--max-attempts", "8", "-o", str(out))
    assert time.monotonic() - started < 10
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"asyncses: error: cannot reach SES at {https}")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]


def test_resume_with_fail_on_counts_the_kept_records(ses: LocalSES, tmp_path: Path) -> None:
    """Findings in records kept by --resume still make --fail-on exit 1."""
    names = ses.seed_identities(REGION, 3)
    for name in names:
        ses.set_identity(REGION, name, verification_status="SUCCESS", sending_enabled=True)
    ses.set_identity(REGION, names[0], verification_status="FAILED")
    out = tmp_path / "r.ndjson"
    first = run_cli("identities", "--endpoint-url", ses.url, "--list-only", "-o", str(out))
    assert first.returncode == 0, first.stderr
    again = run_cli(
        "identities",
        "--endpoint-url",
        ses.url,
        "--list-only",
        "--resume",
        "--fail-on",
        "NOT_VERIFIED",
        "-o",
        str(out),
    )
    assert again.returncode == 1, again.stderr
    assert len(read_ndjson(out)) == 3


def test_report_files_keep_the_reports_mode(ses: LocalSES, tmp_path: Path) -> None:
    """A plain run and the rewrite of --resume keep the existing report's permissions."""
    names = ses.seed_identities(REGION, 4)
    out = tmp_path / "r.ndjson"
    out.write_bytes(b"")
    os.chmod(out, 0o640)
    first = run_cli("identities", "--endpoint-url", ses.url, "--list-only", "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    os.chmod(out, 0o604)
    again = run_cli(
        "identities", "--endpoint-url", ses.url, "--list-only", "--resume", "-o", str(out)
    )
    assert again.returncode == 0, again.stderr
    assert "(4 kept from the resumed report)" in again.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o604
    assert sorted(r["IdentityName"] for r in read_ndjson(out)) == sorted(names)


def test_stdout_closed_early_stops_quietly(ses: LocalSES) -> None:
    """`asyncses identities | head -1`: exit 141 and no traceback."""
    ses.seed_identities(REGION, 1500)
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "asyncses",
            "identities",
            "--endpoint-url",
            ses.url,
            "--list-only",
            "--page-size",
            "100",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert orjson.loads(proc.stdout.readline())["type"] == "run"
        assert orjson.loads(proc.stdout.readline())["type"] == "email_identity"
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code in (0, 141), stderr  # 0 if it had written everything before the close
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_summary_of_odd_records_is_not_a_traceback() -> None:
    """Non-object errors and non-numeric counts are counted, not crashed on."""
    summary = asyncses.summarize(
        [
            {
                "type": "import_job",
                "region": REGION,
                "JobId": "1",
                "error": "boom",
                "ProcessedRecordsCount": "n/a",
                "findings": "NOT_A_LIST",
            },
        ]
    )
    data = summary.to_json()
    assert data["errors"] == 1 and data["counts"]["error.code"] == {"unknown": 1}
    assert data["counts"]["findings"] == {}


@pytest.mark.parametrize("name", ["bad name!", "x" * 65, "dots.not.allowed"])
async def test_pool_names_are_checked_before_any_call(name: str) -> None:
    """A pool name SES would refuse is a UsageError, raised before the client opens."""
    with pytest.raises(asyncses.UsageError, match="invalid pool name"):
        validate_pool(name, "STANDARD", {})
