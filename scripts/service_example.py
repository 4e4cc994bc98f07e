"""A small asyncio service built on asyncses: audit on a schedule, serve the latest summary.

Every ``--interval`` seconds it audits the email identities of one region with
:meth:`asyncses.Client.email_identities`, counts what it found, and keeps that summary.
A tiny HTTP server (standard library only) answers::

    GET /summary   200 and the latest summary as JSON (503 until the first audit lands,
                   with the last failure if audits fail)
    GET /healthz   200 {"status": "ok"} while the service runs

Run it against the account of your AWS profile or environment::

    python scripts/service_example.py --region eu-west-1 --interval 3600 --port 8080
    curl -s localhost:8080/summary

or against any SES v2 endpoint with ``--endpoint-url``. ``--port 0`` picks a free port; the
first line on standard output says where it listens. SIGINT or SIGTERM stops it cleanly.

It uses only the public API of asyncses. It is asyncio code: aiobotocore's HTTP stack runs
on asyncio only, so asyncses runs on asyncio (and on anyio's asyncio backend), not on trio.
The service, not the library, configures logging and installs the signal handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncses

log = logging.getLogger("service_example")

#: Record fields whose values the summary counts.
COUNTED = ("IdentityType", "VerificationStatus")
#: How long a client may take to send its request head.
REQUEST_TIMEOUT = 10.0


class State:
    """What the service knows: the latest summary, how many audits ran, the last failure."""

    def __init__(self) -> None:
        self.summary: dict[str, Any] | None = None
        self.audits = 0
        self.failures = 0
        self.last_error: str | None = None

    def to_json(self) -> dict[str, Any] | None:
        """The answer of ``GET /summary``, or None before the first audit landed."""
        if self.summary is None:
            return None
        return {
            **self.summary,
            "audits": self.audits,
            "failures": self.failures,
            "last_error": self.last_error,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def audit_once(region: str, endpoint_url: str | None) -> dict[str, Any]:
    """Audit every email identity of ``region`` and return the counts."""
    started, clock = _now(), time.monotonic()
    records = errors = 0
    counts: dict[str, Counter[str]] = {field: Counter() for field in (*COUNTED, "findings")}
    async with asyncses.Client(regions=[region], endpoint_url=endpoint_url) as client:
        async for record in client.email_identities():
            if record.get("error") is not None:
                errors += 1
            if record["type"] != "email_identity":
                continue  # a region or listing that could not be audited: an error, no identity
            records += 1
            for field in COUNTED:
                value = record.get(field)
                if value is not None:
                    counts[field][str(value)] += 1
            counts["findings"].update(record.get("findings") or ())
    return {
        "region": region,
        "started_at": started,
        "finished_at": _now(),
        "duration_seconds": round(time.monotonic() - clock, 3),
        "records": records,
        "errors": errors,
        "counts": {field: dict(counter.most_common()) for field, counter in counts.items()},
    }


async def audit_forever(
    state: State, *, region: str, endpoint_url: str | None, interval: float
) -> None:
    """Run an audit every ``interval`` seconds (from start to start) until cancelled."""
    while True:
        started = time.monotonic()
        try:
            state.summary = await audit_once(region, endpoint_url)
        except asyncses.AsyncsesError as exc:  # keep serving the last good summary
            state.failures += 1
            state.last_error = str(exc)
            log.warning("audit failed: %s", exc)
        else:
            state.last_error = None
            log.info("audit done: %d identities", state.summary["records"])
        state.audits += 1
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


async def handle(state: State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one HTTP/1.1 request, then close the connection."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
        status, body = 400, {"error": "bad request"}
    else:
        status, body = route(state, method, target.split("?", 1)[0])
    payload = json.dumps(body).encode()
    writer.write(
        f"HTTP/1.1 {status} {STATUS_TEXT[status]}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n".encode("latin-1")
        + payload
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


def route(state: State, method: str, path: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for one request."""
    if path not in ("/summary", "/healthz"):
        return 404, {"error": f"no such path: {path}"}
    if method != "GET":
        return 405, {"error": "only GET is allowed"}
    if path == "/healthz":
        return 200, {"status": "ok", "audits": state.audits}
    summary = state.to_json()
    if summary is None:
        pending: dict[str, Any] = {
            "status": "pending",
            "error": "the first audit has not finished yet",
        }
        if state.failures:  # say why, rather than "pending" for ever
            pending.update(failures=state.failures, last_error=state.last_error)
        return 503, pending
    return 200, summary


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM, auditing in the background."""
    state = State()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle(state, reader, writer)

    server = await asyncio.start_server(on_connect, args.host, args.port)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    async with server, asyncio.TaskGroup() as tasks:
        auditor = tasks.create_task(
            audit_forever(
                state, region=args.region, endpoint_url=args.endpoint_url, interval=args.interval
            )
        )
        await stop.wait()
        log.info("stopping")
        auditor.cancel()  # an audit under way is cancelled; the client closes its sessions
        server.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--region", required=True, help="the AWS region to audit")
    parser.add_argument("--endpoint-url", help="an SES v2 endpoint other than AWS's")
    parser.add_argument(
        "--interval", type=float, default=3600.0, help="seconds between audit starts"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any)")
    args = parser.parse_args(argv)
    if args.interval <= 0:
        parser.error("--interval must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service; 0 once stopped by a signal."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
