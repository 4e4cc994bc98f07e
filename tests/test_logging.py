"""Logging: the library logs to the standard logger ``asyncses`` and nowhere else; the command
line renders those events as JSON lines on stderr, with secrets scrubbed."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

import asyncses
from asyncses.cli.logs import redact
from asyncses.engine.pacing import Pacer
from asyncses.local import LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT, no_problems, read_ndjson, run_cli
from .virtualtime import VirtualTimeLoop

SECRET = "topsecretvalue42"  # an AWS_SECRET_ACCESS_KEY value the logs must never show


@pytest.fixture
def proxy(ses: LocalSES) -> Iterator[FaultProxy]:
    """A fault proxy in front of the endpoint that throttles a third of the requests."""
    with FaultProxy(ses.url, Faults(throttle=0.35), seed=4) as fault_proxy:
        yield fault_proxy


def events(records: list[logging.LogRecord], name: str) -> list[dict[str, Any]]:
    """The structured events called ``name`` among the ``asyncses`` log records."""
    found = []
    for record in records:
        event = getattr(record, "asyncses", None)
        if record.name == "asyncses" and isinstance(event, dict) and event.get("event") == name:
            found.append(event)
    return found


async def test_throttles_reach_the_hosts_logging(
    ses: LocalSES, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """With logging set up by the host, each throttle is a record carrying event and operation."""
    names = set(ses.seed_identities(REGION, 12))
    caplog.set_level(logging.DEBUG, logger="asyncses")
    async with asyncses.Client(regions=[REGION], endpoint_url=proxy.url, rate=200.0) as client:
        records = no_problems([r async for r in client.email_identities()])
    assert {r["IdentityName"] for r in records} == names
    assert proxy.stats.throttled >= 3
    throttled = events(caplog.records, "throttled")
    assert len(throttled) == proxy.stats.throttled
    assert {e["operation"] for e in throttled} <= {"ListEmailIdentities", "GetEmailIdentity"}
    lookups = [e for e in throttled if e["operation"] == "GetEmailIdentity"]
    assert lookups and all(e["key"] in names for e in lookups)
    assert all(e["region"] == REGION for e in throttled)  # the unit's context is bound
    record = next(r for r in caplog.records if getattr(r, "asyncses", {}).get("event"))
    assert record.levelno == logging.DEBUG
    assert record.getMessage().startswith("throttled ")
    assert "operation=" in record.getMessage()


async def test_a_disabled_level_logs_nothing(
    ses: LocalSES, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """At the host's WARNING level the throttles (debug events) make no records."""
    ses.seed_identities(REGION, 8)
    caplog.set_level(logging.WARNING, logger="asyncses")
    async with asyncses.Client(regions=[REGION], endpoint_url=proxy.url, rate=200.0) as client:
        assert len([r async for r in client.email_identities()]) == 8
    assert proxy.stats.throttled >= 1
    assert [r for r in caplog.records if r.name.startswith("asyncses")] == []


def test_pace_changes_reach_logging(caplog: pytest.LogCaptureFixture) -> None:
    """A pacer that finds a quota logs "pace set" with the rate and quota it learned."""
    caplog.set_level(logging.INFO, logger="asyncses")
    quota = 5.0

    async def main() -> None:
        pacer = Pacer(clock=anyio.current_time)
        tokens, last = 3.0, 0.0
        rng = random.Random(1)

        async def worker() -> None:
            nonlocal tokens, last
            while anyio.current_time() < 60:
                sent = await pacer.acquire()
                await anyio.sleep(0.02 * rng.uniform(0.5, 1.5))
                now = anyio.current_time()
                tokens, last = min(3.0, tokens + (now - last) * quota), now
                ok = tokens >= 1.0
                tokens -= ok
                await anyio.sleep(0.02 * rng.uniform(0.5, 1.5))
                if ok:
                    pacer.on_success(sent)
                else:
                    pacer.on_throttle(sent)

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(worker)

    anyio.run(main, backend="asyncio", backend_options={"loop_factory": VirtualTimeLoop})
    paces = events(caplog.records, "pace set")
    assert paces, "no pace change was logged"
    last_pace = paces[-1]
    assert last_pace["quota"] == pytest.approx(quota, rel=0.3)
    assert last_pace["rate"] <= last_pace["quota"]
    record = next(r for r in caplog.records if getattr(r, "asyncses", {}).get("event"))
    assert record.levelno == logging.INFO and record.getMessage().startswith("pace set rate=")


def test_the_library_configures_no_logging() -> None:
    """Importing and using the library leaves the ``asyncses`` logger as a library should."""
    logger = logging.getLogger("asyncses")
    assert [type(h) for h in logger.handlers] == [logging.NullHandler]
    assert logger.level == logging.NOTSET and logger.propagate


