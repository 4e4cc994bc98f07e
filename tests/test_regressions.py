"""Defects found in review, pinned so they stay fixed."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from moto.sesv2.responses import SESV2Response

import asyncses
from asyncses.local import LocalSES
from asyncses._summary import summarize

from .helpers import REGION, ROOT, read_ndjson, run_cli


async def test_a_non_json_answer_does_not_abort_the_audit(
    ses: LocalSES, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 200 with an HTML body (a proxy's page) is read as botocore reads it; the audit goes on."""
    names = ses.seed_identities(REGION, 6)
    odd = names[3]
    real = SESV2Response.get_email_identity

    def get_email_identity(self: Any) -> Any:
        if self._get_param("EmailIdentity") == odd:
            return "<html>maintenance</html>"
        return real(self)

    monkeypatch.setattr(SESV2Response, "get_email_identity", get_email_identity)
    async with asyncses.Client(regions=[REGION], endpoint_url=ses.url, concurrency=1) as client:
        records: list[dict[str, Any]] = [dict(r) async for r in client.email_identities()]
    assert sorted(str(r["IdentityName"]) for r in records) == sorted(names)
    by_name = {r["IdentityName"]: r for r in records}
    assert "DkimAttributes" not in by_name[odd]  # nothing from the lookup, no crash
    assert all("DkimAttributes" in by_name[n] for n in names if n != odd)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_tls_to_a_plain_http_endpoint_is_a_one_line_error(
    ses_server: LocalSES, tmp_path: Path
) -> None:
    """An SSL failure is an unreachable endpoint: exit 2, one line, old report untouched."""
    out = tmp_path / "r.ndjson"
    out.write_bytes(b'{"type":"email_identity","region":"us-east-1","IdentityName":"x"}\n')
    before = out.read_bytes()
    https = ses_server.url.replace("http://", "https://")
    result = run_cli("identities", "--endpoint-url", https, "--max-attempts", "2", "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert out.read_bytes() == before


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


def test_resume_keeps_the_report_mode(ses: LocalSES, tmp_path: Path) -> None:
    """The atomic rewrite of --resume keeps the old report's permissions."""
    names = ses.seed_identities(REGION, 4)
    out = tmp_path / "r.ndjson"
    out.write_bytes(
        orjson.dumps(
            {
                "type": "email_identity",
                "region": REGION,
                "IdentityName": names[0],
                "findings": [],
                "error": None,
            }
        )
        + b"\n"
    )
    os.chmod(out, 0o644)
    result = run_cli("identities", "--endpoint-url", ses.url, "--resume", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert len(read_ndjson(out)) == 4


def test_stdout_closed_early_stops_quietly(ses: LocalSES) -> None:
    """`asyncses identities | head -1`: exit 141 and no traceback."""
    ses.seed_identities(REGION, 3000)
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
        assert orjson.loads(proc.stdout.readline())["type"] == "email_identity"
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code in (0, 141), stderr  # 0 if it had written everything before the close
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_summary_of_odd_records_is_not_a_traceback() -> None:
    """Non-object errors and non-numeric counts are counted, not crashed on."""
    summary = summarize(
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
    from asyncses._pools import validate_pool

    with pytest.raises(asyncses.UsageError, match="invalid pool name"):
        validate_pool(name, "STANDARD", {})
