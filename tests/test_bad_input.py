"""Bad input: exit 2, one line on stderr, no traceback, no request, no report created or
changed; an endpoint that is not SES is told at once."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import asyncses
from asyncses.cli import main
from asyncses.local import LocalSES

from .faultproxy import FaultProxy
from .helpers import REGION, run_cli

PREVIOUS = orjson.dumps({"type": "email_identity", "region": REGION, "IdentityName": "x"}) + b"\n"


def assert_refused(stderr: str, returncode: int | str | None, *words: str) -> None:
    """Exit 2 with exactly one line on stderr that contains ``words``."""
    lines = stderr.strip().splitlines()
    assert returncode == 2, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], lines[0]


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, str, str]:
    """The command line in this process: its exit code, stdout and stderr."""
    try:
        code: Any = main(argv)
    except SystemExit as exit_:  # argparse refuses a flag this way
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--concurrency", "0"], ["concurrency", "from 1 to 1000"]),
        (["--concurrency", "1000000"], ["concurrency", "from 1 to 1000"]),
        (["--concurrency", "-3"], ["concurrency"]),
        (["--concurrency", "many"], ["concurrency", "whole number"]),
        (["--concurrency", "2.5"], ["concurrency", "whole number"]),
        (["--page-size", "0"], ["page size", "1 to 1000"]),
        (["--page-size", "1001"], ["page size", "1 to 1000"]),
        (["--rate", "-1"], ["rate", "positive"]),
        (["--rate", "0"], ["rate", "positive"]),
        (["--rate", "inf"], ["rate", "positive"]),
        (["--rate", "nan"], ["rate", "positive"]),
        (["--rate", "fast"], ["rate", "number"]),
        (["--max-attempts", "0"], ["max attempts", "from 1 to 100"]),
        (["--max-attempts", "101"], ["max attempts", "from 1 to 100"]),
        (["--jobs", "0"], ["jobs", "from 1 to 64"]),
        (["--shard", "2/2"], ["shard 2/2"]),
        (["--endpoint-url", "not a url"], ["malformed endpoint URL"]),
        (["--endpoint-url", "ftp://example.com"], ["malformed endpoint URL"]),
        (["--endpoint-url", "http://"], ["malformed endpoint URL"]),
        (["--endpoint-url", "http://localhost:99999"], ["malformed endpoint URL", "port"]),
        (["--region", ",,"], ["--region", "nothing named"]),
        (["--region", "Mars"], ["invalid region name", "Mars"]),
        (["--region", "us-east-1,../etc"], ["invalid region name"]),
        (["--region", "all,us-east-1"], ["--region all"]),
        (["--profile", ","], ["--profile", "nothing named"]),
        (["--log-level", "loud"], ["log-level"]),
        (["--fail-on", "EVERYTHING"], ["unknown finding", "EVERYTHING"]),
        (["--list-only", "--fail-on", "PUBLIC_POLICY"], ["cannot fire with --list-only"]),
        (["--processes", "2"], ["unrecognized arguments", "--processes"]),  # gone in 0.2
    ],
)
def test_invalid_flag_values(
    ses_server: LocalSES,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    words: list[str],
) -> None:
    """Each invalid value is refused before any call, and the old report stays as it was."""
    out = tmp_path / "report.ndjson"
    out.write_bytes(PREVIOUS)
    with FaultProxy(ses_server.url) as proxy:
        endpoint = [] if "--endpoint-url" in flags else ["--endpoint-url", proxy.url]
        code, stdout, stderr = run_main(["identities", *endpoint, *flags, "-o", str(out)], capsys)
        requests = proxy.stats.requests
    assert_refused(stderr, code, *words)
    assert stdout == ""
    assert requests == 0
    assert out.read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.ndjson"]


def test_fail_on_a_finding_identities_never_have_is_refused(
    ses: LocalSES, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``identities --fail-on SANDBOX`` (an account finding) could never fire: exit 2."""
    out = tmp_path / "report.ndjson"
    with FaultProxy(ses.url) as proxy:
        code, _, stderr = run_main(
            ["identities", "--endpoint-url", proxy.url, "--fail-on", "SANDBOX", "-o", str(out)],
            capsys,
        )
        requests = proxy.stats.requests
    assert_refused(stderr, code, "SANDBOX")
    assert requests == 0


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"max_attempts": True}, "max attempts"),
        ({"page_size": 1001}, "page size"),
        ({"rate": float("nan")}, "rate"),
        ({"stall_timeout": 0}, "stall timeout"),
        ({"attempt_timeout": float("inf")}, "attempt timeout"),
        ({"regions": ["Mars"]}, "'Mars'"),
        ({"regions": [3]}, "must be a string"),
        ({"endpoint_url": "example.com"}, "malformed endpoint URL"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_library_settings_raise_usage_error(fields: dict[str, Any], words: str) -> None:
    """The library refuses a bad setting when the client is made, naming it."""
    with pytest.raises(asyncses.UsageError, match=words):
        asyncses.Client(**fields)


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


def test_resume_needs_an_output_file(
    ses_server: LocalSES, capsys: pytest.CaptureFixture[str]
) -> None:
    """--resume with stdout is refused."""
    code, out, err = run_main(["identities", "--endpoint-url", ses_server.url, "--resume"], capsys)
    assert_refused(err, code, "--resume needs -o FILE")
    assert out == ""


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]


