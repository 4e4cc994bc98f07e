"""The library's guarantees, each pinned against the embedded SES v2 endpoint over real HTTP.

Leaving early and cancelling stop the work and leak nothing; the host loop stays responsive;
clients share no state; the library never configures logging, prints or touches signals; a
closed client refuses work; a caller's own aioboto3 session is used; records are plain JSON,
identical to the NDJSON lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http.client
import io
import json
import logging
import signal
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aioboto3
import anyio
import orjson
import pytest
import structlog

import asyncses
from asyncses.local import LocalSES

from .faultproxy import FaultProxy, Faults
from .helpers import REGION, ROOT, no_problems

T = TypeVar("T")

#: Loop gap that only a blocking call can explain: ticks are 10 ms apart (a busy machine
#: running the tests on both cores still stays well under it).
MAX_LOOP_GAP = 1.0
#: Loose bound for "promptly": an uncancelled run would take several times longer.
PROMPT = 5.0
#: Added to every request by the slow proxies, so lookups are outstanding when we leave.
LATENCY = 0.05
GET_IDENTITY = r"^GET /v2/email/identities/[^/?]+$"


# -- helpers --------------------------------------------------------------------------------


@contextlib.contextmanager
def no_leaks() -> Iterator[None]:
    """Fail on an unclosed resource, a never-awaited coroutine or a loop error inside."""
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            gc.collect()
    finally:
        loop.set_exception_handler(previous)
    leaks = [
        str(w.message) for w in caught if issubclass(w.category, (ResourceWarning, RuntimeWarning))
    ]
    assert leaks == []
    assert [context.get("message") for context in loop_errors] == []


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks of the running loop other than the current one."""
    return asyncio.all_tasks() - {asyncio.current_task()}


async def settled_requests(proxy: FaultProxy, quiet: float = 0.3) -> int:
    """The proxy's request count once no request arrived for ``quiet`` seconds."""
    count = proxy.stats.requests
    with anyio.fail_after(PROMPT):
        while True:
            await anyio.sleep(quiet)
            now = proxy.stats.requests
            if now == count:
                return count
            count = now


async def assert_no_more_requests(proxy: FaultProxy) -> int:
    """Once settled, the proxy sees no further request: nothing is still working."""
    settled = await settled_requests(proxy)
    await anyio.sleep(0.3)
    assert proxy.stats.requests == settled
    return settled


