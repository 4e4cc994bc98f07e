"""A fault-injecting HTTP/1.1 reverse proxy on loopback, for tests.

`FaultProxy` sits in front of an upstream HTTP endpoint (a moto server in this project's tests) and
injects SES-shaped faults: throttling (429 ``TooManyRequestsException``), internal errors (500
``InternalFailure``), dropped connections, added latency and a server-side token bucket.

It runs its own asyncio event loop in a daemon thread, so in-process async tests and CLI subprocess
tests can both talk to `FaultProxy.url`. Towards its clients it speaks keep-alive HTTP/1.1 with
``Content-Length`` framing, whatever the upstream does (moto answers ``Connection: close`` and sends
two ``Server`` headers; the proxy keeps only the first). Upstream failures become 502 answers.

Faults are drawn from ``random.Random(seed)``, three draws per matching request (drop, throttle,
error, in that order of precedence), so a sequential run is reproducible.

Usage::

    with FaultProxy(moto_url, Faults(throttle=0.3), seed=1) as proxy:
        client = session.client("sesv2", endpoint_url=proxy.url)
        ...
        assert proxy.stats.throttled > 0
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

__all__ = ["FaultProxy", "Faults", "ProxyStats", "RequestRecord"]

logger = logging.getLogger(__name__)

#: Deadline for one upstream exchange (connect, send, read the whole answer).
UPSTREAM_TIMEOUT = 30.0
#: Idle upstream connections kept for reuse (only when the upstream allows keep-alive).
MAX_IDLE_UPSTREAM = 8
#: How long `FaultProxy.stop` waits for the proxy thread.
STOP_TIMEOUT = 5.0

_HEADER_LIMIT = 64 * 1024
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)
_REASONS = {
    200: "OK",
    400: "Bad Request",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

THROTTLE_BODY = b'{"__type": "TooManyRequestsException", "message": "Too many requests"}'
ERROR_BODY = b'{"__type":"InternalFailure","message":"injected"}'

Headers = list[tuple[str, str]]


@dataclass
class Faults:
    """What to inject. Read once per request, so it may be replaced or mutated while running."""

    throttle: float = 0.0
    """Probability of answering an SES-shaped 429 ``TooManyRequestsException``."""
    error: float = 0.0
    """Probability of answering 500 ``InternalFailure``."""
    drop: float = 0.0
    """Probability of closing the client connection, after reading the request, unanswered."""
    latency: float = 0.0
    """Seconds of delay before answering (or forwarding, or dropping) every matching request."""
    retry_after: float | None = None
    """If set, injected 429s (random or bucket) carry ``Retry-After: <seconds>``."""
    bucket_rate: float | None = None
    """Server-side token bucket refill, tokens/s; a matching request takes a token or gets 429."""
    bucket_burst: float = 10.0
    """Token bucket capacity (it starts full)."""
    match: str | None = None
    """Regex searched in ``"METHOD PATH?QUERY"``; faults apply only to matching requests."""

    def __post_init__(self) -> None:
        for name in ("throttle", "error", "drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0, got {self.latency!r}")
        if self.bucket_rate is not None and self.bucket_rate < 0:
            raise ValueError(f"bucket_rate must be >= 0, got {self.bucket_rate!r}")
        if self.match is not None:
            re.compile(self.match)

    def matches(self, method: str, target: str) -> bool:
        """Whether faults apply to a request with this method and target (path and query)."""
        return self.match is None or re.search(self.match, f"{method} {target}") is not None


Status = int | Literal["dropped"]


class RequestRecord(NamedTuple):
    """One request as the proxy saw it; ``path`` includes the query string."""

    method: str
    path: str
    status: Status


@dataclass
class ProxyStats:
    """Counters and a per-request log, updated from the proxy thread under a lock.

    ``requests`` counts every complete request read from a client; each one ends up in exactly one
    of ``forwarded`` (answered by upstream), ``throttled`` (injected 429, random or bucket),
    ``errors`` (injected 500), ``dropped`` or ``bad_gateway`` (upstream failed, answered 502).
    ``connections`` counts accepted client connections, ``upstream_connections`` the connections
    opened to upstream.
    """

    connections: int = 0
    upstream_connections: int = 0
    requests: int = 0
    forwarded: int = 0
    throttled: int = 0
    errors: int = 0
    dropped: int = 0
    bad_gateway: int = 0
    log: list[RequestRecord] = field(default_factory=list)
    _cond: threading.Condition = field(
        default_factory=threading.Condition, repr=False, compare=False
    )

    def snapshot(self) -> ProxyStats:
        """A consistent copy (with its own log list and lock)."""
        with self._cond:
            return replace(self, log=list(self.log), _cond=threading.Condition())

    def statuses(self) -> list[Status]:
        """The status of each logged request, in order."""
        with self._cond:
            return [record.status for record in self.log]

    def reset(self) -> None:
        """Zero every counter and clear the log."""
        with self._cond:
            self.connections = self.upstream_connections = self.requests = 0
            self.forwarded = self.throttled = self.errors = self.dropped = self.bad_gateway = 0
            self.log.clear()
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[ProxyStats], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(self)`` holds (checked on every update) or ``timeout`` passes."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def _connection(self, *, upstream: bool = False) -> None:
        with self._cond:
            if upstream:
                self.upstream_connections += 1
            else:
                self.connections += 1
            self._cond.notify_all()

    def _request(self) -> None:
        with self._cond:
            self.requests += 1
            self._cond.notify_all()

    def _outcome(
        self,
        kind: Literal["forwarded", "throttled", "errors", "dropped", "bad_gateway"],
        record: RequestRecord,
    ) -> None:
        with self._cond:
            setattr(self, kind, getattr(self, kind) + 1)
            self.log.append(record)
            self._cond.notify_all()


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    @property
    def keep_alive(self) -> bool:
        tokens = _connection_tokens(self.headers)
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


@dataclass
class _Response:
    status: int
    reason: str
    headers: Headers
    body: bytes
    reusable: bool = False


@dataclass
class _Upstream:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _UpstreamError(Exception):
    pass


class _StaleConnection(Exception):
    """A reused upstream connection failed before any byte of the answer arrived."""


def _header(headers: Headers, name: str) -> str | None:
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _connection_tokens(headers: Headers) -> set[str]:
    return {
        token.strip().lower()
        for key, value in headers
        if key.lower() == "connection"
        for token in value.split(",")
    }


def _parse_headers(lines: list[bytes]) -> Headers:
    headers: Headers = []
    for raw in lines:
        line = raw.decode("latin-1")
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"malformed header line {line!r}")
        headers.append((name, value.strip()))
    return headers


def _content_length(headers: Headers) -> int | None:
    values = {value for key, value in headers if key.lower() == "content-length"}
    if not values:
        return None
    if len(values) > 1:
        raise ValueError(f"conflicting Content-Length headers {sorted(values)}")
    value = values.pop()
    if not value.isdigit():
        raise ValueError(f"bad Content-Length {value!r}")
    return int(value)


def _is_chunked(headers: Headers) -> bool:
    encoding = _header(headers, "transfer-encoding")
    return encoding is not None and encoding.lower().split(",")[-1].strip() == "chunked"


async def _read_head(reader: asyncio.StreamReader) -> list[bytes]:
    """Read up to the blank line ending a message head; lines without their CRLF."""
    data = await reader.readuntil(b"\r\n\r\n")
    return data[:-4].split(b"\r\n")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, discarded
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("chunk not followed by CRLF")


def _render(status: int, reason: str, headers: Headers, body: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}"]
    head.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _injected(status: int, error_type: str, body: bytes, extra: Headers | None = None) -> _Response:
    headers: Headers = [
        ("x-amzn-RequestId", str(uuid.uuid4())),
        ("x-amzn-ErrorType", error_type),
        ("Content-Type", "application/json"),
    ]
    headers.extend(extra or [])
    return _Response(status, _REASONS[status], headers, body)


_Decision = Literal["forward", "drop", "throttle", "error"]


class FaultProxy:
    """A fault-injecting reverse proxy on a free loopback port, served from a daemon thread."""

    def __init__(
        self,
        upstream: str,
        faults: Faults | None = None,
        *,
        seed: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream = upstream
        self.faults = faults if faults is not None else Faults()
        self.stats = ProxyStats()
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or 80
        self._host = host
        self._port: int | None = None
        self._rng = random.Random(seed)
        self._tokens: float | None = None
        self._bucket_stamp = 0.0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._stopped = False
        # Owned by the proxy thread's event loop:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._client_writers: set[asyncio.StreamWriter] = set()
        self._idle: list[_Upstream] = []

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the listening socket."""
        if self._port is None:
            raise RuntimeError("FaultProxy is not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def start(self) -> None:
        """Bind a free port and serve from a daemon thread; return once listening."""
        if self._thread is not None:
            raise RuntimeError("FaultProxy can be started only once")
        self._thread = threading.Thread(
            target=self._run, name=f"FaultProxy->{self.upstream}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            raise RuntimeError("FaultProxy failed to start") from self._startup_error

    def stop(self) -> None:
        """Close the listener and every connection, and join the thread. Idempotent."""
        thread = self._thread
        if thread is None or self._stopped:
            return
        self._stopped = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                loop.call_soon_threadsafe(stopping.set)
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"FaultProxy thread did not stop within {STOP_TIMEOUT} s")

    def reset_stats(self) -> None:
        """Zero the counters and clear the request log."""
        self.stats.reset()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- proxy thread -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start(), or logged if it happens later
            if self._ready.is_set():
                logger.exception("FaultProxy event loop crashed")
            self._startup_error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._accept, self._host, 0, limit=_HEADER_LIMIT)
        self._port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for writer in list(self._client_writers):
                writer.transport.abort()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            idle, self._idle = self._idle, []
            for conn in idle:
                conn.close()
            for conn in idle:
                with contextlib.suppress(OSError):
                    await conn.writer.wait_closed()
            await server.wait_closed()
            await asyncio.sleep(0)  # let transports closed by cancelled tasks release their sockets

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback that starts its own tracked task: asyncio's wrapper task around a
        # coroutine callback logs an error when that task is cancelled, which stop() does.
        if self._stopping is not None and self._stopping.is_set():
            writer.transport.abort()
            return
        task = asyncio.get_running_loop().create_task(self._serve_client(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.stats._connection()
        self._client_writers.add(writer)
        try:
            while True:
                try:
                    request = await self._read_request(reader, writer)
                except _BadRequest as exc:
                    body = f"{exc}\n".encode()
                    headers = [
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("Connection", "close"),
                    ]
                    writer.write(_render(exc.status, _REASONS[exc.status], headers, body))
                    await writer.drain()
                    return
                if request is None:
                    return
                self.stats._request()
                if not await self._respond(request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the client went away mid-exchange
        except Exception:
            logger.exception("FaultProxy: unexpected error serving a client")
        finally:
            self._client_writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        """The next request, or None when the client closed (between or during requests)."""
        try:
            lines = await _read_head(reader)
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as exc:
            raise _BadRequest(431, "request head too large") from exc
        while lines and not lines[0]:  # tolerate blank lines before the request line
            del lines[0]
        if not lines:
            raise _BadRequest(400, "empty request head")
        request_line = lines[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400, f"malformed request line {request_line!r}")
        method, target, version = parts
        try:
            headers = _parse_headers(lines[1:])
            chunked = _is_chunked(headers)
            length = None if chunked else _content_length(headers)
        except ValueError as exc:
            raise _BadRequest(400, str(exc)) from exc
        expect = _header(headers, "expect")
        if expect is not None and expect.lower() == "100-continue" and (chunked or length):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        try:
            if chunked:
                body = await _read_chunked(reader)
            elif length:
                body = await reader.readexactly(length)
            else:
                body = b""
        except asyncio.IncompleteReadError:
            return None
        except (ValueError, asyncio.LimitOverrunError) as exc:
            raise _BadRequest(400, f"malformed chunked body: {exc}") from exc
        return _Request(method, target, version, headers, body)

    def _decide(self, faults: Faults, request: _Request) -> tuple[_Decision, bool]:
        """The fate of a request and whether faults apply to it at all."""
        if not faults.matches(request.method, request.target):
            return "forward", False
        # Always three draws, so the sequence depends only on the number of matching requests.
        drop, throttle, error = self._rng.random(), self._rng.random(), self._rng.random()
        if faults.bucket_rate is None:
            self._tokens = None
        if drop < faults.drop:
            return "drop", True
        if throttle < faults.throttle:
            return "throttle", True
        if error < faults.error:
            return "error", True
        if faults.bucket_rate is not None and not self._take_token(
            faults.bucket_rate, faults.bucket_burst
        ):
            return "throttle", True
        return "forward", True

    def _take_token(self, rate: float, burst: float) -> bool:
        now = time.monotonic()
        if self._tokens is None:
            self._tokens = burst  # the bucket starts full
        else:
            self._tokens = min(burst, self._tokens + (now - self._bucket_stamp) * rate)
        self._bucket_stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def _respond(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        """Answer (or drop) one request; True if the client connection stays open."""
        faults = self.faults
        decision, matched = self._decide(faults, request)
        if matched and faults.latency > 0:
            await asyncio.sleep(faults.latency)
        kind: Literal["forwarded", "throttled", "errors", "bad_gateway"]
        if decision == "drop":
            self.stats._outcome("dropped", RequestRecord(request.method, request.target, "dropped"))
            return False
        if decision == "throttle":
            extra: Headers = []
            if faults.retry_after is not None:
                extra.append(("Retry-After", _format_seconds(faults.retry_after)))
            response = _injected(429, "TooManyRequestsException", THROTTLE_BODY, extra)
            kind = "throttled"
        elif decision == "error":
            response = _injected(500, "InternalFailure", ERROR_BODY)
            kind = "errors"
        else:
            try:
                async with asyncio.timeout(UPSTREAM_TIMEOUT):
                    response = await self._forward(request)
                kind = "forwarded"
            except (
                _UpstreamError,
                OSError,
                TimeoutError,
                ValueError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
            ) as exc:
                body = json.dumps({"__type": "BadGateway", "message": repr(exc)}).encode()
                headers = [("x-amzn-ErrorType", "BadGateway"), ("Content-Type", "application/json")]
                response = _Response(502, _REASONS[502], headers, body)
                kind = "bad_gateway"
        # Count before answering, so a client that has its answer also sees it counted.
        self.stats._outcome(kind, RequestRecord(request.method, request.target, response.status))
        keep = request.keep_alive
        writer.write(_client_message(request, response, keep))
        await writer.drain()
        return keep

    async def _forward(self, request: _Request) -> _Response:
        message = _upstream_message(request, f"{self._upstream_host}:{self._upstream_port}")
        for attempt in range(2):
            conn, reused = await self._acquire(fresh=attempt > 0)
            try:
                response = await _exchange(conn, request.method, message, reused=reused)
            except _StaleConnection:
                conn.close()
                continue  # only raised for a reused connection: retry once on a fresh one
            except BaseException:
                conn.close()
                raise
            stopping = self._stopping is not None and self._stopping.is_set()
            if response.reusable and not stopping and len(self._idle) < MAX_IDLE_UPSTREAM:
                self._idle.append(conn)
            else:
                conn.close()
            return response
        raise _UpstreamError("upstream closed a fresh connection without answering")

    async def _acquire(self, *, fresh: bool) -> tuple[_Upstream, bool]:
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.reader.at_eof() or conn.writer.is_closing():
                conn.close()
                continue
            return conn, True
        reader, writer = await asyncio.open_connection(
            self._upstream_host, self._upstream_port, limit=_HEADER_LIMIT
        )
        self.stats._connection(upstream=True)
        return _Upstream(reader, writer), False


def _upstream_message(request: _Request, default_host: str) -> bytes:
    drop = _HOP_BY_HOP | _connection_tokens(request.headers)
    headers = [(name, value) for name, value in request.headers if name.lower() not in drop]
    if request.header("host") is None:
        headers.insert(0, ("Host", default_host))
    if request.body or request.header("content-length") is not None or _is_chunked(request.headers):
        headers.append(("Content-Length", str(len(request.body))))
    lines = [f"{request.method} {request.target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


async def _exchange(conn: _Upstream, method: str, message: bytes, *, reused: bool) -> _Response:
    """Send one request upstream and read the whole answer."""
    try:
        conn.writer.write(message)
        await conn.writer.drain()
    except ConnectionError as exc:
        if reused:
            raise _StaleConnection from exc
        raise
    first = True
    while True:
        try:
            lines = await _read_head(conn.reader)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
            if reused and first and not partial:
                raise _StaleConnection from exc
            raise
        first = False
        status_line = lines[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ValueError(f"malformed status line {status_line!r}")
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) == 3 else _REASONS.get(status, "")
        headers = _parse_headers(lines[1:])
        if not 100 <= status < 200:
            break  # 1xx interim answers are skipped
    tokens = _connection_tokens(headers)
    reusable = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    length = _content_length(headers)
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif _is_chunked(headers):
        body = await _read_chunked(conn.reader)
    elif length is not None:
        body = await conn.reader.readexactly(length)
    else:
        body = await conn.reader.read()  # delimited by the end of the connection
        reusable = False
    return _Response(status, reason, headers, body, reusable)


def _client_message(request: _Request, response: _Response, keep_alive: bool) -> bytes:
    bodyless = request.method == "HEAD" or response.status in (204, 304)
    drop = _HOP_BY_HOP | _connection_tokens(response.headers)
    headers: Headers = []
    seen_server = False
    for name, value in response.headers:
        lower = name.lower()
        if lower == "server":
            if seen_server:
                continue  # moto sends two; strict parsers reject that
            seen_server = True
        if lower in drop and not (bodyless and lower == "content-length"):
            continue
        headers.append((name, value))
    body = b"" if bodyless else response.body
    if not bodyless:
        headers.append(("Content-Length", str(len(body))))
    headers.append(("Connection", "keep-alive" if keep_alive else "close"))
    return _render(response.status, response.reason, headers, body)
