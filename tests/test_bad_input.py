"""Bad input: exit 2, one line on stderr, no traceback, no report created or changed."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import orjson
import pytest

from asyncses.local import LocalSES

from .faultproxy import FaultProxy
from .helpers import REGION, run_cli

PREVIOUS = orjson.dumps({"type": "email_identity", "region": REGION, "IdentityName": "x"}) + b"\n"


def assert_refused(result_stderr: str, returncode: int, *words: str) -> None:
    """Exit 2 with exactly one line on stderr that contains ``words``."""
    lines = result_stderr.strip().splitlines()
    assert returncode == 2, result_stderr
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--concurrency", "0"], ["concurrency", "from 1 to 1000"]),
        (["--concurrency", "1000000"], ["concurrency", "from 1 to 1000"]),
        (["--region", ",,"], ["no region"]),
        (["--concurrency", "-3"], ["concurrency"]),
        (["--concurrency", "many"], ["concurrency", "whole number"]),
        (["--concurrency", "2.5"], ["concurrency", "whole number"]),
        (["--page-size", "0"], ["page size", "1 to 1000"]),
        (["--page-size", "1001"], ["page size", "1 to 1000"]),
        (["--rate", "-1"], ["rate", "positive"]),
        (["--rate", "0"], ["rate", "positive"]),
        (["--rate", "fast"], ["rate", "number"]),
        (["--max-attempts", "0"], ["max attempts", "at least 1"]),
        (["--processes", "0"], ["processes", "from 1 to 64"]),
        (["--endpoint-url", "not a url"], ["malformed endpoint URL"]),
        (["--endpoint-url", "ftp://example.com"], ["malformed endpoint URL"]),
        (["--endpoint-url", "http://"], ["malformed endpoint URL"]),
        (["--endpoint-url", "http://localhost:99999"], ["malformed endpoint URL", "port"]),
        (["--region", "Mars"], ["invalid region name", "Mars"]),
        (["--region", "us-east-1,../etc"], ["invalid region name"]),
        (["--log-level", "loud"], ["log-level"]),
        (["--fail-on", "EVERYTHING"], ["unknown finding", "EVERYTHING"]),
    ],
)
def test_invalid_flag_values(
    ses_server: LocalSES, tmp_path: Path, flags: list[str], words: list[str]
) -> None:
    """Each invalid value is refused before any call, and the old report stays as it was."""
    out = tmp_path / "report.ndjson"
    out.write_bytes(PREVIOUS)
    with FaultProxy(ses_server.url) as proxy:
        endpoint = [] if "--endpoint-url" in flags else ["--endpoint-url", proxy.url]
        result = run_cli("identities", *endpoint, *flags, "-o", str(out))
        requests = proxy.stats.requests
    assert_refused(result.stderr, result.returncode, *words)
    assert requests == 0
    assert out.read_bytes() == PREVIOUS


def test_unknown_subcommand() -> None:
    """An unknown subcommand is a usage error in one line."""
    result = run_cli("identitees")
    assert_refused(result.stderr, result.returncode, "invalid choice", "identitees")


def test_missing_output_folder(ses_server: LocalSES, tmp_path: Path) -> None:
    """An output path in a folder that does not exist is refused and nothing is created."""
    target = tmp_path / "missing" / "r.ndjson"
    result = run_cli("identities", "--endpoint-url", ses_server.url, "-o", str(target))
    assert_refused(result.stderr, result.returncode, "does not exist")
    assert not target.parent.exists()


def test_resume_needs_an_output_file(ses_server: LocalSES) -> None:
    """--resume with stdout is refused."""
    result = run_cli("identities", "--endpoint-url", ses_server.url, "--resume")
    assert_refused(result.stderr, result.returncode, "--resume needs -o FILE")


def test_no_credentials_anywhere(
    ses_server: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials in the environment, files or metadata: exit 2, and it says so."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    out = tmp_path / "r.ndjson"
    out.write_bytes(PREVIOUS)
    result = run_cli("identities", "--endpoint-url", ses_server.url, "-o", str(out))
    assert_refused(result.stderr, result.returncode, "no AWS credentials")
    assert out.read_bytes() == PREVIOUS


def test_unknown_profile(ses_server: LocalSES) -> None:
    """A profile that is not configured is named in the one-line error."""
    result = run_cli("identities", "--endpoint-url", ses_server.url, "--profile", "nope")
    assert_refused(result.stderr, result.returncode, "profile 'nope' not found")


def test_no_region(ses_server: LocalSES, monkeypatch: pytest.MonkeyPatch) -> None:
    """No region from flags, environment or profile: exit 2 with a hint."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = run_cli("identities", "--endpoint-url", ses_server.url)
    assert_refused(result.stderr, result.returncode, "no region")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_endpoint_refusing_connections(tmp_path: Path) -> None:
    """A closed port: bounded retries, then one line and exit 2, the old report untouched."""
    out = tmp_path / "r.ndjson"
    out.write_bytes(PREVIOUS)
    started = time.monotonic()
    result = run_cli(
        "identities",
        "--endpoint-url",
        f"http://127.0.0.1:{free_port()}",
        "--max-attempts",
        "3",
        "-o",
        str(out),
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert_refused(result.stderr, result.returncode, "ListEmailIdentities", "3 attempts")
    assert out.read_bytes() == PREVIOUS