async def with_max_gap(work: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """Run ``work`` while a ticker sleeps 10 ms at a time; return its result and the longest gap."""
    gaps: list[float] = []
    done = anyio.Event()

    async def tick() -> None:
        last = anyio.current_time()
        while not done.is_set():
            await anyio.sleep(0.01)
            now = anyio.current_time()
            gaps.append(now - last)
            last = now

    async with anyio.create_task_group() as tg:
        tg.start_soon(tick)
        try:
            result = await work()
        finally:
            done.set()
    assert len(gaps) > 10  # the ticker really ran alongside
    return result, max(gaps)


def names(records: Sequence[Mapping[str, Any]], field: str = "IdentityName") -> list[str]:
    """The sorted item names of ``records``."""
    return sorted(str(record[field]) for record in records)


def by_key(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``records`` in a stable order (they arrive in completion order)."""
    return sorted(records, key=lambda record: asyncses.record_key(record)[1:])


async def collect(stream: AsyncIterator[T | asyncses.ProblemRecord]) -> list[T]:
    """Every record of ``stream``, which must hold no ``account`` or ``listing`` record."""
    return no_problems([item async for item in stream])


def local_client(endpoint_url: str, **settings: Any) -> asyncses.Client:
    """A client for the test region at ``endpoint_url``, at a fixed pace far above what the
    local endpoint serves (no cautious start to wait for)."""
    settings.setdefault("rate", 2000.0)
    return asyncses.Client(regions=[REGION], endpoint_url=endpoint_url, **settings)


# -- leaving early ------------------------------------------------------------------------------


async def test_break_cancels_outstanding_lookups(ses: LocalSES) -> None:
    """Breaking out early stops every lookup at once: no more requests, no task left over."""
    ses.seed_identities(REGION, 400)
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy, no_leaks():
        async with local_client(proxy.url, concurrency=8, page_size=100) as client:
            received = 0
            async for _ in client.email_identities():
                received += 1
                if received == 3:
                    break
            sent = await assert_no_more_requests(proxy)
            assert sent < 50  # a full audit sends 404 requests
            assert other_tasks() == set()
            # The client is still usable after an abandoned iteration.
            listed = await collect(client.email_identities(list_only=True))
            assert len(listed) == 400
        assert other_tasks() == set()


async def test_aclose_stops_the_stream_at_once(ses: LocalSES) -> None:
    """``aclose()`` on a record stream cancels its lookups; the stream then ends."""
    ses.seed_identities(REGION, 300)
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy, no_leaks():
        async with local_client(proxy.url, concurrency=8) as client:
            stream = client.email_identities()
            first = await stream.__anext__()
            assert first["error"] is None
            await stream.aclose()
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
            assert await assert_no_more_requests(proxy) < 50
            assert other_tasks() == set()


async def test_exception_in_the_loop_body_cancels_the_lookups(ses: LocalSES) -> None:
    """An exception raised while iterating propagates unchanged and stops the lookups."""
    ses.seed_identities(REGION, 300)
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy, no_leaks():
        async with local_client(proxy.url, concurrency=8) as client:
            with pytest.raises(KeyError, match="boom"):
                async for _ in client.email_identities():
                    raise KeyError("boom")
            assert await assert_no_more_requests(proxy) < 50
            assert other_tasks() == set()


def test_early_exit_and_cancellation_leak_nothing_in_dev_mode(
    ses: LocalSES, tmp_path: Path
) -> None:
    """Under ``python -X dev -W error``, break, cancel and full audits leave no warning at all."""
    ses.seed_identities(REGION, 60)
    ses.seed_pools(REGION, 3)
    script = tmp_path / "leaks.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, gc, sys
            import anyio, asyncses

            async def main(direct: str, slow: str) -> None:
                loop = asyncio.get_running_loop()
                # Creating a botocore client reads its JSON service model (~0.1 s); a stall
                # beyond 1 s would still be reported.
                loop.slow_callback_duration = 1.0
                errors = []
                loop.set_exception_handler(lambda _loop, context: errors.append(context))
                async with asyncses.Client(
                    regions=["us-east-1"], endpoint_url=slow, concurrency=8
                ) as client:
                    async for _ in client.email_identities():
                        break
                    async for _ in client.dedicated_ip_pools(with_ips=True):
                        break
                    with anyio.move_on_after(0.3):
                        async for _ in client.email_identities():
                            pass

                    async def audit() -> None:
                        async for _ in client.email_identities():
                            pass

                    task = asyncio.create_task(audit())
                    await asyncio.sleep(0.3)
                    task.cancel()
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
                    assert task.cancelled()
                async with asyncses.Client(
                    regions=["us-east-1"], endpoint_url=direct, page_size=50
                ) as client:
                    records = [record async for record in client.email_identities()]
                gc.collect()
                bad = sum(record["error"] is not None for record in records)
                print(f"records={len(records)} errors={bad} loop_errors={len(errors)}")

            asyncio.run(main(sys.argv[1], sys.argv[2]))
            gc.collect()
            """
        )
    )
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy:
        result = subprocess.run(
            [sys.executable, "-X", "dev", "-W", "error", str(script), ses.url, proxy.url],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )
    assert result.stderr == ""
    assert result.returncode == 0
    assert result.stdout.strip() == "records=60 errors=0 loop_errors=0"