QUIET_HOST = """
import anyio, asyncses, sys
async def main():
    async with asyncses.Client(
        profiles=["first", "second"], regions=["us-east-1"], endpoint_url=sys.argv[1], rate=200.0
    ) as client:
        assert client.duplicates == [("first", "second")], client.duplicates
        count = len([r async for r in client.email_identities()])
    assert count == 6, count
anyio.run(main)
"""


def _host(script: str, url: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_nothing_is_printed_when_logging_is_not_configured(
    ses: LocalSES, proxy: FaultProxy, tmp_path: Path
) -> None:
    """A host that configures no logging sees no output, though warnings and throttles happen."""
    import os

    ses.seed_identities(REGION, 6)
    (tmp_path / "credentials").write_text(
        "[first]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        "[second]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    env = {
        **os.environ,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_ENDPOINT_URL_STS": ses.url,  # the same account twice: a warning event
    }
    quiet = _host(QUIET_HOST, proxy.url, env)
    assert quiet.returncode == 0, quiet.stderr
    assert (quiet.stdout, quiet.stderr) == ("", "")
    thrown = proxy.stats.throttled
    assert thrown >= 1
    # The same run with the host's logging on shows the events that stayed quiet above.
    loud = _host(
        "import logging; logging.basicConfig(level=logging.DEBUG)\n" + QUIET_HOST, proxy.url, env
    )
    assert loud.returncode == 0, loud.stderr
    assert "WARNING:asyncses:same account twice" in loud.stderr
    assert proxy.stats.throttled > thrown
    assert "DEBUG:asyncses:throttled operation=" in loud.stderr


def test_cli_logs_json_lines_with_secrets_scrubbed(
    ses: LocalSES, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off a terminal the CLI writes one JSON object per event; the secret key never shows."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    ses.seed_identities(REGION, 4)
    ses.set_identity(REGION, f"{SECRET}.example.com")
    report = tmp_path / "report.ndjson"
    faults = Faults(throttle=0.6, match=SECRET)  # only the lookup named after the secret
    with FaultProxy(ses.url, faults, seed=7) as proxy:
        result = run_cli(
            "identities",
            "--endpoint-url",
            proxy.url,
            "--rate",
            "200",
            "--log-level",
            "debug",
            "-o",
            str(report),
        )
        throttled = proxy.stats.throttled
    assert result.returncode == 0, result.stderr
    assert throttled >= 1
    assert len(read_ndjson(report)) == 5
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("asyncses: 5 records")  # the summary line, for people
    logged = [orjson.loads(line) for line in lines[:-1]]  # every other line is JSON
    assert all({"event", "level", "timestamp"} <= set(event) for event in logged)
    keys = [e.get("key") for e in logged if e["event"] == "throttled"]
    assert len(keys) == throttled
    assert set(keys) == {"<redacted>.example.com"}
    assert SECRET not in result.stderr and SECRET not in result.stdout


def test_cli_default_level_hides_debug_events(ses: LocalSES, proxy: FaultProxy) -> None:
    """At the default level (warning) throttles are not logged: stderr has the summary only."""
    ses.seed_identities(REGION, 6)
    result = run_cli("identities", "--endpoint-url", proxy.url, "--rate", "200")
    assert result.returncode == 0, result.stderr
    assert proxy.stats.throttled >= 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("asyncses: 6 records")


def test_redact_scrubs_every_string_of_an_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """redact removes the environment's secrets and anything shaped like a credential."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "sessiontoken-abcdef")
    event: dict[str, Any] = {
        "event": f"call failed with {SECRET}",
        "header": "Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/ses/aws4_request, "
        "Signature=0123456789abcdef",
        "token": "X-Amz-Security-Token=sessiontoken-abcdef",
        "key": "AKIAIOSFODNN7EXAMPLE",
        "count": 3,
    }
    redacted = redact(dict(event))
    text = orjson.dumps(redacted).decode()
    for secret in (SECRET, "AKIAIOSFODNN7EXAMPLE", "0123456789abcdef", "sessiontoken-abcdef"):
        assert secret not in text, secret
    assert redacted["count"] == 3
    assert redacted["event"] == "call failed with <redacted>"


def test_cli_log_lines_are_colourless_json_not_console_text() -> None:
    """A usage warning logged by the CLI (duplicate profiles) is a JSON line too."""
    script = textwrap.dedent(
        """
        import logging, sys
        from asyncses.cli.logs import configure_logging
        from asyncses.engine.log import get_logger
        configure_logging("info")
        get_logger().warning("same account twice", account="123456789012")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    event = orjson.loads(result.stderr)
    assert event["event"] == "same account twice" and event["level"] == "warning"
    assert event["account"] == "123456789012"
    assert "\x1b[" not in result.stderr