def test_unknown_profile(ses_server: LocalSES) -> None:
    """A profile that is not configured is named in the one-line error."""
    result = run_cli("identities", "--endpoint-url", ses_server.url, "--profile", "nope")
    assert_refused(result.stderr, result.returncode, "profile 'nope' not found")


def test_no_region(ses_server: LocalSES, monkeypatch: pytest.MonkeyPatch) -> None:
    """No region from flags, environment or profile: exit 2 with a hint."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = run_cli("identities", "--endpoint-url", ses_server.url)
    assert_refused(result.stderr, result.returncode, "no region")


# -- an endpoint that is not SES ------------------------------------------------------------------


@pytest.fixture
def closed_url() -> Iterator[str]:
    """An http URL on a loopback port that is bound but never listens (refuses at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def html_404_url() -> Iterator[str]:
    """A web server on loopback that answers every request with an HTML 404 page."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_endpoint_refusing_connections_is_told_at_once(closed_url: str, tmp_path: Path) -> None:
    """A closed port: exit 2 within seconds, one line naming it, report untouched, no partial."""
    out = tmp_path / "r.ndjson"
    out.write_bytes(PREVIOUS)
    started = time.monotonic()
    result = run_cli(
        "identities", "--endpoint-url", closed_url, "--max-attempts", "8", "-o", str(out)
    )
    assert time.monotonic() - started < 10  # the interpreter's start included
    assert_refused(result.stderr, result.returncode, f"cannot reach SES at {closed_url}")
    assert out.read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]


@pytest.mark.parametrize("command", ["pools", "import-jobs"])
def test_every_audit_command_tells_a_closed_port_at_once(
    closed_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """The other audit commands, too, exit 2 at once on a closed port, writing nothing."""
    out = tmp_path / "r.ndjson"
    started = time.monotonic()
    code, stdout, stderr = run_main(
        [command, "--endpoint-url", closed_url, "--max-attempts", "8", "-o", str(out)], capsys
    )
    assert time.monotonic() - started < 5
    assert_refused(stderr, code, f"cannot reach SES at {closed_url}")
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_create_pool_at_a_closed_port_is_told_at_once(closed_url: str) -> None:
    """create-pool with valid arguments and nothing listening: exit 2 naming the endpoint."""
    started = time.monotonic()
    result = run_cli("create-pool", "outbound", "--endpoint-url", closed_url, "--region", REGION)
    assert time.monotonic() - started < 10
    assert_refused(result.stderr, result.returncode, f"cannot reach SES at {closed_url}")
    assert result.stdout == ""


def test_endpoint_answering_html_404_is_not_ses(html_404_url: str, tmp_path: Path) -> None:
    """A web server answering HTML 404: exit 2, one line naming it and the answer; report kept."""
    out = tmp_path / "r.ndjson"
    out.write_bytes(PREVIOUS)
    result = run_cli("identities", "--endpoint-url", html_404_url, "-o", str(out))
    assert_refused(
        result.stderr, result.returncode, f"cannot reach SES at {html_404_url}", "HTTP 404"
    )
    assert out.read_bytes() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.ndjson"]


def test_configuration_error_writes_nothing_to_stdout(closed_url: str) -> None:
    """Exit 2 means nothing was written (exits.py): with stdout as the report, too."""
    result = run_cli("identities", "--endpoint-url", closed_url)
    assert_refused(result.stderr, result.returncode, "cannot reach SES")
    assert result.stdout == ""
