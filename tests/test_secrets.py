"""Secrets never reach logs (any level) or reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncses.local import DEFAULT_ACCOUNT, LocalSES
from asyncses.ses.errors import scrub

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, run_cli

ACCESS_KEY = "AKIAMARKERKEY0000001"
SECRET_KEY = "marker-secret-c2VjcmV0LXNob3VsZC1uZXZlci1sZWFr"
SESSION_TOKEN = "marker-session-token-dG9rZW4tc2hvdWxkLW5ldmVyLWxlYWs"


def test_no_secret_in_debug_logs_or_reports(
    ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With marker credentials, debug logging and failing calls, no marker leaks anywhere."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    names = ses.seed_identities(REGION, 15)
    out = tmp_path / "r.ndjson"
    faults = Faults(throttle=0.3, error=0.1, match=f"GET /v2/email/identities/(?!{names[0]})")
    bad = Faults(error=1.0, match=f"GET /v2/email/identities/{names[0]}")
    with FaultProxy(ses.url, faults, seed=3) as proxy:
        result = run_cli(
            "identities",
            "--endpoint-url",
            proxy.url,
            "--log-level",
            "debug",
            "--max-attempts",
            "10",
            "--rate",
            "200",
            "-o",
            str(out),
        )
        assert proxy.stats.throttled > 0
    with FaultProxy(ses.url, bad) as proxy:
        failing = run_cli(
            "identities",
            "--endpoint-url",
            proxy.url,
            "--log-level",
            "debug",
            "--max-attempts",
            "2",
        )
    assert result.returncode == 0, result.stderr
    assert failing.returncode == 1
    assert '"call failed"' in result.stderr  # debug logging really was on
    texts = [result.stdout, result.stderr, failing.stdout, failing.stderr, out.read_text()]
    for text in texts:
        for marker in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, "Signature=", "Authorization"):
            assert marker not in text


def test_no_profile_secret_in_logs_records_or_errors(
    ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Profile keys stay out of debug logs, account error records and unreachable errors."""
    config = tmp_path / "config"
    config.write_text(
        f"[profile marked]\naws_access_key_id = {ACCESS_KEY}\n"
        f"aws_secret_access_key = {SECRET_KEY}\naws_session_token = {SESSION_TOKEN}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", ses.url)
    ses.seed_identities(REGION, 3)
    ses.disable_region(DEFAULT_ACCOUNT, "eu-west-1")
    common = ("--profile", "marked", "--log-level", "debug", "--list-only")
    refused = run_cli(
        "identities", "--endpoint-url", ses.url, "--region", f"{REGION},eu-west-1", *common
    )
    unreachable = run_cli(
        "identities", "--endpoint-url", "http://127.0.0.1:9", "--region", REGION, *common
    )
    assert refused.returncode == 1, refused.stderr
    assert '"type":"account"' in refused.stdout  # the refusal is in the report
    assert unreachable.returncode == 2, unreachable.stderr
    assert "cannot reach SES" in unreachable.stderr
    for text in (refused.stdout, refused.stderr, unreachable.stdout, unreachable.stderr):
        for marker in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, "Signature=", "Authorization"):
            assert marker not in text


def test_scrub_removes_signatures_scopes_tokens_and_key_ids() -> None:
    """The one scrubber used for messages removes every secret-shaped part."""
    text = (
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/20240101/us-east-1/"
        "ses/aws4_request, SignedHeaders=host, Signature=0123456789abcdef "
        "X-Amz-Security-Token=FwoGZXIvYXdzEJr key AKIAABCDEFGHIJKLMNOP"
    )
    clean = scrub(text)
    for secret in ("AKIAABCDEFGHIJKLMNOP", "0123456789abcdef", "FwoGZXIvYXdzEJr"):
        assert secret not in clean
    assert clean.count("<redacted>") >= 4