def test_endpoint_sends_a_single_server_header(ses: LocalSES) -> None:
    """The embedded endpoint drops moto's duplicate Server header (aiohttp's strict parser)."""
    conn = http.client.HTTPConnection("127.0.0.1", ses.port, timeout=10)
    try:
        auth = (
            f"AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/ses/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
        conn.request("GET", "/v2/email/identities", headers={"Authorization": auth})
        answer = conn.getresponse()
        answer.read()
    finally:
        conn.close()
    assert answer.status == 200
    assert answer.headers.get_all("Server") == ["amazon.com"]


# -- cancellation -------------------------------------------------------------------------------


async def test_cancelling_the_callers_task_propagates_promptly(ses: LocalSES) -> None:
    """``task.cancel()`` mid-audit ends the task promptly as cancelled; nothing runs on."""
    ses.seed_identities(REGION, 400)
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy, no_leaks():
        first = asyncio.Event()
        received = 0

        async def audit() -> None:
            nonlocal received
            async with local_client(proxy.url, concurrency=8) as client:
                async for _ in client.email_identities():
                    received += 1
                    first.set()

        task = asyncio.create_task(audit())
        await first.wait()
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < PROMPT
        assert task.cancelled()
        assert received < 400
        await assert_no_more_requests(proxy)
        assert other_tasks() == set()


async def test_cancel_scope_deadline_stops_the_audit(ses: LocalSES) -> None:
    """A deadline (``anyio.fail_after``) around an audit raises TimeoutError promptly."""
    ses.seed_identities(REGION, 400)
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy, no_leaks():
        received = 0
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            with anyio.fail_after(1.0):  # the whole audit takes about 3 s
                async with local_client(proxy.url, concurrency=8) as client:
                    async for _ in client.email_identities():
                        received += 1
        assert time.monotonic() - started < PROMPT
        assert received < 400
        assert proxy.stats.requests > 0  # the deadline struck while work was under way
        await assert_no_more_requests(proxy)
        assert other_tasks() == set()


async def test_cancelled_wait_for_a_record_ends_the_stream(ses: LocalSES) -> None:
    """A deadline striking while a stream waits for a record stops its work; the stream ends."""
    ses.seed_identities(REGION, 50)
    with FaultProxy(ses.url, Faults(latency=1.0)) as proxy, no_leaks():
        async with local_client(proxy.url) as client:
            stream = client.email_identities()
            with anyio.move_on_after(0.2) as scope:
                await stream.__anext__()  # the first page alone takes 1 s
            assert scope.cancelled_caught
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
            assert await assert_no_more_requests(proxy) == 1  # just the first list call
            assert other_tasks() == set()


async def test_cancelling_a_consumer_task_leaves_the_client_usable(ses: LocalSES) -> None:
    """A stream consumed in a child task that is cancelled stops; the client works on."""
    ses.seed_identities(REGION, 300)
    with FaultProxy(ses.url, Faults(latency=LATENCY)) as proxy, no_leaks():
        async with local_client(proxy.url, concurrency=8) as client:
            first = anyio.Event()
            cancelled = False

            async def consume() -> None:
                nonlocal cancelled
                try:
                    async for _ in client.email_identities():
                        first.set()
                except anyio.get_cancelled_exc_class():
                    cancelled = True
                    raise

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await first.wait()
                tg.cancel_scope.cancel()
            assert cancelled
            assert await assert_no_more_requests(proxy) < 50
            assert other_tasks() == set()
            assert len(await collect(client.email_identities(list_only=True))) == 300


# -- the host loop stays responsive ------------------------------------------------------------


async def test_loop_keeps_ticking_during_a_large_audit_written_to_a_file(
    ses: LocalSES, tmp_path: Path
) -> None:
    """A 5,000-identity audit written with write_ndjson never stalls the loop (blocking check)."""
    seeded = ses.seed_identities(REGION, 5000)
    # Full lookups on 300 of them (moto costs ~4 ms a request): resume past the others.
    skip: set[asyncses.ItemKey] = {("email_identity", None, REGION, n) for n in seeded[300:]}
    resume = asyncses.Resume(skip=skip)
    listed, looked_up = tmp_path / "listed.ndjson", tmp_path / "looked-up.ndjson"

    async def audit() -> tuple[asyncses.WriteResult, asyncses.WriteResult]:
        async with local_client(ses.url) as client:
            return (
                await asyncses.write_ndjson(client.email_identities(list_only=True), listed),
                await asyncses.write_ndjson(client.email_identities(resume=resume), looked_up),
            )

    results, gap = await with_max_gap(audit)
    assert results == (
        asyncses.WriteResult(records=5000, errors=0),
        asyncses.WriteResult(records=300, errors=0),
    )
    assert len(listed.read_bytes().splitlines()) == 5000
    assert len(looked_up.read_bytes().splitlines()) == 300
    assert resume.seen == skip  # every item left out was still listed
    assert resume.listed == {(None, REGION)}
    assert gap < MAX_LOOP_GAP


class SlowDisk(io.BytesIO):
    """A binary stream whose every write takes 1.5 s, like a disk that is far too slow: a
    write on the loop would show as a gap above MAX_LOOP_GAP."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> int:
        """Block, then keep the bytes."""
        time.sleep(1.5)
        self.writes += 1
        return super().write(data)


async def test_slow_writes_do_not_block_the_loop(ses: LocalSES) -> None:
    """write_ndjson writes off the loop: a stream blocking 1.5 s per write stalls no tick."""
    ses.seed_identities(REGION, 3000)
    target = SlowDisk()

    async def audit() -> asyncses.WriteResult:
        async with local_client(ses.url) as client:
            return await asyncses.write_ndjson(client.email_identities(list_only=True), target)

    result, gap = await with_max_gap(audit)
    assert result.records == 3000
    assert target.writes >= 2  # the blocking write really happened, more than once
    assert target.writes <= 10  # batched while the disk is busy, not a write per line
    assert len(target.getvalue().splitlines()) == 3000
    assert gap < MAX_LOOP_GAP


# -- no global state ----------------------------------------------------------------------------


async def test_two_clients_with_different_settings_run_side_by_side(ses: LocalSES) -> None:
    """Two clients in one loop, each with its own endpoint and settings, both get everything."""
    seeded = ses.seed_identities(REGION, 150)
    results: dict[str, list[asyncses.EmailIdentityRecord]] = {}
    with (
        FaultProxy(ses.url) as plain,
        FaultProxy(ses.url, Faults(error=0.15, match=GET_IDENTITY), seed=3) as flaky,
    ):
        # "a" never retries: had it picked up "b"'s faults it would have error records.
        # "b" must retry: had it picked up "a"'s max_attempts=1 it would have error records.
        clients = {
            "a": local_client(plain.url, concurrency=2, page_size=25, max_attempts=1),
            "b": local_client(flaky.url, concurrency=16, page_size=1000, max_attempts=10),
        }

        async def run(name: str) -> None:
            async with clients[name] as client:
                results[name] = await collect(client.email_identities())

        async with anyio.create_task_group() as tg:
            for name in clients:
                tg.start_soon(run, name)

    for name in ("a", "b"):
        assert names(results[name]) == sorted(seeded)
        assert [r["IdentityName"] for r in results[name] if r["error"] is not None] == []
    assert flaky.stats.errors > 0 and plain.stats.errors == 0
    assert clients["b"].stats.retries >= flaky.stats.errors
    assert clients["a"].stats.retries == 0

    def list_calls(proxy: FaultProxy) -> list[str]:
        return [r.path for r in proxy.stats.log if r.path.startswith("/v2/email/identities?")]

    assert len(list_calls(plain)) == 6 and all("PageSize=25" in p for p in list_calls(plain))
    assert len(list_calls(flaky)) == 1 and "PageSize=1000" in list_calls(flaky)[0]


# -- logging to the host's logging only, no prints, no signal handlers ----------------------------


async def test_logs_reach_the_hosts_logging_and_nothing_else(
    ses: LocalSES, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Events go to the standard logger 'asyncses' only: no config, prints or signal handlers."""
    caplog.set_level(logging.DEBUG)
    ses.seed_identities(REGION, 20)
    ses.seed_pools(REGION, 2)
    loop = asyncio.get_running_loop()
    root_handlers = list(logging.root.handlers)
    root_level = logging.root.level
    ours = logging.getLogger("asyncses")
    our_handlers = list(ours.handlers)
    signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    assert not structlog.is_configured()

    failing = Faults(error=1.0, match=GET_IDENTITY + "|^GET /v2/email/dedicated-ip-pools")
    with FaultProxy(ses.url, failing) as proxy:
        async with local_client(proxy.url, max_attempts=2) as client:
            records = await collect(client.email_identities())
            pools = [pool async for pool in client.dedicated_ip_pools()]
    assert len(records) == 20
    assert all(r["error"] is not None and r["error"]["attempts"] == 2 for r in records)
    assert [p["type"] for p in pools] == ["listing"]  # the pool listing failed for good

    failures = [
        r
        for r in caplog.records
        if r.name == "asyncses" and r.getMessage().startswith("call failed")
    ]
    assert len(failures) >= 40  # each lookup failed twice; the events name what failed
    event = failures[0].__dict__["asyncses"]
    assert event["event"] == "call failed" and event["code"] == "InternalFailure"
    assert {"operation", "key", "status", "region"} <= set(event)

    assert not structlog.is_configured()
    assert logging.root.handlers == root_handlers
    assert logging.root.level == root_level
    assert ours.handlers == our_handlers
    assert all(isinstance(h, logging.NullHandler) for h in ours.handlers)
    assert {sig: signal.getsignal(sig) for sig in signals} == signals
    assert getattr(loop, "_signal_handlers", {}) == {}
    assert capfd.readouterr() == ("", "")


# -- closed clients -----------------------------------------------------------------------------


async def test_closed_client_raises_client_closed_error(ses: LocalSES) -> None:
    """After ``async with`` a client refuses every call and re-entry with ClientClosedError."""
    client = local_client(ses.url)
    async with client:
        stream = client.email_identities()
    with pytest.raises(asyncses.ClientClosedError):
        client.email_identities()
    with pytest.raises(asyncses.ClientClosedError):
        client.dedicated_ip_pools()
    with pytest.raises(asyncses.ClientClosedError):
        client.import_jobs()
    with pytest.raises(asyncses.ClientClosedError):
        await client.create_dedicated_ip_pool("after-close")
    with pytest.raises(asyncses.ClientClosedError):
        await stream.__anext__()  # created while open, iterated after close
    with pytest.raises(asyncses.ClientClosedError):
        async with client:
            pass
    await client.aclose()  # idempotent
    async with local_client(ses.url) as fresh:
        assert await collect(fresh.dedicated_ip_pools()) == []  # nothing was created


async def test_unopened_client_raises_client_closed_error(ses: LocalSES) -> None:
    """A client used before ``async with`` says how to use it."""
    client = local_client(ses.url)
    with pytest.raises(asyncses.ClientClosedError, match="async with"):
        client.email_identities()
    with pytest.raises(asyncses.ClientClosedError):
        await client.create_dedicated_ip_pool("never")


# -- an endpoint that is not SES ---------------------------------------------------------------


async def test_unreachable_endpoint_raises_unreachable_error_at_once(tmp_path: Path) -> None:
    """A closed port: UnreachableError (a UsageError) naming the endpoint, one call, at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening
        received: list[Any] = []
        started = time.monotonic()
        async with local_client(closed, max_attempts=8) as client:
            with pytest.raises(asyncses.UnreachableError) as caught:
                async for record in client.email_identities():
                    received.append(record)
        elapsed = time.monotonic() - started
    assert received == []
    assert elapsed < PROMPT
    assert isinstance(caught.value, asyncses.UsageError)
    assert str(caught.value).startswith(f"cannot reach SES at {closed}: ")
    cause = caught.value.cause
    assert isinstance(cause, asyncses.EndpointError)
    assert (cause.operation, cause.attempts) == ("ListEmailIdentities", 1)
    assert client.stats.calls == 1


async def test_settings_object_and_keywords_combine(ses: LocalSES) -> None:
    """``Client(settings, **fields)`` runs with the settings, the keywords replacing fields."""
    ses.seed_identities(REGION, 30)
    settings = asyncses.Settings(regions=(REGION,), endpoint_url=ses.url, page_size=1000)
    with FaultProxy(ses.url) as proxy:
        async with asyncses.Client(settings, endpoint_url=proxy.url, page_size=10) as client:
            assert client.settings.page_size == 10
            assert client.settings.regions == (REGION,)
            listed = await collect(client.email_identities(list_only=True))
        paths = [entry.path for entry in proxy.stats.log]
    assert len(listed) == 30
    assert len(paths) == 3 and all("PageSize=10" in p for p in paths)
    assert settings.page_size == 1000  # the caller's settings are left as they were


# -- a caller's own session ---------------------------------------------------------------------


async def test_custom_session_supplies_credentials_and_region(
    ses: LocalSES, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller's aioboto3.Session is used: its credentials and region, none from the env."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    ses.seed_identities("eu-west-2", 4, prefix="london")
    ses.seed_identities(REGION, 3, prefix="virginia")
    with pytest.raises(asyncses.NoCredentialsError):
        async with asyncses.Client(regions=[REGION], endpoint_url=ses.url):
            pass
    session = aioboto3.Session(
        aws_access_key_id="caller", aws_secret_access_key="caller", region_name="eu-west-2"
    )
    async with asyncses.Client(session=session, endpoint_url=ses.url) as client:
        assert client.regions == ["eu-west-2"]
        records = await collect(client.email_identities())
    assert len(records) == 4
    assert {r["region"] for r in records} == {"eu-west-2"}
    assert all(r["IdentityName"].startswith("london-") and r["error"] is None for r in records)


def test_session_and_profile_together_are_refused() -> None:
    """Passing both a session and a profile is a UsageError, raised before any call."""
    with pytest.raises(asyncses.UsageError):
        asyncses.Client(session=aioboto3.Session(), profile="other")


# -- records and NDJSON -------------------------------------------------------------------------


async def test_write_ndjson_path_and_stream_match_the_records(
    ses: LocalSES, tmp_path: Path
) -> None:
    """write_ndjson to a path and to BytesIO gives the same lines, equal to the records."""
    ses.seed_identities(REGION, 40)
    ses.seed_pools(REGION, 4)
    ses.seed_import_jobs(REGION, 10)
    async with local_client(ses.url, concurrency=4) as client:
        audits: dict[str, Callable[[], AsyncIterator[Mapping[str, Any]]]] = {
            "identities": client.email_identities,
            "pools": lambda: client.dedicated_ip_pools(with_ips=True),
            "jobs": lambda: client.import_jobs(details=True),
        }
        for kind, audit in audits.items():
            records = await collect(audit())
            path = tmp_path / f"{kind}.ndjson"
            to_path = await asyncses.write_ndjson(audit(), path)
            buffer = io.BytesIO()
            to_stream = await asyncses.write_ndjson(audit(), buffer)

            path_lines = path.read_bytes().splitlines()
            stream_lines = buffer.getvalue().splitlines()
            assert not buffer.closed  # a stream passed in is left open
            assert to_path == to_stream == asyncses.WriteResult(records=len(records), errors=0)
            assert sorted(path_lines) == sorted(stream_lines)
            assert by_key([orjson.loads(line) for line in path_lines]) == by_key(records)
            # Plain JSON-ready dicts: the standard library round-trips them unchanged.
            assert [json.loads(json.dumps(r)) for r in records] == records
    assert len(records) == 10 and {r["type"] for r in records} == {"import_job"}


async def test_import_jobs_filter_by_destination_type(ses: LocalSES) -> None:
    """``import_jobs(destination_type=...)`` yields only jobs of that destination."""
    ses.seed_import_jobs(REGION, 10)
    async with local_client(ses.url) as client:
        suppression = await collect(client.import_jobs(destination_type="SUPPRESSION_LIST"))
        everything = await collect(client.import_jobs())
        with pytest.raises(asyncses.UsageError):
            client.import_jobs(destination_type="NOWHERE")
    assert len(everything) == 10
    assert len(suppression) == 5
    assert all("SuppressionListDestination" in r["ImportDestination"] for r in suppression)


async def test_create_dedicated_ip_pool_returns_the_listed_record(ses: LocalSES) -> None:
    """A created pool comes back as the same record the pool audit yields; twice is an error."""
    async with local_client(ses.url) as client:
        created = await client.create_dedicated_ip_pool("marketing", "MANAGED", {"team": "growth"})
        with pytest.raises(asyncses.AlreadyExistsError) as caught:
            await client.create_dedicated_ip_pool("marketing")
        listed = await collect(client.dedicated_ip_pools())
    assert created["PoolName"] == "marketing" and created["ScalingMode"] == "MANAGED"
    assert listed == [created]
    assert caught.value.operation == "CreateDedicatedIpPool"
    assert isinstance(caught.value, asyncses.AsyncsesError)
